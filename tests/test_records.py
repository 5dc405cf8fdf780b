"""Records of 附件1: their validators, and the unified social credit code (GB 32100-2015)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmbase_workflow._credit_code import credit_code_check_character, credit_code_problem
from kmbase_workflow.errors import FieldValueError, InvalidInputError
from kmbase_workflow.records import (
    Application,
    Base,
    Education,
    Focus,
    Operator,
    ResidentEnterprise,
    ServiceFigures,
    ServiceVolume,
    SpotCheck,
    StaffMember,
    YearFigures,
)
from strategies import (
    CREDIT_CODE_CHARSET,
    CREDIT_CODE_WEIGHTS,
    credit_code_prefixes,
    credit_codes,
    reference_check_character,
)

GB_EXAMPLE = "91350100M000100Y43"
"""The example code printed in GB 32100-2015."""

# -- the reference implementation itself ----------------------------------------------------------


def test_reference_weights_are_powers_of_three_mod_31() -> None:
    # The standard defines W_i = 3^(i-1) mod 31; the table in strategies.py must agree.
    assert tuple(pow(3, i, 31) for i in range(17)) == CREDIT_CODE_WEIGHTS


def test_reference_charset_omits_i_o_s_v_z() -> None:
    assert len(CREDIT_CODE_CHARSET) == 31
    assert not set("IOSVZ") & set(CREDIT_CODE_CHARSET)


def test_reference_implementation_reproduces_the_standards_example() -> None:
    assert reference_check_character(GB_EXAMPLE[:17]) == GB_EXAMPLE[17]


# -- the library's credit code check ----------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        GB_EXAMPLE,
        # The two example applications' operators (checked with the reference implementation).
        "91530102MA6K5YQ1XF",
        "91530114MA6N2B3C4R",
    ],
)
def test_known_valid_codes(code: str) -> None:
    assert reference_check_character(code[:17]) == code[17]
    assert credit_code_problem(code) is None
    assert credit_code_check_character(code[:17]) == code[17]


def test_check_character_zero_when_sum_is_a_multiple_of_31() -> None:
    # A prefix whose weighted sum is 0 mod 31: the check is "0", not the 32nd character.
    prefix = "0" * 17
    assert reference_check_character(prefix) == "0"
    assert credit_code_problem(prefix + "0") is None


@pytest.mark.parametrize(
    ("code", "en"),
    [
        (GB_EXAMPLE[:17], "a unified social credit code has 18 characters, got 17"),
        (GB_EXAMPLE + "0", "a unified social credit code has 18 characters, got 19"),
        ("", "a unified social credit code has 18 characters, got 0"),
    ],
)
def test_wrong_length(code: str, en: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None
    assert problem.en == en
    assert f"应为18位，实际为{len(code)}位" in problem.zh


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters(letter: str) -> None:
    code = GB_EXAMPLE[:8] + letter + GB_EXAMPLE[9:]
    problem = credit_code_problem(code)
    assert problem is not None
    assert problem.en.startswith(
        f"characters not allowed in a unified social credit code: {letter}"
    )
    assert f"不允许的字符 {letter}" in problem.zh


def test_lower_case_is_not_accepted() -> None:
    assert credit_code_problem(GB_EXAMPLE.lower()) is not None


def test_wrong_check_character_names_the_expected_one() -> None:
    problem = credit_code_problem(GB_EXAMPLE[:17] + "4")
    assert problem is not None
    assert problem.en == (
        "wrong check character in unified social credit code: expected 3, got 4 (GB 32100-2015)"
    )
    assert "应为 3，实际为 4" in problem.zh


@settings(max_examples=100, deadline=None)
@given(credit_code_prefixes)
def test_every_prefix_with_its_reference_check_passes(prefix: str) -> None:
    assert credit_code_check_character(prefix) == reference_check_character(prefix)
    assert credit_code_problem(prefix + reference_check_character(prefix)) is None


@settings(max_examples=100, deadline=None)
@given(credit_codes(), st.integers(0, 17), st.sampled_from(CREDIT_CODE_CHARSET + "IOSVZ"))
def test_any_single_character_change_fails(code: str, position: int, char: str) -> None:
    # Weights are non-zero mod 31 (a prime), so changing one character always changes
    # the weighted sum: GB 32100-2015 detects every single substitution.
    changed = code[:position] + char + code[position + 1 :]
    if changed == code:
        return
    assert credit_code_problem(changed) is not None


def _operator(code: str) -> Operator:
    return Operator(
        name="运营单位",
        unified_social_credit_code=code,
        registered_on=dt.date(2018, 1, 1),
        independent_legal_person=True,
    )


def test_operator_refuses_a_bad_code_with_the_field_name() -> None:
    with pytest.raises(FieldValueError) as info:
        _operator(GB_EXAMPLE[:17] + "4")
    assert info.value.field == "unified_social_credit_code"
    assert info.value.message.en.startswith("unified_social_credit_code: wrong check character")
    assert isinstance(info.value, InvalidInputError)
    assert isinstance(info.value, ValueError)


def test_operator_accepts_a_valid_code() -> None:
    assert _operator(GB_EXAMPLE).unified_social_credit_code == GB_EXAMPLE


# -- validators of the other records ------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (
            lambda: YearFigures(
                year=2024,
                resident_enterprises=-1,
                resident_small_micro_enterprises=0,
                small_micro_employees=0,
                innovation_outputs=0,
            ),
            "resident_enterprises",
        ),
        (
            lambda: YearFigures(
                year=2024,
                resident_enterprises=0,
                resident_small_micro_enterprises=0,
                small_micro_employees=-500,
                innovation_outputs=0,
            ),
            "small_micro_employees",
        ),
        (lambda: ServiceFigures(person_times=-1), "person_times"),
        (lambda: ServiceVolume(total=-1, free_or_low_fee=0), "total"),
        (
            lambda: ResidentEnterprise(
                name="x",
                moved_in_on=dt.date(2020, 1, 1),
                employees=-3,
                industry="",
                in_leading_industry=True,
            ),
            "employees",
        ),
        (
            lambda: StaffMember(
                name="x", position="", education=Education.OTHER, years_at_base=-0.5
            ),
            "years_at_base",
        ),
        (
            lambda: SpotCheck(resident_small_micro_enterprises=-1, sampled=0, satisfied=0),
            "resident_small_micro_enterprises",
        ),
    ],
)
def test_negative_values_are_refused(make: object, field: str) -> None:
    with pytest.raises(FieldValueError) as info:
        make()  # type: ignore[operator]
    assert info.value.field == field
    assert "must not be negative" in info.value.problem.en
    assert "不能为负数" in info.value.problem.zh


def test_zero_is_not_negative() -> None:
    assert ServiceVolume(total=0, free_or_low_fee=0).total == 0


def test_free_or_low_fee_may_equal_but_not_exceed_total() -> None:
    assert ServiceVolume(total=10, free_or_low_fee=10).free_or_low_fee == 10
    with pytest.raises(FieldValueError) as info:
        ServiceVolume(total=10, free_or_low_fee=11)
    assert info.value.field == "free_or_low_fee"
    assert info.value.problem.en == "must not exceed total (10), got 11"
    assert info.value.problem.zh == "不能大于总服务量 10，实际为 11"


def test_spot_check_satisfied_may_not_exceed_sampled() -> None:
    assert SpotCheck(45, sampled=5, satisfied=5).satisfied == 5
    with pytest.raises(FieldValueError) as info:
        SpotCheck(45, sampled=5, satisfied=6)
    assert info.value.field == "satisfied"


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_blank_names_are_refused(blank: str) -> None:
    with pytest.raises(FieldValueError) as info:
        Base(
            name=blank,
            district="五华区",
            leading_industries=(),
            focus=Focus.MANUFACTURING,
            established_on=dt.date(2020, 1, 1),
            site_area_m2=1.0,
        )
    assert info.value.field == "name"
    assert info.value.problem.en == "must not be empty"


def _year(year: int, residents: int = 50) -> YearFigures:
    return YearFigures(
        year=year,
        resident_enterprises=residents,
        resident_small_micro_enterprises=residents,
        small_micro_employees=600,
        innovation_outputs=10,
    )


def test_duplicate_years_are_refused(eligible: Application) -> None:
    with pytest.raises(FieldValueError) as info:
        attrs.evolve(eligible, yearly=(_year(2023), _year(2024), _year(2024, 60)))
    assert info.value.field == "yearly"
    assert info.value.problem.en == "each year may appear once, repeated: [2024]"
    assert "重复：[2024]" in info.value.problem.zh


def test_latest_years_sorts_and_needs_consecutive_years(eligible: Application) -> None:
    app = attrs.evolve(eligible, yearly=(_year(2024, 2), _year(2022, 1), _year(2023, 3)))
    latest, previous = app.latest_years()
    assert latest is not None
    assert latest.year == 2024
    assert previous is not None
    assert previous.year == 2023
    gap = attrs.evolve(eligible, yearly=(_year(2022), _year(2024)))
    assert gap.latest_years()[1] is None
    assert attrs.evolve(eligible, yearly=()).latest_years() == (None, None)
    one = attrs.evolve(eligible, yearly=(_year(2024),))
    assert one.latest_years() == (_year(2024), None)


@pytest.mark.parametrize(
    ("education", "bachelor_or_above"),
    [
        (Education.DOCTORATE, True),
        (Education.MASTER, True),
        (Education.BACHELOR, True),
        (Education.COLLEGE, False),  # 大专 is below 本科
        (Education.OTHER, False),
    ],
)
def test_bachelor_or_above(education: Education, bachelor_or_above: bool) -> None:
    assert education.bachelor_or_above is bachelor_or_above


def test_records_are_frozen(eligible: Application) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        eligible.declared_on = dt.date(2025, 1, 1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("industries", "repeated"),
    [(("电子信息", "电子信息"), "电子信息"), (("电子信息", "新材料", " 电子信息 "), "电子信息")],
)
def test_a_leading_industry_listed_twice_is_bad_input(
    eligible: Application, industries: tuple[str, ...], repeated: str
) -> None:
    # 第六条第（四）项 counts distinct industries: a repeat would count twice.
    with pytest.raises(FieldValueError) as info:
        attrs.evolve(eligible, base=attrs.evolve(eligible.base, leading_industries=industries))
    assert info.value.field == "leading_industries"
    assert info.value.problem.en == f"each item may be listed once, repeated: {repeated}"
    assert f"重复：{repeated}" in info.value.problem.zh


def test_distinct_leading_industries_are_accepted(eligible: Application) -> None:
    three = ("电子信息", "新材料", "生物医药")
    base = attrs.evolve(eligible.base, leading_industries=three)
    assert base.leading_industries == three


def test_a_repeated_industry_in_a_file_is_reported_with_its_path() -> None:
    from pathlib import Path

    from kmbase_workflow.errors import ApplicationFormatError
    from kmbase_workflow.serialization import loads_application

    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "eligible.json"
    text = example.read_text(encoding="utf-8").replace('"软件及信息技术服务"', '"电子信息"', 1)
    with pytest.raises(ApplicationFormatError) as info:
        loads_application(text, source="eligible.json")
    assert [p.en for p in info.value.problems] == [
        "base.leading_industries: each item may be listed once, repeated: 电子信息"
    ]


def test_figures_for_and_the_service_figures_year(eligible: Application) -> None:
    assert eligible.figures_for(2024) is eligible.yearly[1]
    assert eligible.figures_for(2022) is None
    assert eligible.service_figures_year == eligible.declared_on.year - 1
    assert attrs.evolve(eligible, services_year=2023).service_figures_year == 2023
