"""``kmbase inbox``, ``dashboard``, ``as-of``, ``round as-of``, ``db rebuild-work-queue``."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kmbase_workflow import Workflow
from kmbase_workflow.case import State
from kmbase_workflow.cli import app
from lifecycle_helpers import (
    BUREAU,
    HOME,
    OPERATOR,
    harness,
    sample_database,
    walk_to,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with a certified case (c1), a declared one (c2), a returned one (c3)."""
    return sample_database(str(tmp_path_factory.mktemp("cli") / "cases.db"))


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def asks(role: str, actor_id: str) -> list[str]:
    """``kmbase inbox`` asked by an actor named as every command names one."""
    return ["inbox", "--actor-role", role, "--actor-id", actor_id]


def test_inbox_lists_what_awaits_a_district_as_json_and_as_a_table(db: str) -> None:
    base = ["inbox", "--actor-role", "district_authority", "--actor-id", "d-1"]
    base += ["--actor-district", HOME]
    code, out = invoke(*base, "--db", db, "--today", "2025-07-20", "--json")
    assert code == 0
    page = json.loads(out)
    assert [(e["case_id"], e["kind"], e["overdue"]) for e in page["entries"]] == [
        ("c3", "lapsed_correction", False),  # its correction was due 2025-07-10 (第十条)
        ("c2", "declaration_review", False),
    ]
    assert page["entries"][0]["article"] == {"zh": "第十条", "en": "Art. 10"}
    code, out = invoke(*base, "--db", db, "--today", "2025-07-20", "--lang", "en")
    assert code == 0
    assert "review a declaration" in out
    code, out = invoke(*asks("operator", OPERATOR.id), "--db", db, "--today", "2026-02-03")
    assert code == 0
    assert "逾期" in out  # the 2026 annual report was due 2026-02-02


def test_inbox_pages_with_the_printed_cursor(db: str) -> None:
    base = ["inbox", "--actor-role", "city_bureau", "--actor-id", "b", "--db", db, "--json"]
    first = json.loads(invoke(*base, "--limit", "1", "--today", "2026-03-01")[1])
    assert first["next_cursor"] is None  # nothing else awaits the bureau
    operator = [*asks("operator", OPERATOR.id), "--db", db, "--json"]
    page = json.loads(invoke(*operator, "--limit", "1", "--today", "2026-03-01")[1])
    assert page["next_cursor"]
    rest = json.loads(
        invoke(*operator, "--today", "2026-03-01", "--cursor", page["next_cursor"])[1]
    )
    whole = json.loads(invoke(*operator, "--today", "2026-03-01")[1])
    assert [e["obligation"] for e in whole["entries"]] == ["correction", "annual_report:2026:base"]
    assert page["entries"] + rest["entries"] == whole["entries"]


@pytest.mark.parametrize(
    "args",
    [
        ["--actor-role", "king", "--actor-id", "x"],
        ["--actor-role", "district_authority", "--actor-id", "x"],
        ["--actor-role", "district_authority", "--actor-id", "x", "--actor-district", "火星区"],
        ["--actor-role", "city_bureau", "--actor-id", "x", "--today", "2025-13-01"],
        ["--actor-role", "city_bureau", "--actor-id", "x", "--cursor", "nope"],
        ["--actor-role", "city_bureau", "--actor-id", "x", "--limit", "0"],
        ["--actor-role", "city_bureau", "--actor-id", "x", "--state", "asleep"],
        ["--actor-role", "city_bureau", "--actor-id", " "],
    ],
)
def test_bad_inbox_input_is_exit_2_with_a_message(db: str, args: list[str]) -> None:
    result = runner.invoke(app, ["inbox", *args, "--db", db])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip()


def test_district_filters_and_a_district_authority_sees_its_own_only(db: str) -> None:
    board = ["dashboard", "--db", db, "--today", "2025-07-11", "--json", "--district"]
    home = json.loads(invoke(*board, HOME)[1])
    assert home["by_state"] == {"certified": 1, "declared": 1, "returned_for_correction": 1}
    assert json.loads(invoke(*board, "盘龙区")[1])["by_state"] == {}
    day = ["round", "as-of", "2025", "2025-06-20", "--db", db, "--json", "--district"]
    assert len(json.loads(invoke(*day, HOME)[1])["rows"]) == 3
    assert json.loads(invoke(*day, "盘龙区")[1])["rows"] == []
    district = ["inbox", "--actor-role", "district_authority", "--actor-id", "d"]
    district += ["--actor-district", HOME, "--db", db]
    assert invoke(*district, "--district", HOME)[0] == 0
    code, out = invoke(*district, "--district", "盘龙区", "--json")
    assert code == 2
    assert json.loads(out)["error"]["code"] == "invalid_input"


@pytest.mark.parametrize(
    "args",
    [
        ["inbox", "--actor-role", "king", "--actor-id", "x"],
        ["inbox", "--role", "city_bureau", "--id", "x"],  # the names before the conventions
        ["inbox", "--actor-role", "city_bureau", "--actor-id", "x", "--as-of", "2025-07-01"],
        ["dashboard", "--today", "2025-02-30"],
        ["dashboard", "--district", "火星区"],
        ["as-of", "c1", "yesterday"],
    ],
)
def test_bad_input_with_json_is_one_error_object_on_stdout(db: str, args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--db", db, "--json"])
    assert result.exit_code == 2
    assert result.stderr == ""
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 2
    assert error["message"]["zh"]
    assert error["message"]["en"]


def test_a_missing_database_is_bad_input(tmp_path: Path) -> None:
    code, _ = invoke(*asks("city_bureau", "b"), "--db", f"sqlite:///{tmp_path}/x.db")
    assert code == 2


def test_dashboard_as_json(db: str) -> None:
    code, out = invoke(
        "dashboard", "--db", db, "--today", "2025-07-11", "--round", "2025", "--json"
    )
    assert code == 0
    board = json.loads(out)
    assert board["by_state"] == {"certified": 1, "declared": 1, "returned_for_correction": 1}
    assert [e["case_id"] for e in board["overdue"]] == ["c3"]
    code, out = invoke("dashboard", "--db", db, "--today", "2025-07-11", "--lang", "en")
    assert code == 0
    assert "overdue" in out


def test_as_of_shows_a_past_day_and_what_was_known_at_certification(db: str) -> None:
    code, out = invoke("as-of", "c1", "2025-09-30", "--db", db, "--json")
    assert code == 0
    assert json.loads(out)["state"] == "publicized"
    code, out = invoke("as-of", "c1", "--before", "certify", "--db", db, "--json")
    assert code == 0
    known = json.loads(out)
    assert known["step"]["action"] == "certify"
    assert known["before"]["state"] == "verified"
    code, out = invoke("as-of", "c1", "2025-06-19", "--db", db, "--lang", "en")
    assert code == 0
    assert "not declared yet" in out
    assert invoke("as-of", "c1", "--db", db)[0] == 2
    assert invoke("as-of", "c1", "--before", "dance", "--db", db)[0] == 2
    assert invoke("as-of", "nope", "2025-09-30", "--db", db)[0] == 2


def test_round_as_of_lists_the_round_on_a_day(db: str) -> None:
    code, out = invoke("round", "as-of", "2025", "2025-06-20", "--db", db, "--json")
    assert code == 0
    assert json.loads(out)["by_state"] == {
        "site_inspected": 1,
        "declared": 1,
        "returned_for_correction": 1,
    }


def test_a_tampered_case_makes_as_of_exit_1_and_rebuild_mends_the_queue(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    h = harness()
    h.workflow = Workflow(f"sqlite:///{path}", clock=h.clock)
    h.workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    walk_to(h, State.DECLARED)
    h.workflow.close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE cases SET data = json_set(data, '$.declared_on', '2025-01-01')")
        raw.execute("DELETE FROM work_queue")
        raw.execute("INSERT INTO work_queue_status VALUES ('stale', 'test')")
    raw.close()
    url = f"sqlite:///{path}"
    code, out = invoke("as-of", "c1", "2025-07-01", "--db", url, "--lang", "en")
    assert code == 1
    assert "differs from the stored case" in out
    inbox = ["inbox", "--actor-role", "district_authority", "--actor-id", "d"]
    inbox += ["--actor-district", HOME, "--db", url]
    assert invoke(*inbox)[0] == 6  # the queue must be rebuilt
    code, out = invoke("db", "rebuild-work-queue", "--check", "--db", url, "--json")
    assert code == 1
    assert json.loads(out)["stale"]
    assert "1 row(s) missing" in json.loads(out)["findings"][0]["en"]
    code, out = invoke("db", "rebuild-work-queue", "--db", url, "--json")
    assert (code, json.loads(out)) == (0, {"cases": 1, "replaced": 1, "overtaken": 0})
    assert invoke("db", "rebuild-work-queue", "--check", "--db", url)[0] == 0
    code, out = invoke(*inbox, "--json", "--today", "2025-07-01")
    assert code == 0
    assert [e["case_id"] for e in json.loads(out)["entries"]] == ["c1"]


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    args=st.lists(
        st.one_of(
            st.sampled_from(
                ["--actor-role", "--actor-id", "--actor-district", "--district", "--round",
                 "--state", "--limit", "--cursor", "--today", "--json", "city_bureau",
                 "district_authority", "operator", HOME, "2025-07-01", "0", "-1", "declared"]
            ),
            st.text(max_size=8),
        ),
        max_size=10,
    )
)  # fmt: skip
def test_any_arguments_end_in_a_documented_exit_code(db: str, args: list[str]) -> None:
    for command in (["inbox"], ["dashboard"], ["as-of"]):
        result = runner.invoke(app, [*command, *args, "--db", db])
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
