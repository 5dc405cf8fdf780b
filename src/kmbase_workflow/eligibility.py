"""Judging an application against the policy in force: a verdict made of findings.

One finding per rule: the rule id, its article, the required and actual values, a status
(``pass``, ``fail``, ``not_assessable`` — missing data is never a pass) and a message in Chinese
and English. The pass/fail logic runs column-wise over numpy arrays, so the same code judges
one application (for a portal) and a whole population (for a simulation):

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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from ._html import finding_html, verdict_html
from ._i18n import Lang, Text
from .errors import InvalidInputError
from .policy import (
    APPLICATION_MEASURES,
    CONSISTENCY_MEASURES,
    Comparison,
    Policy,
    Rule,
    load_policy,
)
from .records import Application, SpotCheck

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

# Status codes in the columnar arrays.
_PASS, _FAIL, _NA = np.int8(0), np.int8(1), np.int8(2)
_CODE_STATUS = {0: Status.PASS, 1: Status.FAIL, 2: Status.NOT_ASSESSABLE}
FloatArray = npt.NDArray[np.float64]
CodeArray = npt.NDArray[np.int8]


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
            "article": self.article.in_(lang),
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

    def _repr_html_(self) -> str:
        return verdict_html(self)

    @property
    def eligible(self) -> bool:
        """True only if every finding passes (a not-assessable finding is not a pass)."""
        return all(finding.passed for finding in self.findings)

    def failed(self) -> tuple[Finding, ...]:
        """Findings whose rule is not met."""
        return tuple(f for f in self.findings if f.status is Status.FAIL)

    def not_assessable(self) -> tuple[Finding, ...]:
        """Findings that could not be judged for lack of data."""
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
    last, following = anniversary(years), anniversary(years + 1)
    return years + (end - last).days / (following - last).days


def _judged_day(application: Application, judged_on: dt.date | None) -> dt.date:
    return judged_on if judged_on is not None else application.declared_on


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
    qualified = [
        m for m in full_time if m.education.bachelor_or_above or m.intermediate_title_or_above
    ]
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


FIGURES_YEAR = "figures_year.yearly"
"""The finding (and column) for 申请表 二 reporting the judged year."""
SERVICES_YEAR = "figures_year.services"
"""The finding (and column) for 申请表 三's service figures being of the judged year."""
DISTRICT = "district"
"""The finding for the base's district being one the policy lists (第四条)."""
DISTRICT_COLUMN = "district.listed"
"""The column: 1.0 when the base's district is listed, 0.0 when not."""


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
    days = _judged_days(applications, judged_on)
    rows = [
        application_measures(app, policy, judged_on=day)
        for app, day in zip(applications, days, strict=True)
    ]
    columns: dict[str, npt.NDArray[Any]] = {
        name: np.array([_as_float(row[name]) for row in rows], dtype=np.float64)
        for name in (*APPLICATION_MEASURES, *CONSISTENCY_MEASURES)
    }
    columns["focus"] = np.array([row["focus"] for row in rows], dtype=object)
    for rule in policy.rules:
        if rule.declared:
            columns[f"declared.{rule.measure}"] = np.array(
                [_declared_value(app, rule.measure) for app in applications], dtype=np.float64
            )
    for pledge in policy.pledges:
        columns[f"pledge.{pledge.id}"] = np.array(
            [_as_float(app.pledges.get(pledge.id)) for app in applications], dtype=np.float64
        )
    for function in policy.service_functions.functions:
        for threshold in function.thresholds:
            values = []
            for app in applications:
                figures = app.services.get(function.id)
                # A function the applicant does not claim is not provided: zero, not unknown.
                value = getattr(figures, threshold.measure) if figures is not None else 0
                values.append(_as_float(value))
            columns[f"service.{function.id}.{threshold.measure}"] = np.array(
                values, dtype=np.float64
            )
    columns[UNKNOWN_KEYS] = np.array(
        [float(len(unknown_keys(app, policy))) for app in applications], dtype=np.float64
    )
    for material in policy.materials:
        columns[f"material.{material.id}"] = np.array(
            [bool(app.materials.get(material.id, "").strip()) for app in applications], dtype=bool
        )
    expected = [policy.figures.expected_year(day) for day in days]
    columns[FIGURES_YEAR] = np.array(
        [
            float(app.figures_for(year) is not None)
            for app, year in zip(applications, expected, strict=True)
        ],
        dtype=np.float64,
    )
    columns[SERVICES_YEAR] = np.array(
        [
            float(app.service_figures_year == year)
            for app, year in zip(applications, expected, strict=True)
        ],
        dtype=np.float64,
    )
    listed = {district.name for district in policy.districts}
    columns[DISTRICT_COLUMN] = np.array(
        [float(app.base.district in listed) for app in applications], dtype=np.float64
    )
    return columns


UNKNOWN_KEYS = "application.unknown_keys"
"""The finding (and column) for keys the policy does not know: usually typos."""
_ANNEX_1 = Text(zh="附件1", en="Annex 1")


def unknown_keys(application: Application, policy: Policy) -> list[str]:
    """Keys of ``services``, ``materials``, ``declarations`` and ``pledges`` that ``policy`` does not know
    (``services.trainig``): a typo would otherwise read as a service not provided."""
    functions = {function.id for function in policy.service_functions.functions}
    materials = {material.id for material in policy.materials}
    declared = {rule.measure for rule in policy.rules if rule.declared}
    pledges = {pledge.id for pledge in policy.pledges}
    return sorted(
        [f"services.{key}" for key in application.services if key not in functions]
        + [f"materials.{key}" for key in application.materials if key not in materials]
        + [f"declarations.{key}" for key in application.declarations if key not in declared]
        + [f"pledges.{key}" for key in application.pledges if key not in pledges]
    )


def _as_float(value: MeasureValue) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)


# -- the column-wise judgement shared by one application and a population ---------------------------


def _compare(rule: Rule, values: FloatArray) -> CodeArray:
    """Status codes of ``rule`` for each value (NaN → not assessable)."""
    required = float(rule.required)
    with np.errstate(invalid="ignore"):
        if rule.comparison is Comparison.AT_LEAST:
            met = values >= required
        elif rule.comparison is Comparison.AT_MOST:
            met = values <= required
        elif rule.comparison is Comparison.MORE_THAN:
            met = values > required
        elif rule.comparison is Comparison.LESS_THAN:
            met = values < required
        else:
            met = values == float(required)  # is_true: 1.0 for true, 0.0 for false
    codes = np.where(met, _PASS, _FAIL).astype(np.int8)
    codes[np.isnan(values)] = _NA
    return codes


def _applies(
    rule: Rule, columns: Mapping[str, npt.NDArray[Any]], size: int
) -> npt.NDArray[np.bool_]:
    applies = np.ones(size, dtype=bool)
    for key, wanted in rule.applies_when.items():
        applies &= columns[key] == wanted
    return applies


def _rule_codes(rule: Rule, columns: Mapping[str, npt.NDArray[Any]], size: int) -> CodeArray:
    key = f"declared.{rule.measure}" if rule.declared else rule.measure
    column = columns.get(key)
    values = np.full(size, np.nan) if column is None else np.asarray(column, dtype=np.float64)
    return _compare(rule, values)


def _combine(codes: Iterable[CodeArray], size: int) -> CodeArray:
    """All must pass: any fail → fail; else any not-assessable → not assessable."""
    result = np.full(size, _PASS, dtype=np.int8)
    for code in codes:
        result = np.maximum(result, code)  # PASS 0 < FAIL 1 < NA 2 ...
    return result


def _all_met(codes: Sequence[CodeArray], size: int) -> CodeArray:
    # ... but a fail outranks missing data: one failed threshold decides the function.
    any_fail = np.zeros(size, dtype=bool)
    any_na = np.zeros(size, dtype=bool)
    for code in codes:
        any_fail |= code == _FAIL
        any_na |= code == _NA
    return np.where(any_fail, _FAIL, np.where(any_na, _NA, _PASS)).astype(np.int8)


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
        return float(np.mean(codes == _PASS)) if codes.size else math.nan


def evaluate_population(
    columns: Mapping[str, npt.ArrayLike], policy: Policy | None = None
) -> PopulationVerdict:
    """Judge a whole population at once, column by column (see `application_columns`,
    which takes the day each application is judged at).

    Rules that do not apply to a row (``applies_when``) count as passed for it; a column that
    is absent makes its rule not assessable for every row.
    """
    policy = policy or load_policy()
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    size = len(next(iter(arrays.values()))) if arrays else 0
    results: dict[str, CodeArray] = {}
    for rule in policy.rules:
        codes = _rule_codes(rule, arrays, size)
        if rule.applies_when:
            codes = np.where(_applies(rule, arrays, size), codes, _PASS).astype(np.int8)
        results[rule.id] = codes
    requirement = policy.service_functions
    met = np.zeros(size, dtype=np.int64)
    unknown = np.zeros(size, dtype=np.int64)
    for function in requirement.functions:
        threshold_codes = [
            _compare(t, _column(arrays, f"service.{function.id}.{t.measure}", size))
            for t in function.thresholds
        ]
        function_codes = _all_met(threshold_codes, size)
        results[f"service.{function.id}"] = function_codes
        met += function_codes == _PASS
        unknown += function_codes == _NA
    results[requirement.id] = np.where(
        met >= requirement.minimum,
        _PASS,
        np.where(met + unknown >= requirement.minimum, _NA, _FAIL),
    ).astype(np.int8)
    for material in policy.materials:
        provided = np.asarray(
            arrays.get(f"material.{material.id}", np.zeros(size, dtype=bool)), dtype=bool
        )
        results[f"material.{material.id}"] = np.where(
            provided, _PASS, _FAIL if material.required else _PASS
        ).astype(np.int8)
    for pledge in policy.pledges:
        key = f"pledge.{pledge.id}"
        results[key] = _truth_codes(_column(arrays, key, size))
    for key in (FIGURES_YEAR, SERVICES_YEAR):
        results[key] = _truth_codes(_column(arrays, key, size))
    results[DISTRICT] = _truth_codes(_column(arrays, DISTRICT_COLUMN, size))
    unknown_count = arrays.get(UNKNOWN_KEYS)
    if unknown_count is not None:
        results[UNKNOWN_KEYS] = np.where(np.asarray(unknown_count) > 0, _NA, _PASS).astype(np.int8)
    # Each function's own code explains the 第七条 finding; only the requirement decides.
    deciding = (codes for key, codes in results.items() if not key.startswith("service."))
    eligible = _combine(deciding, size) == _PASS
    return PopulationVerdict(policy_id=policy.id, rules=results, eligible=eligible)


def _truth_codes(values: FloatArray) -> CodeArray:
    """1.0 → pass, 0.0 (or anything else) → fail, NaN → not assessable."""
    codes = np.where(values == 1.0, _PASS, _FAIL).astype(np.int8)
    codes[np.isnan(values)] = _NA
    return codes


def _column(arrays: Mapping[str, npt.NDArray[Any]], key: str, size: int) -> FloatArray:
    column = arrays.get(key)
    return np.full(size, np.nan) if column is None else np.asarray(column, dtype=np.float64)


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
    unit_zh, unit_en = _unit(rule)
    required = f"{rule.comparison.symbol} {_format(rule.required, rule)}"
    if shown is None:
        value = _format(actual, rule)
        shown = Text(zh=f"{value}{unit_zh}", en=f"{value}{unit_en}")
    if rule.declared:
        texts = {
            Status.PASS: Text(
                zh="申报单位声明符合（见佐证材料）", en="declared by the applicant (see evidence)"
            ),
            Status.FAIL: Text(zh="申报单位声明不符合", en="declared not met by the applicant"),
            Status.NOT_ASSESSABLE: Text(
                zh="未声明或缺少佐证材料", en="not declared, or declared without evidence"
            ),
        }
        detail = texts[status]
    elif status is Status.NOT_ASSESSABLE:
        detail = _missing_detail(rule, year)
    else:
        detail = Text(
            zh=f"要求 {required}{unit_zh}，实际 {shown.zh}",
            en=f"required {required}{unit_en}, actual {shown.en}",
        )
    if status is Status.NOT_ASSESSABLE:  # the detail already says so
        return Text(
            zh=f"{rule.description.zh}：{detail.zh}", en=f"{rule.description.en}: {detail.en}"
        )
    label = status.label
    return Text(
        zh=f"{rule.description.zh}：{detail.zh}，{label.zh}",
        en=f"{rule.description.en}: {detail.en}; {label.en}",
    )


def _service_findings(
    application: Application, policy: Policy, verdict: PopulationVerdict
) -> Finding:
    requirement = policy.service_functions
    details = []
    met = 0
    for function in requirement.functions:
        figures = application.services.get(function.id)
        threshold_findings = []
        for threshold in function.thresholds:
            actual = getattr(figures, threshold.measure) if figures is not None else 0
            status = _CODE_STATUS[int(_compare(threshold, np.array([_as_float(actual)]))[0])]
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
        status = verdict.status(f"service.{function.id}", 0)
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
    status = verdict.status(requirement.id, 0)
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


def _figures_findings(
    application: Application, policy: Policy, verdict: PopulationVerdict, day: dt.date
) -> list[Finding]:
    rule = policy.figures
    year = rule.expected_year(day)
    given = sorted(figures.year for figures in application.yearly)
    shown = "、".join(str(y) for y in given) or "—"
    yearly_status = verdict.status(FIGURES_YEAR, 0)
    services_status = verdict.status(SERVICES_YEAR, 0)
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


def _pledge_findings(
    application: Application, policy: Policy, verdict: PopulationVerdict
) -> list[Finding]:
    findings = []
    for pledge in policy.pledges:
        key = f"pledge.{pledge.id}"
        status = verdict.status(key, 0)
        value = application.pledges.get(pledge.id)
        detail = {
            Status.PASS: Text(zh="申报单位已承诺", en="pledged by the applicant"),
            Status.FAIL: Text(zh="申报单位不能承诺", en="the applicant cannot pledge it"),
            Status.NOT_ASSESSABLE: Text(zh="承诺书未载明", en="not stated in the pledge"),
        }[status]
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


def evaluate(
    application: Application, policy: Policy | None = None, *, judged_on: dt.date | None = None
) -> Verdict:
    """Judge one application at ``judged_on`` (default: its own ``declared_on``), by default
    under the policy in force on that day.

    The day sets the age of 第六条第（二）项 and which year's figures are judged (the
    policy's ``figures`` rule: the year before). A workflow passes the case's real
    declaration day, so a file's own date cannot move the judgement; the verdict records the
    day it used (`Verdict.judged_on`).
    """
    day = _judged_day(application, judged_on)
    policy = policy or load_policy(day)
    year = policy.figures.expected_year(day)
    verdict = evaluate_population(application_columns([application], policy, judged_on=day), policy)
    measures = application_measures(application, policy, judged_on=day)
    findings: list[Finding] = []
    for rule in policy.rules:
        if rule.applies_when and not _applies(rule, {"focus": np.array([measures["focus"]])}, 1)[0]:
            continue
        status = verdict.status(rule.id, 0)
        shown: Text | None = None
        if rule.declared:
            declaration = application.declarations.get(rule.measure)
            actual: MeasureValue = declaration.value if declaration else None
            evidence = (declaration.evidence.strip() or None) if declaration else None
        else:
            actual, evidence = measures[rule.measure], None
            from_zero = _growth_shown(rule, application, year, actual)
            if from_zero is not None:  # infinite growth is not a number JSON can carry
                shown, actual = from_zero
        if rule.measure == "roster_matches_total" and not rule.declared:
            message = _roster_message(rule, status, application, year)
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
    findings.append(_service_findings(application, policy, verdict))
    findings.extend(_figures_findings(application, policy, verdict, day))
    unknown = unknown_keys(application, policy)
    if unknown:
        shown_keys = ", ".join(unknown)
        findings.append(
            Finding(
                rule=UNKNOWN_KEYS,
                article=_ANNEX_1,
                status=verdict.status(UNKNOWN_KEYS, 0),
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
        status = verdict.status(f"material.{material.id}", 0)
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
    findings.extend(_pledge_findings(application, policy, verdict))
    findings.append(_district_finding(application, policy, verdict.status(DISTRICT, 0)))
    return Verdict(
        policy_id=policy.id,
        base_name=application.base.name,
        findings=tuple(findings),
        judged_on=day,
        figures_year=year,
    )


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


def judge_spot_check(
    spot_check: SpotCheck, policy: Policy | None = None, *, claimed_rate: float | None = None
) -> tuple[Finding, ...]:
    """Judge a recorded spot check (第十条): two findings.

    ``spot_check.sample_size`` passes when at least the policy's share of the resident small
    and micro enterprises (rounded up) was sampled, and fails otherwise: 第十条 fixes the
    sample. ``spot_check.satisfaction_rate`` records the satisfaction the sample found,
    beside the applicant's ``claimed_rate`` (see `claimed_satisfaction_rate`), as evidence
    for the district's decision: it passes whatever the rate, unless the policy's
    ``spot_check.satisfaction_blocking`` is on (off in the Kunming file), when the sample is
    judged against the satisfaction rule of 第六条第（六）项. So every finding that is not a
    pass blocks the recommendation.
    """
    policy = policy or load_policy()
    rule = policy.spot_check
    minimum = rule.minimum_sample(spot_check.resident_small_micro_enterprises)
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
        code = _compare(satisfaction, np.array([_as_float(rate)]))[0]
        status = _CODE_STATUS[int(code)]
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
