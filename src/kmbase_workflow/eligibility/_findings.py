"""Findings with their bilingual messages, rule group by rule group (第六条 measures and
declarations, 第七条 service functions, the judged year, 第八条 materials, pledges, 第四条
district): rendered when a verdict's findings are first read."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence

import attrs

from .._i18n import Text
from ..policy import Policy, Rule
from ..records import Application
from ._measures import (
    _GROWTH_MEASURES,
    _YEAR_MEASURES,
    DISTRICT,
    FIGURES_YEAR,
    SERVICES_YEAR,
    UNKNOWN_KEYS,
)
from ._step_guards import district_problems
from ._verdict import _CODE_STATUS, _STATUS_LABELS, Finding, MeasureValue, Status

# -- one application: the same codes, turned into findings with messages ---------------------------


def _format(value: MeasureValue, rule: Rule) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if rule.unit is not None and rule.unit.en == "%":
        return _percent(value)
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
    minimum = policy.spot_check.required_sample(reported)
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

    def render(self) -> tuple[Finding, ...]:
        """The findings, rendered (`Verdict.findings` asks on first read)."""
        return _render(self)


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


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%".replace(".0%", "%")


_ANNEX_1 = Text(zh="附件1", en="Annex 1")
