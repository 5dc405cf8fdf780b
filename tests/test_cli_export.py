"""``kmbase export`` and ``kmbase import`` on a throwaway app that mounts the sub-apps as the
main CLI does: exit codes, files written, cell-by-cell messages on stderr."""

from __future__ import annotations

from pathlib import Path

import attrs
import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from kmbase_workflow.cli._export import export_app, import_app
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.exports import export_roster, export_staff
from kmbase_workflow.serialization import dumps_json, load_application
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import BUREAU, ROUND_CLOSES, ROUND_OPENS, Harness, harness
from test_exports import district_round, in_form_order

app = typer.Typer()
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    h = harness()
    url = f"sqlite:///{tmp_path}/kmbase.db"
    workflow = Workflow(url, clock=h.clock)
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    district_round(Harness(workflow, h.clock, h.store))
    workflow.store.close()
    return url


def test_export_recommendations(db: str, tmp_path: Path) -> None:
    output = tmp_path / "推荐汇总表.xlsx"
    result = runner.invoke(
        app,
        [
            "export",
            "recommendations",
            "--district",
            "五华区",
            "--round",
            "2025",
            "--output",
            str(output),
            "--db",
            db,
            "--filled-by",
            "张三",
            "--phone",
            "0871-63000000",
            "--unit",
            "五华区工业和信息化局",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {output}: 3 recommendation row(s)\n"
    rows = [list(row) for row in openpyxl.load_workbook(output).active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    assert rows[1][0] == "推荐单位（公章）：五华区工业和信息化局"
    assert [row[8] for row in rows[3:6]] == ["是", "是", "否"]
    assert "填表人：张三" in rows[6]
    assert "联系电话：0871-63000000" in rows[6]


def test_export_recommendations_takes_the_store_from_the_environment(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KMBASE_DB", db)
    output = tmp_path / "t.xlsx"
    args = [
        "export",
        "recommendations",
        "--district",
        "呈贡区",
        "--round",
        "2025",
        "-o",
        str(output),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"已写入 {output}：推荐汇总表 1 行\n"


def test_export_recommendations_bad_input_exits_2(db: str, tmp_path: Path) -> None:
    base = ["export", "recommendations", "--district", "五华区", "--round", "2025", "--db", db]
    result = runner.invoke(app, [*base, "--output", str(tmp_path / "t.csv"), "--lang", "en"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert ".xlsx" in result.stderr
    result = runner.invoke(app, [*base, "--output", str(tmp_path / "t.xlsx"), "--lang", "fr"])
    assert result.exit_code == 2
    missing_option = runner.invoke(app, ["export", "recommendations", "--district", "五华区"])
    assert missing_option.exit_code == 2


def test_export_case(db: str, tmp_path: Path) -> None:
    output = tmp_path / "a.xlsx"
    result = runner.invoke(
        app, ["export", "case", "a", "--output", str(output), "--db", db, "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {output}: 5 sheets\n"
    workbook = openpyxl.load_workbook(output)
    assert workbook.sheetnames[0] == "申请表"
    assert len(workbook.sheetnames) == 5
    # The case's recommendation opinion is on the form (the command passes the case).
    assert "同意推荐" in {
        cell for row in workbook["申请表"].iter_rows(values_only=True) for cell in row
    }


def test_export_unknown_case_exits_2(db: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", "case", "zz", "-o", str(tmp_path / "x.xlsx"), "--db", db]
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "zz" in result.stderr


@pytest.fixture
def application_file(tmp_path: Path) -> Path:
    path = tmp_path / "application.json"
    emptied = attrs.evolve(eligible_application(), residents=(), staff=())
    path.write_text(dumps_json(emptied), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_import_roster_and_staff(application_file: Path, tmp_path: Path, suffix: str) -> None:
    full = eligible_application()
    export_roster(full, tmp_path / f"roster{suffix}")
    export_staff(full, tmp_path / f"staff{suffix}")
    step = tmp_path / "step.json"
    result = runner.invoke(
        app,
        [
            "import",
            "roster",
            str(application_file),
            str(tmp_path / f"roster{suffix}"),
            "-o",
            str(step),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"已写入 {step}：入驻企业 60 行\n"
    done = tmp_path / "done.json"
    result = runner.invoke(
        app,
        [
            "import",
            "staff",
            str(step),
            str(tmp_path / f"staff{suffix}"),
            "--output",
            str(done),
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {done}: 12 staff row(s)\n"
    assert load_application(done) == attrs.evolve(full, residents=in_form_order(full.residents))


def test_import_a_sheet_of_the_case_workbook(
    db: str, application_file: Path, tmp_path: Path
) -> None:
    workbook = tmp_path / "case.xlsx"
    assert (
        runner.invoke(app, ["export", "case", "a", "-o", str(workbook), "--db", db]).exit_code == 0
    )
    out = tmp_path / "out.json"
    args = ["import", "staff", str(application_file), str(workbook), "-o", str(out)]
    result = runner.invoke(app, [*args, "--sheet", "管理和专职服务人员情况表"])
    assert result.exit_code == 0, result.output
    assert load_application(out).staff == eligible_application().staff


def test_import_bad_cells_exit_2_with_every_cell_on_stderr(
    application_file: Path, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "序号,企业名称,入驻基地时间,从业人员数（人）,所属产业类型,主营业务是否属于主导产业\n"
        "1,甲公司,2020-01-02,十二,电子信息,是\n"
        "2,乙公司,2020/1/2,5,电子信息,也许\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.json"
    result = runner.invoke(
        app,
        ["import", "roster", str(application_file), str(roster), "-o", str(out), "--lang", "en"],
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{roster} has 3 problem(s)" in result.stderr
    assert 'row 2, column D (从业人员数（人）): expected an integer, got "十二"' in result.stderr
    assert "row 3, column C (入驻基地时间)" in result.stderr
    assert "row 3, column F (主营业务是否属于主导产业)" in result.stderr
    assert not out.exists()
    zh = runner.invoke(
        app, ["import", "roster", str(application_file), str(roster), "-o", str(out)]
    )
    assert zh.exit_code == 2
    assert '第2行 从业人员数（人）列（D）：应为整数，实际为 "十二"' in zh.stderr


def test_import_bad_application_or_output_exits_2(application_file: Path, tmp_path: Path) -> None:
    staff = tmp_path / "staff.csv"
    export_staff(eligible_application(), staff)
    missing = runner.invoke(
        app,
        [
            "import",
            "staff",
            str(tmp_path / "nope.json"),
            str(staff),
            "-o",
            str(tmp_path / "o.json"),
        ],
    )
    assert missing.exit_code == 2
    unwritable = runner.invoke(
        app,
        [
            "import",
            "staff",
            str(application_file),
            str(staff),
            "-o",
            str(tmp_path / "no" / "o.json"),
        ],
    )
    assert unwritable.exit_code == 2
    assert "cannot write" in unwritable.stderr or "无法写入" in unwritable.stderr


def test_import_refuses_a_number_that_is_infinity(application_file: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "企业名称,入驻基地时间,从业人员数（人）,所属产业类型,主营业务是否属于主导产业,"
        "上年度销售收入（万元）\n"
        "甲公司,2020-01-02,5,电子信息,是,1e999\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.json"
    result = runner.invoke(
        app,
        ["import", "roster", str(application_file), str(roster), "-o", str(out), "--lang", "en"],
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "row 2, column F (上年度销售收入（万元）): expected a finite number" in result.stderr
    assert not out.exists()


_ROSTER_HEADER = "企业名称,入驻基地时间,从业人员数（人）,所属产业类型,主营业务是否属于主导产业\n"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "甲公司,2020-01-02,100000000000000000000,电子信息,是",
            "column C (从业人员数（人）): integer out of range",
        ),
        ("甲\x00公司,2020-01-02,5,电子信息,是", "column A (企业名称)"),
    ],
)
def test_import_refuses_what_the_application_format_refuses(
    application_file: Path, tmp_path: Path, row: str, expected: str
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(_ROSTER_HEADER + row + "\n", encoding="utf-8")
    out = tmp_path / "out.json"
    result = runner.invoke(
        app,
        ["import", "roster", str(application_file), str(roster), "-o", str(out), "--lang", "en"],
    )
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert expected in result.stderr
    assert not out.exists()


def test_an_imported_count_of_1e20_from_a_workbook_is_refused(
    application_file: Path, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.xlsx"
    export_roster(eligible_application(), roster)
    book = openpyxl.load_workbook(roster)
    sheet = book.active
    assert sheet is not None
    column = next(
        cell.column for row in sheet.iter_rows() for cell in row if cell.value == "从业人员数（人）"
    )
    header_row = next(
        cell.row for row in sheet.iter_rows() for cell in row if cell.value == "从业人员数（人）"
    )
    sheet.cell(header_row + 1, column).value = 1e20  # Excel keeps every number as a float
    book.save(roster)
    out = tmp_path / "out.json"
    result = runner.invoke(
        app,
        ["import", "roster", str(application_file), str(roster), "-o", str(out), "--lang", "en"],
    )
    assert result.exit_code == 2, result.output
    assert "integer out of range" in result.stderr
    assert not out.exists()
