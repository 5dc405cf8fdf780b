"""The timeline of a round (第九条 to 第十四条) as date arithmetic on the working-day calendar."""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from .._i18n import Lang, Text
from ..calendar import WorkingDayCalendar, default_calendar
from ..errors import InvalidInputError
from ..policy import (
    Counting,
    Policy,
    load_policy,
)
from . import _plots
from ._deps import Frame, _pandas
from ._steps import TIMELINE_STEPS

# -- the timeline of a round ------------------------------------------------------------------------


@attrs.frozen
class Stage:
    """A duration in working days: triangular between ``low`` and ``high`` with the most
    likely value ``mode``, rounded to whole days (``Stage(5, 5, 5)`` is always 5)."""

    low: float
    mode: float
    high: float

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.low <= self.mode <= self.high:
            raise InvalidInputError(
                Text(
                    zh=f"工作日数应满足 0 ≤ low ≤ mode ≤ high，收到 {self.low}, {self.mode}, {self.high}",
                    en=f"working days need 0 ≤ low ≤ mode ≤ high, got {self.low}, {self.mode}, {self.high}",
                ),
                hint=Text(zh="请检查阶段设置", en="check the stage"),
            )

    def draw(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.int64]:
        """``size`` whole numbers of working days."""
        if self.low == self.high:
            return np.full(size, round(self.low), dtype=np.int64)
        return np.round(rng.triangular(self.low, self.mode, self.high, size)).astype(np.int64)


@attrs.frozen
class TimelineSpec:
    """Stage durations (working days) and outcome rates of a round (第九条 to 第十四条).

    The defaults are assumptions for illustration, not the bureau's statistics; the notice
    period is never here: it comes from the policy (第十三条).

    - ``district_review``: from the round's start (declarations in) to the district's
      recommendation (第十条), per case; ``recommend_rate`` of cases are recommended (or pass
      ``eligible`` to `simulate_round`).
    - ``expert_review``: from the last recommendation of the round to the expert panel's
      opinion (第十一条), once per round; ``review_pass_rate`` pass (择优).
    - ``site_inspection``: after the panel, per case (第十二条); ``inspection_pass_rate`` pass.
    - ``publication_gap``: from the last inspection to the list's publication (第十三条), once
      per round (the list of bases to be certified is published together).
    - ``objection_rate``: share of publicized cases that receive an objection, on a working
      day inside the notice; ``investigation`` its duration; ``objection_sustained_rate`` the
      share of investigated objections that are upheld (the case is rejected).
    - ``collective_decision``: from the end of the notice (or of the investigation) to the
      collective decision and award (第十四条), at least one working day, since certification
      is possible only after the notice has ended.
    """

    district_review: Stage = Stage(10, 15, 25)
    recommend_rate: float = 0.85
    expert_review: Stage = Stage(10, 15, 30)
    review_pass_rate: float = 0.7
    site_inspection: Stage = Stage(5, 10, 20)
    inspection_pass_rate: float = 0.95
    publication_gap: Stage = Stage(3, 5, 10)
    objection_rate: float = 0.05
    investigation: Stage = Stage(5, 10, 20)
    objection_sustained_rate: float = 0.3
    collective_decision: Stage = Stage(1, 5, 15)

    def __attrs_post_init__(self) -> None:
        if self.collective_decision.low < 1:
            raise InvalidInputError(
                Text(
                    zh="集体决策应在公示期结束后（至少 1 个工作日）",
                    en="the collective decision comes after the notice (at least 1 working day)",
                ),
                hint=Text(zh="第十四条", en="Art. 14"),
            )


_NAT = np.datetime64("NaT", "D")


@attrs.frozen(eq=False)
class RoundTimeline:
    """The simulated round(s): one row per case (``replications × cases``).

    ``dates`` maps each step of `TIMELINE_STEPS` (and ``objected``, ``investigated``) to a
    ``datetime64[D]`` array, NaT where the case never got there; ``outcome`` holds an
    `OUTCOMES` key per case; ``replication`` the round each case belongs to;
    ``provisional`` is True where a date of the case lies in a year without an official holiday
    notice (the date may still move).
    """

    name: str
    start: dt.date
    policy_id: str
    notice_working_days: int
    dates: Mapping[str, npt.NDArray[np.datetime64]]
    outcome: npt.NDArray[np.str_]
    replication: npt.NDArray[np.int64]
    provisional: npt.NDArray[np.bool_]

    @property
    def size(self) -> int:
        """Number of simulated cases."""
        return int(self.outcome.size)

    def days_to_certification(self) -> npt.NDArray[np.float64]:
        """Calendar days from the round's start to certification (NaN if not certified)."""
        certified = self.dates["certified"]
        days = (certified - np.datetime64(self.start, "D")).astype("float64")
        days[np.isnat(certified)] = np.nan
        return days

    def summary_data(self) -> dict[str, Any]:
        """Median, 10th and 90th percentile of days to certification, the earliest, median and
        latest certification date, and the certified and provisional shares (plain data)."""
        days = self.days_to_certification()
        certified = self.dates["certified"][~np.isnat(self.dates["certified"])]
        known = days[~np.isnan(days)]
        empty = known.size == 0

        def q(p: float) -> float:
            return math.nan if empty else float(np.percentile(known, p))

        def date_at(p: float) -> dt.date | None:
            if empty:
                return None
            ordered = np.sort(certified)
            return ordered[round(p * (ordered.size - 1))].astype(dt.date)  # type: ignore[no-any-return]

        return {
            "variant": self.name,
            "start": self.start,
            "cases": self.size,
            "certified_share": float(np.mean(self.outcome == "certified")) if self.size else 0.0,
            "median_days": q(50),
            "p10_days": q(10),
            "p90_days": q(90),
            "first_certified": date_at(0.0),
            "median_certified": date_at(0.5),
            "last_certified": date_at(1.0),
            "provisional_share": float(self.provisional.mean()) if self.size else 0.0,
        }

    def summary(self) -> Frame:
        """`summary_data` as a one-row data frame indexed by variant."""
        return _pandas().DataFrame([self.summary_data()]).set_index("variant")

    def funnel(self) -> dict[str, int]:
        """How many cases reached each step of `TIMELINE_STEPS` (``declared`` … ``certified``)."""
        return {
            step: int(np.count_nonzero(~np.isnat(self.dates[step])))
            for step, _ in TIMELINE_STEPS
            if step != "notice_due"
        }

    def to_frame(self) -> Frame:
        """One row per case: replication, outcome, each step's date, provisional, days."""
        pd = _pandas()
        data: dict[str, Any] = {"replication": self.replication, "outcome": self.outcome}
        for step in (*(s for s, _ in TIMELINE_STEPS), "objected", "investigated"):
            data[step] = self.dates[step].astype("datetime64[s]")
        data["provisional"] = self.provisional
        data["days_to_certification"] = self.days_to_certification()
        return pd.DataFrame(data)

    def plot(self, ax: Any = None, replication: int = 0, lang: Lang = "en") -> Any:
        """A timeline chart (Gantt) of one replication of the round."""
        return _plots.plot_timeline(self, ax=ax, replication=replication, lang=lang)

    def plot_funnel(self, ax: Any = None, lang: Lang = "en") -> Any:
        """A funnel: how many cases reached each step of the lifecycle."""
        return _plots.plot_funnel(self, ax=ax, lang=lang)

    def _repr_html_(self) -> str:
        return _timelines_html([self])


def _timelines_html(timelines: Sequence[RoundTimeline]) -> str:
    head = (
        "<tr><th>variant 变体</th><th>start 开始</th><th>cases 案件</th>"
        "<th>certified 认定比例</th><th>median days 中位天数</th><th>p10–p90</th>"
        "<th>median certified 认定日期中位</th><th>provisional 临时</th></tr>"
    )
    rows = []
    for timeline in timelines:
        s = timeline.summary_data()
        flag = " ⚠" if s["provisional_share"] > 0 else ""
        rows.append(
            f"<tr><td>{html.escape(s['variant'])}</td><td>{s['start']}</td><td>{s['cases']:,}</td>"
            f"<td>{s['certified_share']:.1%}</td><td>{s['median_days']:.0f}</td>"
            f"<td>{s['p10_days']:.0f}–{s['p90_days']:.0f}</td>"
            f"<td>{s['median_certified']}</td><td>{s['provisional_share']:.0%}{flag}</td></tr>"
        )
    return (
        "<div><strong>认定时间模拟 / Round timeline</strong> "
        "(calendar days from the round's start 自本轮开始的日历天数)"
        f"<table>{head}{''.join(rows)}</table></div>"
    )


def _notice_due(
    calendar: WorkingDayCalendar,
    published: npt.NDArray[np.datetime64],
    policy: Policy,
    allow: bool,
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.datetime64]]:
    """(first day counted, last day) of the notice, the batch twin of
    `notice_deadline`."""
    period = policy.periods.notice
    n = period.working_days
    if period.counting is Counting.START_DAY_COUNTS:
        working = calendar.is_working_day_many(published, allow_provisional=allow)
        first = np.where(
            working,
            published,
            calendar.add_working_days_many(published, 1, allow_provisional=allow),
        )
        due = calendar.add_working_days_many(first, n - 1, allow_provisional=allow)
    else:
        first = calendar.add_working_days_many(published, 1, allow_provisional=allow)
        due = calendar.add_working_days_many(published, n, allow_provisional=allow)
    return first, due


def _add(
    calendar: WorkingDayCalendar,
    days: npt.NDArray[np.datetime64],
    n: npt.NDArray[np.int64],
    mask: npt.NDArray[np.bool_],
    allow: bool,
) -> npt.NDArray[np.datetime64]:
    """``days + n`` working days where ``mask``, NaT elsewhere."""
    result = np.full(days.shape, _NAT)
    if mask.any():
        result[mask] = calendar.add_working_days_many(days[mask], n[mask], allow_provisional=allow)
    return result


def _round_max(
    days: npt.NDArray[np.datetime64], mask: npt.NDArray[np.bool_], shape: tuple[int, int]
) -> npt.NDArray[np.datetime64]:
    """Per replication, the latest date among ``mask`` (NaT if none), broadcast to cases."""
    as_int = np.where(mask, days.view(np.int64), np.iinfo(np.int64).min).reshape(shape)
    latest = as_int.max(axis=1)
    latest_days = np.where(latest == np.iinfo(np.int64).min, _NAT.view(np.int64), latest).view(
        "datetime64[D]"
    )
    return np.repeat(latest_days, shape[1])


def simulate_round(
    start: dt.date,
    *,
    cases: int = 30,
    replications: int = 200,
    spec: TimelineSpec | None = None,
    policy: Policy | None = None,
    calendar: WorkingDayCalendar | None = None,
    eligible: npt.ArrayLike | None = None,
    seed: int | None = 0,
    name: str | None = None,
    allow_provisional: bool = True,
) -> RoundTimeline:
    """Simulate ``replications`` rounds of ``cases`` applications starting on ``start``.

    Steps, each on the working-day calendar: district recommendation (第十条) → one expert
    panel after the last recommendation (第十一条) → site inspections (第十二条) → one
    publication of the list (第十三条), its notice ending as
    `notice_deadline` counts it for ``policy`` →
    objections on a working day inside the notice, investigated → the collective decision
    and award (第十四条), never before the notice has ended or an objection is settled.

    ``eligible`` (one boolean per case, e.g. a column of `evaluate_frame`) replaces
    ``recommend_rate``: the district recommends exactly the eligible cases. Dates in years
    without official holiday data are computed provisionally and flagged; with
    ``allow_provisional=False`` they raise `CalendarDataMissingError`.
    """
    spec = spec or TimelineSpec()
    policy = policy or load_policy()
    calendar = calendar or default_calendar()
    if cases < 1 or replications < 1:
        raise InvalidInputError(
            Text(zh="案件数和重复次数至少为 1", en="cases and replications must be at least 1"),
            hint=Text(zh="请传入正整数", en="pass positive integers"),
        )
    allow = allow_provisional
    rng = np.random.default_rng(seed)
    shape = (replications, cases)
    size = replications * cases
    replication = np.repeat(np.arange(replications, dtype=np.int64), cases)
    declared = np.full(size, np.datetime64(start, "D"))

    def per_round(stage: Stage) -> npt.NDArray[np.int64]:
        return np.repeat(stage.draw(rng, replications), cases)

    if eligible is None:
        recommended_mask = rng.random(size) < spec.recommend_rate
    else:
        flags = np.asarray(eligible, dtype=bool)
        if flags.shape != (cases,):
            raise InvalidInputError(
                Text(
                    zh=f"eligible 应有 {cases} 个值，收到 {flags.size} 个",
                    en=f"eligible needs {cases} values, got {flags.size}",
                ),
                hint=Text(zh="每个案件一个布尔值", en="one boolean per case"),
            )
        recommended_mask = np.tile(flags, replications)
    recommended = _add(
        calendar, declared, spec.district_review.draw(rng, size), recommended_mask, allow
    )
    panel = _add(
        calendar,
        _round_max(recommended, recommended_mask, shape),
        per_round(spec.expert_review),
        recommended_mask,
        allow,
    )
    reviewed_mask = recommended_mask & (rng.random(size) < spec.review_pass_rate)
    reviewed = np.where(reviewed_mask, panel, _NAT)
    inspected_mask = reviewed_mask & (rng.random(size) < spec.inspection_pass_rate)
    inspected = _add(calendar, panel, spec.site_inspection.draw(rng, size), inspected_mask, allow)
    published = _add(
        calendar,
        _round_max(inspected, inspected_mask, shape),
        per_round(spec.publication_gap),
        inspected_mask,
        allow,
    )
    first_day, notice_due = np.full(size, _NAT), np.full(size, _NAT)
    if inspected_mask.any():
        first_day[inspected_mask], notice_due[inspected_mask] = _notice_due(
            calendar, published[inspected_mask], policy, allow
        )
    objected_mask = inspected_mask & (rng.random(size) < spec.objection_rate)
    n = policy.periods.notice.working_days
    objected = _add(calendar, first_day, rng.integers(0, n, size), objected_mask, allow)
    investigated = _add(
        calendar, objected, spec.investigation.draw(rng, size), objected_mask, allow
    )
    sustained = objected_mask & (rng.random(size) < spec.objection_sustained_rate)
    certified_mask = inspected_mask & ~sustained
    ready = np.where(objected_mask & (investigated > notice_due), investigated, notice_due).astype(
        "datetime64[D]"
    )
    certified = _add(calendar, ready, per_round(spec.collective_decision), certified_mask, allow)

    outcome = np.full(size, "certified", dtype="<U19")
    outcome[~recommended_mask] = "not_recommended"
    outcome[recommended_mask & ~reviewed_mask] = "rejected_review"
    outcome[reviewed_mask & ~inspected_mask] = "rejected_inspection"
    outcome[sustained] = "rejected_objection"
    dates = {
        "declared": declared,
        "recommended": recommended,
        "expert_reviewed": reviewed,
        "site_inspected": inspected,
        "publicized": published,
        "notice_due": notice_due,
        "objected": objected,
        "investigated": investigated,
        "certified": certified,
    }
    provisional = np.zeros(size, dtype=bool)
    for values in dates.values():
        known = ~np.isnat(values)
        provisional[known] |= ~calendar.is_official_many(values[known])
    return RoundTimeline(
        name=name or f"{start.isoformat()} / {policy.id}",
        start=start,
        policy_id=policy.id,
        notice_working_days=n,
        dates=dates,
        outcome=outcome,
        replication=replication,
        provisional=provisional,
    )


@attrs.frozen(eq=False)
class TimelineComparison:
    """Several simulated rounds side by side (see `compare_timelines`)."""

    timelines: tuple[RoundTimeline, ...]

    def summary(self) -> Frame:
        """One row per round: `RoundTimeline.summary_data`."""
        return _pandas().DataFrame([t.summary_data() for t in self.timelines]).set_index("variant")

    def plot(self, ax: Any = None, lang: Lang = "en") -> Any:
        """Distributions of days to certification, one box per round."""
        return _plots.plot_days_to_certification(self.timelines, ax=ax, lang=lang)

    def _repr_html_(self) -> str:
        return _timelines_html(self.timelines)


def compare_timelines(*timelines: RoundTimeline) -> TimelineComparison:
    """Put simulated rounds side by side (the start moved, a longer notice, …)."""
    return TimelineComparison(timelines=tuple(timelines))
