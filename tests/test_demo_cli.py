"""``kmbase demo`` as a user sees it: readable at 80 columns (no column dropped, no cell cut
to "…") and in one language per run."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from kmbase_workflow._i18n import Lang
from kmbase_workflow.cli import app, print_demo
from kmbase_workflow.demo import DemoResult, run_demo

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
    runner = CliRunner()
    db = tmp_path / "demo.db"
    result = runner.invoke(app, ["demo", "--db", str(db), "--lang", "en"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert "2025-09-26" in result.stdout
    assert "Timeline" in result.stdout
    assert "认定时间线" not in result.stdout
