"""``kmbase demo`` as a user sees it: readable at 80 columns (no column dropped, no cell cut
to "…") and in one language per run."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from kmbase_workflow._i18n import Lang
from kmbase_workflow.cli import app, print_demo
from kmbase_workflow.demo import DemoResult, run_demo
from kmbase_workflow.stores import open_store
from postgres_server import URL, schema  # noqa: F401 - a fixture

runner = CliRunner()
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def result() -> DemoResult:
    return run_demo("memory://")


def render(result: DemoResult, lang: Lang, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    print_demo(result, lang, console)
    return console.export_text()


def data_strings(result: DemoResult) -> list[str]:
    """What the demo records as data (names, districts, remarks): shown as entered."""
    values = {step.base for step in result.timeline}
    values |= {str(value) for row in result.recommendation_rows for value in row.values()}
    return sorted((v for v in values if CJK.search(v)), key=len, reverse=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_readable_at_80_columns(result: DemoResult, lang: Lang) -> None:
    text = render(result, lang)
    assert "…" not in text
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    for step in result.timeline:
        assert step.day.isoformat() in text  # the date column is shown
    date_header = "日期" if lang == "zh" else "date"
    assert date_header in text


def test_chinese_run_is_all_chinese(result: DemoResult) -> None:
    text = render(result, "zh", width=200)
    assert re.findall(r"[A-Za-z]+", text) == []  # no "rules not met", "rank 4 of 4", ids
    assert "17 项条件不满足" in text  # 呈贡区 flags residents of no leading industry of its own
    assert "排名第 4（共 4 个）" in text
    assert "公示期 2025-09-26 至 2025-10-15" in text


def test_english_run_is_all_english_but_the_data(result: DemoResult) -> None:
    text = render(result, "en", width=200)
    for value in data_strings(result):
        text = text.replace(value, "")
    assert CJK.findall(text) == []
    assert "17 rules not met" in text
    assert "notice 2025-09-26 → 2025-10-15" in text


def test_the_command_at_80_columns(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = runner.invoke(
        app, ["demo", "--db", f"sqlite:///{db}", "--lang", "en"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert "2025-09-26" in result.stdout
    assert "Timeline" in result.stdout
    assert "认定时间线" not in result.stdout


def test_the_demo_refuses_a_file_that_exists_and_leaves_it_whole(tmp_path: Path) -> None:
    """A user who points the demo at a real database keeps it (issue 22: it was deleted)."""
    precious = tmp_path / "cases.db"
    precious.write_bytes(b"not the demo's")
    for words in (["--db", f"sqlite:///{precious}"], ["--db", str(precious)]):
        result = runner.invoke(app, ["demo", *words, "--json"])
        assert result.exit_code == 2, result.output
        error = json.loads(result.stdout)["error"]
        assert error["code"] == "invalid_input"
        assert str(precious) in error["message"]["en"]
        assert "已存在" in error["message"]["zh"]
    assert precious.read_bytes() == b"not the demo's"


def test_the_demo_refuses_a_postgres_schema_that_exists(schema: str) -> None:  # noqa: F811
    url = f"{URL}?schema={schema}"
    open_store(url).close()  # someone's store, empty or not
    result = runner.invoke(app, ["demo", "--db", url, "--json"])
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"]["code"] == "invalid_input"
    store = open_store(url, create=False)
    try:
        assert store.rounds() == []
    finally:
        store.close()


def test_the_demo_runs_on_a_new_postgres_schema(schema: str) -> None:  # noqa: F811
    url = f"{URL}?schema={schema}"
    result = runner.invoke(app, ["demo", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["exports"] == []  # a workbook goes next to an SQLite file only
    assert "2025-10-16" in {step["date"] for step in data["timeline"]}


def test_run_twice_the_demo_takes_a_new_file_and_keeps_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["demo", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["database"] == "sqlite:///kmbase-demo.db"
    kept = (tmp_path / "kmbase-demo.db").read_bytes()
    second = runner.invoke(app, ["demo", "--json"])
    assert second.exit_code == 0, second.output
    data = json.loads(second.stdout)
    assert data["database"] == "sqlite:///kmbase-demo-2.db"
    assert (tmp_path / "kmbase-demo.db").read_bytes() == kept
    assert data["exports"]  # one workbook a district, beside its own database
    assert all(Path(path).name.startswith("kmbase-demo-2-") for path in data["exports"])
