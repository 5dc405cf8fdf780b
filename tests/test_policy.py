"""The regulation as data: the bundled policy against the regulation's text, a second
jurisdiction's policy file, choosing the policy in force, and broken policy files."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import pytest

from kmbase_workflow import serialization
from kmbase_workflow.eligibility import evaluate
from kmbase_workflow.errors import InvalidInputError, PolicyFormatError, PolicyNotFoundError
from kmbase_workflow.policy import (
    APPLICATION_MEASURES,
    SERVICE_MEASURES,
    Comparison,
    Counting,
    DistrictKind,
    Policy,
    ValidityStart,
    bundled_policies,
    load_policy,
    load_policy_file,
    policy_in_force,
    read_policy,
)
from kmbase_workflow.policy._loader import _PolicyFile
from kmbase_workflow.records import Application, ServiceFigures

SECOND = Path(__file__).resolve().parent / "policies" / "second_jurisdiction.toml"
KUNMING_IN_FORCE = dt.date(2022, 10, 8)  # 第二十三条


# -- the bundled policy says what the regulation says ----------------------------------------------

# Read from 昆工信规〔2022〕1号 (not from the policy file): rule → (article, comparison, value).
REGULATION = {
    "operating_years": ("第六条第（二）项", Comparison.AT_LEAST, 2),  # 成立时间两年以上
    "resident_enterprises": ("第六条第（三）项", Comparison.AT_LEAST, 40),  # 不少于 40家
    "resident_employees": ("第六条第（三）项", Comparison.AT_LEAST, 500),  # 不少于 500人
    "leading_industries_defined": ("第六条第（四）项", Comparison.AT_LEAST, 1),  # 明确的产业定位
    "leading_industries_count": ("第六条第（四）项", Comparison.AT_MOST, 3),  # 不超过 3个
    "leading_industry_share": ("第六条第（四）项", Comparison.AT_LEAST, 0.8),  # 80%以上
    "full_time_service_staff": ("第六条第（五）项", Comparison.AT_LEAST, 10),  # 不少于 10人
    "qualified_staff_share": ("第六条第（五）项", Comparison.AT_LEAST, 0.8),  # 不低于 80%
    "startup_mentors": ("第六条第（五）项", Comparison.AT_LEAST, 3),  # 不少于 3人
    "contracted_agencies": ("第六条第（五）项", Comparison.AT_LEAST, 5),  # 不少于 5家
    "free_or_low_fee_share": ("第六条第（六）项", Comparison.AT_LEAST, 0.2),  # 不少于 20%
    "satisfaction_rate": ("第六条第（六）项", Comparison.AT_LEAST, 0.8),  # 不低于 80%
    "site_area_manufacturing": ("第六条第（七）项", Comparison.AT_LEAST, 10000),
    "site_area_production_services": ("第六条第（七）项", Comparison.AT_LEAST, 3000),
    "resident_growth": ("第六条第（九）项", Comparison.AT_LEAST, 0.1),  # 10%以上
    "employee_growth": ("第六条第（九）项", Comparison.AT_LEAST, 0.1),
    "innovation_growth": ("第六条第（九）项", Comparison.AT_LEAST, 0.1),
}

# 第七条: function → (item, {measure: yearly figure})
SERVICE_FUNCTIONS = {
    "information": ("第七条第（一）项", {"enterprises_served": 50, "activities": 4}),
    "startup_coaching": ("第七条第（二）项", {"enterprises_served": 30}),
    "innovation_support": ("第七条第（三）项", {"activities": 5}),
    "training": ("第七条第（四）项", {"person_times": 300}),
    "marketing": ("第七条第（五）项", {"activities": 4}),
    "investment_financing": ("第七条第（六）项", {"enterprises_served": 20, "activities": 2}),
    "management_consulting": ("第七条第（七）项", {"enterprises_served": 20}),
    "professional_services": ("第七条第（八）项", {"enterprises_served": 20}),
}


def test_bundled_policy_identity(policy: Policy) -> None:
    assert policy.id == "kunming-2022"
    assert policy.document == "昆工信规〔2022〕1号"
    assert policy.effective_from == KUNMING_IN_FORCE
    assert policy.effective_until is None
    assert [p.id for p in bundled_policies()] == ["kunming-2022"]


@pytest.mark.parametrize("rule_id", sorted(REGULATION))
def test_measured_rule_matches_the_regulation(policy: Policy, rule_id: str) -> None:
    article, comparison, value = REGULATION[rule_id]
    rule = policy.rule(rule_id)
    assert rule.article.zh == article
    assert rule.comparison is comparison
    assert rule.required == value
    assert not rule.declared
    assert rule.measure in APPLICATION_MEASURES


def test_every_measured_rule_is_checked_against_the_regulation(policy: Policy) -> None:
    measured = {
        r.id for r in policy.rules if not r.declared and r.comparison is not Comparison.IS_TRUE
    }
    assert measured == set(REGULATION)


def test_site_area_depends_on_focus(policy: Policy) -> None:
    assert policy.rule("site_area_manufacturing").applies_when == {"focus": "manufacturing"}
    assert policy.rule("site_area_production_services").applies_when == {
        "focus": "production_services"
    }


def test_declared_rules_are_is_true_and_bilingual(policy: Policy) -> None:
    declared = [r for r in policy.rules if r.declared]
    assert {r.article.zh for r in declared} == {
        "第六条第（二）项",
        "第六条第（四）项",
        "第六条第（六）项",
        "第六条第（七）项",
        "第六条第（八）项",
    }
    for rule in declared:
        assert rule.comparison is Comparison.IS_TRUE
        assert rule.required is True
        assert rule.description.zh
        assert rule.description.en


def test_service_functions_match_article_7(policy: Policy) -> None:
    requirement = policy.service_functions
    assert requirement.article.zh == "第七条"
    assert requirement.minimum == 4  # 至少具备以下服务功能中的 4项
    assert [f.id for f in requirement.functions] == list(SERVICE_FUNCTIONS)
    for function in requirement.functions:
        article, figures = SERVICE_FUNCTIONS[function.id]
        assert function.article.zh == article
        assert {t.measure: t.required for t in function.thresholds} == figures
        assert all(t.comparison is Comparison.AT_LEAST for t in function.thresholds)
        assert all(t.measure in SERVICE_MEASURES for t in function.thresholds)
    with pytest.raises(KeyError):
        requirement.function("legal_aid")


def test_materials_match_article_8(policy: Policy) -> None:
    assert policy.materials_article.zh == "第八条"
    assert [m.article.zh for m in policy.materials] == [
        f"第八条第（{n}）项" for n in "一二三四五六七"
    ]
    # 第八条第（七）项 "能够证明符合申报条件的其它材料" is offered where it exists.
    assert [m.required for m in policy.materials] == [True] * 6 + [False]


def test_spot_check_and_periods(policy: Policy) -> None:
    assert policy.spot_check.article.zh == "第十条"
    assert policy.spot_check.minimum_share == 0.1
    periods = policy.periods
    assert periods.notice.working_days == 10  # 第十三条
    assert periods.notice.counting is Counting.START_DAY_COUNTS
    assert periods.validity.years == 3  # 第十五条
    assert periods.validity.starts is ValidityStart.CERTIFICATION_DATE
    assert periods.base_annual_report.due_month == 1  # 第十六条
    assert periods.district_annual_report.due_month == 2  # 第十七条
    assert periods.change_filing.working_days == 10  # 第十九条
    assert periods.change_filing.counting is Counting.START_DAY_EXCLUDED


def test_rule_lookup_raises_key_error(policy: Policy) -> None:
    with pytest.raises(KeyError):
        policy.rule("no_such_rule")


# -- choosing the policy in force ------------------------------------------------------------------


def test_bundled_policy_from_its_effective_date() -> None:
    assert load_policy(KUNMING_IN_FORCE).id == "kunming-2022"
    assert load_policy(dt.date(2030, 1, 1)).id == "kunming-2022"


def test_no_bundled_policy_before_2022_10_08() -> None:
    with pytest.raises(PolicyNotFoundError) as info:
        load_policy(dt.date(2022, 10, 7))
    assert "2022-10-07" in info.value.message.en
    assert "kunming-2022" in info.value.message.en
    assert info.value.hint is not None
    assert isinstance(info.value, LookupError)


def test_evaluate_refuses_an_application_declared_before_any_policy(eligible: Application) -> None:
    with pytest.raises(PolicyNotFoundError):
        evaluate(attrs.evolve(eligible, declared_on=dt.date(2021, 5, 1)))


@pytest.fixture(scope="module")
def second() -> Policy:
    return load_policy(path=SECOND)


def test_second_policy_is_read_from_its_file(second: Policy) -> None:
    assert second.id == "second-jurisdiction-2023"
    assert second.jurisdiction.en == "Second City"
    assert (second.effective_from, second.effective_until) == (
        dt.date(2023, 7, 1),
        dt.date(2026, 1, 1),
    )
    assert second.rule("operating_years").required == 3
    assert second.rule("resident_enterprises").required == 80
    assert second.rule("resident_employees").required == 1500
    assert second.periods.notice.working_days == 15
    assert second.periods.validity.starts is ValidityStart.NEXT_JANUARY_FIRST
    assert second.periods.validity.years == 3
    assert second.service_functions.minimum == 4
    assert len(second.service_functions.functions) == 10
    assert second.service_functions.function("legal_aid").name.zh == "法律援助服务"
    assert load_policy_file(SECOND) == second
    assert load_policy(dt.date(2024, 1, 1), path=SECOND) == second


def test_second_policy_on_a_date_outside_its_force(second: Policy) -> None:
    with pytest.raises(PolicyNotFoundError):
        load_policy(dt.date(2026, 1, 1), path=SECOND)  # effective_until is exclusive


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2022, 10, 8), "kunming-2022"),
        (dt.date(2023, 6, 30), "kunming-2022"),
        (dt.date(2023, 7, 1), "second-jurisdiction-2023"),  # both in force: the newer governs
        (dt.date(2025, 12, 31), "second-jurisdiction-2023"),
        (dt.date(2026, 1, 1), "kunming-2022"),  # the second is no longer in force
    ],
)
def test_policy_in_force_picks_by_date(
    policy: Policy, second: Policy, day: dt.date, expected: str
) -> None:
    assert policy_in_force([policy, second], day).id == expected
    assert policy_in_force((second, policy), day).id == expected


def test_policy_in_force_before_both(policy: Policy, second: Policy) -> None:
    with pytest.raises(PolicyNotFoundError) as info:
        policy_in_force([policy, second], dt.date(2022, 10, 7))
    assert "kunming-2022" in info.value.message.en
    assert "second-jurisdiction-2023" in info.value.message.en


def test_second_policy_judges_by_its_own_thresholds(eligible: Application, second: Policy) -> None:
    latest, _ = eligible.latest_years()
    assert latest is not None
    assert latest.resident_small_micro_enterprises == 60
    assert evaluate(eligible).eligible
    verdict = evaluate(eligible, second)
    assert verdict.policy_id == "second-jurisdiction-2023"
    assert not verdict.eligible
    assert {f.rule for f in verdict.failed()} == {"resident_enterprises", "resident_employees"}
    assert verdict.finding("resident_enterprises").required == 80


def test_second_policy_counts_its_new_functions(
    eligible: Application, policy: Policy, second: Policy
) -> None:
    kunming_ids = [f.id for f in policy.service_functions.functions]
    services = {fid: eligible.services[fid] for fid in ("information", "training")}
    services["digital_transformation"] = ServiceFigures(enterprises_served=25, activities=3)
    services["legal_aid"] = ServiceFigures(enterprises_served=15)
    app = attrs.evolve(eligible, services=services)
    assert set(services) - set(kunming_ids) == {"digital_transformation", "legal_aid"}

    under_second = evaluate(app, second).finding("service_functions")
    assert under_second.status.value == "pass"
    assert under_second.actual == 4
    details = {d.rule: d.status.value for d in under_second.details}
    assert details["service.digital_transformation"] == "pass"
    assert details["service.legal_aid"] == "pass"

    # Kunming knows only the two of them it lists.
    under_kunming = evaluate(app, policy).finding("service_functions")
    assert under_kunming.status.value == "fail"
    assert under_kunming.actual == 2

    # One below a new function's threshold and the second policy counts 3 of 4.
    services["legal_aid"] = ServiceFigures(enterprises_served=14)
    below = evaluate(attrs.evolve(app, services=services), second).finding("service_functions")
    assert (below.status.value, below.actual) == ("fail", 3)


def test_second_policy_needs_three_years(eligible: Application, second: Policy) -> None:
    declared = eligible.declared_on
    at_three = attrs.evolve(
        eligible,
        base=attrs.evolve(eligible.base, established_on=declared.replace(year=declared.year - 3)),
    )
    just_under = attrs.evolve(
        eligible,
        base=attrs.evolve(
            at_three.base, established_on=at_three.base.established_on + dt.timedelta(days=1)
        ),
    )
    assert evaluate(at_three, second).finding("operating_years").status.value == "pass"
    assert evaluate(just_under, second).finding("operating_years").status.value == "fail"
    assert evaluate(just_under).finding("operating_years").status.value == "pass"  # Kunming: 2


# -- broken policy files ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kunming_data() -> dict[str, Any]:
    text = (
        resources.files("kmbase_workflow.policy")
        .joinpath("data/kunming_2022.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


def _index(data: dict[str, Any], rule_id: str) -> int:
    return next(i for i, rule in enumerate(data["rules"]) if rule["id"] == rule_id)


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(PolicyFormatError) as info:
        read_policy(data, source="broken.toml")
    error = info.value
    assert isinstance(error, InvalidInputError)
    assert "broken.toml" in error.message.en
    assert len(error.problems) == len(error.message.en.splitlines()) - 1
    for problem in error.problems:
        assert f"  - {problem.en}" in error.message.en
        assert f"  - {problem.zh}" in error.message.zh
        assert problem.zh.split("：")[0] == problem.en.split(": ")[0]
    return [p.en for p in error.problems]


def test_the_unchanged_data_reads(kunming_data: dict[str, Any], policy: Policy) -> None:
    assert read_policy(kunming_data) == policy


def test_consistency_problems_are_listed_together(kunming_data: dict[str, Any]) -> None:
    data = copy.deepcopy(kunming_data)
    mentors = _index(data, "startup_mentors")
    data["rules"][mentors]["measure"] = "mentors"
    agencies = _index(data, "contracted_agencies")
    data["rules"][agencies]["id"] = "resident_enterprises"
    credit = _index(data, "good_credit")
    data["rules"][credit]["comparison"] = "at_least"
    data["service_functions"]["minimum"] = 9
    data["service_functions"]["functions"][1]["thresholds"][0]["measure"] = "companies"
    data["periods"]["base_annual_report"]["due_month"] = 13
    data["periods"]["district_annual_report"]["due_month"] = 0
    data["spot_check"]["minimum_share"] = 10
    data["format"] = 2
    data["policy"]["effective_until"] = dt.date(2022, 10, 8)
    site = _index(data, "site_area_manufacturing")
    data["rules"][site]["applies_when"] = {"sector": "manufacturing"}
    problems = _problems(data)
    prefixes = [
        f"rules[{mentors}].measure: unknown measure mentors (known: ",
        f"rules[{agencies}].id: rule id resident_enterprises is repeated",
        f"rules[{credit}].comparison: a declared condition takes is_true only",
        "service_functions.minimum: must be between 1 and 8",
        "service_functions.functions[1].thresholds[0].measure: unknown service measure companies",
        "periods.base_annual_report.due_month: a month is 1 to 12",
        "periods.district_annual_report.due_month: a month is 1 to 12",
        "spot_check.minimum_share: must be in (0, 1]",
        "format: this library reads format 1 only",
        "policy.effective_until: must be after effective_from",
        f"rules[{site}].applies_when: unknown categorical measure sector",
    ]
    for prefix in prefixes:
        assert sum(p.startswith(prefix) for p in problems) == 1, prefix
    assert len(problems) == len(prefixes)


def _mistyped(kunming_data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(kunming_data)
    data["rules"][0]["required"] = "forty"
    data["rules"][1]["comparison"] = "no_less_than"
    data["service_functions"]["minimum"] = 4.0
    data["service_functions"]["functions"][0]["thresholds"] = {"measure": "activities"}
    data["materials"]["items"][6]["required"] = "no"
    data["periods"]["notice"]["working_days"] = "ten"
    data["policy"]["effective_from"] = "8 October 2022"
    del data["spot_check"]["minimum_share"]
    data["policy"]["langauge"] = "zh"
    return data


def test_type_problems_are_listed_together(kunming_data: dict[str, Any]) -> None:
    data = _mistyped(kunming_data)
    assert sorted(_problems(data)) == sorted(
        [
            'rules[0].required: expected a number or true/false, got "forty"',
            'rules[1].comparison: expected one of: at_least, at_most, more_than, less_than, is_true, got "no_less_than"',
            "service_functions.minimum: expected an integer, got 4.0",
            "service_functions.functions[0].thresholds: expected a list, got {'measure': 'activities'}",
            'materials.items[6].required: expected true or false, got "no"',
            'periods.notice.working_days: expected an integer, got "ten"',
            'policy.effective_from: expected a date (YYYY-MM-DD), got "8 October 2022"',
            "spot_check.minimum_share: required field missing",
            "policy: unknown field(s) langauge (a typo?)",
        ]
    )


def test_the_file_read_field_by_field_reports_what_cattrs_generated_hooks_report(
    kunming_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy file's shape is read field by field, not by hooks generated and compiled for
    one read (`read_once`, issue 23): the same problems, in the same order."""
    data = _mistyped(kunming_data)
    data["rules"][2]["unit"] = "人"
    data["periods"]["validity"] = "three years"
    del data["figures"]
    data["sources"] = []
    assert _PolicyFile in serialization._READ_ONCE
    field_by_field = _problems(data)
    monkeypatch.setattr(serialization, "_READ_ONCE", set())
    monkeypatch.setattr(serialization, "converter", serialization._make_converter())
    assert _problems(data) == field_by_field
    assert len(field_by_field) == 13


def test_minimum_zero_is_refused(kunming_data: dict[str, Any]) -> None:
    data = copy.deepcopy(kunming_data)
    data["service_functions"]["minimum"] = 0
    assert _problems(data) == ["service_functions.minimum: must be between 1 and 8"]


def test_broken_policy_file_on_disk(tmp_path: Path) -> None:
    text = SECOND.read_text(encoding="utf-8")
    text = text.replace("minimum = 4\n", "minimum = 11\n").replace(
        "due_month = 1\n", "due_month = 13\n"
    )
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFormatError) as info:
        load_policy(path=path)
    assert [p.en for p in info.value.problems] == [
        "service_functions.minimum: must be between 1 and 10",
        "periods.base_annual_report.due_month: a month is 1 to 12",
    ]
    assert str(path) in info.value.message.en


def test_unreadable_and_invalid_policy_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyFormatError) as info:
        load_policy(path=tmp_path / "missing.toml")
    assert info.value.message.en.startswith(f"cannot read policy file {tmp_path / 'missing.toml'}")
    invalid = tmp_path / "invalid.toml"
    invalid.write_text("format = 1\n[policy\n", encoding="utf-8")
    with pytest.raises(PolicyFormatError) as info:
        load_policy(path=invalid)
    assert info.value.message.en.startswith(f"policy file {invalid} is not valid TOML")
    assert "不是有效的 TOML" in info.value.message.zh


# -- 第四条 districts, 附件1 承诺书, the judged year, 第十条, 第十一条, 第十三条 ------------------------

# The county-level divisions of Kunming and their administrative division codes (GB/T 2260).
KUNMING_DIVISIONS = {
    "五华区": "530102",
    "盘龙区": "530103",
    "官渡区": "530111",
    "西山区": "530112",
    "东川区": "530113",
    "呈贡区": "530114",
    "晋宁区": "530115",
    "富民县": "530124",
    "宜良县": "530125",
    "石林彝族自治县": "530126",
    "嵩明县": "530127",
    "禄劝彝族苗族自治县": "530128",
    "寻甸回族彝族自治县": "530129",
    "安宁市": "530181",
}


def test_the_districts_of_article_4(policy: Policy) -> None:
    county = {d.name: d.code for d in policy.districts if d.kind is DistrictKind.COUNTY_LEVEL}
    assert county == KUNMING_DIVISIONS
    zones = [d for d in policy.districts if d.kind is DistrictKind.DEVELOPMENT_ZONE]
    assert {d.name for d in zones} >= {
        "昆明高新技术产业开发区",
        "昆明经济技术开发区",
        "滇池国家旅游度假区",
        "阳宗海风景名胜区",
    }
    assert all(d.code is None for d in zones)
    assert policy.districts_article.zh == "第四条、第九条"
    assert policy.district("呈贡区").code == "530114"
    with pytest.raises(KeyError):
        policy.district("呈贡")


def test_the_pledge_figures_year_and_review_scale(policy: Policy) -> None:
    assert all(p.article.zh.startswith("附件1 承诺书") for p in policy.pledges)
    assert len({p.id for p in policy.pledges}) == len(policy.pledges) == 8
    assert policy.figures.years_before == 1  # 第八条第（三）项: 上一年度
    assert policy.figures.expected_year(dt.date(2025, 6, 20)) == 2024
    assert policy.figures.expected_year(dt.date(2025, 1, 1)) == 2024
    assert policy.figures.expected_year(dt.date(2024, 12, 31)) == 2023
    assert policy.spot_check.satisfaction_blocking is False  # 第十条 fixes only the sample
    assert (policy.expert_review.score_min, policy.expert_review.score_max) == (0, 100)
    assert policy.expert_review.article.zh == "第十一条"
    assert policy.periods.notice.minimum_working_days == 10  # 第十三条


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["districts"]["items"].append(dict(d["districts"]["items"][0])),
            "districts.items[18].name: 五华区 is repeated",
        ),
        (
            lambda d: d["districts"]["items"][0].update(code="53010"),
            "districts.items[0].code: an administrative division code has 6 digits, got '53010'",
        ),
        (
            lambda d: d["districts"]["items"][1].update(name="盘龙区 "),
            "districts.items[1].name: a name is not empty and has no leading or trailing blanks",
        ),
        (lambda d: d["districts"].update(items=[]), "districts.items: list at least one district"),
        (
            lambda d: d["pledges"]["items"].append(dict(d["pledges"]["items"][0])),
            "pledges.items[8].id: id materials_truthful is repeated",
        ),
        (
            lambda d: d["figures"].update(years_before=-1),
            "figures.years_before: must not be negative",
        ),
        (
            lambda d: d["expert_review"].update(score_max=0),
            "expert_review.score_max: the scale must be finite with score_min < score_max",
        ),
    ],
    ids=["repeated", "bad_code", "blank", "empty", "pledge_repeated", "years_before", "scale"],
)
def test_broken_new_sections_are_reported(
    kunming_data: dict[str, Any], change: Any, problem: str
) -> None:
    data = copy.deepcopy(kunming_data)
    change(data)
    assert _problems(data) == [problem]


def test_a_policy_without_districts_is_refused(kunming_data: dict[str, Any]) -> None:
    data = copy.deepcopy(kunming_data)
    del data["districts"]
    del data["spot_check"]["satisfaction_blocking"]
    assert sorted(_problems(data)) == [
        "districts: required field missing",
        "spot_check.satisfaction_blocking: required field missing",
    ]
