"""Model-based test of the workflow: random triggers, records and sweeps, by random actors, at
random times, with valid and invalid payloads, against a small reference model of the measures
written here from the regulation (第九条 to 第二十一条), not from ``lifecycle``.

The model uses ``kmbase_workflow.calendar`` only to tell working days. After every step it
checks: each case's state and version equal the model's; a refused step changed nothing; the
history is as long as the version and its hash chain verifies; the events delivered are the
ones the model expects (type and count).

``KMBASE_MODEL_EXAMPLES`` sets how many runs (default 100; ``nox -s model`` runs long).
"""

from __future__ import annotations

import collections
import datetime as dt
import os
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import event as note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.calendar import default_calendar
from kmbase_workflow.case import (
    CollectiveDecision,
    ExpertOpinion,
    Objection,
    Recommendation,
    Revocation,
    RevocationGround,
)
from kmbase_workflow.clock import FixedClock
from kmbase_workflow.errors import TransitionRefusedError
from kmbase_workflow.history import verify_history
from kmbase_workflow.lifecycle import Trigger
from kmbase_workflow.records import Application, SpotCheck
from kmbase_workflow.stores import CaseQuery, MemoryStore
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import (
    APPLICATION,
    AWAY,
    BUREAU,
    DISTRICT,
    EXPERT,
    HOME,
    OTHER_DISTRICT,
    PUBLIC,
    SYSTEM,
    complete_but_ineligible,
    other_base,
)

EXAMPLES = int(os.environ.get("KMBASE_MODEL_EXAMPLES", "100"))
CAL = default_calendar()

# -- the reference: the measures restated ------------------------------------------------------

D, R, NR = "declared", "district_recommended", "not_recommended"
ER, SI, RJ = "expert_reviewed", "site_inspected", "rejected"
PB, OB, VF = "publicized", "objected", "verified"
CT, EX, RV, WD = "certified", "expired", "revoked", "withdrawn"
OPEN = {D, R, ER, SI, PB, OB, VF}

OP, DA, CB, XP, PU, SY = (
    Role.OPERATOR,
    Role.DISTRICT_AUTHORITY,
    Role.CITY_BUREAU,
    Role.EXPERT,
    Role.PUBLIC,
    Role.SYSTEM,
)
ANYONE = {OP, DA, CB, XP, PU}

# trigger: (from states, to state, roles, event type) — 第九条 to 第十八条 and the design's table
TABLE: dict[Trigger, tuple[set[str], str, set[Role], str]] = {
    Trigger.RECOMMEND: ({D}, R, {DA}, "recommended"),
    Trigger.DECLINE: ({D}, NR, {DA}, "not_recommended"),
    Trigger.PASS_REVIEW: ({R}, ER, {CB}, "review_passed"),
    Trigger.FAIL_REVIEW: ({R}, RJ, {CB}, "review_failed"),
    Trigger.PASS_INSPECTION: ({ER}, SI, {CB}, "inspection_passed"),
    Trigger.FAIL_INSPECTION: ({ER}, RJ, {CB}, "inspection_failed"),
    Trigger.PUBLICIZE: ({SI}, PB, {CB}, "publicized"),
    Trigger.OBJECT: ({PB, VF}, OB, ANYONE, "objection_raised"),
    Trigger.VERIFY: ({OB}, VF, {CB}, "objection_verified"),
    Trigger.SUSTAIN_OBJECTION: ({OB}, RJ, {CB}, "objection_sustained"),
    Trigger.CERTIFY: ({PB, VF}, CT, {CB}, "certified"),
    Trigger.EXPIRE: ({CT}, EX, {SY}, "expired"),
    Trigger.REVOKE: ({CT}, RV, {CB}, "revoked"),
    Trigger.WITHDRAW: (OPEN, WD, {OP}, "withdrawn"),
}

PROGRESS = (
    Trigger.RECOMMEND,
    Trigger.PASS_REVIEW,
    Trigger.PASS_INSPECTION,
    Trigger.PUBLICIZE,
    Trigger.OBJECT,
    Trigger.VERIFY,
    Trigger.CERTIFY,
    Trigger.CERTIFY,
    Trigger.EXPIRE,
    Trigger.EXPIRE,
    Trigger.REVOKE,
)
"""Triggers that move a case on (the others are drawn by ``fire_anything``)."""

ROUNDS = {year: (dt.date(year, 6, 1), dt.date(year, 7, 31)) for year in range(2025, 2031)}
START = dt.date(2025, 6, 20)
END = dt.date(2030, 12, 31)

BASES: dict[str, Application] = {
    "home": APPLICATION,  # 五华区, eligible
    "away": other_base("呈贡青年创业园", district=AWAY),  # 呈贡区, eligible
    "weak": complete_but_ineligible(),  # 呈贡区, materials complete, fails 第六条/第七条
}
ELIGIBLE = {"home": True, "away": True, "weak": False}
OPERATORS = {key: Actor.for_operator(app.operator) for key, app in BASES.items()}
ALL_ACTORS = [*OPERATORS.values(), DISTRICT, OTHER_DISTRICT, BUREAU, EXPERT, PUBLIC, SYSTEM]
DISTRICT_OF = {HOME: DISTRICT, AWAY: OTHER_DISTRICT}


def notice_due(start: dt.date) -> dt.date:
    """第十三条: 10 working days, the first being the publication day if it is a working day."""
    first = start if CAL.is_working_day(start, allow_provisional=True) else _next(start)
    day, counted = first, 1
    while counted < 10:
        day = _next(day)
        counted += 1
    return day


def _next(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not CAL.is_working_day(day, allow_provisional=True):
        day += dt.timedelta(days=1)
    return day


def _previous_or_same(day: dt.date) -> dt.date:
    while not CAL.is_working_day(day, allow_provisional=True):
        day -= dt.timedelta(days=1)
    return day


def validity_due(certified: dt.date) -> dt.date:
    """第十五条: three years from the certification date, through the day before."""
    try:
        anniversary = certified.replace(year=certified.year + 3)
    except ValueError:  # 29 February
        anniversary = certified.replace(year=certified.year + 3, day=28)
    return anniversary - dt.timedelta(days=1)


def report_due(year: int, month: int) -> dt.date:
    """第十六条/第十七条: end of the month, moved to the next working day if it is a day off."""
    first_next = dt.date(year, month + 1, 1)
    return _previous_or_same_or_next(first_next - dt.timedelta(days=1))


def _previous_or_same_or_next(day: dt.date) -> dt.date:
    return day if CAL.is_working_day(day, allow_provisional=True) else _next(day)


@attrs.define
class Model:
    """What the reference believes about one case."""

    id: str
    base: str
    round_year: int
    state: str = D
    version: int = 1
    scores: list[float] = attrs.field(factory=list)
    selected: bool | None = None
    notice: tuple[dt.date, dt.date] | None = None
    open_objection: bool = False
    certified_on: dt.date | None = None
    failed_evaluation: bool = False
    filed: set[tuple[int, bool]] = attrs.field(factory=set)
    notified: set[str] = attrs.field(factory=set)

    @property
    def district(self) -> str:
        return BASES[self.base].base.district

    @property
    def operator(self) -> str:
        return BASES[self.base].operator.name


def identity_ok(actor: Actor, case: Model) -> bool:
    """A district authority acts for its own district, an operator for its own base
    (objections, open to anyone, are exempt: the caller checks that)."""
    if actor.role is DA:
        return actor.district == case.district
    if actor.role is OP:
        return actor.name == case.operator
    return True


# -- payload variants ---------------------------------------------------------------------------

RECOMMENDATIONS = {
    "good": Recommendation("同意推荐", True, SpotCheck(60, 6, 6)),
    "unchecked": Recommendation("同意推荐", False, SpotCheck(60, 6, 6)),
    "small": Recommendation("同意推荐", True, SpotCheck(60, 5, 5)),
    "unhappy": Recommendation("同意推荐", True, SpotCheck(60, 6, 4)),
    "blank": Recommendation(" ", True, SpotCheck(60, 6, 6)),
    "none": None,
}
REASONS = {"given": "理由充分", "blank": "  "}


class WorkflowModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock(START)
        self.store = MemoryStore()
        self.wf = Workflow(self.store, clock=self.clock, allow_provisional=True)
        for year, (opens, closes) in ROUNDS.items():
            self.wf.open_round(year, opens, closes, BUREAU)
        self.seen: list[str] = []
        self.wf.bus.subscribe(lambda e: self.seen.append(e.type))
        self.cases: dict[str, Model] = {}
        self.counter = 0

    @property
    def today(self) -> dt.date:
        return self.wf.today()

    # -- the harness of every step ----------------------------------------------------------

    def _snapshot(self) -> tuple[object, ...]:
        return (
            tuple(self.store.get(cid) for cid in self.cases),
            tuple(len(self.store.history(cid)) for cid in self.cases),
            len(self.store.read_outbox(0, 1_000_000)),
        )

    def _run(self, call: Any, expect_ok: bool, events: list[str]) -> Any:
        before = self._snapshot()
        start = len(self.seen)
        if expect_ok:
            result = call()
            assert self.seen[start:] == events, (self.seen[start:], events)
            return result
        with pytest.raises(TransitionRefusedError) as info:
            call()
        assert self._snapshot() == before
        assert self.seen[start:] == []
        for failure in info.value.failures:
            assert failure.article.zh.strip()
            assert failure.article.en.strip()
            assert failure.message.zh.strip()
            assert failure.message.en.strip()
        return info.value

    @initialize(bases=st.lists(st.sampled_from(sorted(BASES)), min_size=1, max_size=3))
    def declare_first(self, bases: list[str]) -> None:
        """Start with cases, declared by their own operators inside the 2025 round."""
        for base in bases:
            self.declare(base, OPERATORS[base], "complete")

    @rule(base=st.sampled_from(sorted(BASES)))
    def declare_own(self, base: str) -> None:
        self.declare(base, OPERATORS[base], "complete")

    # -- time --------------------------------------------------------------------------------

    @rule(days=st.sampled_from([0, 1, 1, 2, 3, 5, 7, 10, 14, 30, 60, 120, 200, 365]))
    def advance(self, days: int) -> None:
        target = self.today + dt.timedelta(days=days)
        if target <= END:
            self.clock.set(target)

    @rule(season=st.sampled_from([(9, 26), (2, 10), (6, 20)]))
    def jump_to_a_season(self, season: tuple[int, int]) -> None:
        """Land just before National Day or the Spring Festival, or inside a round."""
        month, day = season
        target = dt.date(self.today.year, month, day)
        if target < self.today:
            target = target.replace(year=target.year + 1)
        if target <= END:
            self.clock.set(target)

    def _jump(self, target: dt.date) -> None:
        if self.today <= target <= END:
            self.clock.set(target)

    @precondition(lambda self: any(c.notice for c in self.cases.values()))
    @rule(data=st.data(), offset=st.sampled_from([-1, 0, 1, 2]))
    def approach_the_end_of_a_notice(self, data: st.DataObject, offset: int) -> None:
        """Land on the days around the end of a public notice (第十三条, 第十四条)."""
        noticed = sorted(c.id for c in self.cases.values() if c.notice)
        notice = self.cases[data.draw(st.sampled_from(noticed))].notice
        assert notice is not None
        self._jump(notice[1] + dt.timedelta(days=offset))

    @precondition(lambda self: any(c.certified_on for c in self.cases.values()))
    @rule(
        data=st.data(),
        offset=st.sampled_from([-91, -90, -89, -31, -30, -29, -1, 0, 1]),
    )
    def approach_the_end_of_validity(self, data: st.DataObject, offset: int) -> None:
        """Land on the days around a reminder or the end of validity (第十五条)."""
        certified = sorted(c.id for c in self.cases.values() if c.certified_on)
        on = self.cases[data.draw(st.sampled_from(certified))].certified_on
        assert on is not None
        self._jump(validity_due(on) + dt.timedelta(days=offset))

    @precondition(lambda self: any(c.certified_on for c in self.cases.values()))
    @rule(month=st.sampled_from([1, 2]), offset=st.sampled_from([0, 1]))
    def approach_a_report_deadline(self, month: int, offset: int) -> None:
        """Land on the due day of the next yearly report, or the day after (第十六条, 第十七条)."""
        for year in (self.today.year, self.today.year + 1):
            due = report_due(year, month)
            if due + dt.timedelta(days=offset) >= self.today:
                self._jump(due + dt.timedelta(days=offset))
                return

    # -- declare -----------------------------------------------------------------------------

    @rule(
        base=st.sampled_from(sorted(BASES)),
        actor=st.sampled_from(ALL_ACTORS),
        materials=st.sampled_from(["complete", "complete", "missing"]),
    )
    def declare(self, base: str, actor: Actor, materials: str) -> None:
        app = BASES[base]
        if materials == "missing":
            kept = {k: v for k, v in app.materials.items() if k != "audit_report"}
            app = attrs.evolve(app, materials=kept)
        today = self.today
        round_year = next(
            (y for y, (o, c) in ROUNDS.items() if o <= today <= c),
            None,
        )
        same_base = [c for c in self.cases.values() if c.base == base]
        ok = (
            actor.role is OP
            and actor.name == app.operator.name
            and round_year is not None
            and materials == "complete"
            and not any(c.state in OPEN for c in same_base)
            and not any(
                c.state == CT
                and c.certified_on is not None
                and validity_due(c.certified_on).year > round_year
                for c in same_base
            )
        )
        self.counter += 1
        case_id = f"k{self.counter:03d}"
        self._run(
            lambda: self.wf.declare(app, actor, case_id=case_id),
            ok,
            ["declared"],
        )
        if ok:
            assert round_year is not None
            self.cases[case_id] = Model(case_id, base, round_year)

    # -- triggers ----------------------------------------------------------------------------

    def _payload(  # noqa: PLR0911 - one branch per trigger
        self, trigger: Trigger, variant: str
    ) -> tuple[dict[str, Any], bool]:
        """Keyword arguments for ``fire`` and whether the payload is acceptable."""
        today = self.today
        if trigger is Trigger.RECOMMEND:
            key = variant if variant in RECOMMENDATIONS else "good"
            return {"payload": RECOMMENDATIONS[key]}, key == "good"
        if trigger in (
            Trigger.DECLINE,
            Trigger.FAIL_REVIEW,
            Trigger.FAIL_INSPECTION,
            Trigger.VERIFY,
            Trigger.SUSTAIN_OBJECTION,
        ):
            key = "blank" if variant == "blank" else "given"
            return {"reason": REASONS[key]}, key == "given"
        if trigger is Trigger.PASS_REVIEW:
            if variant == "none":
                return {}, True  # acceptable when opinions were recorded before
            return {"payload": ExpertOpinion("专家乙", 70 + len(variant), "同意")}, True
        if trigger is Trigger.PASS_INSPECTION:
            opinion = " " if variant == "blank" else "现场核查属实"
            return {"payload": opinion}, variant != "blank"
        if trigger is Trigger.PUBLICIZE:
            start = {
                "past": today - dt.timedelta(days=1),
                "later": today + dt.timedelta(days=2),
            }.get(variant, today)
            return {"payload": start}, variant != "past"
        if trigger is Trigger.OBJECT:
            content = " " if variant == "blank" else "入驻企业数量不实"
            return {"payload": Objection(today, "某人", content)}, variant != "blank"
        if trigger is Trigger.CERTIFY:
            reference = " " if variant == "blank" else "局党组会议纪要"
            return {"payload": CollectiveDecision(reference, today)}, variant != "blank"
        if trigger is Trigger.REVOKE:
            ground = (
                RevocationGround.FAILED_EVALUATION
                if variant == "evaluation"
                else RevocationGround.VIOLATION
            )
            details = " " if variant == "blank" else "查实违规"
            revocation = Revocation(ground, today, details)
            return {"payload": revocation, "reason": details}, variant != "blank"
        return {"reason": "主动撤回" if variant != "blank" else ""}, True

    def _guards_hold(  # noqa: PLR0911 - one branch per guarded trigger
        self, case: Model, trigger: Trigger, kwargs: dict[str, Any]
    ) -> bool:
        """The guards of 第十条 to 第十八条 beyond role and state."""
        today = self.today
        if trigger is Trigger.RECOMMEND:
            return ELIGIBLE[case.base]
        if trigger is Trigger.PASS_REVIEW:
            has_opinion = bool(case.scores) or "payload" in kwargs
            return has_opinion and case.selected is not False
        if trigger is Trigger.OBJECT:
            assert case.notice is not None
            return case.notice[0] <= today <= case.notice[1]
        if trigger is Trigger.CERTIFY:
            assert case.notice is not None
            return today >= _next(case.notice[1]) and not case.open_objection
        if trigger is Trigger.EXPIRE:
            assert case.certified_on is not None
            return today > validity_due(case.certified_on)
        if trigger is Trigger.REVOKE:
            ground = kwargs["payload"].ground
            return ground is not RevocationGround.FAILED_EVALUATION or case.failed_evaluation
        return True

    def _apply(self, case: Model, trigger: Trigger, kwargs: dict[str, Any]) -> None:
        case.state = TABLE[trigger][1]
        case.version += 1
        if trigger is Trigger.PASS_REVIEW and "payload" in kwargs:
            case.scores.append(kwargs["payload"].score)
        elif trigger is Trigger.PUBLICIZE:
            start = kwargs["payload"]
            case.notice = (start, notice_due(start))
        elif trigger is Trigger.OBJECT:
            case.open_objection = True
        elif trigger in (Trigger.VERIFY, Trigger.SUSTAIN_OBJECTION):
            case.open_objection = False
        elif trigger is Trigger.CERTIFY:
            case.certified_on = self.today

    def _fire(self, case: Model, trigger: Trigger, actor: Actor, variant: str) -> None:
        sources, _, roles, event = TABLE[trigger]
        kwargs, payload_ok = self._payload(trigger, variant)
        state_ok = case.state in sources
        ok = (
            state_ok
            and actor.role in roles
            and (trigger is Trigger.OBJECT or identity_ok(actor, case))
            and payload_ok
            and self._guards_hold(case, trigger, kwargs)
        )
        outcome = self._run(
            lambda: self.wf.fire(case.id, trigger, actor, **kwargs),
            ok,
            [event],
        )
        if ok:
            self._apply(case, trigger, kwargs)
            note(f"reached {case.state}")
            assert outcome.case.state.value == case.state
        elif not state_ok:
            assert [f.guard for f in outcome.failures] == ["state"]

    @precondition(lambda self: bool(self.cases))
    @rule(
        data=st.data(),
        trigger=st.sampled_from(list(TABLE)),
        actor=st.sampled_from(ALL_ACTORS),
        variant=st.sampled_from(
            [
                "good",
                "good",
                "blank",
                "none",
                "past",
                "later",
                "unchecked",
                "small",
                "unhappy",
                "evaluation",
            ]
        ),
    )
    def fire_anything(
        self, data: st.DataObject, trigger: Trigger, actor: Actor, variant: str
    ) -> None:
        case = self.cases[data.draw(st.sampled_from(sorted(self.cases)))]
        self._fire(case, trigger, actor, variant)

    @precondition(lambda self: any(c.state in OPEN | {CT} for c in self.cases.values()))
    @rule(
        data=st.data(),
        right_actor=st.sampled_from([True, True, True, False]),
        variant=st.sampled_from(["good", "good", "later"]),
    )
    def fire_a_likely_step(self, data: st.DataObject, right_actor: bool, variant: str) -> None:
        """Biased towards progress: a trigger allowed from the case's state, often by the
        actor the table names, with a valid payload."""
        live = sorted(c.id for c in self.cases.values() if c.state in OPEN | {CT})
        case = self.cases[data.draw(st.sampled_from(live))]
        triggers = [t for t in PROGRESS if case.state in TABLE[t][0]]
        trigger = data.draw(st.sampled_from(triggers))
        roles = TABLE[trigger][2]
        if right_actor and trigger is Trigger.OBJECT:
            actor = PUBLIC
        elif right_actor:
            (role,) = roles
            right = {OP: OPERATORS[case.base], DA: DISTRICT_OF[case.district], CB: BUREAU}
            actor = right.get(role, SYSTEM)
        else:
            actor = data.draw(st.sampled_from(ALL_ACTORS))
        self._fire(case, trigger, actor, variant)

    @precondition(lambda self: any(c.state in OPEN | {CT} for c in self.cases.values()))
    @rule(data=st.data())
    def fire_a_likely_step_again(self, data: st.DataObject) -> None:
        """The same, so that progress is drawn more often than anything else."""
        self.fire_a_likely_step(data, True, "good")

    # -- records -----------------------------------------------------------------------------

    def _record(
        self,
        case: Model,
        actor: Actor,
        *,
        roles: set[Role],
        states: set[str],
        call: Any,
        event: str,
        extra_ok: bool = True,
    ) -> bool:
        ok = actor.role in roles and identity_ok(actor, case) and case.state in states and extra_ok
        self._run(call, ok, [event])
        if ok:
            case.version += 1
        return ok

    @precondition(lambda self: bool(self.cases))
    @rule(
        data=st.data(),
        kind=st.sampled_from(["opinion", "base_report", "district_report", "evaluation"])
        | st.sampled_from(["change", "change_future", "province"]),
        actor=st.sampled_from(ALL_ACTORS),
        passed=st.booleans(),
    )
    def record(self, data: st.DataObject, kind: str, actor: Actor, passed: bool) -> None:
        case = self.cases[data.draw(st.sampled_from(sorted(self.cases)))]
        wf, today = self.wf, self.today
        if kind == "opinion":
            score = data.draw(st.sampled_from([60.0, 75.5, 90.0]))
            if self._record(
                case,
                actor,
                roles={XP},
                states={R},
                call=lambda: wf.record_expert_opinion(case.id, actor, score, "意见"),
                event="expert_opinion_recorded",
            ):
                case.scores.append(score)
        elif kind in ("base_report", "district_report"):
            by_district = kind == "district_report"
            if self._record(
                case,
                actor,
                roles={DA} if by_district else {OP},
                states={CT},
                call=lambda: wf.file_annual_report(
                    case.id, actor, today.year, by_district=by_district
                ),
                event="annual_report_filed",
            ):
                case.filed.add((today.year, by_district))
        elif kind == "evaluation":
            if self._record(
                case,
                actor,
                roles={CB, XP},
                states={CT},
                call=lambda: wf.record_evaluation(
                    case.id, actor, passed=passed, evaluator="第三方"
                ),
                event="evaluation_recorded",
            ):
                case.failed_evaluation |= not passed
        elif kind in ("change", "change_future"):
            completed = today + dt.timedelta(days=1 if kind == "change_future" else -3)
            self._record(
                case,
                actor,
                roles={OP},
                states={CT},
                call=lambda: wf.file_change(case.id, actor, "更名", completed),
                event="change_filed",
                extra_ok=kind == "change",
            )
        else:
            self._record(
                case,
                actor,
                roles={CB},
                states={CT},
                call=lambda: wf.recommend_to_province(case.id, actor, "省级示范基地"),
                event="provincially_recommended",
            )

    @rule(actor=st.sampled_from([BUREAU, EXPERT, DISTRICT]), quota=st.sampled_from([1, 2]))
    def select(self, actor: Actor, quota: int) -> None:
        """择优 (第十一条): rank this year's recommended cases by mean expert score."""
        year = self.today.year
        candidates = [c for c in self.cases.values() if c.state == R and c.round_year == year]
        ok = actor.role is CB  # only the city bureau selects, even an empty round
        self._run(
            lambda: self.wf.select_round(year, actor, quota=quota),
            ok,
            ["round_selected"] * len(candidates),
        )
        if not ok:
            return

        def key(c: Model) -> tuple[bool, float, str]:
            mean = sum(c.scores) / len(c.scores) if c.scores else 0.0
            return (not c.scores, -mean, c.id)

        for rank, c in enumerate(sorted(candidates, key=key), start=1):
            c.selected = rank <= quota and bool(c.scores)
            c.version += 1

    # -- the sweep ---------------------------------------------------------------------------

    @rule()
    def sweep(self) -> None:
        today = self.today
        expected: list[str] = []
        expired: list[str] = []
        for case in self.cases.values():
            if case.state == CT:
                assert case.certified_on is not None
                due = validity_due(case.certified_on)
                if today > due:
                    case.state, case.version = EX, case.version + 1
                    expected.append("expired")
                    expired.append(case.id)
                    continue
                for lead in (90, 30):
                    key = f"validity_ending:{lead}"
                    remind = _previous_or_same(due - dt.timedelta(days=lead))
                    if remind <= today and key not in case.notified:
                        self._notify(case, key, expected, "validity_ending_soon")
                for year in range(case.certified_on.year, due.year + 1):
                    for month, by_district in ((1, False), (2, True)):
                        end = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
                        if not case.certified_on <= end <= due:
                            continue
                        key = (
                            f"annual_report_overdue:{year}:{'district' if by_district else 'base'}"
                        )
                        filed = (year, by_district) in case.filed
                        if (
                            report_due(year, month) < today
                            and not filed
                            and key not in case.notified
                        ):
                            self._notify(case, key, expected, "annual_report_overdue")
            elif (
                case.state in (PB, VF)
                and case.notice is not None
                and case.notice[1] < today
                and "notice_ended" not in case.notified
            ):
                self._notify(case, "notice_ended", expected, "notice_period_ended")
        start = len(self.seen)
        report = self.wf.sweep()
        assert collections.Counter(self.seen[start:]) == collections.Counter(expected)
        assert sorted(report.expired) == sorted(expired)
        assert report.refused == ()
        for kind in expected:
            note(f"sweep: {kind}")

    @staticmethod
    def _notify(case: Model, key: str, expected: list[str], event: str) -> None:
        case.notified.add(key)
        case.version += 1
        expected.append(event)

    # -- after every step ----------------------------------------------------------------------

    @invariant()
    def matches_the_model(self) -> None:
        assert {c.id for c in self.store.find(_ALL)} == set(self.cases)
        for case in self.cases.values():
            real = self.store.get(case.id)
            assert real.state.value == case.state, (case.id, real.state, case)
            assert real.version == case.version, (case.id, real.version, case)
            history = self.store.history(case.id)
            assert len(history) == real.version
            assert verify_history(history).ok
        events = [r.event.type for r in self.store.read_outbox(0, 1_000_000)]
        assert events == self.seen


_ALL = CaseQuery()

WorkflowModel.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestWorkflowModel = WorkflowModel.TestCase
