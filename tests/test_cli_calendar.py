"""``kmbase calendar`` and ``kmbase deadline``, mounted on a throwaway app."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from kmbase_workflow.calendar import holidays_official_through
from kmbase_workflow.cli._calendar import calendar_app, deadline_app

app = typer.Typer()
app.add_typer(calendar_app, name="calendar")
app.add_typer(deadline_app, name="deadline")

NEXT = holidays_official_through() + 1


@pytest.fixture
def run() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(
    ("args", "out"),
    [
        (["calendar", "is-working-day", "2023-10-07"], "true"),
        (["calendar", "is-working-day", "2025-10-08"], "false"),
        (["calendar", "add", "2023-09-28", "1"], "2023-10-07"),
        (["calendar", "add", "--", "2023-10-07", "-1"], "2023-09-28"),  # "--" before negatives
        (["calendar", "count", "2025-09-26", "2025-10-10"], "5"),
        (["deadline", "notice", "2023-11-06"], "2023-11-17"),
        (["deadline", "notice", "2025-09-26"], "2025-10-15"),
        (["deadline", "change-filing", "2025-09-25"], "2025-10-15"),
    ],
)
def test_answers(run: CliRunner, args: list[str], out: str) -> None:
    result = run.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == out


def test_missing_year_exits_3_with_bilingual_message(run: CliRunner) -> None:
    result = run.invoke(app, ["calendar", "add", f"{NEXT}-01-04", "5", "--lang", "en"])
    assert result.exit_code == 3
    assert str(NEXT) in result.stderr
    assert "--allow-provisional" in result.stderr
    assert result.stdout == ""
    zh = run.invoke(app, ["deadline", "notice", f"{NEXT}-01-04"])
    assert zh.exit_code == 3
    assert "尚未载入" in zh.stderr


def test_allow_provisional_marks_output(run: CliRunner) -> None:
    result = run.invoke(app, ["calendar", "add", f"{NEXT}-01-04", "5", "--allow-provisional"])
    assert result.exit_code == 0
    assert result.stdout.strip().endswith(" (provisional)")
    for args in (
        ["calendar", "is-working-day", f"{NEXT}-03-03"],
        ["calendar", "count", f"{NEXT - 1}-12-01", f"{NEXT}-01-10"],
        ["deadline", "notice", f"{NEXT - 1}-12-24"],
        ["deadline", "change-filing", f"{NEXT - 1}-12-24"],
    ):
        result = run.invoke(app, [*args, "--allow-provisional"])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip().endswith("(provisional)")


def test_loading_a_notice_makes_the_year_official(run: CliRunner, tmp_path: Path) -> None:
    notice = tmp_path / f"notice-{NEXT}.toml"
    notice.write_text(
        f'year = {NEXT}\nsource = "a test"\nholidays = ["{NEXT}-01-01"]\n', encoding="utf-8"
    )
    for option in ("--holidays", "--notice"):  # --notice: the old name, hidden
        result = run.invoke(
            app, ["calendar", "count", f"{NEXT}-01-01", f"{NEXT}-01-31", option, str(notice)]
        )
        assert result.exit_code == 0, result.output
        assert "provisional" not in result.stdout


def test_conflicting_notice_exits_2(run: CliRunner, tmp_path: Path) -> None:
    notice = tmp_path / "bad.json"
    notice.write_text(
        f'{{"year": {NEXT}, "source": "a test", "holidays": ["{NEXT}-01-02"], '
        f'"workdays": ["{NEXT}-01-02"]}}',
        encoding="utf-8",
    )
    result = run.invoke(
        app, ["calendar", "is-working-day", "2025-01-02", "--holidays", str(notice), "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "both" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["calendar", "is-working-day", "2025-13-01"],
        ["calendar", "add", "yesterday", "3"],
        ["calendar", "count", "2025-01-01", "soon"],
        ["deadline", "notice", "26/09/2025"],
        ["deadline", "change-filing", ""],
        ["calendar", "is-working-day", "2025-01-02", "--lang", "fr"],
    ],
)
def test_bad_input_exits_2(run: CliRunner, args: list[str]) -> None:
    result = run.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip()
    assert result.stdout == ""


def test_bad_count_is_a_usage_error(run: CliRunner) -> None:
    result = run.invoke(app, ["calendar", "add", "2025-01-02", "three"])
    assert result.exit_code == 2


def test_explain_names_article_and_holidays(run: CliRunner) -> None:
    result = run.invoke(app, ["deadline", "notice", "2025-09-26", "--explain", "--lang", "en"])
    assert result.exit_code == 0
    assert "Art. 13" in result.stdout
    assert "National Day" in result.stdout
    zh = run.invoke(app, ["deadline", "change-filing", "2025-09-25", "--explain"])
    assert "第十九条" in zh.stdout
