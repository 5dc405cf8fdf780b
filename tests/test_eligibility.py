"""Eligibility under the bundled policy: every rule at, just below and just above its threshold,
missing data, service functions (第七条), materials (第八条), the spot check (第十条), the
columnar evaluation, and the verdict's JSON contract.

Thresholds are read from the loaded policy; each case evolves the eligible example so that one
rule's measure moves and every other finding still passes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import pickle
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmbase_workflow.case import State
from kmbase_workflow.eligibility import (
    UNKNOWN_KEYS,
    Status,
    Verdict,
    _findings,
    _population,
    application_columns,
    claimed_satisfaction_rate,
    declaration_date_problems,
    district_problems,
    evaluate,
    evaluate_population,
    expert_score_problems,
    judge_spot_check,
    notice_problems,
    selection_key,
    spot_check_sample_size,
)
from kmbase_workflow.eligibility import _checks as _judgement
from kmbase_workflow.eligibility._measures import _application_row
from kmbase_workflow.eligibility._population import _evaluate_columnwise
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.policy import Comparison, Policy, Rule, load_policy
from kmbase_workflow.records import (
    Application,
    ContractedAgency,
    Declaration,
    Education,
    Focus,
    ResidentEnterprise,
    SatisfactionResponse,
    ServiceFigures,
    ServiceVolume,
    SpotCheck,
    StaffMember,
    YearFigures,
)
from lifecycle_helpers import DISTRICT, GOOD_RECOMMENDATION, harness, walk_to
from strategies import applications

POLICY = load_policy()
PASS, FAIL, NA = Status.PASS, Status.FAIL, Status.NOT_ASSESSABLE

# -- building applications with one measure moved --------------------------------------------------


def _share(required: float, step: int, at_least: int = 10) -> tuple[int, int]:
    """(part, whole) with part/whole exactly ``required`` (step 0) or one part off."""
    fraction = Fraction(str(required))
    whole = fraction.denominator * math.ceil(at_least / fraction.denominator)
    part = fraction * whole + step
    assert part.denominator == 1
    assert 0 <= part <= whole
    return int(part), whole


def _member(*, full_time: bool, qualified: bool, mentor: bool = False) -> StaffMember:
    return StaffMember(
        name="服务人员",
        position="",
        education=Education.MASTER if qualified else Education.COLLEGE,
        full_time_service=full_time,
        startup_mentor=mentor,
    )


def _staff(full_time: int, qualified: int, mentors: int) -> tuple[StaffMember, ...]:
    """``full_time`` full-time staff of whom ``qualified`` qualified, plus ``mentors`` mentors
    who are not full-time service staff (so that each count moves alone)."""
    return tuple(
        _member(full_time=True, qualified=i < qualified) for i in range(full_time)
    ) + tuple(_member(full_time=False, qualified=True, mentor=True) for _ in range(mentors))


def _years(app: Application, **pairs: tuple[int, int]) -> Application:
    """Set (previous, latest) of some yearly figures, keeping the others."""
    latest, previous = app.latest_years()
    assert latest is not None
    assert previous is not None
    changes_previous = {name: pair[0] for name, pair in pairs.items()}
    changes_latest = {name: pair[1] for name, pair in pairs.items()}
    return attrs.evolve(
        app,
        yearly=(
            attrs.evolve(previous, **changes_previous),
            attrs.evolve(latest, **changes_latest),
        ),
    )


def _count_with_growth(value: int) -> tuple[int, int]:
    # A previous year low enough that growth stays well above 10%.
    return max(1, value * 2 // 3), value


def _growth(required: float, step: int, previous: int = 10_000) -> tuple[int, int]:
    """(previous, latest) growing exactly by ``required`` (step 0) or by one unit less/more.
    Large enough that the count rules are met as well."""
    latest = Fraction(str(required)) * previous + previous + step
    assert latest.denominator == 1
    return previous, int(latest)


Setter = Callable[[Application, Rule, int], Application]


def _operating_years(app: Application, rule: Rule, step: int) -> Application:
    declared = app.declared_on
    anniversary = declared.replace(year=declared.year - int(rule.required))
    # One day later is just under the required years; one day earlier just over.
    established = anniversary - dt.timedelta(days=step)
    return attrs.evolve(app, base=attrs.evolve(app.base, established_on=established))


def _small_micro_roster(app: Application, count: int) -> Application:
    """Flag the roster's first ``count`` residents small or micro and the others not, so that
    it agrees with ``count`` reported (small_micro_flags_consistent)."""
    assert count <= len(app.residents)
    residents = tuple(
        attrs.evolve(r, small_or_micro=i < count) for i, r in enumerate(app.residents)
    )
    return attrs.evolve(app, residents=residents)


def _residents_count(app: Application, rule: Rule, step: int) -> Application:
    count = int(rule.required) + step
    app = _years(app, resident_small_micro_enterprises=_count_with_growth(count))
    return _small_micro_roster(app, count)


def _residents_growth(app: Application, rule: Rule, step: int) -> Application:
    # 50 → 55: few enough for the example's roster of 60 to flag them all, enough for 第六条（三）
    previous, latest = _growth(float(rule.required), step, previous=50)
    app = _years(app, resident_small_micro_enterprises=(previous, latest))
    return _small_micro_roster(app, latest)


def _employees_count(app: Application, rule: Rule, step: int) -> Application:
    return _years(app, small_micro_employees=_count_with_growth(int(rule.required) + step))


def _leading_industries(app: Application, rule: Rule, step: int) -> Application:
    industries = tuple(f"产业{i}" for i in range(int(rule.required) + step))
    # the roster's flagged residents stay in a leading industry (leading_flags_consistent)
    residents = tuple(
        attrs.evolve(r, industry=industries[0]) if r.in_leading_industry and industries else r
        for r in app.residents
    )
    base = attrs.evolve(app.base, leading_industries=industries)
    return attrs.evolve(app, base=base, residents=residents)


def _resident(in_leading: bool) -> ResidentEnterprise:
    return ResidentEnterprise(
        name="入驻企业",
        moved_in_on=dt.date(2021, 1, 1),
        employees=12,
        industry="电子信息" if in_leading else "餐饮",
        in_leading_industry=in_leading,
    )


def _reported_total(app: Application, total: int) -> Application:
    """Report ``total`` resident enterprises for the judged year (the share's denominator)."""
    year = POLICY.figures.expected_year(app.declared_on)
    yearly = tuple(
        attrs.evolve(f, resident_enterprises=total) if f.year == year else f for f in app.yearly
    )
    return attrs.evolve(app, yearly=yearly)


def _leading_share(app: Application, rule: Rule, step: int) -> Application:
    # 60 listed, as many as the example reports (small_micro_flags_consistent)
    part, whole = _share(float(rule.required), step, at_least=60)
    residents = tuple(_resident(i < part) for i in range(whole))
    # A complete roster: as many firms listed as reported (第六条第（四）项's denominator).
    return _reported_total(attrs.evolve(app, residents=residents), whole)


def _dated(app: Application, day: dt.date) -> Application:
    """The application declared on ``day``, its figures moved to the years judged then."""
    shift = POLICY.figures.expected_year(day) - max(f.year for f in app.yearly)
    yearly = tuple(attrs.evolve(f, year=f.year + shift) for f in app.yearly)
    return attrs.evolve(app, declared_on=day, yearly=yearly)


def _required(measure: str) -> int:
    return next(int(r.required) for r in POLICY.rules if r.measure == measure)


def _full_time_staff(app: Application, rule: Rule, step: int) -> Application:
    count = int(rule.required) + step
    return attrs.evolve(app, staff=_staff(count, count, _required("startup_mentors")))


def _qualified_share(app: Application, rule: Rule, step: int) -> Application:
    part, whole = _share(float(rule.required), step, at_least=_required("full_time_service_staff"))
    return attrs.evolve(app, staff=_staff(whole, part, _required("startup_mentors")))


def _mentors(app: Application, rule: Rule, step: int) -> Application:
    count = _required("full_time_service_staff")
    return attrs.evolve(app, staff=_staff(count, count, int(rule.required) + step))


def _agencies(app: Application, rule: Rule, step: int) -> Application:
    signed = tuple(ContractedAgency(name=f"机构{i}") for i in range(int(rule.required) + step))
    unsigned = (ContractedAgency(name="其他合作单位", signed_agreement=False),)  # never counts
    return attrs.evolve(app, agencies=signed + unsigned)


def _free_share(app: Application, rule: Rule, step: int) -> Application:
    part, whole = _share(float(rule.required), step)
    return attrs.evolve(app, service_volume=ServiceVolume(total=whole, free_or_low_fee=part))


def _satisfaction(app: Application, rule: Rule, step: int) -> Application:
    part, whole = _share(float(rule.required), step)
    survey = tuple(
        SatisfactionResponse(enterprise=f"企业{i}", satisfied=i < part) for i in range(whole)
    )
    return attrs.evolve(app, satisfaction_survey=survey)


def _site_area(app: Application, rule: Rule, step: int) -> Application:
    focus = Focus(rule.applies_when["focus"])
    return attrs.evolve(
        app,
        base=attrs.evolve(app.base, focus=focus, site_area_m2=float(rule.required) + step),
    )


def _growth_of(field: str) -> Setter:
    def setter(app: Application, rule: Rule, step: int) -> Application:
        return _years(app, **{field: _growth(float(rule.required), step)})

    return setter


SETTERS: dict[str, Setter] = {
    "operating_years": _operating_years,
    "resident_small_micro_enterprises": _residents_count,
    "small_micro_employees": _employees_count,
    "leading_industries": _leading_industries,
    "leading_industry_share": _leading_share,
    "full_time_service_staff": _full_time_staff,
    "qualified_staff_share": _qualified_share,
    "startup_mentors": _mentors,
    "contracted_agencies": _agencies,
    "free_or_low_fee_share": _free_share,
    "satisfaction_rate": _satisfaction,
    "site_area_m2": _site_area,
    "resident_growth": _residents_growth,
    "employee_growth": _growth_of("small_micro_employees"),
    "innovation_growth": _growth_of("innovation_outputs"),
}

THRESHOLD_RULES = [
    rule
    for rule in POLICY.rules
    if not rule.declared and rule.comparison in (Comparison.AT_LEAST, Comparison.AT_MOST)
]
DECLARED_RULES = [rule for rule in POLICY.rules if rule.declared]

# 不少于/不低于/以上 include the number itself; 不超过 too.
EXPECTED = {
    Comparison.AT_LEAST: {-1: FAIL, 0: PASS, 1: PASS},
    Comparison.AT_MOST: {-1: PASS, 0: PASS, 1: FAIL},
}


def _only_change(verdict: Verdict, rule_id: str, expected: Status) -> None:
    assert verdict.finding(rule_id).status is expected
    others = [f for f in verdict.findings if f.rule != rule_id and not f.passed]
    assert others == []
    assert verdict.eligible is (expected is PASS)


def test_the_eligible_example_meets_every_rule(eligible: Application) -> None:
    verdict = evaluate(eligible)
    assert verdict.policy_id == POLICY.id
    assert [f.rule for f in verdict.findings if not f.passed] == []
    assert verdict.eligible


def test_every_threshold_rule_has_a_setter() -> None:
    assert {rule.measure for rule in THRESHOLD_RULES} <= set(SETTERS)
    assert THRESHOLD_RULES  # the bundled policy has thresholds to test


@pytest.mark.parametrize("step", [-1, 0, 1], ids=["below", "at", "above"])
@pytest.mark.parametrize("rule", THRESHOLD_RULES, ids=[r.id for r in THRESHOLD_RULES])
def test_rule_at_and_around_its_threshold(eligible: Application, rule: Rule, step: int) -> None:
    app = SETTERS[rule.measure](eligible, rule, step)
    verdict = evaluate(app)
    _only_change(verdict, rule.id, EXPECTED[rule.comparison][step])
    finding = verdict.finding(rule.id)
    assert finding.article == rule.article
    assert finding.required == rule.required


def test_qualified_share_eight_of_ten(eligible: Application) -> None:
    rule = POLICY.rule("qualified_staff_share")
    mentors = _required("startup_mentors")
    passing = evaluate(attrs.evolve(eligible, staff=_staff(10, 8, mentors)))
    failing = evaluate(attrs.evolve(eligible, staff=_staff(10, 7, mentors)))
    assert rule.required == 0.8
    assert passing.finding(rule.id).status is PASS
    assert passing.finding(rule.id).actual == 0.8
    assert failing.finding(rule.id).status is FAIL
    assert "80%" in passing.finding(rule.id).message.en
    assert "70%" in failing.finding(rule.id).message.zh


def test_intermediate_title_counts_as_qualified(eligible: Application) -> None:
    # 本科及以上学历和中级及以上技术职称人员: a 大专 member with an intermediate title counts.
    titled = attrs.evolve(
        _member(full_time=True, qualified=False), intermediate_title_or_above=True
    )
    staff = _staff(10, 7, _required("startup_mentors"))
    assert not staff[7].education.bachelor_or_above
    staff = (*staff[:7], titled, *staff[8:])  # the 8th is now qualified by title alone
    assert (
        evaluate(attrs.evolve(eligible, staff=staff)).finding("qualified_staff_share").actual == 0.8
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5_000),
    st.sampled_from([r for r in THRESHOLD_RULES if r.measure.endswith("_growth")]),
)
def test_exact_growth_passes_at_any_size(
    eligible: Application, previous_base: int, rule: Rule
) -> None:
    # previous × (1 + rate) exactly, whatever the size: floating point must not make it fail.
    rate = Fraction(str(rule.required))
    previous = previous_base * rate.denominator
    latest = int(previous * (1 + rate))
    field = {
        "resident_growth": "resident_small_micro_enterprises",
        "employee_growth": "small_micro_employees",
        "innovation_growth": "innovation_outputs",
    }[rule.measure]
    latest_year, previous_year = eligible.latest_years()
    assert latest_year is not None
    assert previous_year is not None
    app = attrs.evolve(
        eligible,
        yearly=(
            attrs.evolve(previous_year, **{field: previous}),
            attrs.evolve(latest_year, **{field: latest}),
        ),
    )
    assert evaluate(app).finding(rule.id).status is PASS
    below = attrs.evolve(
        app, yearly=(app.yearly[0], attrs.evolve(app.yearly[1], **{field: latest - 1}))
    )
    assert evaluate(below).finding(rule.id).status is FAIL


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40))
def test_exact_share_passes_at_any_size(eligible: Application, multiple: int) -> None:
    rule = POLICY.rule("satisfaction_rate")
    fraction = Fraction(str(rule.required))
    whole = fraction.denominator * multiple
    part = int(fraction * whole)
    survey = tuple(
        SatisfactionResponse(enterprise="企业", satisfied=i < part) for i in range(whole)
    )
    assert (
        evaluate(attrs.evolve(eligible, satisfaction_survey=survey)).finding(rule.id).status is PASS
    )
    survey = (SatisfactionResponse(enterprise="企业", satisfied=False), *survey[1:])
    assert (
        evaluate(attrs.evolve(eligible, satisfaction_survey=survey)).finding(rule.id).status is FAIL
    )


# -- operating years: anniversaries --------------------------------------------------------------


@pytest.mark.parametrize(
    ("established", "declared", "expected"),
    [
        (dt.date(2023, 6, 20), dt.date(2025, 6, 20), PASS),  # the exact second anniversary
        (dt.date(2023, 6, 21), dt.date(2025, 6, 20), FAIL),
        # Established on 29 February: a two-year period ends on 28 February of a common
        # year (《民法典》第二百零二条: no corresponding day → the month's last day).
        (dt.date(2024, 2, 29), dt.date(2026, 2, 28), PASS),
        (dt.date(2024, 2, 29), dt.date(2026, 2, 27), FAIL),
        (dt.date(2024, 2, 29), dt.date(2026, 3, 1), PASS),
        # Declared on 29 February, established two years before in a common year.
        (dt.date(2022, 2, 28), dt.date(2024, 2, 28), PASS),
        (dt.date(2022, 3, 1), dt.date(2024, 2, 29), FAIL),
        (dt.date(2022, 3, 1), dt.date(2024, 3, 1), PASS),
    ],
)
def test_operating_years_at_anniversaries(
    eligible: Application, established: dt.date, declared: dt.date, expected: Status
) -> None:
    assert POLICY.rule("operating_years").required == 2
    app = _dated(
        attrs.evolve(eligible, base=attrs.evolve(eligible.base, established_on=established)),
        declared,
    )
    _only_change(evaluate(app), "operating_years", expected)


# -- 第六条第（七）项: the site area depends on the focus ----------------------------------------------


@pytest.mark.parametrize(
    ("focus", "area", "other"),
    [
        (Focus.MANUFACTURING, "site_area_manufacturing", "site_area_production_services"),
        (Focus.PRODUCTION_SERVICES, "site_area_production_services", "site_area_manufacturing"),
    ],
)
def test_only_the_rule_of_the_focus_applies(
    eligible: Application, focus: Focus, area: str, other: str
) -> None:
    required = float(POLICY.rule(area).required)
    app = attrs.evolve(
        eligible, base=attrs.evolve(eligible.base, focus=focus, site_area_m2=required)
    )
    verdict = evaluate(app)
    assert verdict.finding(area).status is PASS
    assert verdict.eligible
    with pytest.raises(KeyError):
        verdict.finding(other)
    population = evaluate_population(application_columns([app]))
    assert population.status(other, 0) is PASS  # does not apply: not held against the base


def test_an_area_between_the_thresholds_depends_on_the_focus(eligible: Application) -> None:
    low = float(POLICY.rule("site_area_production_services").required)
    high = float(POLICY.rule("site_area_manufacturing").required)
    assert low < high
    area = (low + high) / 2  # 6,500 m²: enough for services, not for manufacturing
    services = attrs.evolve(
        eligible,
        base=attrs.evolve(eligible.base, focus=Focus.PRODUCTION_SERVICES, site_area_m2=area),
    )
    manufacturing = attrs.evolve(
        eligible, base=attrs.evolve(eligible.base, focus=Focus.MANUFACTURING, site_area_m2=area)
    )
    assert evaluate(services).eligible
    _only_change(evaluate(manufacturing), "site_area_manufacturing", FAIL)


# -- declared conditions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        (Declaration(value=True, evidence="佐证材料第3册"), PASS),
        (Declaration(value=False, evidence="说明.pdf"), FAIL),
        (Declaration(value=False), FAIL),
        (Declaration(value=True), NA),  # declaration without evidence
        (Declaration(value=True, evidence="   "), NA),
        (None, NA),  # declaration absent
    ],
    ids=[
        "with_evidence",
        "declared_false",
        "false_no_evidence",
        "no_evidence",
        "blank_evidence",
        "absent",
    ],
)
@pytest.mark.parametrize("rule", DECLARED_RULES, ids=[r.id for r in DECLARED_RULES])
def test_declared_condition(
    eligible: Application, rule: Rule, declaration: Declaration | None, expected: Status
) -> None:
    declarations = dict(eligible.declarations)
    if declaration is None:
        del declarations[rule.measure]
    else:
        declarations[rule.measure] = declaration
    verdict = evaluate(attrs.evolve(eligible, declarations=declarations))
    _only_change(verdict, rule.id, expected)
    finding = verdict.finding(rule.id)
    assert finding.basis == "declared"
    assert finding.actual == (declaration.value if declaration else None)


def test_not_an_independent_legal_person(eligible: Application) -> None:
    app = attrs.evolve(
        eligible, operator=attrs.evolve(eligible.operator, independent_legal_person=False)
    )
    _only_change(evaluate(app), "independent_legal_person", FAIL)


# -- missing data is never a pass -----------------------------------------------------------------

GROWTH = ["resident_growth", "employee_growth", "innovation_growth"]


def _year(year: int, value: int, residents: int = 60) -> YearFigures:
    # by default the residents stay the example's 60, which its roster lists and flags
    return YearFigures(
        year=year,
        resident_enterprises=residents,
        resident_small_micro_enterprises=residents,
        small_micro_employees=value,
        innovation_outputs=value,
    )


JUDGED_YEAR_RULES = ["resident_enterprises", "resident_employees", "leading_industry_share"]
# the checks of the roster and the survey against the judged year's reported figures
JUDGED_YEAR_CHECKS = [
    "roster_complete",
    "small_micro_flags_consistent",
    "satisfaction_survey_representative",
]


@pytest.mark.parametrize(
    ("change", "not_assessable", "failed"),
    [
        (
            {"yearly": ()},
            [*JUDGED_YEAR_RULES, *JUDGED_YEAR_CHECKS, *GROWTH],
            ["figures_year.yearly"],
        ),
        ({"yearly": (_year(2024, 1000),)}, GROWTH, []),  # one year only
        ({"yearly": (_year(2022, 900), _year(2024, 1000))}, GROWTH, []),  # not consecutive
        ({"satisfaction_survey": ()}, ["satisfaction_rate"], []),
        ({"service_volume": None}, ["free_or_low_fee_share"], []),
        (
            {"service_volume": ServiceVolume(total=0, free_or_low_fee=0)},
            ["free_or_low_fee_share"],
            [],
        ),
    ],
    ids=[
        "no_yearly_figures",
        "one_year_only",
        "years_not_consecutive",
        "empty_survey",
        "no_service_volume",
        "zero_service_volume",
    ],
)
def test_missing_data_is_not_assessable(
    eligible: Application,
    change: dict[str, object],
    not_assessable: list[str],
    failed: list[str],
) -> None:
    app = attrs.evolve(eligible, **change)
    verdict = evaluate(app)
    assert sorted(f.rule for f in verdict.not_assessable()) == sorted(not_assessable)
    assert sorted(f.rule for f in verdict.failed()) == sorted(failed)
    assert not verdict.eligible
    for rule_id in not_assessable:
        finding = verdict.finding(rule_id)
        assert finding.actual is None
        if rule_id in GROWTH:
            assert "growth needs the figures of the judged year 2024 and of 2023" in (
                finding.message.en
            )
            assert "缺少所判年度 2024 年或其上一年度 2023 年的数据" in finding.message.zh
        elif rule_id in (*JUDGED_YEAR_RULES, *JUDGED_YEAR_CHECKS):
            assert "the figures of the judged year 2024 are missing" in finding.message.en
            assert "缺少所判年度 2024 年的数据" in finding.message.zh
        else:
            assert "data missing" in finding.message.en
            assert "缺少数据" in finding.message.zh
    assert "not eligible" in verdict.summary().en
    assert f"{len(not_assessable)} not assessable" in verdict.summary().en


def test_growth_uses_the_judged_years_in_any_order(eligible: Application) -> None:
    app = attrs.evolve(
        eligible,
        yearly=(_year(2024, 1100, 1100), _year(2022, 1, 1), _year(2023, 1000, 1000)),
        residents=tuple(_resident(True) for _ in range(1100)),
    )
    verdict = evaluate(app)
    assert verdict.finding("resident_growth").actual == pytest.approx(0.1)
    assert verdict.finding("resident_growth").status is PASS


def test_no_staff_fails_the_count_and_cannot_judge_the_share(eligible: Application) -> None:
    verdict = evaluate(attrs.evolve(eligible, staff=()))
    assert verdict.finding("full_time_service_staff").status is FAIL
    assert verdict.finding("startup_mentors").status is FAIL
    assert verdict.finding("qualified_staff_share").status is NA


@settings(max_examples=80, deadline=None)
@given(applications())
def test_never_eligible_with_a_finding_not_assessable(app: Application) -> None:
    verdict = evaluate(app)
    if verdict.not_assessable():
        assert not verdict.eligible
    assert verdict.eligible is all(f.status is PASS for f in verdict.findings)


# -- 第七条: service functions ------------------------------------------------------------------------


def _at_thresholds(function_id: str, step: int = 0, measure: str | None = None) -> ServiceFigures:
    function = POLICY.service_functions.function(function_id)
    values = {
        t.measure: int(t.required) + (step if t.measure == (measure or t.measure) else 0)
        for t in function.thresholds
    }
    return ServiceFigures(**values)  # type: ignore[arg-type]


FUNCTION_IDS = [f.id for f in POLICY.service_functions.functions]
THRESHOLDS = [(f.id, t.measure) for f in POLICY.service_functions.functions for t in f.thresholds]


def _services_finding(app: Application) -> tuple[Status, dict[str, Status], int]:
    finding = evaluate(app).finding("service_functions")
    assert isinstance(finding.actual, int)
    return finding.status, {d.rule: d.status for d in finding.details}, finding.actual


@pytest.mark.parametrize("step", [-1, 0, 1], ids=["below", "at", "above"])
@pytest.mark.parametrize(
    ("function_id", "measure"), THRESHOLDS, ids=[f"{f}.{m}" for f, m in THRESHOLDS]
)
def test_service_threshold(
    eligible: Application, function_id: str, measure: str, step: int
) -> None:
    services = dict(eligible.services)
    services[function_id] = _at_thresholds(function_id, step, measure)
    finding = evaluate(attrs.evolve(eligible, services=services)).finding("service_functions")
    function = next(d for d in finding.details if d.rule == f"service.{function_id}")
    threshold = next(t for t in function.details if t.rule == f"{function_id}.{measure}")
    expected = FAIL if step < 0 else PASS
    assert threshold.status is expected
    assert function.status is expected
    assert threshold.actual == int(threshold.required) + step  # type: ignore[arg-type]


def _first(count: int, **extra: ServiceFigures) -> dict[str, ServiceFigures]:
    services = {fid: _at_thresholds(fid) for fid in FUNCTION_IDS[:count]}
    services.update(extra)
    return services


def test_exactly_the_minimum_number_of_functions_passes(eligible: Application) -> None:
    minimum = POLICY.service_functions.minimum
    assert minimum == 4
    status, details, met = _services_finding(attrs.evolve(eligible, services=_first(minimum)))
    assert (status, met) == (PASS, minimum)
    # Functions not claimed are not provided: each fails.
    for fid in FUNCTION_IDS[minimum:]:
        assert details[f"service.{fid}"] is FAIL
    verdict = evaluate(attrs.evolve(eligible, services=_first(minimum)))
    assert verdict.eligible


def test_one_function_less_fails(eligible: Application) -> None:
    minimum = POLICY.service_functions.minimum
    app = attrs.evolve(eligible, services=_first(minimum - 1))
    status, _, met = _services_finding(app)
    assert (status, met) == (FAIL, minimum - 1)
    _only_change(evaluate(app), "service_functions", FAIL)


def test_claimed_functions_below_threshold_do_not_count(eligible: Application) -> None:
    minimum = POLICY.service_functions.minimum
    below = {fid: _at_thresholds(fid, -1) for fid in FUNCTION_IDS[minimum - 1 :]}
    status, _, met = _services_finding(
        attrs.evolve(eligible, services=_first(minimum - 1, **below))
    )
    assert (status, met) == (FAIL, minimum - 1)


def test_one_threshold_met_and_another_missing_is_not_assessable(eligible: Application) -> None:
    function = POLICY.service_functions.function("information")
    assert len(function.thresholds) == 2
    first, second = function.thresholds
    half = ServiceFigures(**{first.measure: int(first.required)})  # type: ignore[arg-type]
    minimum = POLICY.service_functions.minimum
    others = [fid for fid in FUNCTION_IDS if fid != "information"]

    services = {fid: _at_thresholds(fid) for fid in others[: minimum - 1]} | {"information": half}
    status, details, met = _services_finding(attrs.evolve(eligible, services=services))
    assert details["service.information"] is NA
    # 3 met and 1 unknown: whether 4 are met cannot be told.
    assert (status, met) == (NA, minimum - 1)
    assert not evaluate(attrs.evolve(eligible, services=services)).eligible

    services = {fid: _at_thresholds(fid) for fid in others[:minimum]} | {"information": half}
    status, details, met = _services_finding(attrs.evolve(eligible, services=services))
    assert details["service.information"] is NA
    assert (status, met) == (PASS, minimum)

    # A failed threshold decides the function even when the other is missing.
    failing = ServiceFigures(**{first.measure: int(first.required) - 1})  # type: ignore[arg-type]
    services = {fid: _at_thresholds(fid) for fid in others[: minimum - 1]} | {
        "information": failing
    }
    status, details, _ = _services_finding(attrs.evolve(eligible, services=services))
    assert details["service.information"] is FAIL
    assert status is FAIL
    assert second.measure != first.measure


def test_claimed_without_figures_is_not_assessable_but_unclaimed_fails(
    eligible: Application,
) -> None:
    minimum = POLICY.service_functions.minimum
    services = _first(minimum - 1, training=ServiceFigures())
    assert "training" not in FUNCTION_IDS[: minimum - 1]
    finding = evaluate(attrs.evolve(eligible, services=services)).finding("service_functions")
    details = {d.rule: d for d in finding.details}
    assert details["service.training"].status is NA
    unclaimed = FUNCTION_IDS[-1]
    assert details[f"service.{unclaimed}"].status is FAIL
    assert "not claimed" in details[f"service.{unclaimed}"].message.en
    assert "未申报" in details[f"service.{unclaimed}"].message.zh


def test_unknown_service_keys_do_not_count(eligible: Application) -> None:
    minimum = POLICY.service_functions.minimum
    services = _first(minimum - 1, digital_transformation=ServiceFigures(enterprises_served=999))
    status, _, met = _services_finding(attrs.evolve(eligible, services=services))
    assert (status, met) == (FAIL, minimum - 1)


# -- 第八条: materials -------------------------------------------------------------------------------

REQUIRED_MATERIALS = [m for m in POLICY.materials if m.required]
OPTIONAL_MATERIALS = [m for m in POLICY.materials if not m.required]


@pytest.mark.parametrize("reference", [None, "", "   "], ids=["absent", "empty", "blank"])
@pytest.mark.parametrize("material_id", [m.id for m in REQUIRED_MATERIALS])
def test_a_missing_required_material_fails(
    eligible: Application, material_id: str, reference: str | None
) -> None:
    materials = dict(eligible.materials)
    if reference is None:
        del materials[material_id]
    else:
        materials[material_id] = reference
    verdict = evaluate(attrs.evolve(eligible, materials=materials))
    _only_change(verdict, f"material.{material_id}", FAIL)
    assert "missing" in verdict.finding(f"material.{material_id}").message.en
    assert "未提交" in verdict.finding(f"material.{material_id}").message.zh


def test_the_optional_other_evidence_of_8_7_is_not_demanded(eligible: Application) -> None:
    assert [m.article.zh for m in OPTIONAL_MATERIALS] == ["第八条第（七）项"]
    materials = {
        k: v for k, v in eligible.materials.items() if k not in {m.id for m in OPTIONAL_MATERIALS}
    }
    app = attrs.evolve(eligible, materials=materials)
    verdict = evaluate(app)
    assert verdict.eligible
    for material in OPTIONAL_MATERIALS:
        with pytest.raises(KeyError):
            verdict.finding(f"material.{material.id}")
        assert (
            evaluate_population(application_columns([app])).status(f"material.{material.id}", 0)
            is PASS
        )
    # When given, it is listed with its reference.
    given_finding = evaluate(eligible).finding(f"material.{OPTIONAL_MATERIALS[0].id}")
    assert given_finding.status is PASS
    assert given_finding.evidence == eligible.materials[OPTIONAL_MATERIALS[0].id]


# -- the ineligible example -------------------------------------------------------------------------


def test_the_ineligible_example_fails_what_its_figures_say(ineligible: Application) -> None:
    verdict = evaluate(ineligible)
    assert not verdict.eligible
    failed = {f.rule for f in verdict.failed()}
    # Read from docs/examples/ineligible.json: 35 residents, 430 employees, 4 leading
    # industries, 25 of 35 residents in them, 8 staff, 2 mentors, 3 agencies, 21 of 150
    # services free, 7 of 10 satisfied, a manufacturing base of 8,000 m², no audit report.
    assert {
        "resident_enterprises",
        "resident_employees",
        "leading_industries_count",
        "leading_industry_share",
        "full_time_service_staff",
        "startup_mentors",
        "contracted_agencies",
        "free_or_low_fee_share",
        "satisfaction_rate",
        "site_area_manufacturing",
        "material.audit_report",
    } <= failed
    assert verdict.finding("operating_years").status is PASS  # 2021-09-01 → 2025-06-20


# -- 第十条: the satisfaction spot check ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("residents", "sample"),
    # 第十条 has a spot check made (进行满意度随机抽查): of none residents, still one
    [(45, 5), (40, 4), (41, 5), (30, 3), (0, 1), (1, 1), (10, 1), (100, 10)],
)
def test_spot_check_sample_rounds_up(policy: Policy, residents: int, sample: int) -> None:
    assert policy.spot_check.minimum_share == 0.1  # 不低于 10%
    assert spot_check_sample_size(residents) == sample
    assert spot_check_sample_size(residents, policy) == sample


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 100_000))
def test_spot_check_sample_is_the_least_whole_tenth(residents: int) -> None:
    sample = spot_check_sample_size(residents)
    assert sample * 10 >= residents  # at least 10%
    assert (sample - 1) * 10 < residents or sample == 1  # and no more than needed
    # the size the function tells is the size the spot check's finding requires
    assert sample == POLICY.spot_check.required_sample(residents)


def test_spot_check_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        spot_check_sample_size(-1)


@pytest.mark.parametrize(("residents", "required"), [(0, 1), (1, 1), (10, 1), (45, 5), (100, 10)])
def test_the_sample_a_spot_check_must_reach_is_one_at_least(residents: int, required: int) -> None:
    """第十条's share rounded up, and never none: the spot check's finding and the survey's
    consistency check (第六条第（六）项) read the same figure, `SpotCheckRule.required_sample`."""
    assert POLICY.spot_check.required_sample(residents) == required
    sampled = min(required, residents)
    finding = judge_spot_check(SpotCheck(residents, sampled=sampled, satisfied=0))[0]
    assert finding.required == required
    assert finding.passed is (sampled >= required)


SECOND = load_policy(path=Path(__file__).resolve().parent / "policies" / "second_jurisdiction.toml")


@pytest.mark.parametrize(
    ("check", "size", "satisfaction"),
    [
        (SpotCheck(45, sampled=5, satisfied=5), PASS, PASS),
        (SpotCheck(45, sampled=5, satisfied=4), PASS, PASS),  # 80%
        (SpotCheck(45, sampled=5, satisfied=3), PASS, FAIL),  # 60%
        (SpotCheck(45, sampled=4, satisfied=4), FAIL, PASS),  # sample too small
        (SpotCheck(40, sampled=4, satisfied=4), PASS, PASS),
        (SpotCheck(40, sampled=10, satisfied=7), PASS, FAIL),
        (SpotCheck(40, sampled=0, satisfied=0), FAIL, NA),
    ],
)
def test_judge_spot_check(check: SpotCheck, size: Status, satisfaction: Status) -> None:
    # ``satisfaction``: the status where the sample's satisfaction is made a condition.
    assert POLICY.spot_check.satisfaction_blocking is False  # 第十条 fixes only the sample
    findings = {f.rule: f for f in judge_spot_check(check, claimed_rate=0.9)}
    assert set(findings) == {"spot_check.sample_size", "spot_check.satisfaction_rate"}
    sample = findings["spot_check.sample_size"]
    assert sample.status is size
    assert sample.required == spot_check_sample_size(check.resident_small_micro_enterprises)
    assert sample.actual == check.sampled
    assert sample.article.zh == "第十条"
    # Kunming: the sample's satisfaction is evidence beside the applicant's, never a block.
    rate = findings["spot_check.satisfaction_rate"]
    assert rate.status is PASS
    assert rate.required is None
    assert rate.actual == (check.satisfied / check.sampled if check.sampled else None)
    assert rate.article.zh == "第十条"
    assert "the applicant reports 90%" in rate.message.en
    assert "申报单位自报 90%" in rate.message.zh
    assert "the district decides" in rate.message.en
    # A jurisdiction that makes it a condition (satisfaction_blocking = true).
    assert SECOND.spot_check.satisfaction_blocking is True
    blocking = {f.rule: f for f in judge_spot_check(check, SECOND)}
    assert blocking["spot_check.sample_size"].status is size
    rate = blocking["spot_check.satisfaction_rate"]
    assert rate.status is satisfaction
    assert rate.required == SECOND.rule("satisfaction_rate").required
    assert rate.article.zh == "第六条第（六）项"


def test_spot_check_shows_the_claimed_rate_beside_the_sample(eligible: Application) -> None:
    claimed = claimed_satisfaction_rate(eligible)
    assert claimed == pytest.approx(18 / 20)
    low = judge_spot_check(SpotCheck(60, 6, 3), claimed_rate=claimed)
    assert [f.status for f in low] == [PASS, PASS]  # 50% found: recorded, not blocking
    assert "3 of 6 sampled satisfied (50%), the applicant reports 90%" in low[1].message.en
    assert "抽查 6 家，满意 3 家（50%），申报单位自报 90%" in low[1].message.zh
    unknown = judge_spot_check(SpotCheck(60, 6, 6))
    assert "the applicant reports —" in unknown[1].message.en


# -- one application = a population of one ----------------------------------------------------------


def _codes_match(verdict: Verdict, population_status: Callable[[str], Status]) -> None:
    present = {f.rule for f in verdict.findings}
    for rule in POLICY.rules:
        if rule.id in present:
            assert verdict.finding(rule.id).status is population_status(rule.id), rule.id
        else:  # a rule that does not apply to this focus
            assert rule.applies_when
            assert population_status(rule.id) is PASS
    services = verdict.finding("service_functions")
    assert services.status is population_status("service_functions")
    for detail in services.details:
        assert detail.status is population_status(detail.rule), detail.rule
    for material in POLICY.materials:
        rule_id = f"material.{material.id}"
        if rule_id in present:
            assert verdict.finding(rule_id).status is population_status(rule_id)
        else:
            assert population_status(rule_id) is PASS
    pledges = [f"pledge.{pledge.id}" for pledge in POLICY.pledges]
    for rule_id in ("district", "figures_year.yearly", "figures_year.services", *pledges):
        assert verdict.finding(rule_id).status is population_status(rule_id), rule_id


# Drawn applications are biased to thresholds and missing data, so hardly any is eligible:
# the examples keep the eligible side of both paths in every run.
_any_application = st.one_of(
    applications(), st.sampled_from([eligible_application(), ineligible_application()])
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_any_application, min_size=1, max_size=6))
def test_columnar_equals_single(apps: list[Application]) -> None:
    """The scalar path of `evaluate` and the column-wise path agree on every row: every
    status of every check (thresholds of the service functions included), the decision,
    and every finding with its bilingual message, article, required and actual values."""
    columns = application_columns(apps, POLICY)
    population = evaluate_population(columns, POLICY)
    checks = _judgement.plan(POLICY)
    every_code = _population.judge_columns(checks, columns, len(apps))
    assert set(population.rules) < set(every_code)  # the thresholds only explain
    for index, app in enumerate(apps):
        verdict = evaluate(app, POLICY)
        _codes_match(verdict, lambda rule_id, i=index: population.status(rule_id, i))  # type: ignore[misc]
        assert bool(population.eligible[index]) is verdict.eligible
        row = _application_row(app, POLICY, checks, app.declared_on)[0]
        codes, eligible = _judgement.judge_row(checks, row)
        assert codes == {key: int(code[index]) for key, code in every_code.items()}
        assert eligible is bool(population.eligible[index])
        columnwise = _evaluate_columnwise(app, POLICY)
        assert verdict.eligible is columnwise.eligible
        assert verdict.findings == columnwise.findings
        assert [f.message for f in verdict.findings] == [f.message for f in columnwise.findings]
        assert verdict == columnwise
        assert verdict.to_dict("zh") == columnwise.to_dict("zh")
        assert verdict.to_dict("en") == columnwise.to_dict("en")


@settings(max_examples=40, deadline=None)
@given(st.lists(_any_application, min_size=1, max_size=4))
def test_one_applications_values_are_its_row_of_the_columns(apps: list[Application]) -> None:
    columns = application_columns(apps, POLICY)
    checks = _judgement.plan(POLICY)
    assert tuple(columns) == checks.columns
    for index, app in enumerate(apps):
        row = _application_row(app, POLICY, checks, app.declared_on)[0]
        assert tuple(row) == checks.columns
        for name, value in row.items():
            column = columns[name][index]
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(column), name
            else:
                assert column == value, name


@settings(max_examples=40, deadline=None)
@given(_any_application)
def test_a_verdict_decides_before_it_renders(app: Application) -> None:
    """`eligible`, `failed` and `not_assessable` read without rendering agree with the
    rendered findings; the rendered verdict equals one built from them."""
    decided = evaluate(app, POLICY)
    eligible, failed, missing = decided.eligible, decided.failed(), decided.not_assessable()
    rendered = evaluate(app, POLICY)
    assert eligible is all(finding.passed for finding in rendered.findings)
    assert failed == tuple(f for f in rendered.findings if f.status is FAIL)
    assert missing == tuple(f for f in rendered.findings if f.status is NA)
    built = Verdict(
        policy_id=rendered.policy_id,
        base_name=rendered.base_name,
        findings=rendered.findings,
        judged_on=rendered.judged_on,
        figures_year=rendered.figures_year,
    )
    assert built == rendered
    assert hash(built) == hash(rendered)
    assert repr(built) == repr(rendered)
    assert built.eligible is eligible
    assert built.summary() == decided.summary()


def test_a_lazy_verdict_behaves_as_a_record(eligible: Application) -> None:
    verdict = evaluate(eligible)
    assert pickle.loads(pickle.dumps(verdict)) == verdict
    renamed = attrs.evolve(verdict, base_name="另一基地")
    assert renamed.findings == verdict.findings
    assert renamed.base_name == "另一基地"
    with pytest.raises(AttributeError, match="findngs"):
        getattr(verdict, "findngs")  # noqa: B009 - a typo is still an error
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        verdict.findings = ()  # type: ignore[misc]


def test_a_population_without_some_columns(eligible: Application) -> None:
    """An absent rule column is not assessable, an absent material is not provided, and
    without the unknown-keys column there is no such result."""
    columns = application_columns([eligible])
    del columns["site_area_m2"], columns["material.application_report"], columns[UNKNOWN_KEYS]
    population = evaluate_population(columns)
    focus = eligible.base.focus.value
    area = next(
        r for r in POLICY.rules if r.measure == "site_area_m2" and r.applies_when["focus"] == focus
    )
    assert population.status(area.id, 0) is NA
    assert population.status("material.application_report", 0) is FAIL
    assert UNKNOWN_KEYS not in population.rules
    assert not population.eligible[0]


def test_each_policy_object_has_its_own_plan(eligible: Application) -> None:
    rule = POLICY.rule("full_time_service_staff")
    stricter = attrs.evolve(
        POLICY,
        rules=tuple(attrs.evolve(r, required=1000) if r.id == rule.id else r for r in POLICY.rules),
    )
    assert evaluate(eligible, POLICY).finding(rule.id).status is PASS
    assert evaluate(eligible, stricter).finding(rule.id).status is FAIL
    assert _judgement.plan(stricter) is _judgement.plan(stricter)
    assert _judgement.plan(stricter) is not _judgement.plan(POLICY)


def test_columnar_equals_single_on_the_examples(
    eligible: Application, ineligible: Application
) -> None:
    apps = [ineligible, eligible, ineligible]
    population = evaluate_population(application_columns(apps))
    assert population.eligible.tolist() == [False, True, False]
    assert population.pass_rate("resident_enterprises") == pytest.approx(1 / 3)


# -- the JSON contract of a verdict -----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["eligible", "ineligible"])
def test_verdict_to_dict_contract(request: pytest.FixtureRequest, which: str, lang: str) -> None:
    app: Application = request.getfixturevalue(which)
    verdict = evaluate(app)
    data = verdict.to_dict(lang)  # type: ignore[arg-type]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["eligible"] is verdict.eligible
    assert isinstance(data["eligible"], bool)
    assert data["policy"] == POLICY.id
    assert isinstance(data["findings"], list)
    assert len(data["findings"]) == len(verdict.findings)
    for item, finding in zip(data["findings"], verdict.findings, strict=True):
        assert {"rule", "article", "status", "required", "actual", "message"} <= set(item)
        assert item["rule"] == finding.rule
        assert item["status"] in {"pass", "fail", "not_assessable"}
        assert item["status"] == finding.status.value
        assert item["article"] == {"zh": finding.article.zh, "en": finding.article.en}
        assert item["message"] == finding.message.in_(lang)  # type: ignore[arg-type]
        assert isinstance(item["message"], str)
        assert item["message"]


def test_verdict_to_dict_with_missing_data_is_json(eligible: Application) -> None:
    app = attrs.evolve(eligible, yearly=(), satisfaction_survey=(), service_volume=None)
    data = evaluate(app).to_dict("en")
    text = json.dumps(data)
    assert json.loads(text)["eligible"] is False
    statuses = {f["rule"]: f["status"] for f in data["findings"]}
    assert statuses["resident_growth"] == "not_assessable"
    assert {f["rule"]: f["actual"] for f in data["findings"]}["resident_growth"] is None


# -- 第六条第（二）项 and every date-relative test: judged at the day the caller gives -----------------


def _with_figures(app: Application, *years: int) -> Application:
    """``app`` with the same figures reported for each of ``years`` (growth set per test)."""
    latest = app.figures_for(2024)
    assert latest is not None
    return attrs.evolve(app, yearly=tuple(attrs.evolve(latest, year=year) for year in years))


def test_a_file_dated_later_than_its_declaration_does_not_buy_age(eligible: Application) -> None:
    # The case of issue 10: established 2024-06-01, the file says 2026-06-20, declared
    # 2025-06-20. Judged at its own date it is old enough; at the real day it is not.
    app = attrs.evolve(
        eligible,
        declared_on=dt.date(2026, 6, 20),
        base=attrs.evolve(eligible.base, established_on=dt.date(2024, 6, 1)),
    )
    own = evaluate(app)
    assert own.judged_on == dt.date(2026, 6, 20)
    assert own.finding("operating_years").status is PASS
    real = evaluate(app, judged_on=dt.date(2025, 6, 20))
    assert real.judged_on == dt.date(2025, 6, 20)
    assert real.finding("operating_years").status is FAIL
    assert real.finding("operating_years").article.zh == "第六条第（二）项"
    assert "judged on 2025-06-20" in real.summary().en
    assert "判断日 2025-06-20" in real.summary().zh
    assert real.to_dict()["judged_on"] == "2025-06-20"
    assert real.to_dict()["figures_year"] == 2024


@pytest.mark.parametrize(
    ("judged_on", "expected"),
    [
        (dt.date(2026, 5, 31), FAIL),  # the day before the second anniversary
        (dt.date(2026, 6, 1), PASS),  # 两年以上: the anniversary itself counts
    ],
)
def test_age_at_the_judged_day_on_both_sides(
    eligible: Application, judged_on: dt.date, expected: Status
) -> None:
    app = _with_figures(
        attrs.evolve(
            eligible, base=attrs.evolve(eligible.base, established_on=dt.date(2024, 6, 1))
        ),
        2024,
        2025,
    )
    app = _years(app, resident_small_micro_enterprises=(50, 60), small_micro_employees=(800, 905))
    app = _years(app, innovation_outputs=(40, 47))
    app = attrs.evolve(app, services_year=2025)
    _only_change(evaluate(app, judged_on=judged_on), "operating_years", expected)


def test_the_default_day_is_the_applications_own(eligible: Application) -> None:
    assert evaluate(eligible) == evaluate(eligible, judged_on=eligible.declared_on)
    assert evaluate(eligible).judged_on == eligible.declared_on


def test_the_population_takes_one_day_or_one_per_application(eligible: Application) -> None:
    young = attrs.evolve(
        eligible, base=attrs.evolve(eligible.base, established_on=dt.date(2023, 6, 21))
    )
    apps = [young, young]
    own = evaluate_population(application_columns(apps))
    assert own.rules["operating_years"].tolist() == [1, 1]  # 2023-06-21 → 2025-06-20
    later = dt.date(2025, 6, 21)
    scalar = evaluate_population(application_columns(apps, judged_on=later))
    assert scalar.rules["operating_years"].tolist() == [0, 0]
    each = evaluate_population(application_columns(apps, judged_on=[later, eligible.declared_on]))
    assert each.rules["operating_years"].tolist() == [0, 1]
    assert evaluate(young, judged_on=later).finding("operating_years").status is PASS


def test_a_population_with_the_wrong_number_of_days_is_refused(eligible: Application) -> None:
    with pytest.raises(InvalidInputError) as info:
        application_columns([eligible, eligible], judged_on=[eligible.declared_on])
    assert "judged_on has 1 days for 2 applications" in info.value.message.en


def test_declaration_date_problems(eligible: Application) -> None:
    assert declaration_date_problems(eligible, eligible.declared_on) == []
    problems = declaration_date_problems(eligible, dt.date(2025, 6, 19))
    assert len(problems) == 1
    assert "dated 2025-06-20 but declared on 2025-06-19" in problems[0].en
    assert "填报日期 2025-06-20 与实际申报日 2025-06-19 不一致" in problems[0].zh


# -- 第六条第（四）项: 80% of the reported resident total; the roster must list them all ------------------


@pytest.mark.parametrize(
    ("listed", "expected"),
    [(59, FAIL), (60, PASS), (61, FAIL)],
    ids=["one_left_off", "complete", "one_too_many"],
)
def test_the_roster_must_match_the_reported_total(
    eligible: Application, listed: int, expected: Status
) -> None:
    latest = eligible.figures_for(2024)
    assert latest is not None
    assert latest.resident_enterprises == len(eligible.residents) == 60
    # 60 small or micro as reported; the one left off is the 60 reported firms' medium one
    residents = tuple(_resident(True) for _ in range(listed))
    app = attrs.evolve(eligible, residents=residents)
    app = _small_micro_roster(app, 60) if listed > 60 else app
    if listed < 60:
        app = _years(app, resident_small_micro_enterprises=(52, listed))
    verdict = evaluate(app)
    _only_change(verdict, "roster_complete", expected)
    finding = verdict.finding("roster_complete")
    assert finding.article.zh == "第六条第（四）项"
    assert f"the roster lists {listed}, 60 reported for 2024" in finding.message.en
    assert f"名录列出 {listed} 家，2024 年申报入驻企业 60 户" in finding.message.zh


def test_leaving_firms_off_the_roster_does_not_raise_the_share(eligible: Application) -> None:
    # 48 of the 60 reported are in the leading industries: exactly 80%.
    full = tuple(_resident(i < 48) for i in range(60))
    verdict = evaluate(attrs.evolve(eligible, residents=full))
    assert verdict.finding("leading_industry_share").actual == pytest.approx(0.8)
    assert verdict.eligible
    # 47 of 60: below, even if the other 13 are left off the roster (47 / 47 would be 100%).
    short = tuple(_resident(True) for _ in range(47))
    verdict = evaluate(attrs.evolve(eligible, residents=short))
    assert verdict.finding("leading_industry_share").actual == pytest.approx(47 / 60)
    assert verdict.finding("leading_industry_share").status is FAIL
    assert verdict.finding("roster_complete").status is FAIL


# -- which year's figures: the year before the judged day (第六条, 第七条, 第八条第（三）项) -------------


def test_stale_figures_fail_and_name_the_expected_year(eligible: Application) -> None:
    stale = _with_figures(eligible, 2019, 2020)
    verdict = evaluate(stale)  # declared 2025-06-20: the figures of 2024 are expected
    assert verdict.figures_year == 2024
    finding = verdict.finding("figures_year.yearly")
    assert finding.status is FAIL
    assert (finding.required, finding.actual) == (2024, 2020)
    assert finding.article.zh == "第六条、第七条、第八条第（三）项"
    assert "the figures of 2024 are expected (form part 2), years given 2019, 2020" in (
        finding.message.en
    )
    assert "应申报 2024 年度的数据（申请表 二），已申报年度 2019、2020" in finding.message.zh
    for rule_id in ("resident_enterprises", "resident_employees", *GROWTH):
        assert verdict.finding(rule_id).status is NA, rule_id
        assert "2024" in verdict.finding(rule_id).message.en
    assert not verdict.eligible


@pytest.mark.parametrize(
    ("judged_on", "yearly", "services"),
    [
        (dt.date(2024, 12, 31), FAIL, FAIL),  # expects 2023 figures; 2024's are given
        (dt.date(2025, 1, 1), PASS, PASS),  # the first day 2024's figures are the ones
        (dt.date(2025, 12, 31), PASS, PASS),
        (dt.date(2026, 1, 1), FAIL, FAIL),  # now 2025's are expected
    ],
)
def test_the_judged_year_turns_on_new_year(
    eligible: Application, judged_on: dt.date, yearly: Status, services: Status
) -> None:
    app = attrs.evolve(eligible, yearly=(eligible.yearly[1],), services_year=2024)
    verdict = evaluate(app, judged_on=judged_on)
    assert verdict.finding("figures_year.yearly").status is yearly
    assert verdict.finding("figures_year.services").status is services


@pytest.mark.parametrize(("services_year", "expected"), [(2023, FAIL), (2024, PASS), (2025, FAIL)])
def test_service_figures_must_be_of_the_judged_year(
    eligible: Application, services_year: int, expected: Status
) -> None:
    verdict = evaluate(attrs.evolve(eligible, services_year=services_year))
    _only_change(verdict, "figures_year.services", expected)
    message = verdict.finding("figures_year.services").message
    assert f"should be of 2024, they are of {services_year}" in message.en
    assert f"应为 2024 年度，实际为 {services_year} 年度" in message.zh


def test_service_figures_without_a_year_are_of_the_year_before_the_file(
    eligible: Application,
) -> None:
    assert eligible.services_year is None
    assert eligible.service_figures_year == 2024  # 申请表 三 reports 上一年度
    assert evaluate(eligible).finding("figures_year.services").status is PASS


# -- 第六条第（九）项: growth from a zero year ------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "latest", "expected", "actual"),
    [(0, 0, FAIL, 0.0), (0, 1, PASS, "0 → 1"), (0, 5, PASS, "0 → 5")],
)
def test_growth_from_zero(
    eligible: Application, previous: int, latest: int, expected: Status, actual: object
) -> None:
    app = _years(eligible, innovation_outputs=(previous, latest))
    verdict = evaluate(app)
    _only_change(verdict, "innovation_growth", expected)
    finding = verdict.finding("innovation_growth")
    assert finding.actual == actual
    json.dumps(verdict.to_dict())  # no Infinity: valid JSON
    if expected is PASS:
        assert f"from 0 in 2023 to {latest} in 2024 (growth from zero" in finding.message.en
        assert f"由 2023 年的 0 增至 2024 年的 {latest}" in finding.message.zh
    population = evaluate_population(application_columns([app]))
    assert population.status("innovation_growth", 0) is expected


# -- 附件1 承诺书: the pledge -----------------------------------------------------------------------

PLEDGES = [pledge.id for pledge in POLICY.pledges]


@pytest.mark.parametrize("pledge", PLEDGES)
@pytest.mark.parametrize(
    ("value", "expected"), [(True, PASS), (False, FAIL), (None, NA)], ids=["yes", "no", "missing"]
)
def test_each_pledge(
    eligible: Application, pledge: str, value: bool | None, expected: Status
) -> None:
    pledges = dict(eligible.pledges)
    if value is None:
        del pledges[pledge]
    else:
        pledges[pledge] = value
    verdict = evaluate(attrs.evolve(eligible, pledges=pledges))
    _only_change(verdict, f"pledge.{pledge}", expected)
    finding = verdict.finding(f"pledge.{pledge}")
    assert finding.article.zh.startswith("附件1 承诺书")
    assert finding.basis == "pledged"
    assert finding.actual is value
    if expected is FAIL:
        assert finding.message.zh.endswith("申报单位不能承诺，不符合")
        assert finding.message.en.endswith("the applicant cannot pledge it; not met")


def test_the_pledge_covers_the_undertakings_of_annex_1() -> None:
    assert set(PLEDGES) == {
        "materials_truthful",
        "no_tax_evasion",
        "no_wage_arrears",
        "no_social_insurance_arrears",
        "no_major_safety_accident",
        "no_major_environmental_incident",
        "no_major_quality_incident",
        "no_improper_means",
    }


def test_an_unknown_pledge_key_is_reported(eligible: Application) -> None:
    app = attrs.evolve(eligible, pledges={**eligible.pledges, "no_tax_evsion": True})
    finding = evaluate(app).finding("application.unknown_keys")
    assert finding.status is NA
    assert finding.actual == "pledges.no_tax_evsion"


def test_the_ineligible_example_cannot_pledge_one(ineligible: Application) -> None:
    assert evaluate(ineligible).finding("pledge.no_social_insurance_arrears").status is FAIL


# -- 第四条: the districts of the policy -----------------------------------------------------------


@pytest.mark.parametrize(
    ("district", "expected"),
    [
        ("五华区", PASS),
        ("阳宗海风景名胜区", PASS),
        ("五华 区", FAIL),
        ("五华区 ", FAIL),
        ("五华", FAIL),
    ],
)
def test_the_base_must_be_in_a_listed_district(
    eligible: Application, district: str, expected: Status
) -> None:
    app = attrs.evolve(eligible, base=attrs.evolve(eligible.base, district=district))
    verdict = evaluate(app)
    _only_change(verdict, "district", expected)
    finding = verdict.finding("district")
    assert finding.article.zh == "第四条、第九条"
    assert finding.actual == district
    if expected is FAIL:
        assert "五华区 (530102)" in finding.message.en
        assert "阳宗海风景名胜区" in finding.message.zh
    assert evaluate_population(application_columns([app])).status("district", 0) is expected


def test_district_problems_list_every_district() -> None:
    assert district_problems("安宁市") == []
    (problem,) = district_problems("昆明市")
    for district in POLICY.districts:
        assert district.name in problem.zh
        assert district.name in problem.en
    assert '"昆明市" is not a district of kunming-2022 (Arts. 4 and 9)' in problem.en
    assert "“昆明市”不是 kunming-2022 所列县区（第四条、第九条）" in problem.zh


def test_the_examples_are_in_listed_districts(
    eligible: Application, ineligible: Application
) -> None:
    for app in (eligible, ineligible):
        assert district_problems(app.base.district) == []


# -- 第十一条 expert scores and 第十三条 notice: checks the lifecycle calls ------------------------


@pytest.mark.parametrize("score", [0, 0.0, 60.5, 100, 100.0])
def test_scores_inside_the_scale(score: float) -> None:
    assert expert_score_problems(score) == []


@pytest.mark.parametrize("score", [-0.001, -5, 100.001, 150, math.nan, math.inf, -math.inf, True])
def test_scores_outside_the_scale_or_not_finite(score: float) -> None:
    (problem,) = expert_score_problems(score)
    assert "between 0 and 100" in problem.en
    assert "0 至 100" in problem.zh
    assert "Art. 11" in problem.en


def test_the_scale_is_the_policys() -> None:
    assert (SECOND.expert_review.score_min, SECOND.expert_review.score_max) == (0, 10)
    assert expert_score_problems(10, SECOND) == []
    assert expert_score_problems(11, SECOND) != []


def test_selection_ties_are_broken_by_opinions_then_declaration_then_id() -> None:
    day = dt.date(2025, 6, 20)
    keys = {
        "best": selection_key(91.0, 1, day, "z"),
        "more_opinions": selection_key(90.0, 3, day, "y"),
        "earlier": selection_key(90.0, 2, day - dt.timedelta(days=1), "x"),
        "id_a": selection_key(90.0, 2, day, "a"),
        "id_b": selection_key(90.0, 2, day, "b"),
        "unscored": selection_key(None, 0, day - dt.timedelta(days=30), "0"),
    }
    assert sorted(keys, key=keys.__getitem__) == [
        "best",
        "more_opinions",
        "earlier",
        "id_a",
        "id_b",
        "unscored",
    ]
    assert "more opinions first" in POLICY.expert_review.tie_break.en


@pytest.mark.parametrize(("days", "refused"), [(9, True), (10, False), (15, False)])
def test_an_announced_notice_shorter_than_the_minimum_is_refused(days: int, refused: bool) -> None:
    assert POLICY.periods.notice.minimum_working_days == 10  # 第十三条 不少于10个工作日
    problems = notice_problems(days)
    assert bool(problems) is refused
    if refused:
        assert "at least 10 working days (Art. 13), announced 9" in problems[0].en
        assert "公示期不少于 10 个工作日（第十三条）" in problems[0].zh
    assert bool(notice_problems(days, SECOND)) is (days < 15)


def test_the_notebook_view_names_the_judged_day_and_year(eligible: Application) -> None:
    page = evaluate(eligible, judged_on=dt.date(2025, 7, 1))._repr_html_()
    assert "judged on 判断日: 2025-07-01" in page
    assert "figures of 数据年度: 2024" in page


def _refuse_to_render(monkeypatch: pytest.MonkeyPatch) -> None:
    def render(pending: object) -> None:
        raise AssertionError("findings rendered")

    monkeypatch.setattr(_findings, "_render", render)


def test_an_eligible_verdict_decides_without_rendering(
    eligible: Application, ineligible: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_to_render(monkeypatch)
    verdict = evaluate(eligible)
    assert verdict.eligible
    assert verdict.failed() == verdict.not_assessable() == ()
    assert verdict.summary().en.endswith(f"eligible (judged on {eligible.declared_on})")
    assert not evaluate(ineligible).eligible
    with pytest.raises(AssertionError, match="findings rendered"):
        _ = verdict.findings


def test_recommending_an_eligible_case_renders_no_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    _refuse_to_render(monkeypatch)
    outcome = h.workflow.recommend("c1", DISTRICT, GOOD_RECOMMENDATION)
    assert outcome.case.state is State.DISTRICT_RECOMMENDED


def test_a_resident_flagged_in_a_leading_industry_is_in_one(eligible: Application) -> None:
    """第六条第（四）项 "符合基地主导产业类型的企业占入驻企业总数的 80%以上": a resident flagged
    as in a leading industry whose own 所属产业类型 is none of the base's leading industries
    is a contradiction the verdict reports (a consistency finding), never silently trusted."""
    assert evaluate(eligible).finding("leading_flags_consistent").status is PASS
    first = attrs.evolve(eligible.residents[0], industry="餐饮服务")
    assert first.in_leading_industry
    contradicted = attrs.evolve(eligible, residents=(first, *eligible.residents[1:]))
    verdict = evaluate(contradicted)
    _only_change(verdict, "leading_flags_consistent", FAIL)
    finding = verdict.finding("leading_flags_consistent")
    assert finding.article.zh == "第六条第（四）项"


def test_the_roster_flags_as_many_small_or_micro_firms_as_reported(eligible: Application) -> None:
    """第六条第（三）项 "基地入驻小微企业不少于40家": the count judged is the one the
    application reports; a roster whose small/micro flags disagree with it is a contradiction
    the verdict reports (a consistency finding), never silently trusted."""
    assert evaluate(eligible).finding("small_micro_flags_consistent").status is PASS
    medium = attrs.evolve(eligible.residents[0], small_or_micro=False)
    contradicted = attrs.evolve(eligible, residents=(medium, *eligible.residents[1:]))
    verdict = evaluate(contradicted)
    _only_change(verdict, "small_micro_flags_consistent", FAIL)
    finding = verdict.finding("small_micro_flags_consistent")
    assert finding.article.zh == "第六条第（三）项"
    assert "the roster flags 59 small or micro, 60 reported for 2024" in finding.message.en
    assert "名录标为小型或微型 59 家，2024 年申报入驻小微企业 60 户" in finding.message.zh
    population = evaluate_population(application_columns([contradicted, eligible]))
    assert population.status("small_micro_flags_consistent", 0) is FAIL  # column-wise too
    assert population.eligible.tolist() == [False, True]
    # 60 small or micro reported, and a roster of 60 small or micro with 60 reported: agreed
    assert evaluate(_small_micro_roster(eligible, 60)).eligible


@pytest.mark.parametrize(
    ("responses", "expected"),
    [(1, FAIL), (5, FAIL), (6, PASS)],
    ids=["one_response", "just_below_the_sample", "the_sample"],
)
def test_a_satisfaction_survey_must_cover_the_spot_check_sample(
    eligible: Application, responses: int, expected: Status
) -> None:
    """第六条第（六）项 "服务满意度不低于80%" is the satisfaction of the residents: a survey
    speaks for them only if it covers at least the share 第十条 samples ("对入驻基地的小微企业
    按不低于10%的比例进行满意度随机抽查"), 6 of the 60 reported. One satisfied response is not
    100% satisfaction."""
    survey = tuple(
        SatisfactionResponse(enterprise=f"企业{i}", satisfied=True) for i in range(responses)
    )
    verdict = evaluate(attrs.evolve(eligible, satisfaction_survey=survey))
    assert verdict.finding("satisfaction_rate").status is PASS  # every response satisfied
    _only_change(verdict, "satisfaction_survey_representative", expected)
    finding = verdict.finding("satisfaction_survey_representative")
    assert finding.article.zh == "第六条第（六）项"
    assert f"the survey has {responses}, at least 6 needed (10% of 60 reported for 2024)" in (
        finding.message.en
    )
    assert f"评价表 {responses} 份，应至少 6 份（2024 年申报入驻小微企业 60 户的 10%）" in (
        finding.message.zh
    )
    assert POLICY.spot_check.minimum_sample(60) == 6
    population = evaluate_population(
        application_columns([attrs.evolve(eligible, satisfaction_survey=survey)])
    )
    assert population.status("satisfaction_survey_representative", 0) is expected  # column-wise


def test_judging_one_application_leaves_the_population_module_unloaded() -> None:
    """`evaluate` needs no numpy (``kmbase check``, a portal, the recommendation guard): the
    column-wise module, the package's only one that imports numpy, loads on first use of a
    population name."""
    code = (
        "import sys\n"
        "from kmbase_workflow import eligibility\n"
        "from kmbase_workflow.examples import eligible_application\n"
        "assert eligibility.evaluate(eligible_application()).eligible\n"
        "before = 'kmbase_workflow.eligibility._population' in sys.modules\n"
        "eligibility.evaluate_population\n"
        "print(before, 'kmbase_workflow.eligibility._population' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
    package = Path(_population.__file__).parent
    with_numpy = sorted(
        path.name for path in package.glob("*.py") if "import numpy" in path.read_text("utf-8")
    )
    assert with_numpy == ["_population.py"]
