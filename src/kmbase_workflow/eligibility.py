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
from .policy import (
    APPLICATION_MEASURES,
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
    "evaluate",
    "evaluate_population",
    "judge_spot_check",
    "spot_check_sample_size",
]

MeasureValue = float | bool | str | None
Basis = Literal["measured", "declared", "service_functions", "materials", "spot_check"]


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
        if self.eligible:
            return Text(zh=f"{self.base_name}：符合申报条件", en=f"{self.base_name}: eligible")
        return Text(
            zh=f"{self.base_name}：不符合申报条件（{failed} 项不符合，{missing} 项无法判断）",
            en=f"{self.base_name}: not eligible ({failed} not met, {missing} not assessable)",
        )

    def to_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        """The verdict as plain data (the ``kmbase check --format json`` contract)."""
        return {
            "eligible": self.eligible,
            "policy": self.policy_id,
            "base": self.base_name,
            "findings": [finding.to_dict(lang) for finding in self.findings],
        }


# -- measures of one application --------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _growth(latest: int | None, previous: int | None) -> float | None:
    # Growth from zero is undefined, and is reported as such rather than as infinite.
    if latest is None or previous is None or previous <= 0:
        return None
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


def application_measures(application: Application) -> dict[str, MeasureValue]:
    """Every catalogued measure of an application (``None`` where the data is missing)."""
    latest, previous = application.latest_years()
    full_time = [member for member in application.staff if member.full_time_service]
    qualified = [
        m for m in full_time if m.education.bachelor_or_above or m.intermediate_title_or_above
    ]
    volume = application.service_volume
    survey = application.satisfaction_survey
    measures: dict[str, MeasureValue] = {
        "independent_legal_person": application.operator.independent_legal_person,
        "operating_years": _years_between(application.base.established_on, application.declared_on),
        "resident_small_micro_enterprises": latest.resident_small_micro_enterprises
        if latest
        else None,
        "small_micro_employees": latest.small_micro_employees if latest else None,
        "leading_industries": len(application.base.leading_industries),
        "leading_industry_share": _share(
            sum(1 for r in application.residents if r.in_leading_industry),
            len(application.residents),
        ),
        "full_time_service_staff": len(full_time),
        "qualified_staff_share": _share(len(qualified), len(full_time)),
        "startup_mentors": sum(1 for member in application.staff if member.startup_mentor),
        "contracted_agencies": sum(1 for agency in application.agencies if agency.signed_agreement),
        "free_or_low_fee_share": _share(volume.free_or_low_fee, volume.total) if volume else None,
        "satisfaction_rate": _share(sum(1 for r in survey if r.satisfied), len(survey)),
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
        "focus": application.base.focus.value,
    }
    return measures


def _declared_value(application: Application, key: str) -> float:
    declaration = application.declarations.get(key)
    if declaration is None or (declaration.value and not declaration.evidence.strip()):
        return math.nan  # a declaration without evidence cannot be judged
    return 1.0 if declaration.value else 0.0


def application_columns(
    applications: Sequence[Application], policy: Policy | None = None
) -> dict[str, npt.NDArray[Any]]:
    """The columns `evaluate_population` reads, built from records.

    Column names: each measure of `APPLICATION_MEASURES`
    (float, NaN for missing; booleans as 1.0/0.0), ``focus`` (str),
    ``declared.<id>`` (1.0 declared true with evidence, 0.0 declared false, NaN otherwise),
    ``service.<function>.<measure>`` (float, NaN missing) and ``material.<id>`` (bool).
    """
    policy = policy or load_policy()
    rows = [application_measures(app) for app in applications]
    columns: dict[str, npt.NDArray[Any]] = {
        name: np.array([_as_float(row[name]) for row in rows], dtype=np.float64)
        for name in APPLICATION_MEASURES
    }
    columns["focus"] = np.array([row["focus"] for row in rows], dtype=object)
    for rule in policy.rules:
        if rule.declared:
            columns[f"declared.{rule.measure}"] = np.array(
                [_declared_value(app, rule.measure) for app in applications], dtype=np.float64
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
    return columns


UNKNOWN_KEYS = "application.unknown_keys"
"""The finding (and column) for keys the policy does not know: usually typos."""
_ANNEX_1 = Text(zh="附件1", en="Annex 1")


def unknown_keys(application: Application, policy: Policy) -> list[str]:
    """Keys of ``services``, ``materials`` and ``declarations`` that ``policy`` does not know
    (``services.trainig``): a typo would otherwise read as a service not provided."""
    functions = {function.id for function in policy.service_functions.functions}
    materials = {material.id for material in policy.materials}
    declared = {rule.measure for rule in policy.rules if rule.declared}
    return sorted(
        [f"services.{key}" for key in application.services if key not in functions]
        + [f"materials.{key}" for key in application.materials if key not in materials]
        + [f"declarations.{key}" for key in application.declarations if key not in declared]
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
    """Judge a whole population at once, column by column (see `application_columns`).

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
    unknown_count = arrays.get(UNKNOWN_KEYS)
    if unknown_count is not None:
        results[UNKNOWN_KEYS] = np.where(np.asarray(unknown_count) > 0, _NA, _PASS).astype(np.int8)
    # Each function's own code explains the 第七条 finding; only the requirement decides.
    deciding = (codes for key, codes in results.items() if not key.startswith("service."))
    eligible = _combine(deciding, size) == _PASS
    return PopulationVerdict(policy_id=policy.id, rules=results, eligible=eligible)


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


def _rule_message(rule: Rule, status: Status, actual: MeasureValue) -> Text:
    unit_zh, unit_en = _unit(rule)
    shown = _format(actual, rule)
    required = f"{rule.comparison.symbol} {_format(rule.required, rule)}"
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
        detail = Text(
            zh="缺少数据或无法计算（增长率需要连续两个年度且上一年度不为0）",
            en="data missing or not computable (growth needs two consecutive years, the first non-zero)",
        )
    else:
        detail = Text(
            zh=f"要求 {required}{unit_zh}，实际 {shown}{unit_zh}",
            en=f"required {required}{unit_en}, actual {shown}{unit_en}",
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


def evaluate(application: Application, policy: Policy | None = None) -> Verdict:
    """Judge one application; by default under the policy in force on its declaration date."""
    policy = policy or load_policy(application.declared_on)
    verdict = evaluate_population(application_columns([application], policy), policy)
    measures = application_measures(application)
    findings: list[Finding] = []
    for rule in policy.rules:
        if rule.applies_when and not _applies(rule, {"focus": np.array([measures["focus"]])}, 1)[0]:
            continue
        status = verdict.status(rule.id, 0)
        if rule.declared:
            declaration = application.declarations.get(rule.measure)
            actual: MeasureValue = declaration.value if declaration else None
            evidence = (declaration.evidence.strip() or None) if declaration else None
        else:
            actual, evidence = measures[rule.measure], None
        findings.append(
            Finding(
                rule=rule.id,
                article=rule.article,
                status=status,
                required=rule.required,
                actual=actual,
                message=_rule_message(rule, status, actual),
                basis="declared" if rule.declared else "measured",
                evidence=evidence,
            )
        )
    findings.append(_service_findings(application, policy, verdict))
    unknown = unknown_keys(application, policy)
    if unknown:
        shown = ", ".join(unknown)
        findings.append(
            Finding(
                rule=UNKNOWN_KEYS,
                article=_ANNEX_1,
                status=verdict.status(UNKNOWN_KEYS, 0),
                required=None,
                actual=shown,
                message=Text(
                    zh=f"政策 {policy.id} 中没有这些项目（拼写错误？）：{shown}",
                    en=f"policy {policy.id} has no such items (typos?): {shown}",
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
    return Verdict(policy_id=policy.id, base_name=application.base.name, findings=tuple(findings))


# -- 第十条: the district's satisfaction spot check --------------------------------------------------


def spot_check_sample_size(resident_enterprises: int, policy: Policy | None = None) -> int:
    """The least number of resident small and micro enterprises a spot check samples (第十条).

    >>> spot_check_sample_size(45)
    5
    """
    return (policy or load_policy()).spot_check.minimum_sample(resident_enterprises)


def judge_spot_check(spot_check: SpotCheck, policy: Policy | None = None) -> tuple[Finding, ...]:
    """Judge a recorded spot check: the sample's size (第十条) and the satisfaction it found
    (the satisfaction rule of 第六条第（六）项, measured by the district this time)."""
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
    satisfaction = next((r for r in policy.rules if r.measure == "satisfaction_rate"), None)
    if satisfaction is not None:
        rate = _share(spot_check.satisfied, spot_check.sampled)
        code = _compare(satisfaction, np.array([_as_float(rate)]))[0]
        status = _CODE_STATUS[int(code)]
        findings.append(
            Finding(
                rule="spot_check.satisfaction_rate",
                article=satisfaction.article,
                status=status,
                required=satisfaction.required,
                actual=rate,
                message=_rule_message(satisfaction, status, rate),
                basis="spot_check",
            )
        )
    return tuple(findings)
