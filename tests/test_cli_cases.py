"""The case commands as a script drives them: a SQLite file, JSON output, exit codes."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import attrs
import pytest
from typer.testing import CliRunner

from kmbase_workflow.cli import app
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.serialization import dumps_json
from kmbase_workflow.stores._schema import MIGRATION_NAMES

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/cases.db"
    assert runner.invoke(app, ["db", "init", "--db", url]).exit_code == 0
    opened = runner.invoke(app, ["round", "open", "2025", "2025-06-01", "2025-07-31", "--db", url])
    assert opened.exit_code == 0, opened.output
    return url


@pytest.fixture
def application(tmp_path: Path) -> Path:
    path = tmp_path / "application.json"
    path.write_text(dumps_json(eligible_application()), encoding="utf-8")
    return path


def _declare(db: str, application: Path, *extra: str) -> str:
    result = runner.invoke(
        app, ["declare", str(application), "--db", db, "--today", "2025-06-20", *extra]
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_db_init_reports_the_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "init", "--db", f"sqlite:///{tmp_path}/new.db"])
    assert result.exit_code == 0
    assert result.stdout.strip() == " ".join(MIGRATION_NAMES)
    upgraded = runner.invoke(app, ["db", "upgrade", "--db", f"sqlite:///{tmp_path}/new.db"])
    assert upgraded.stdout.strip() == " ".join(MIGRATION_NAMES)


def test_a_newer_database_is_refused_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    runner.invoke(app, ["db", "init", "--db", f"sqlite:///{path}"])
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('kmbase_workflow', 'm999_future', '2030-01-01')"
    )
    raw.commit()
    result = runner.invoke(app, ["db", "init", "--db", f"sqlite:///{path}", "--lang", "en"])
    assert result.exit_code == 2
    assert "newer schema" in result.stderr


def test_the_store_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KMBASE_DB", f"sqlite:///{tmp_path}/env.db")
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    assert (tmp_path / "env.db").exists()


def test_a_second_round_in_a_year_is_refused(db: str) -> None:
    again = runner.invoke(app, ["round", "open", "2025", "2025-09-01", "2025-09-30", "--db", db])
    assert again.exit_code == 1
    listed = runner.invoke(app, ["round", "list", "--db", db, "--format", "json"])
    assert [r["year"] for r in json.loads(listed.stdout)] == [2025]


def test_declare_show_and_history(db: str, application: Path) -> None:
    case_id = _declare(db, application, "--case-id", "wuhua-2025")
    assert case_id == "wuhua-2025"
    shown = runner.invoke(app, ["show", case_id, "--db", db, "--format", "json"])
    data = json.loads(shown.stdout)
    assert (data["state"], data["round"], data["district"]) == ("declared", 2025, "五华区")
    assert data["policy"] == "kunming-2022"
    table = runner.invoke(app, ["show", case_id, "--db", db, "--lang", "en"])
    assert "declared" in table.stdout
    history = runner.invoke(app, ["history", case_id, "--db", db, "--format", "json"])
    assert history.exit_code == 0
    record = json.loads(history.stdout)
    assert record["verified"] is True
    assert [entry["action"] for entry in record["entries"]] == ["declare"]


def test_declaring_outside_the_round_is_refused_with_its_article(
    db: str, application: Path
) -> None:
    result = runner.invoke(
        app, ["declare", str(application), "--db", db, "--today", "2025-08-01", "--lang", "en"]
    )
    assert result.exit_code == 1
    assert "Art. 9" in result.stderr
    assert result.stdout == ""


def test_missing_materials_are_named(db: str, tmp_path: Path) -> None:
    path = tmp_path / "ineligible.json"
    path.write_text(dumps_json(ineligible_application()), encoding="utf-8")
    result = runner.invoke(
        app, ["declare", str(path), "--db", db, "--today", "2025-06-20", "--lang", "en"]
    )
    assert result.exit_code == 1
    assert "Art. 8(3)" in result.stderr


def test_a_declare_key_makes_a_rerun_safe(db: str, application: Path) -> None:
    first = _declare(db, application, "--key", "import-2025:wuhua")
    again = _declare(db, application, "--key", "import-2025:wuhua")
    assert first == again


def test_an_unknown_case_is_bad_input(db: str) -> None:
    result = runner.invoke(app, ["show", "nothing", "--db", db, "--lang", "en"])
    assert result.exit_code == 2
    assert "no case with id nothing" in result.stderr


def test_a_tampered_history_fails_verification(db: str, application: Path, tmp_path: Path) -> None:
    case_id = _declare(db, application)
    raw = sqlite3.connect(tmp_path / "cases.db")
    raw.execute("DROP TRIGGER history_no_update")  # an intruder with file access
    raw.execute('UPDATE history SET data = replace(data, \'"reason":""\', \'"reason":"x"\')')
    raw.commit()
    result = runner.invoke(app, ["history", case_id, "--db", db, "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_bad_position"] == 1


def test_sweep_and_follow(db: str, application: Path) -> None:
    _declare(db, application)
    swept = runner.invoke(app, ["sweep", "--db", db, "--now", "2025-06-21", "--format", "json"])
    assert swept.exit_code == 0
    assert json.loads(swept.stdout)["events"] == []
    first = runner.invoke(app, ["follow", "portal", "--db", db])
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    # the round's opening (an event of round:2025), then the declaration
    assert [line["type"] for line in lines] == ["round_opened", "declared"]
    assert (lines[0]["case_id"], lines[0]["actor"]["role"]) == ("round:2025", "city_bureau")
    declared = lines[1]
    # who acted and the states moved between (the event document of docs/events.md)
    assert declared["actor"]["role"] == "operator"
    assert declared["actor"]["id"]
    assert (declared["from_state"], declared["to_state"]) == (None, "declared")
    assert declared["schema_version"] >= 2
    assert declared["position"] == 2
    again = runner.invoke(app, ["follow", "portal", "--db", db])
    assert again.stdout == ""  # the cursor moved on
    other = runner.invoke(app, ["follow", "archive", "--db", db])
    assert len(other.stdout.splitlines()) == 2  # each consumer has its own cursor


def test_follow_needs_a_positive_limit(db: str) -> None:
    assert runner.invoke(app, ["follow", "portal", "--db", db, "--limit", "0"]).exit_code == 2


def _fire(db: str, case_id: str, trigger: str, *options: str) -> object:
    return runner.invoke(
        app,
        ["fire", case_id, trigger, "--db", db, "--today", "2025-07-15", "--lang", "en", *options],
    )


def test_fire_declines_as_the_district_and_records_the_reason(db: str, application: Path) -> None:
    case_id = _declare(db, application)
    authority = ["--actor-role", "district_authority", "--actor-id", "五华区工信局"]
    result = _fire(
        db, case_id, "decline", *authority, "--actor-district", "五华区", "--reason", "材料不实",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "not_recommended"
    history = json.loads(
        runner.invoke(app, ["history", case_id, "--db", db, "--format", "json"]).stdout
    )
    assert history["entries"][-1]["reason"] == "材料不实"


@pytest.mark.parametrize("command", ["fire", "bulk"])
def test_a_bad_payload_is_the_steps_payload_error(db: str, application: Path, command: str) -> None:
    """Not an error of the application format (issue 22): the step's payload, each problem
    with its path, and where the step's payloads are described."""
    case_id = _declare(db, application)
    authority = ["--actor-role", "district_authority", "--actor-id", "五华区工信局"]
    result = _fire(
        db, case_id, "recommend", *authority, "--actor-district", "五华区",
        "--payload", '{"opinion": 3}', "--json",
    ) if command == "fire" else runner.invoke(
        app, ["bulk", "recommend", case_id, *authority, "--actor-district", "五华区", "--db", db,
              "--payload", '{"opinion": 3}', "--json", "--today", "2025-07-15"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["type"]) == ("payload_format", "PayloadFormatError")
    assert error["message"]["en"].startswith("the payload of recommend has 3 problem(s)")
    assert error["message"]["zh"].startswith("recommend 的附带数据 有 3 处错误")
    assert "application" not in error["hint"]["en"]
    assert "docs/how-to/bulk.md" in error["hint"]["en"]
    assert {
        "zh": "opinion：应为文本，实际为 3",
        "en": "opinion: expected a string, got 3",
    } in error["problems"]
    shown = runner.invoke(app, ["show", case_id, "--db", db, "--json"])
    assert json.loads(shown.stdout)["state"] == "declared"


def test_fire_refuses_another_district_with_the_article(db: str, application: Path) -> None:
    case_id = _declare(db, application)
    result = _fire(
        db, case_id, "decline", "--actor-role", "district_authority", "--actor-id", "呈贡区工信局",
        "--actor-district", "呈贡区", "--reason", "x",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Art. 4, 9 (locality)" in result.stderr


def test_fire_with_a_stale_version_is_a_conflict(db: str, application: Path) -> None:
    case_id = _declare(db, application)
    result = _fire(
        db, case_id, "withdraw", "--actor-role", "operator",
        "--actor-id", eligible_application().operator.unified_social_credit_code, "--expected-version", "7",
    )  # fmt: skip
    assert result.exit_code == 4
    assert "changed meanwhile" in result.stderr


def test_fire_rejects_unknown_triggers_roles_and_payloads(db: str, application: Path) -> None:
    case_id = _declare(db, application)
    bureau = ["--actor-role", "city_bureau", "--actor-id", "市工业和信息化局"]
    assert _fire(db, case_id, "approve", *bureau).exit_code == 2
    assert _fire(db, case_id, "decline", "--actor-role", "mayor", "--actor-id", "x").exit_code == 2
    not_json = _fire(db, case_id, "publicize", *bureau, "--payload", "{oops")
    assert not_json.exit_code == 2
    assert "not valid JSON" in not_json.stderr


MARKUP = "[/b][red]园区[/] :thumbs_up:"
"""Data that rich would take for markup (a closing tag with nothing open) and an emoji code."""


def test_markup_in_data_is_shown_as_it_is(db: str, tmp_path: Path) -> None:
    original = eligible_application()
    application = tmp_path / "markup.json"
    named = attrs.evolve(original, base=attrs.evolve(original.base, name=MARKUP))
    application.write_text(dumps_json(named), encoding="utf-8")
    case_id = _declare(db, application, "--case-id", "[b]c1")
    declined = _fire(
        db, case_id, "decline", "--actor-role", "district_authority", "--actor-id", "[/i]科员",
        "--actor-district", "五华区", "--reason", "[/red]理由 :x:",
    )  # fmt: skip
    assert declined.exit_code == 0, declined.output
    for command in ("show", "history"):
        for lang in ("zh", "en"):
            result = runner.invoke(
                app, [command, case_id, "--db", db, "--lang", lang], env={"COLUMNS": "200"}
            )
            assert result.exit_code == 0, (command, result.output)
            text = "".join(result.stdout.split())  # the table may wrap a long cell
            assert "[b]c1" in text, command
            assert "[/red]理由:x:" in text, command
    wide = {"COLUMNS": "200"}
    shown = runner.invoke(app, ["show", case_id, "--db", db], env=wide).stdout
    assert MARKUP in shown
    history = runner.invoke(app, ["history", case_id, "--db", db], env=wide).stdout
    assert "[/i]科员" in history


def test_the_command_lines_today_is_recorded_back_dating(tmp_path: Path) -> None:
    """--today claims a day; the history records when the step was really entered, and a day
    that has not come is refused (exit 2)."""
    db = f"sqlite:///{tmp_path / 'dated.db'}"
    assert (
        runner.invoke(
            app, ["round", "open", "2025", "2025-06-01", "2025-07-31", "--db", db]
        ).exit_code
        == 0
    )
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "eligible.json"
    declared = runner.invoke(
        app, ["declare", str(example), "--db", db, "--today", "2025-06-20", "--case-id", "c1"]
    )
    assert declared.exit_code == 0, declared.output
    shown = runner.invoke(app, ["history", "c1", "--db", db, "--format", "json"])
    assert '"entered_at"' in shown.output
    future = runner.invoke(
        app,
        ["fire", "c1", "withdraw", "--db", db, "--today", "2999-01-01", "--actor-role", "operator",
         "--actor-id", eligible_application().operator.unified_social_credit_code],
    )  # fmt: skip
    assert future.exit_code == 2, future.output


def test_round_select_ranks_and_records_one_decision(db: str) -> None:
    """Every action of the library has its command: 择优 (第十一条) from the command line."""
    from kmbase_workflow import Actor, FixedClock, Role, Workflow
    from kmbase_workflow.case import Recommendation
    from kmbase_workflow.records import SpotCheck
    from kmbase_workflow.stores import open_store

    application = eligible_application()
    with Workflow(open_store(db), clock=FixedClock(dt.date(2025, 6, 20))) as workflow:
        workflow.declare(application, Actor.for_operator(application.operator), case_id="r1")
        district = Actor(Role.DISTRICT_AUTHORITY, "wh-1", district=application.base.district)
        workflow.recommend("r1", district, Recommendation("同意", True, SpotCheck(60, 6, 6)))
        workflow.record_expert_opinion("r1", Actor(Role.EXPERT, "e-1"), 88, "好")
    result = runner.invoke(
        app,
        ["round", "select", "2025", "--quota", "1", "--db", db, "--today", "2025-06-21",
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"case": "r1", "rank": 1, "score": 88.0, "selected": True, "decision": 1}
    ]


def test_the_version_is_printed() -> None:
    import kmbase_workflow

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"kmbase {kmbase_workflow.__version__}"
