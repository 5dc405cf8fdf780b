"""Reading and writing records: round trips, and every kind of bad input reported with its path.

Expected messages are written from the format the module promises
(``services.training.person_times: expected an integer, got "abc"``), in both languages.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmbase_workflow._i18n import Text
from kmbase_workflow.errors import ApplicationFormatError, InvalidInputError
from kmbase_workflow.records import (
    Application,
    Base,
    ContractedAgency,
    Declaration,
    Focus,
    Operator,
    ResidentEnterprise,
    SatisfactionResponse,
    ServiceFigures,
    ServiceVolume,
    SpotCheck,
    StaffMember,
    YearFigures,
)
from kmbase_workflow.serialization import (
    dump_json,
    dumps_json,
    load_application,
    loads_application,
    structure,
    unstructure,
)
from strategies import (
    agency_records,
    application_records,
    base_records,
    declaration_records,
    operator_records,
    resident_records,
    satisfaction_records,
    service_figure_records,
    service_volume_records,
    spot_check_records,
    staff_records,
    year_records,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
GB_EXAMPLE = "91350100M000100Y43"

# -- round trips --------------------------------------------------------------------------------

RECORD_STRATEGIES: list[tuple[type, st.SearchStrategy[Any]]] = [
    (Operator, operator_records()),
    (Base, base_records()),
    (StaffMember, staff_records()),
    (ResidentEnterprise, resident_records()),
    (YearFigures, year_records()),
    (ServiceFigures, service_figure_records()),
    (ServiceVolume, service_volume_records()),
    (SatisfactionResponse, satisfaction_records()),
    (ContractedAgency, agency_records()),
    (Declaration, declaration_records()),
    (SpotCheck, spot_check_records()),
    (Application, application_records()),
]


@pytest.mark.parametrize(
    ("record_type", "strategy"), RECORD_STRATEGIES, ids=[t.__name__ for t, _ in RECORD_STRATEGIES]
)
def test_every_record_type_round_trips_through_json(
    record_type: type, strategy: st.SearchStrategy[Any]
) -> None:
    @settings(max_examples=40, deadline=None)
    @given(strategy)
    def check(record: Any) -> None:
        data = unstructure(record)
        assert structure(data, record_type) == record
        # … and through JSON text, which is what files hold.
        assert structure(json.loads(json.dumps(data, ensure_ascii=False)), record_type) == record

    check()


@settings(max_examples=50, deadline=None)
@given(application_records())
def test_application_round_trips_through_dumps_json(app: Application) -> None:
    assert loads_application(dumps_json(app)) == app
    assert loads_application(dumps_json(app, indent=None)) == app


def test_examples_round_trip(
    tmp_path: Path, eligible: Application, ineligible: Application
) -> None:
    for app in (eligible, ineligible):
        target = tmp_path / "app.json"
        dump_json(app, target)
        assert load_application(target) == app
        assert target.read_text(encoding="utf-8").endswith("}\n")


def test_json_keeps_chinese_readable(eligible: Application) -> None:
    text = dumps_json(eligible)
    assert eligible.base.name in text
    assert "\\u" not in text


def test_unstructure_uses_iso_dates_and_enum_values(eligible: Application) -> None:
    data = unstructure(eligible)
    assert data["declared_on"] == eligible.declared_on.isoformat()
    assert data["base"]["focus"] == eligible.base.focus.value
    assert isinstance(data["yearly"], list)


TOML_APPLICATION = f"""
declared_on = 2025-06-20
yearly = [
  {{ year = 2024, resident_enterprises = 45, resident_small_micro_enterprises = 42, small_micro_employees = 520, innovation_outputs = 11 }},
]
staff = []

[base]
name = "滇池创业园"
district = "西山区"
leading_industries = ["电子信息"]
focus = "production_services"
established_on = "2020-03-01"
site_area_m2 = 3000

[operator]
name = "运营单位"
unified_social_credit_code = "{GB_EXAMPLE}"
registered_on = 2019-01-01
independent_legal_person = true

[services.training]
person_times = 300

[service_volume]
total = 10
free_or_low_fee = 2

[materials]
application_report = "申请报告.pdf"

[declarations.good_credit]
value = true
evidence = "信用报告.pdf"
"""


def test_reading_a_toml_application(tmp_path: Path) -> None:
    path = tmp_path / "application.toml"
    path.write_text(TOML_APPLICATION, encoding="utf-8")
    expected = Application(
        base=Base(
            name="滇池创业园",
            district="西山区",
            leading_industries=("电子信息",),
            focus=Focus.PRODUCTION_SERVICES,
            established_on=dt.date(2020, 3, 1),  # a string date is read too
            site_area_m2=3000.0,  # an integer is a number
        ),
        operator=Operator(
            name="运营单位",
            unified_social_credit_code=GB_EXAMPLE,
            registered_on=dt.date(2019, 1, 1),
            independent_legal_person=True,
        ),
        declared_on=dt.date(2025, 6, 20),
        yearly=(YearFigures(2024, 45, 42, 520, 11),),
        services={"training": ServiceFigures(person_times=300)},
        service_volume=ServiceVolume(total=10, free_or_low_fee=2),
        materials={"application_report": "申请报告.pdf"},
        declarations={"good_credit": Declaration(value=True, evidence="信用报告.pdf")},
    )
    assert load_application(path) == expected
    assert loads_application(TOML_APPLICATION, fmt="toml") == expected
    # Written back as JSON, it is the same application.
    assert loads_application(dumps_json(expected)) == expected


def test_toml_datetime_is_not_a_date() -> None:
    text = TOML_APPLICATION.replace("declared_on = 2025-06-20", "declared_on = 2025-06-20T09:00:00")
    with pytest.raises(ApplicationFormatError) as info:
        loads_application(text, fmt="toml")
    assert [p.en for p in info.value.problems] == [
        "declared_on: expected a date (YYYY-MM-DD), got datetime.datetime(2025, 6, 20, 9, 0)"
    ]


# -- bad input: each problem with its exact path, in both languages ------------------------------


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "eligible.json").read_text(encoding="utf-8"))
    return data


def _problems(data: object) -> tuple[Text, ...]:
    with pytest.raises(ApplicationFormatError) as info:
        loads_application(json.dumps(data, ensure_ascii=False), source="app.json")
    assert info.value.source == "app.json"
    return info.value.problems


def _set(data: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


def _delete(data: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node: Any = changed
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return changed


WRONG_VALUES = [
    # (where, value, English, Chinese)
    (
        ("services", "training", "person_times"),
        "abc",
        'services.training.person_times: expected an integer, got "abc"',
        'services.training.person_times：应为整数，实际为 "abc"',
    ),
    (
        ("yearly", 0, "resident_enterprises"),
        "12",
        'yearly[0].resident_enterprises: expected an integer, got "12"',
        'yearly[0].resident_enterprises：应为整数，实际为 "12"',
    ),
    (
        ("yearly", 1, "small_micro_employees"),
        905.5,
        "yearly[1].small_micro_employees: expected an integer, got 905.5",
        "yearly[1].small_micro_employees：应为整数，实际为 905.5",
    ),
    (
        ("yearly", 1, "small_micro_employees"),
        -0.0,  # negative zero is a float, whatever JSON Schema says of its value
        "yearly[1].small_micro_employees: expected an integer, got -0.0",
        "yearly[1].small_micro_employees：应为整数，实际为 -0.0",
    ),
    (
        ("service_volume", "total"),
        True,
        "service_volume.total: expected an integer, got true",
        "service_volume.total：应为整数，实际为 true",
    ),
    (
        ("operator", "independent_legal_person"),
        1,
        "operator.independent_legal_person: expected true or false, got 1",
        "operator.independent_legal_person：应为 true 或 false，实际为 1",
    ),
    (
        ("staff", 2, "full_time_service"),
        "yes",
        'staff[2].full_time_service: expected true or false, got "yes"',
        'staff[2].full_time_service：应为 true 或 false，实际为 "yes"',
    ),
    (
        ("base", "site_area_m2"),
        "12500",
        'base.site_area_m2: expected a finite number, got "12500"',
        'base.site_area_m2：应为有限的数字，实际为 "12500"',
    ),
    (
        ("base", "site_area_m2"),
        False,
        "base.site_area_m2: expected a finite number, got false",
        "base.site_area_m2：应为有限的数字，实际为 false",
    ),
    (
        ("base", "name"),
        42,
        "base.name: expected a string, got 42",
        "base.name：应为文本，实际为 42",
    ),
    (
        ("base", "focus"),
        "services",
        'base.focus: expected one of: manufacturing, production_services, got "services"',
        'base.focus：应为以下之一：manufacturing, production_services，实际为 "services"',
    ),
    (
        ("staff", 0, "education"),
        "phd",
        'staff[0].education: expected one of: doctorate, master, bachelor, college, other, got "phd"',
        'staff[0].education：应为以下之一：doctorate, master, bachelor, college, other，实际为 "phd"',
    ),
    (
        ("declared_on",),
        "2025-13-01",
        'declared_on: expected a date (YYYY-MM-DD), got "2025-13-01"',
        'declared_on：应为日期（YYYY-MM-DD），实际为 "2025-13-01"',
    ),
    (
        ("base", "established_on"),
        "2019/03/01",
        'base.established_on: expected a date (YYYY-MM-DD), got "2019/03/01"',
        'base.established_on：应为日期（YYYY-MM-DD），实际为 "2019/03/01"',
    ),
    (
        ("agencies", 1, "signed_on"),
        20230301,
        "agencies[1].signed_on: expected a date (YYYY-MM-DD), got 20230301",
        "agencies[1].signed_on：应为日期（YYYY-MM-DD），实际为 20230301",
    ),
    (
        ("base", "leading_industries"),
        "电子信息",
        'base.leading_industries: expected a list, got "电子信息"',
        'base.leading_industries：应为列表，实际为 "电子信息"',
    ),
    (
        ("yearly",),
        {"year": 2024},
        "yearly: expected a list, got {'year': 2024}",
        "yearly：应为列表，实际为 {'year': 2024}",
    ),
    (
        ("materials",),
        ["申请报告.pdf"],
        "materials: expected an object (a table of keys), got ['申请报告.pdf']",
        "materials：应为对象（键值表），实际为 ['申请报告.pdf']",
    ),
    (
        ("yearly", 0, "innovation_outputs"),
        -1,
        "yearly[0].innovation_outputs: must not be negative, got -1",
        "yearly[0].innovation_outputs：不能为负数，实际为 -1",
    ),
    (
        ("residents", 3, "employees"),
        -8,
        "residents[3].employees: must not be negative, got -8",
        "residents[3].employees：不能为负数，实际为 -8",
    ),
    (
        ("service_volume", "free_or_low_fee"),
        421,
        "service_volume.free_or_low_fee: must not exceed total (420), got 421",
        "service_volume.free_or_low_fee：不能大于总服务量 420，实际为 421",
    ),
    (
        ("operator", "unified_social_credit_code"),
        GB_EXAMPLE[:17],
        "operator.unified_social_credit_code: a unified social credit code has 18 characters, got 17",
        "operator.unified_social_credit_code：统一社会信用代码应为18位，实际为17位",
    ),
    (
        ("operator", "unified_social_credit_code"),
        "91350100M000100YO3",
        "operator.unified_social_credit_code: characters not allowed in a unified social credit code: O (I, O, S, V and Z are never used)",
        "operator.unified_social_credit_code：统一社会信用代码含有不允许的字符 O（不使用 I、O、S、V、Z）",
    ),
    (
        ("operator", "unified_social_credit_code"),
        "91350100M000100Y44",
        "operator.unified_social_credit_code: wrong check character in unified social credit code: expected 3, got 4 (GB 32100-2015)",
        "operator.unified_social_credit_code：统一社会信用代码校验位错误：应为 3，实际为 4（GB 32100-2015）",
    ),
]


@pytest.mark.parametrize(
    ("where", "value", "en", "zh"), WRONG_VALUES, ids=[e for _, _, e, _ in WRONG_VALUES]
)
def test_wrong_value_is_reported_with_its_path(
    example: dict[str, Any], where: tuple[str | int, ...], value: object, en: str, zh: str
) -> None:
    problems = _problems(_set(example, where, value))
    assert [p.en for p in problems] == [en]
    assert [p.zh for p in problems] == [zh]


@pytest.mark.parametrize("written", ["905.0", "9.05e2", "90500e-2"])
def test_a_whole_number_written_with_a_fraction_is_an_integer(
    example: dict[str, Any], written: str
) -> None:
    """JSON Schema's integer is a number without a fraction (2020-12, 6.1.1): the published
    schemas say so of 905.0, so the reader takes it as 905 (issue 22)."""
    data = _set(example, ("yearly", 1, "small_micro_employees"), 424242)
    text = json.dumps(data, ensure_ascii=False).replace("424242", written)
    application = loads_application(text, source="app.json")
    assert application.yearly[1].small_micro_employees == 905
    assert type(application.yearly[1].small_micro_employees) is int


def test_unknown_keys_are_refused(example: dict[str, Any]) -> None:
    data = _set(example, ("base", "nmae"), "拼写错误")
    data = _set(data, ("colour",), "red")
    data = _set(data, ("services", "training", "people"), 3)
    problems = _problems(data)
    assert {p.en for p in problems} == {
        "(root): unknown field(s) colour (a typo?)",
        "base: unknown field(s) nmae (a typo?)",
        "services.training: unknown field(s) people (a typo?)",
    }
    assert "base：未知字段 nmae（拼写错误？）" in {p.zh for p in problems}


@pytest.mark.parametrize(
    ("where", "en", "zh"),
    [
        (("declared_on",), "declared_on: required field missing", "declared_on：缺少必填字段"),
        (("yearly",), "yearly: required field missing", "yearly：缺少必填字段"),
        (("base", "name"), "base.name: required field missing", "base.name：缺少必填字段"),
        (
            ("operator", "unified_social_credit_code"),
            "operator.unified_social_credit_code: required field missing",
            "operator.unified_social_credit_code：缺少必填字段",
        ),
        (
            ("yearly", 1, "year"),
            "yearly[1].year: required field missing",
            "yearly[1].year：缺少必填字段",
        ),
        (
            ("service_volume", "total"),
            "service_volume.total: required field missing",
            "service_volume.total：缺少必填字段",
        ),
    ],
)
def test_missing_required_field(
    example: dict[str, Any], where: tuple[str | int, ...], en: str, zh: str
) -> None:
    problems = _problems(_delete(example, where))
    assert [(p.en, p.zh) for p in problems] == [(en, zh)]


def test_optional_fields_may_be_left_out(example: dict[str, Any]) -> None:
    data = _delete(example, ("service_volume",))
    data = _delete(data, ("staff",))
    data = _delete(data, ("base", "website"))
    app = loads_application(json.dumps(data, ensure_ascii=False))
    assert app.service_volume is None
    assert app.staff == ()
    assert app.base.website == ""


def test_duplicate_years_are_reported(example: dict[str, Any]) -> None:
    data = _set(example, ("yearly", 0, "year"), example["yearly"][1]["year"])
    assert [(p.en, p.zh) for p in _problems(data)] == [
        (
            "yearly: each year may appear once, repeated: [2024]",
            "yearly：每个年度只能出现一次，重复：[2024]",
        )
    ]


def test_one_error_lists_every_problem(example: dict[str, Any]) -> None:
    data = _set(example, ("services", "training", "person_times"), "abc")
    data = _set(data, ("yearly", 0, "resident_enterprises"), 1.5)
    data = _set(data, ("yearly", 1, "small_micro_employees"), -1)
    data = _set(data, ("base", "focus"), "retail")
    data = _set(data, ("base", "site_area_m2"), "big")
    data = _set(data, ("operator", "unified_social_credit_code"), "91350100M000100Y44")
    data = _set(data, ("agencies", 0, "extra"), 1)
    data = _delete(data, ("declared_on",))
    with pytest.raises(ApplicationFormatError) as info:
        loads_application(json.dumps(data, ensure_ascii=False), source="app.json")
    error = info.value
    paths = sorted(p.en.split(":")[0] for p in error.problems)
    assert paths == sorted(
        [
            "services.training.person_times",
            "yearly[0].resident_enterprises",
            "yearly[1].small_micro_employees",
            "base.focus",
            "base.site_area_m2",
            "operator.unified_social_credit_code",
            "agencies[0]",
            "declared_on",
        ]
    )
    for problem in error.problems:  # every problem in both languages, with the same path
        assert problem.zh.split("：")[0] == problem.en.split(":")[0]
    # The error's message lists them all, with the count and the source.
    assert "app.json has 8 problem(s):" in error.message.en
    assert "app.json 有 8 处错误" in error.message.zh
    for problem in error.problems:
        assert f"  - {problem.en}" in error.message.en
        assert f"  - {problem.zh}" in error.message.zh
    assert error.hint is not None
    assert isinstance(error, InvalidInputError)
    assert error.exit_code == 2


def test_root_must_be_an_object() -> None:
    with pytest.raises(ApplicationFormatError) as info:
        loads_application("[1, 2]")
    assert [p.en for p in info.value.problems] == ["(root): expected an object (a table of keys)"]


@pytest.mark.parametrize(
    ("text", "fmt", "en"),
    [
        ('{"base": ', "json", "input is not valid JSON"),
        ("{'single': 'quotes'}", "json", "input is not valid JSON"),
        ("base = [", "toml", "input is not valid TOML"),
        ("a = 1\na = 2", "toml", "input is not valid TOML"),
    ],
)
def test_invalid_syntax(text: str, fmt: str, en: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        loads_application(text, fmt=fmt)
    assert not isinstance(info.value, ApplicationFormatError)
    assert info.value.message.en.startswith(en)
    assert f"不是有效的 {fmt.upper()}" in info.value.message.zh


def test_invalid_json_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"declared_on": "2025-06-20",', encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        load_application(path)
    assert info.value.message.en.startswith(f"{path} is not valid JSON")


def test_unsupported_format() -> None:
    with pytest.raises(InvalidInputError) as info:
        loads_application("{}", fmt="yaml")
    assert info.value.message.en == "unsupported format yaml"


def test_unreadable_paths(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(InvalidInputError) as info:
        load_application(missing)
    assert info.value.message.en.startswith(f"cannot read {missing}")
    assert info.value.message.zh.startswith(f"无法读取 {missing}")
    with pytest.raises(InvalidInputError) as info:
        load_application(tmp_path)  # a directory
    assert info.value.message.en.startswith(f"cannot read {tmp_path}")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "gbk.json"
    path.write_bytes('{"base": {"name": "春城"}}'.encode("gbk"))
    with pytest.raises(InvalidInputError) as info:
        load_application(path)
    assert info.value.message.en == f"{path} is not UTF-8 text"


def test_file_errors_name_the_file(tmp_path: Path, example: dict[str, Any]) -> None:
    path = tmp_path / "app.json"
    path.write_text(json.dumps(_delete(example, ("declared_on",))), encoding="utf-8")
    with pytest.raises(ApplicationFormatError) as info:
        load_application(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN"])
def test_non_finite_numbers_are_refused(example: dict[str, Any], value: str) -> None:
    """json.loads accepts the non-standard literals Infinity and NaN; strict reading refuses
    them with their path (``Infinity`` would pass the site area rule of 第六条第（七）项 and
    NaN would silently make it not assessable)."""
    text = json.dumps(example, ensure_ascii=False).replace(
        '"site_area_m2": 12500.0', f'"site_area_m2": {value}'
    )
    assert value in text
    with pytest.raises(ApplicationFormatError) as info:
        loads_application(text)
    assert [p.en.split(":")[0] for p in info.value.problems] == ["base.site_area_m2"]


RECORD_SHAPES = [
    (("services", "training"), [420]),
    (("base",), "春城数字经济创业创新园"),
    (("yearly", 0), 2024),
    (("service_volume",), [420, 126]),
    (("declarations", "good_credit"), True),
]


@pytest.mark.parametrize(
    ("where", "value"), RECORD_SHAPES, ids=[".".join(map(str, w)) for w, _ in RECORD_SHAPES]
)
def test_wrong_shape_for_a_record_names_its_path(
    example: dict[str, Any], where: tuple[str | int, ...], value: object
) -> None:
    path = ".".join(str(k) for k in where).replace(".0", "[0]")
    problems = _problems(_set(example, where, value))
    assert [p.en.split(": ")[0] for p in problems] == [path]
    assert [p.zh.split("：")[0] for p in problems] == [path]


@pytest.mark.parametrize(
    ("where", "value"), RECORD_SHAPES, ids=[".".join(map(str, w)) for w, _ in RECORD_SHAPES]
)
def test_wrong_shape_for_a_record_is_explained_in_both_languages(
    example: dict[str, Any], where: tuple[str | int, ...], value: object
) -> None:
    """A list, string, number or boolean where a record (a table of keys) belongs is reported
    like a mapping field given the same value, never with a Python internal message."""
    problems = _problems(_set(example, where, value))
    assert len(problems) == 1
    assert "expected an object (a table of keys)" in problems[0].en
    assert "应为对象（键值表）" in problems[0].zh


# -- what no record can hold, anywhere in a document ------------------------------------------
# Each of these once ended in a traceback (RecursionError, ValueError from int conversion,
# UnicodeEncodeError when the command printed) or in a PostgreSQL driver error (NUL).

NUL_EN = "contains a NUL character (U+0000)"
NUL_ZH = "含有 NUL 字符（U+0000）"
SURROGATE_EN = "contains a lone surrogate (U+D800 to U+DFFF), which is not a Unicode character"
RANGE_EN = "integer out of range (its magnitude must not exceed 2⁶³ − 1 = 9223372036854775807)"


def _raw_problems(text: str, fmt: str = "json") -> tuple[Text, ...]:
    with pytest.raises(ApplicationFormatError) as info:
        loads_application(text, fmt=fmt, source="app.json")
    for lang in ("zh", "en"):  # every message can be printed
        info.value.describe(lang).encode("utf-8")
    return info.value.problems


def _splice(example: dict[str, Any], where: tuple[str | int, ...], raw: str) -> str:
    return json.dumps(_set(example, where, "@@RAW@@")).replace('"@@RAW@@"', raw)


@pytest.mark.parametrize(
    ("where", "raw"),
    [
        (("base", "name"), r'"春城\u0000园"'),
        (("staff", 1, "name"), r'"\u0000"'),
        (("materials", "application_report"), r'"申请报告\u0000.pdf"'),
    ],
)
def test_a_nul_character_is_refused_with_its_path(
    example: dict[str, Any], where: tuple[str | int, ...], raw: str
) -> None:
    """PostgreSQL cannot store U+0000 in text or jsonb; SQLite can: refused for every store."""
    path = ".".join(map(str, where)).replace(".1.", "[1].")
    problems = _raw_problems(_splice(example, where, raw))
    assert [p.en for p in problems] == [f"{path}: {NUL_EN}"]
    assert [p.zh for p in problems] == [f"{path}：{NUL_ZH}"]


@pytest.mark.parametrize("raw", [r'"\ud800"', r'"园\udfff"', r'"\ude00\ud83d"'])
def test_a_lone_surrogate_is_refused_with_its_path(example: dict[str, Any], raw: str) -> None:
    problems = _raw_problems(_splice(example, ("base", "district"), raw))
    assert [p.en for p in problems] == [f"base.district: {SURROGATE_EN}"]
    assert "不成对的代理码位" in problems[0].zh


def test_a_surrogate_pair_is_one_character_and_welcome(example: dict[str, Any]) -> None:
    text = _splice(example, ("base", "facilities"), r'"路演厅\ud83d\ude00"')
    assert loads_application(text).base.facilities == "路演厅😀"


def test_a_bad_key_is_refused_and_shown_escaped(example: dict[str, Any]) -> None:
    text = json.dumps(example).replace('"facilities"', r'"facil\u0000ities"', 1)
    problems = _raw_problems(text)
    assert [p.en for p in problems] == [rf"base.facil\u0000ities: the key {NUL_EN}"]
    assert problems[0].zh == rf"base.facil\u0000ities：字段名{NUL_ZH}"


def test_a_str_handed_over_with_surrogates_is_refused(example: dict[str, Any]) -> None:
    """A host may pass any str (undecodable bytes escaped as surrogates)."""
    text = json.dumps(_set(example, ("operator", "nature"), "有限\udcff公司"), ensure_ascii=False)
    problems = _raw_problems(text)
    assert [p.en for p in problems] == [f"operator.nature: {SURROGATE_EN}"]


@pytest.mark.parametrize(
    ("raw", "en"),
    [
        ("9" * 5000, f"{RANGE_EN} (5000 digits)"),
        ("-" + "7" * 4400, f"{RANGE_EN} (4400 digits)"),
        ("1" + "0" * 30, f"{RANGE_EN} (31 digits)"),
        (str(2**63), RANGE_EN),
        (str(-(2**63)), RANGE_EN),
    ],
)
def test_an_integer_beyond_64_bits_is_refused(example: dict[str, Any], raw: str, en: str) -> None:
    """Python refuses to convert integers of more than 4300 digits; no store keeps more than
    64 bits."""
    problems = _raw_problems(_splice(example, ("yearly", 0, "resident_enterprises"), raw))
    assert [p.en for p in problems] == [f"yearly[0].resident_enterprises: {en}"]
    assert problems[0].zh.startswith("yearly[0].resident_enterprises：整数超出范围")


def test_the_largest_64_bit_integer_is_read_as_an_integer(example: dict[str, Any]) -> None:
    text = _splice(example, ("yearly", 0, "patents_held"), str(2**63 - 1))
    assert loads_application(text).yearly[0].patents_held == 2**63 - 1


@pytest.mark.parametrize("levels", [33, 200, 5000])
def test_nesting_deeper_than_the_limit_is_refused_with_its_path(
    example: dict[str, Any], levels: int
) -> None:
    """5000 levels is deeper than Python's parser can go (RecursionError): the path is found
    without parsing."""
    raw = "[" * levels + "]" * levels
    problems = _raw_problems(_splice(example, ("base", "leading_industries"), raw))
    path = "base.leading_industries" + "[0]" * 30
    assert [p.en for p in problems] == [f"{path}: nested more than 32 levels deep"]
    assert [p.zh for p in problems] == [f"{path}：嵌套超过 32 层"]


def test_deep_objects_are_refused_with_their_keys(example: dict[str, Any]) -> None:
    raw = '{"a": [1, {"b": ' * 3000 + "{}" + "}]}" * 3000
    problems = _raw_problems(_splice(example, ("declarations", "good_credit"), raw))
    assert problems[0].en.startswith("declarations.good_credit.a[1].b.a[1].b")
    assert problems[0].en.endswith(": nested more than 32 levels deep")


def test_thirty_two_levels_are_read(example: dict[str, Any]) -> None:
    """The limit is on nesting, not on ordinary records: 32 levels reach the field check."""
    raw = "[" * 30 + "]" * 30
    problems = _raw_problems(_splice(example, ("base", "leading_industries"), raw))
    got = "[" * 29 + "]" * 29
    assert [p.en for p in problems] == [f"base.leading_industries[0]: expected a string, got {got}"]


@pytest.mark.parametrize(
    ("old", "new", "en"),
    [
        ('name = "滇池创业园"', 'name = "滇池\\u0000创业园"', f"base.name: {NUL_EN}"),
        ("year = 2024", "year = " + "9" * 5000, f"(root): an {RANGE_EN}"),
        ("year = 2024", "year = 9223372036854775808", f"yearly[0].year: {RANGE_EN}"),
    ],
)
def test_toml_is_held_to_the_same_limits(old: str, new: str, en: str) -> None:
    assert old in TOML_APPLICATION
    problems = _raw_problems(TOML_APPLICATION.replace(old, new, 1), fmt="toml")
    assert [p.en for p in problems] == [en]


def test_a_long_value_is_quoted_short(example: dict[str, Any]) -> None:
    problems = _problems(_set(example, ("declared_on",), "x" * 100_000))
    assert problems[0].en == f'declared_on: expected a date (YYYY-MM-DD), got "{"x" * 80}…"'


@pytest.mark.parametrize(("levels", "where"), [(40, "a" + "[0]" * 31), (5000, "(root)")])
def test_deep_toml_is_refused(levels: int, where: str) -> None:
    """TOML's parser recurses too; a document too deep for it is refused as a whole."""
    problems = _raw_problems("a = " + "[" * levels + "]" * levels, fmt="toml")
    assert [p.en for p in problems] == [f"{where}: nested more than 32 levels deep"]
