"""Judging an application against the policy in force: a verdict made of findings.

One finding per rule: the rule id, its article, the required and actual values, a status
(``pass``, ``fail``, ``not_assessable`` — missing data is never a pass) and a message in Chinese
and English. The pass/fail logic is declared once per policy (``_judgement.plan``) and runs two
ways: over one application's plain values (`evaluate`: a portal, a recommendation) and
column-wise over numpy arrays (`evaluate_population`: a simulation of millions). A verdict's
findings and their messages are rendered when first read; its decision is made at once:

>>> from kmbase_workflow.eligibility import evaluate
>>> from kmbase_workflow.serialization import load_application
>>> verdict = evaluate(load_application("docs/examples/eligible.json"))
>>> verdict.eligible, verdict.policy_id
(True, 'kunming-2022')
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from . import _judgement
from ._html import finding_html, verdict_html
from ._i18n import Lang, Text
from ._judgement import FAIL, NA, PASS, CodeArray
from .errors import InvalidInputError
from .policy import APPLICATION_MEASURES, CONSISTENCY_MEASURES, Policy, Rule, load_policy
from .records import Application, Education, SpotCheck

__all__ = [
    "Finding",
    "PopulationVerdict",
    "Status",
    "Verdict",
    "application_columns",
    "application_measures",
    "claimed_satisfaction_rate",
    "declaration_date_problems",
    "district_problems",
    "evaluate",
    "evaluate_population",
    "expert_score_problems",
    "judge_spot_check",
    "notice_problems",
    "selection_key",
    "spot_check_population",
    "spot_check_sample_size",
]

MeasureValue = float | bool | str | None
Basis = Literal[
    "measured",
    "declared",
    "pledged",
    "service_functions",
    "materials",
    "spot_check",
    "district",
    "figures_year",
]


class Status(enum.Enum):
    """The outcome of one rule."""

    PASS = "pass"
    FAIL = "fail"
    NOT_ASSESSABLE = "not_assessable"
    """Data missing or not judgeable: never counted as a pass."""

    @property
    def label(self) -> Text:
        """Human label in both languages."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    Status.PASS: Text(zh="符合", en="met"),
    Status.FAIL: Text(zh="不符合", en="not met"),
    Status.NOT_ASSESSABLE: Text(zh="无法判断", en="not assessable"),
}

_CODE_STATUS = {PASS: Status.PASS, FAIL: Status.FAIL, NA: Status.NOT_ASSESSABLE}


@attrs.frozen
class Finding:
    """The outcome of one rule for one application."""

    rule: str
    article: Text
    status: Status
    required: MeasureValue
    actual: MeasureValue
    message: Text
    basis: Basis = "measured"
    evidence: str | None = None
    """For declared conditions: where the applicant says the proof is."""
    details: tuple[Finding, ...] = ()
    """Sub-findings (each service function of 第七条, each threshold of a function)."""

    @property
    def passed(self) -> bool:
        """Whether the rule is met."""
        return self.status is Status.PASS

    def _repr_html_(self) -> str:
        return finding_html(self)

    def to_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        """The finding as plain data (the ``kmbase check --format json`` contract)."""
        data: dict[str, Any] = {
            "rule": self.rule,
            "article": attrs.asdict(self.article),  # both languages, as in every JSON output
            "status": self.status.value,
            "required": self.required,
            "actual": self.actual,
            "message": self.message.in_(lang),
            "basis": self.basis,
        }
        if self.evidence is not None:
            data["evidence"] = self.evidence
        if self.details:
            data["details"] = [detail.to_dict(lang) for detail in self.details]
        return data


@attrs.frozen
class Verdict:
    """Every finding for one application under one policy."""

    policy_id: str
    base_name: str
    findings: tuple[Finding, ...]
    judged_on: dt.date
    """The day the application was judged at: the age of 第六条第（二）项 is counted to it
    and the figures of the year before it are judged (by default the application's own
    填报日期; a workflow passes the case's real declaration day)."""
    figures_year: int
    """The year whose figures were judged (the policy's ``figures`` rule)."""
    _pending: _Pending | None = attrs.field(default=None, init=False, eq=False, repr=False)
    """What `evaluate` judged, until ``findings`` is first read."""

    if not TYPE_CHECKING:  # typed as the field it fills, so typos stay type errors

        def __getattr__(self, name: str) -> Any:
            # Only ``findings`` is ever left unset: `evaluate` decides at once (statuses,
            # `eligible`) and renders the ~65 bilingual findings on first read, which costs
            # several times the decision.
            if name == "findings":
                pending = self._pending
                if pending is not None:
                    findings = _render(pending)
                    object.__setattr__(self, "findings", findings)
                    return findings
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _repr_html_(self) -> str:
        return verdict_html(self)

    @property
    def eligible(self) -> bool:
        """True only if every finding passes (a not-assessable finding is not a pass)."""
        if self._pending is not None:
            return self._pending.eligible
        return all(finding.passed for finding in self.findings)

    def failed(self) -> tuple[Finding, ...]:
        """Findings whose rule is not met."""
        if self._pending is not None and self._pending.eligible:
            return ()
        return tuple(f for f in self.findings if f.status is Status.FAIL)

    def not_assessable(self) -> tuple[Finding, ...]:
        """Findings that could not be judged for lack of data."""
        if self._pending is not None and self._pending.eligible:
            return ()
        return tuple(f for f in self.findings if f.status is Status.NOT_ASSESSABLE)

    def finding(self, rule_id: str) -> Finding:
        """The finding for one rule id (``KeyError`` if there is none)."""
        for finding in self.findings:
            if finding.rule == rule_id:
                return finding
        raise KeyError(rule_id)

    def summary(self) -> Text:
        """One line: eligible or not, and how many rules failed or could not be judged."""
        failed, missing = len(self.failed()), len(self.not_assessable())
        day = self.judged_on.isoformat()
        if self.eligible:
            return Text(
                zh=f"{self.base_name}：符合申报条件（判断日 {day}）",
                en=f"{self.base_name}: eligible (judged on {day})",
            )
        return Text(
            zh=f"{self.base_name}：不符合申报条件（{failed} 项不符合，{missing} 项无法判断；判断日 {day}）",
            en=f"{self.base_name}: not eligible ({failed} not met, {missing} not assessable; "
            f"judged on {day})",
        )

    def to_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        """The verdict as plain data (the ``kmbase check --format json`` contract)."""
        return {
            "eligible": self.eligible,
            "policy": self.policy_id,
            "base": self.base_name,
            "judged_on": self.judged_on.isoformat(),
            "figures_year": self.figures_year,
            "findings": [finding.to_dict(lang) for finding in self.findings],
        }


# -- measures of one application --------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _growth(latest: int | None, previous: int | None) -> float | None:
    """Yearly growth as a fraction. From a zero year: any firm more is growth above every
    percentage (``inf``), none more is no growth (0.0); 第六条第（九）项 reads "年增长10%以上"."""
    if latest is None or previous is None:
        return None
    if previous == 0:
        return math.inf if latest > 0 else 0.0
    return (latest - previous) / previous


def _years_between(start: dt.date, end: dt.date) -> float:
    """Completed years plus the elapsed fraction of the current one (exact at anniversaries)."""
    if end < start:
        return -_years_between(end, start)

    def anniversary(years: int) -> dt.date:
        year = start.year + years
        # 29 February: in a common year the anniversary is 28 February.
        if (start.month, start.day) == (2, 29) and not calendar.isleap(year):
            return dt.date(year, 2, 28)
        return start.replace(year=year)

    years = end.year - start.year
    if anniversary(years) > end:
        years -= 1
    try:
        last, following = anniversary(years), anniversary(years + 1)
    except ValueError:  # the anniversary after ``end`` falls in the year 10000
        raise InvalidInputError(
            Text(
                zh=f"无法计算 {start} 至 {end} 的运营年限：其后的周年日晚于 {dt.date.max}",
                en=f"cannot count the operating years from {start} to {end}: the anniversary "
                f"after it is later than {dt.date.max}",
            ),
            hint=Text(
                zh="请检查填报日期（declared_on）与成立日期（established_on）",
                en="check the declaration date (declared_on) and the date the base was "
                "established (established_on)",
            ),
        ) from None
    return years + (end - last).days / (following - last).days


def _judged_day(application: Application, judged_on: dt.date | None) -> dt.date:
    return judged_on if judged_on is not None else application.declared_on


# Education.bachelor_or_above, read once: the property builds a set of members at every call.
_DEGREED = frozenset(education for education in Education if education.bachelor_or_above)


def application_measures(
    application: Application, policy: Policy | None = None, *, judged_on: dt.date | None = None
) -> dict[str, MeasureValue]:
    """Every catalogued measure of an application (``None`` where the data is missing).

    ``judged_on`` (default: the application's ``declared_on``) is the day the age of
    第六条第（二）项 is counted to; the figures judged are those of the year the policy's
    ``figures`` rule names for that day (the year before), and growth compares that year
    with the one before it.
    """
    day = _judged_day(application, judged_on)
    policy = policy or load_policy(day)
    year = policy.figures.expected_year(day)
    latest, previous = application.figures_for(year), application.figures_for(year - 1)
    full_time = [member for member in application.staff if member.full_time_service]
    qualified = [m for m in full_time if m.education in _DEGREED or m.intermediate_title_or_above]
    volume = application.service_volume
    in_leading = sum(1 for r in application.residents if r.in_leading_industry)
    measures: dict[str, MeasureValue] = {
        "independent_legal_person": application.operator.independent_legal_person,
        "operating_years": _years_between(application.base.established_on, day),
        "resident_small_micro_enterprises": latest.resident_small_micro_enterprises
        if latest
        else None,
        "small_micro_employees": latest.small_micro_employees if latest else None,
        "leading_industries": len(application.base.leading_industries),
        # 占入驻企业总数: the reported total of the judged year, not the roster's length.
        "leading_industry_share": _share(in_leading, latest.resident_enterprises)
        if latest
        else None,
        "full_time_service_staff": len(full_time),
        "qualified_staff_share": _share(len(qualified), len(full_time)),
        "startup_mentors": sum(1 for member in application.staff if member.startup_mentor),
        "contracted_agencies": sum(1 for agency in application.agencies if agency.signed_agreement),
        "free_or_low_fee_share": _share(volume.free_or_low_fee, volume.total) if volume else None,
        "satisfaction_rate": claimed_satisfaction_rate(application),
        "site_area_m2": application.base.site_area_m2,
        "resident_growth": _growth(
            latest.resident_small_micro_enterprises if latest else None,
            previous.resident_small_micro_enterprises if previous else None,
        ),
        "employee_growth": _growth(
            latest.small_micro_employees if latest else None,
            previous.small_micro_employees if previous else None,
        ),
        "innovation_growth": _growth(
            latest.innovation_outputs if latest else None,
            previous.innovation_outputs if previous else None,
        ),
        "roster_matches_total": len(application.residents) == latest.resident_enterprises
        if latest
        else None,
        # where the application contradicts itself the verdict says so (第六条第（四）项); with
        # no leading industry declared there is nothing to compare (leading_industries_defined)
        "leading_flags_match_industries": not application.base.leading_industries
        or all(
            r.industry in application.base.leading_industries
            for r in application.residents
            if r.in_leading_industry
        ),
        # the roster's small/micro flags agree with the reported count (第六条第（三）项)
        "small_micro_flags_match_total": sum(1 for r in application.residents if r.small_or_micro)
        == latest.resident_small_micro_enterprises
        if latest
        else None,
        # a survey speaks for the residents when it covers at least the sample 第十条 takes of
        # them (第六条第（六）项); without responses satisfaction_rate is missing already
        "satisfaction_survey_covers_sample": not application.satisfaction_survey
        or len(application.satisfaction_survey)
        >= max(policy.spot_check.minimum_sample(latest.resident_small_micro_enterprises), 1)
        if latest
        else None,
        "focus": application.base.focus.value,
    }
    return measures


def claimed_satisfaction_rate(application: Application) -> float | None:
    """The satisfaction the applicant reports (入驻小微企业服务满意度评价表): the share of
    satisfied responses, ``None`` without responses. Shown beside a spot check's own rate."""
    survey = application.satisfaction_survey
    return _share(sum(1 for r in survey if r.satisfied), len(survey))


_YEAR_MEASURES = frozenset(
    {
        "resident_small_micro_enterprises",
        "small_micro_employees",
        "leading_industry_share",
        "roster_matches_total",
        "small_micro_flags_match_total",
        "satisfaction_survey_covers_sample",
    }
)
_GROWTH_MEASURES = frozenset({"resident_growth", "employee_growth", "innovation_growth"})


def _declared_value(application: Application, key: str) -> float:
    declaration = application.declarations.get(key)
    if declaration is None or (declaration.value and not declaration.evidence.strip()):
        return math.nan  # a declaration without evidence cannot be judged
    return 1.0 if declaration.value else 0.0


JudgedOn = dt.date | Sequence[dt.date] | None
"""One day for every application, one per application, or ``None`` (each its own date)."""


def _judged_days(applications: Sequence[Application], judged_on: JudgedOn) -> list[dt.date]:
    if judged_on is None or isinstance(judged_on, dt.date):
        return [_judged_day(app, judged_on) for app in applications]
    days = list(judged_on)
    if len(days) != len(applications):
        raise InvalidInputError(
            Text(
                zh=f"judged_on 有 {len(days)} 个日期，申请有 {len(applications)} 份",
                en=f"judged_on has {len(days)} days for {len(applications)} applications",
            ),
            hint=Text(
                zh="传入一个日期，或每份申请一个日期", en="pass one day, or one per application"
            ),
        )
    return days


FIGURES_YEAR = _judgement.FIGURES_YEAR
"""The finding (and column) for 申请表 二 reporting the judged year."""
SERVICES_YEAR = _judgement.SERVICES_YEAR
"""The finding (and column) for 申请表 三's service figures being of the judged year."""
DISTRICT = _judgement.DISTRICT
"""The finding for the base's district being one the policy lists (第四条)."""
DISTRICT_COLUMN = _judgement.DISTRICT_COLUMN
"""The column: 1.0 when the base's district is listed, 0.0 when not."""
UNKNOWN_KEYS = _judgement.UNKNOWN_KEYS
"""The finding (and column) for keys the policy does not know: usually typos."""
_ANNEX_1 = Text(zh="附件1", en="Annex 1")


def application_columns(
    applications: Sequence[Application],
    policy: Policy | None = None,
    *,
    judged_on: JudgedOn = None,
) -> dict[str, npt.NDArray[Any]]:
    """The columns `evaluate_population` reads, built from records.

    ``judged_on`` is the day each application is judged at (one day, one per application,
    or by default each application's ``declared_on``), as in `evaluate`.

    Column names: each measure of `APPLICATION_MEASURES` and `CONSISTENCY_MEASURES`
    (float, NaN for missing; booleans as 1.0/0.0), ``focus`` (str),
    ``declared.<id>`` (1.0 declared true with evidence, 0.0 declared false, NaN otherwise),
    ``pledge.<id>`` (1.0 pledged, 0.0 cannot pledge, NaN missing),
    ``service.<function>.<measure>`` (float, NaN missing), ``material.<id>`` (bool),
    ``figures_year.yearly`` and ``figures_year.services`` (1.0 the judged year's figures
    are given, 0.0 not) and ``district.listed`` (1.0 the district is the policy's, 0.0 not).
    """
    policy = policy or load_policy()
    checks = _judgement.plan(policy)
    days = _judged_days(applications, judged_on)
    rows = [
        _application_row(app, policy, checks, day)[0]
        for app, day in zip(applications, days, strict=True)
    ]
    return {
        name: np.array([row[name] for row in rows], dtype=_column_dtype(name))
        for name in checks.columns
    }


def _column_dtype(name: str) -> type[Any]:
    if name == "focus":
        return object
    return bool if name.startswith("material.") else np.float64


def _application_row(
    application: Application, policy: Policy, checks: _judgement.Plan, day: dt.date
) -> tuple[dict[str, MeasureValue], dict[str, MeasureValue], list[str]]:
    """One application's values under the names of `application_columns` (the one place
    they are read from the records), with its measures and its unknown keys."""
    measures = application_measures(application, policy, judged_on=day)
    unknown = _unknown_keys(application, checks)
    row: dict[str, MeasureValue] = {
        name: _as_float(measures[name]) for name in (*APPLICATION_MEASURES, *CONSISTENCY_MEASURES)
    }
    row["focus"] = measures["focus"]
    for column, key in checks.declared_columns:
        row[column] = _declared_value(application, key)
    for column, key in checks.pledge_columns:
        row[column] = _as_float(application.pledges.get(key))
    for function_id, thresholds in checks.service_columns:
        figures = application.services.get(function_id)
        for column, measure in thresholds:
            # A function the applicant does not claim is not provided: zero, not unknown.
            row[column] = _as_float(getattr(figures, measure) if figures is not None else 0)
    row[UNKNOWN_KEYS] = float(len(unknown))
    for column, key in checks.material_columns:
        row[column] = bool(application.materials.get(key, "").strip())
    year = policy.figures.expected_year(day)
    row[FIGURES_YEAR] = float(application.figures_for(year) is not None)
    row[SERVICES_YEAR] = float(application.service_figures_year == year)
    row[DISTRICT_COLUMN] = float(application.base.district in checks.districts)
    return row, measures, unknown


def unknown_keys(application: Application, policy: Policy) -> list[str]:
    """Keys of ``services``, ``materials``, ``declarations`` and ``pledges`` that ``policy`` does not know
    (``services.trainig``): a typo would otherwise read as a service not provided."""
    return _unknown_keys(application, _judgement.plan(policy))


def _unknown_keys(application: Application, checks: _judgement.Plan) -> list[str]:
    return sorted(
        [f"services.{key}" for key in application.services if key not in checks.functions]
        + [f"materials.{key}" for key in application.materials if key not in checks.materials]
        + [f"declarations.{key}" for key in application.declarations if key not in checks.declared]
        + [f"pledges.{key}" for key in application.pledges if key not in checks.pledges]
    )


def _as_float(value: MeasureValue) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)


# -- a population, column by column ---------------------------------------------------------------


@attrs.frozen
class PopulationVerdict:
    """Status codes per rule for a population (0 pass, 1 fail, 2 not assessable).

    ``rules`` maps each rule id (and ``service_functions``, each ``service.<function>`` and
    ``material.<id>``) to an int8 array; ``eligible`` is True where every rule passes.
    """

    policy_id: str
    rules: Mapping[str, CodeArray]
    eligible: npt.NDArray[np.bool_]

    def status(self, rule_id: str, index: int) -> Status:
        """The status of one rule for the application at ``index``."""
        return _CODE_STATUS[int(self.rules[rule_id][index])]

    def pass_rate(self, rule_id: str) -> float:
        """Share of all applications for which the rule is met (a rule that does not apply
        to an application, by ``applies_when``, counts as met for it)."""
        codes = self.rules[rule_id]
        return float(np.mean(codes == PASS)) if codes.size else math.nan


def evaluate_population(
    columns: Mapping[str, npt.ArrayLike], policy: Policy | None = None
) -> PopulationVerdict:
    """Judge a whole population at once, column by column (see `application_columns`,
    which takes the day each application is judged at).

    Rules that do not apply to a row (``applies_when``) count as passed for it; a column that
    is absent makes its rule not assessable for every row.
    """
    policy = policy or load_policy()
    checks = _judgement.plan(policy)
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    size = len(next(iter(arrays.values()))) if arrays else 0
    codes = _judgement.judge_columns(checks, arrays, size)
    return PopulationVerdict(
        policy_id=policy.id,
        rules={key: code for key, code in codes.items() if key in checks.recorded},
        eligible=_judgement.eligible_columns(checks, codes, size),
    )


# -- one application: the same codes, turned into findings with messages ---------------------------


def _format(value: MeasureValue, rule: Rule) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if rule.unit is not None and rule.unit.en == "%":
        return f"{value * 100:.1f}%".replace(".0%", "%")
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}"


def _unit(rule: Rule) -> tuple[str, str]:
    if rule.unit is None or rule.unit.en == "%":
        return "", ""
    return rule.unit.zh, " " + rule.unit.en


def _missing_detail(rule: Rule, year: int | None) -> Text:
    if year is not None and rule.measure in _GROWTH_MEASURES:
        return Text(
            zh=f"缺少所判年度 {year} 年或其上一年度 {year - 1} 年的数据，无法计算增长率",
            en=f"growth needs the figures of the judged year {year} and of {year - 1}",
        )
    if year is not None and rule.measure in _YEAR_MEASURES:
        return Text(
            zh=f"缺少所判年度 {year} 年的数据",
            en=f"the figures of the judged year {year} are missing",
        )
    return Text(zh="缺少数据或无法计算", en="data missing or not computable")


def _rule_message(
    rule: Rule,
    status: Status,
    actual: MeasureValue,
    *,
    year: int | None = None,
    shown: Text | None = None,
) -> Text:
    # Strings, not intermediate Texts: a verdict renders some forty of these messages.
    if rule.declared:
        detail = _DECLARED_DETAILS[status]
        detail_zh, detail_en = detail.zh, detail.en
    elif status is Status.NOT_ASSESSABLE:
        detail = _missing_detail(rule, year)
        detail_zh, detail_en = detail.zh, detail.en
    else:
        unit_zh, unit_en = _unit(rule)
        required = f"{rule.comparison.symbol} {_format(rule.required, rule)}"
        if shown is None:
            value = _format(actual, rule)
            shown_zh, shown_en = f"{value}{unit_zh}", f"{value}{unit_en}"
        else:
            shown_zh, shown_en = shown.zh, shown.en
        detail_zh = f"要求 {required}{unit_zh}，实际 {shown_zh}"
        detail_en = f"required {required}{unit_en}, actual {shown_en}"
    description = rule.description
    if status is Status.NOT_ASSESSABLE:  # the detail already says so
        return Text(zh=f"{description.zh}：{detail_zh}", en=f"{description.en}: {detail_en}")
    label = _STATUS_LABELS[status]
    return Text(
        zh=f"{description.zh}：{detail_zh}，{label.zh}",
        en=f"{description.en}: {detail_en}; {label.en}",
    )


_DECLARED_DETAILS = {
    Status.PASS: Text(
        zh="申报单位声明符合（见佐证材料）", en="declared by the applicant (see evidence)"
    ),
    Status.FAIL: Text(zh="申报单位声明不符合", en="declared not met by the applicant"),
    Status.NOT_ASSESSABLE: Text(
        zh="未声明或缺少佐证材料", en="not declared, or declared without evidence"
    ),
}


def _service_findings(application: Application, policy: Policy, status_of: _StatusOf) -> Finding:
    requirement = policy.service_functions
    details = []
    met = 0
    for function in requirement.functions:
        figures = application.services.get(function.id)
        threshold_findings = []
        for threshold in function.thresholds:
            actual = getattr(figures, threshold.measure) if figures is not None else 0
            status = status_of(f"service.{function.id}.{threshold.measure}")
            threshold_findings.append(
                Finding(
                    rule=threshold.id,
                    article=threshold.article,
                    status=status,
                    required=threshold.required,
                    actual=actual,
                    message=_rule_message(threshold, status, actual),
                    basis="service_functions",
                )
            )
        status = status_of(f"service.{function.id}")
        met += status is Status.PASS
        claimed = (
            Text(zh="", en="") if figures is not None else Text(zh="未申报，", en="not claimed; ")
        )
        details.append(
            Finding(
                rule=f"service.{function.id}",
                article=function.article,
                status=status,
                required=len(function.thresholds),
                actual=sum(1 for f in threshold_findings if f.passed),
                message=Text(
                    zh=f"{function.name.zh}（{function.description.zh}）：{claimed.zh}{status.label.zh}",
                    en=f"{function.name.en} ({function.description.en}): {claimed.en}{status.label.en}",
                ),
                basis="service_functions",
                details=tuple(threshold_findings),
            )
        )
    status = status_of(requirement.id)
    total = len(requirement.functions)
    return Finding(
        rule=requirement.id,
        article=requirement.article,
        status=status,
        required=requirement.minimum,
        actual=met,
        message=Text(
            zh=f"{requirement.description.zh}：具备 {met} 项（共 {total} 项），{status.label.zh}",
            en=f"{requirement.description.en}: {met} of {total} met; {status.label.en}",
        ),
        basis="service_functions",
        details=tuple(details),
    )


def _growth_shown(
    rule: Rule, application: Application, year: int, actual: MeasureValue
) -> tuple[Text, str] | None:
    """Growth from a zero year has no percentage: show the two counts instead."""
    if rule.measure not in _GROWTH_MEASURES or actual != math.inf:
        return None
    field = {
        "resident_growth": "resident_small_micro_enterprises",
        "employee_growth": "small_micro_employees",
        "innovation_growth": "innovation_outputs",
    }[rule.measure]
    latest, previous = application.figures_for(year), application.figures_for(year - 1)
    new, old = getattr(latest, field), getattr(previous, field)
    text = Text(
        zh=f"由 {year - 1} 年的 {old} 增至 {year} 年的 {new}（自零增长，高于任何百分比）",
        en=f"from {old} in {year - 1} to {new} in {year} (growth from zero, above any percentage)",
    )
    return text, f"{old} → {new}"


def _roster_message(rule: Rule, status: Status, application: Application, year: int) -> Text:
    figures = application.figures_for(year)
    if figures is None:
        return _rule_message(rule, status, None, year=year)
    listed, reported = len(application.residents), figures.resident_enterprises
    label = status.label
    return Text(
        zh=f"{rule.description.zh}：名录列出 {listed} 家，{year} 年申报入驻企业 {reported} 户，{label.zh}",
        en=f"{rule.description.en}: the roster lists {listed}, {reported} reported for {year}; "
        f"{label.en}",
    )


_SMALL_MICRO_CHECKS = frozenset(
    {"small_micro_flags_match_total", "satisfaction_survey_covers_sample"}
)


def _small_micro_message(
    rule: Rule, status: Status, application: Application, policy: Policy, year: int
) -> Text:
    """The two sides of a check against the judged year's reported small and micro residents
    (第六条第（三）项 roster flags, 第六条第（六）项 survey), so the finding shows the contradiction."""
    figures = application.figures_for(year)
    if figures is None or (
        rule.measure == "satisfaction_survey_covers_sample" and not application.satisfaction_survey
    ):
        return _rule_message(rule, status, None if figures is None else True, year=year)
    reported, label = figures.resident_small_micro_enterprises, status.label
    if rule.measure == "small_micro_flags_match_total":
        flagged = sum(1 for r in application.residents if r.small_or_micro)
        return Text(
            zh=f"{rule.description.zh}：名录标为小型或微型 {flagged} 家，{year} 年申报入驻小微企业 "
            f"{reported} 户，{label.zh}",
            en=f"{rule.description.en}: the roster flags {flagged} small or micro, {reported} "
            f"reported for {year}; {label.en}",
        )
    responses = len(application.satisfaction_survey)
    minimum = max(policy.spot_check.minimum_sample(reported), 1)
    share = _percent(float(policy.spot_check.minimum_share))
    return Text(
        zh=f"{rule.description.zh}：评价表 {responses} 份，应至少 {minimum} 份（{year} 年申报入驻小微"
        f"企业 {reported} 户的 {share}），{label.zh}",
        en=f"{rule.description.en}: the survey has {responses}, at least {minimum} needed ({share} of "
        f"{reported} reported for {year}); {label.en}",
    )


def _figures_findings(
    application: Application, policy: Policy, status_of: _StatusOf, day: dt.date
) -> list[Finding]:
    rule = policy.figures
    year = rule.expected_year(day)
    given = sorted(figures.year for figures in application.yearly)
    shown = "、".join(str(y) for y in given) or "—"
    yearly_status = status_of(FIGURES_YEAR)
    services_status = status_of(SERVICES_YEAR)
    services_year = application.service_figures_year
    return [
        Finding(
            rule=FIGURES_YEAR,
            article=rule.article,
            status=yearly_status,
            required=year,
            actual=given[-1] if given else None,
            message=Text(
                zh=f"{rule.description.zh}：判断日 {day}，应申报 {year} 年度的数据（申请表 二），"
                f"已申报年度 {shown}，{yearly_status.label.zh}",
                en=f"{rule.description.en}: judged on {day}, the figures of {year} are expected "
                f"(form part 2), years given {shown.replace('、', ', ')}; {yearly_status.label.en}",
            ),
            basis="figures_year",
        ),
        Finding(
            rule=SERVICES_YEAR,
            article=rule.article,
            status=services_status,
            required=year,
            actual=services_year,
            message=Text(
                zh=f"{rule.description.zh}：服务业绩（申请表 三）应为 {year} 年度，"
                f"实际为 {services_year} 年度，{services_status.label.zh}",
                en=f"{rule.description.en}: the service figures (form part 3) should be of "
                f"{year}, they are of {services_year}; {services_status.label.en}",
            ),
            basis="figures_year",
        ),
    ]


def district_problems(name: str, policy: Policy | None = None) -> list[Text]:
    """Why ``name`` is not a district of ``policy`` (第四条: the county-level divisions and
    development or resort zones whose SME authorities recommend bases); empty when it is.

    Names must match exactly. Call it for a base's district at declaration and for a district
    official's district; the problem lists every district of the policy.

    >>> district_problems("五华区")
    []
    >>> print(district_problems("五华 区")[0].en)  # doctest: +ELLIPSIS
    "五华 区" is not a district of kunming-2022 (Arts. 4 and 9); the districts are: 五华区 (530102), ...
    """
    policy = policy or load_policy()
    if any(district.name == name for district in policy.districts):
        return []
    listed = "、".join(_district_label(d.name, d.code) for d in policy.districts)
    return [
        Text(
            zh=f"“{name}”不是 {policy.id} 所列县区（{policy.districts_article.zh}）；所列县区为：{listed}",
            en=f'"{name}" is not a district of {policy.id} ({policy.districts_article.en}); '
            f"the districts are: {listed.replace('、', ', ')}",
        )
    ]


def _district_label(name: str, code: str | None) -> str:
    return f"{name} ({code})" if code else name


def _district_finding(application: Application, policy: Policy, status: Status) -> Finding:
    name = application.base.district
    problems = district_problems(name, policy)
    message = (
        problems[0]
        if problems
        else Text(
            zh=f"所属县区 {name} 为 {policy.id} 所列县区，{status.label.zh}",
            en=f"the district {name} is one of {policy.id}; {status.label.en}",
        )
    )
    return Finding(
        rule=DISTRICT,
        article=policy.districts_article,
        status=status,
        required=None,
        actual=name,
        message=message,
        basis="district",
    )


_PLEDGE_DETAILS = {
    Status.PASS: Text(zh="申报单位已承诺", en="pledged by the applicant"),
    Status.FAIL: Text(zh="申报单位不能承诺", en="the applicant cannot pledge it"),
    Status.NOT_ASSESSABLE: Text(zh="承诺书未载明", en="not stated in the pledge"),
}


def _pledge_findings(
    application: Application, policy: Policy, status_of: _StatusOf
) -> list[Finding]:
    findings = []
    for pledge in policy.pledges:
        key = f"pledge.{pledge.id}"
        status = status_of(key)
        value = application.pledges.get(pledge.id)
        detail = _PLEDGE_DETAILS[status]
        ending = (
            Text(zh="", en="")
            if status is Status.NOT_ASSESSABLE
            else Text(zh=f"，{status.label.zh}", en=f"; {status.label.en}")
        )
        findings.append(
            Finding(
                rule=key,
                article=pledge.article,
                status=status,
                required=True,
                actual=value,
                message=Text(
                    zh=f"{pledge.description.zh}：{detail.zh}{ending.zh}",
                    en=f"{pledge.description.en}: {detail.en}{ending.en}",
                ),
                basis="pledged",
            )
        )
    return findings


_StatusOf = Callable[[str], Status]


@attrs.frozen
class _Pending:
    """An application judged by `evaluate`: the decision, and what its findings need."""

    application: Application
    policy: Policy
    day: dt.date
    year: int
    measures: Mapping[str, MeasureValue]
    row: Mapping[str, MeasureValue]
    unknown: Sequence[str]
    codes: Mapping[str, int]
    eligible: bool

    def status(self, key: str) -> Status:
        return _CODE_STATUS[self.codes[key]]


def evaluate(
    application: Application, policy: Policy | None = None, *, judged_on: dt.date | None = None
) -> Verdict:
    """Judge one application at ``judged_on`` (default: its own ``declared_on``), by default
    under the policy in force on that day.

    The day sets the age of 第六条第（二）项 and which year's figures are judged (the
    policy's ``figures`` rule: the year before). A workflow passes the case's real
    declaration day, so a file's own date cannot move the judgement; the verdict records the
    day it used (`Verdict.judged_on`).

    The rules run over the application's plain values, not numpy arrays of one row (the same
    checks as `evaluate_population`, a few times faster for one application); the verdict's
    findings are rendered when first read.
    """
    return _judge(application, policy, judged_on, _scalar_path)


_Path = Callable[
    [Application, Policy, _judgement.Plan, dict[str, Any], dt.date], tuple[dict[str, int], bool]
]
"""How the codes of an application's rules are worked out: (application, policy, checks,
its values, the day) → (codes, eligible)."""


def _scalar_path(
    _application: Application,
    _policy: Policy,
    checks: _judgement.Plan,
    row: dict[str, Any],
    _day: dt.date,
) -> tuple[dict[str, int], bool]:
    return _judgement.judge_row(checks, row)


def _judge(
    application: Application, policy: Policy | None, judged_on: dt.date | None, path: _Path
) -> Verdict:
    """The verdict of one application, its rules' codes worked out by ``path``."""
    day = _judged_day(application, judged_on)
    policy = policy or load_policy(day)
    checks = _judgement.plan(policy)
    row, measures, unknown = _application_row(application, policy, checks, day)
    codes, eligible = path(application, policy, checks, row, day)
    return _verdict(
        _Pending(
            application=application,
            policy=policy,
            day=day,
            year=policy.figures.expected_year(day),
            measures=measures,
            row=row,
            unknown=unknown,
            codes=codes,
            eligible=eligible,
        )
    )


def _evaluate_columnwise(
    application: Application, policy: Policy | None = None, *, judged_on: dt.date | None = None
) -> Verdict:
    """`evaluate` through the column-wise path (`evaluate_population` on a one-row
    population): what `evaluate` did before it had a path of its own, kept as the reference
    the tests and the benchmark hold it to."""
    return _judge(application, policy, judged_on, _columnwise_path)


def _columnwise_path(
    application: Application,
    policy: Policy,
    checks: _judgement.Plan,
    _row: dict[str, Any],
    day: dt.date,
) -> tuple[dict[str, int], bool]:
    columns = application_columns([application], policy, judged_on=day)
    population = _judgement.judge_columns(checks, columns, 1)
    codes = {key: int(code[0]) for key, code in population.items()}
    return codes, bool(_judgement.eligible_columns(checks, population, 1)[0])


def _verdict(pending: _Pending) -> Verdict:
    # Built without __init__ so that ``findings`` stays unset until read (Verdict.__getattr__).
    verdict = object.__new__(Verdict)
    for name, value in (
        ("policy_id", pending.policy.id),
        ("base_name", pending.application.base.name),
        ("judged_on", pending.day),
        ("figures_year", pending.year),
        ("_pending", pending),
    ):
        object.__setattr__(verdict, name, value)
    return verdict


def _render(pending: _Pending) -> tuple[Finding, ...]:
    """Every finding of a judged application, with its bilingual message."""
    application, policy, year = pending.application, pending.policy, pending.year
    status_of = pending.status
    findings: list[Finding] = []
    for rule in policy.rules:
        if not all(pending.row[key] == wanted for key, wanted in rule.applies_when.items()):
            continue
        status = status_of(rule.id)
        shown: Text | None = None
        if rule.declared:
            declaration = application.declarations.get(rule.measure)
            actual: MeasureValue = declaration.value if declaration else None
            evidence = (declaration.evidence.strip() or None) if declaration else None
        else:
            actual, evidence = pending.measures[rule.measure], None
            from_zero = _growth_shown(rule, application, year, actual)
            if from_zero is not None:  # infinite growth is not a number JSON can carry
                shown, actual = from_zero
        if rule.measure == "roster_matches_total" and not rule.declared:
            message = _roster_message(rule, status, application, year)
        elif rule.measure in _SMALL_MICRO_CHECKS and not rule.declared:
            message = _small_micro_message(rule, status, application, policy, year)
        else:
            message = _rule_message(rule, status, actual, year=year, shown=shown)
        findings.append(
            Finding(
                rule=rule.id,
                article=rule.article,
                status=status,
                required=rule.required,
                actual=actual,
                message=message,
                basis="declared" if rule.declared else "measured",
                evidence=evidence,
            )
        )
    findings.append(_service_findings(application, policy, status_of))
    findings.extend(_figures_findings(application, policy, status_of, pending.day))
    if pending.unknown:
        shown_keys = ", ".join(pending.unknown)
        findings.append(
            Finding(
                rule=UNKNOWN_KEYS,
                article=_ANNEX_1,
                status=status_of(UNKNOWN_KEYS),
                required=None,
                actual=shown_keys,
                message=Text(
                    zh=f"政策 {policy.id} 中没有这些项目（拼写错误？）：{shown_keys}",
                    en=f"policy {policy.id} has no such items (typos?): {shown_keys}",
                ),
                basis="materials",
            )
        )
    for material in policy.materials:
        reference = application.materials.get(material.id, "").strip()
        status = status_of(f"material.{material.id}")
        if not reference and not material.required:
            continue
        findings.append(
            Finding(
                rule=f"material.{material.id}",
                article=material.article,
                status=status,
                required=material.required,
                actual=bool(reference),
                message=Text(
                    zh=f"{material.name.zh}：{'已提交（' + reference + '）' if reference else '未提交'}",
                    en=f"{material.name.en}: {'submitted (' + reference + ')' if reference else 'missing'}",
                ),
                basis="materials",
                evidence=reference or None,
            )
        )
    findings.extend(_pledge_findings(application, policy, status_of))
    findings.append(_district_finding(application, policy, status_of(DISTRICT)))
    return tuple(findings)


def declaration_date_problems(application: Application, declared_on: dt.date) -> list[Text]:
    """How the application's own 填报日期 disagrees with the day the case is really declared
    (empty when they agree).

    A workflow that overrides (``evaluate(application, judged_on=declared_on)``) judges at
    the real day whatever the file says; one that prefers to refuse calls this at
    declaration. Either way a file dated after its declaration cannot buy the base age.
    """
    if application.declared_on == declared_on:
        return []
    return [
        Text(
            zh=f"申请报告的填报日期 {application.declared_on} 与实际申报日 {declared_on} 不一致"
            "（第六条第（二）项的成立时间和所判年度按实际申报日计算）",
            en=f"the application is dated {application.declared_on} but declared on "
            f"{declared_on} (the age of Art. 6(2) and the judged year count from the real day)",
        )
    ]


# -- 第十条: the district's satisfaction spot check --------------------------------------------------


def spot_check_sample_size(resident_enterprises: int, policy: Policy | None = None) -> int:
    """The least number of resident small and micro enterprises a spot check samples (第十条).

    >>> spot_check_sample_size(45)
    5
    """
    return (policy or load_policy()).spot_check.minimum_sample(resident_enterprises)


def spot_check_population(
    application: Application, policy: Policy, *, judged_on: dt.date | None = None
) -> int | None:
    """The resident small and micro enterprises a spot check samples a share of (第十条): the
    application's own figure of the year judged on ``judged_on`` (default: its
    ``declared_on``; a case's is `Case.judged_on`), ``None`` if it reports none."""
    year = policy.figures.expected_year(_judged_day(application, judged_on))
    figures = application.figures_for(year)
    return figures.resident_small_micro_enterprises if figures is not None else None


def judge_spot_check(
    spot_check: SpotCheck,
    policy: Policy | None = None,
    *,
    claimed_rate: float | None = None,
    population: int | None = None,
) -> tuple[Finding, ...]:
    """Judge a recorded spot check (第十条): two findings.

    ``spot_check.sample_size`` passes when at least the policy's share of the resident small
    and micro enterprises (rounded up) was sampled, and at least one enterprise, and fails
    otherwise: 第十条 fixes the sample, and a sample of none is no spot check. The residents
    are ``population``, the application's own figure (`spot_check_population`; the
    ``recommend`` guard always passes it); without it, the figure the spot check records. ``spot_check.satisfaction_rate`` records the satisfaction the sample found,
    beside the applicant's ``claimed_rate`` (see `claimed_satisfaction_rate`), as evidence
    for the district's decision: it passes whatever the rate, unless the policy's
    ``spot_check.satisfaction_blocking`` is on (off in the Kunming file), when the sample is
    judged against the satisfaction rule of 第六条第（六）项. So every finding that is not a
    pass blocks the recommendation.
    """
    policy = policy or load_policy()
    rule = policy.spot_check
    residents = spot_check.resident_small_micro_enterprises if population is None else population
    minimum = max(rule.minimum_sample(residents), 1)  # a sample of none is no spot check
    size_ok = spot_check.sampled >= minimum
    size_status = Status.PASS if size_ok else Status.FAIL
    findings = [
        Finding(
            rule="spot_check.sample_size",
            article=rule.article,
            status=size_status,
            required=minimum,
            actual=spot_check.sampled,
            message=Text(
                zh=f"{rule.description.zh}：应至少抽查 {minimum} 家，实际 {spot_check.sampled} 家，{size_status.label.zh}",
                en=f"{rule.description.en}: at least {minimum} to sample, sampled {spot_check.sampled}; {size_status.label.en}",
            ),
            basis="spot_check",
        )
    ]
    rate = _share(spot_check.satisfied, spot_check.sampled)
    claimed = Text(
        zh="申报单位自报 " + (_percent(claimed_rate) if claimed_rate is not None else "—"),
        en="the applicant reports " + (_percent(claimed_rate) if claimed_rate is not None else "—"),
    )
    found = Text(
        zh=f"抽查 {spot_check.sampled} 家，满意 {spot_check.satisfied} 家（"
        + (_percent(rate) if rate is not None else "—")
        + f"），{claimed.zh}",
        en=f"{spot_check.satisfied} of {spot_check.sampled} sampled satisfied ("
        + (_percent(rate) if rate is not None else "—")
        + f"), {claimed.en}",
    )
    satisfaction = next((r for r in policy.rules if r.measure == "satisfaction_rate"), None)
    if rule.satisfaction_blocking and satisfaction is not None:
        status = _CODE_STATUS[_judgement.rule_code(satisfaction, _as_float(rate))]
        required = (
            f"{satisfaction.comparison.symbol} {_format(satisfaction.required, satisfaction)}"
        )
        findings.append(
            Finding(
                rule="spot_check.satisfaction_rate",
                article=satisfaction.article,
                status=status,
                required=satisfaction.required,
                actual=rate,
                message=Text(
                    zh=f"{satisfaction.description.zh}（县区抽查）：要求 {required}，{found.zh}，{status.label.zh}",
                    en=f"{satisfaction.description.en} (district spot check): required {required}, "
                    f"{found.en}; {status.label.en}",
                ),
                basis="spot_check",
            )
        )
    else:
        findings.append(
            Finding(
                rule="spot_check.satisfaction_rate",
                article=rule.article,
                status=Status.PASS,
                required=None,
                actual=rate,
                message=Text(
                    zh=f"满意度随机抽查结果：{found.zh}；作为推荐依据记录，是否推荐由县区决定",
                    en=f"Satisfaction spot check: {found.en}; recorded as evidence, the district "
                    "decides on the recommendation",
                ),
                basis="spot_check",
            )
        )
    return tuple(findings)


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%".replace(".0%", "%")


# -- 第十一条 and 第十三条: checks the lifecycle applies -------------------------------------------


def expert_score_problems(score: float, policy: Policy | None = None) -> list[Text]:
    """Why an expert's score cannot be recorded (第十一条): it must be a finite number inside
    the policy's scale (``expert_review.score_min`` to ``score_max``, ends included); empty
    when it is fine.

    >>> expert_score_problems(85), [p.en for p in expert_score_problems(150)]
    ([], ['an expert score must lie between 0 and 100 (Art. 11), got 150'])
    """
    rule = (policy or load_policy()).expert_review
    low, high = _format_number(rule.score_min), _format_number(rule.score_max)
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return [
            Text(
                zh=f"专家评分应为 {low} 至 {high} 之间的有限数（{rule.article.zh}），实际为 {score!r}",
                en=f"an expert score must be a finite number between {low} and {high} "
                f"({rule.article.en}), got {score!r}",
            )
        ]
    if not rule.score_min <= score <= rule.score_max:
        return [
            Text(
                zh=f"专家评分应在 {low} 至 {high} 之间（{rule.article.zh}），实际为 {_format_number(score)}",
                en=f"an expert score must lie between {low} and {high} ({rule.article.en}), "
                f"got {_format_number(score)}",
            )
        ]
    return []


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def selection_key(
    mean_score: float | None, opinions: int, declared_on: dt.date, case_id: str
) -> tuple[bool, float, int, dt.date, str]:
    """The order of 择优 (第十一条) as a sort key, best first: the higher mean expert score,
    then more opinions, then the earlier declaration, then the case id; a case without a
    score ranks last. The policy's ``expert_review.tie_break`` states the same rule in words.

    >>> import datetime as dt
    >>> cases = [("b", 90.0, 2, dt.date(2025, 6, 2)), ("a", 90.0, 3, dt.date(2025, 6, 3)),
    ...          ("c", None, 0, dt.date(2025, 6, 1)), ("d", 92.5, 1, dt.date(2025, 6, 4))]
    >>> order = sorted(cases, key=lambda case: selection_key(*case[1:], case_id=case[0]))
    >>> "".join(case_id for case_id, *_ in order)
    'dabc'
    """
    return (mean_score is None, -(mean_score or 0.0), -opinions, declared_on, case_id)


def notice_problems(working_days: int, policy: Policy | None = None) -> list[Text]:
    """Why an announced public notice of ``working_days`` working days is too short
    (第十三条: 公示期不少于 the policy's minimum); empty when it is long enough.

    >>> notice_problems(10), [p.en for p in notice_problems(9)]
    ([], ['the public notice must last at least 10 working days (Art. 13), announced 9'])
    """
    period = (policy or load_policy()).periods.notice
    minimum = period.minimum_working_days
    if working_days >= minimum:
        return []
    return [
        Text(
            zh=f"公示期不少于 {minimum} 个工作日（{period.article.zh}），公布的公示期为 {working_days} 个工作日",
            en=f"the public notice must last at least {minimum} working days "
            f"({period.article.en}), announced {working_days}",
        )
    ]
