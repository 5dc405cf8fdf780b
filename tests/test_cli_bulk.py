"""``kmbase bulk`` as a user runs it: in-process through typer's CliRunner on a SQLite file,
and in real processes — one killed mid-run and resumed with the run id it printed."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from kmbase_workflow.case import State
from kmbase_workflow.cli._bulk import bulk
from kmbase_workflow.clock import FixedClock
from kmbase_workflow.errors import ConcurrencyConflictError
from kmbase_workflow.stores import Change, open_store
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import (
    BUREAU,
    DECLARED_ON,
    ROUND_CLOSES,
    ROUND_OPENS,
    Harness,
    other_base,
    walk_to,
)

CASES = ("c0", "c1", "c2", "c3", "c4", "c5")
BUREAU_ARGS = ["--actor-role", "city_bureau", "--actor-id", "市工业和信息化局"]
TODAY = ["--today", "2025-09-26"]

app = typer.Typer(add_completion=False, rich_markup_mode=None)
app.command("bulk")(bulk)


@app.command("noop")
def _noop() -> None:
    """A second command, so that ``bulk`` is a sub-command as on the ``kmbase`` app."""


runner = CliRunner()

_MOUNT = "import typer; from kmbase_workflow.cli._bulk import bulk; app = typer.Typer(); app.command('bulk')(bulk); app.command('noop')(lambda: None); "

_KILLER = """
import os, signal
from kmbase_workflow.workflow import Workflow
limit = int(os.environ["KMBASE_TEST_KILL_AFTER_COMMITS"])
original = Workflow.commit
done = 0
def commit(self, changes):
    global done
    failures = original(self, changes)
    done += 1
    if done >= limit:
        os.kill(os.getpid(), signal.SIGKILL)
    return failures
Workflow.commit = commit
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with cases c0 … c5 at site_inspected and d1 only declared (built once)."""
    path = tmp_path_factory.mktemp("bulk") / "template.db"
    store = open_store(f"sqlite:///{path}")
    clock = FixedClock(DECLARED_ON)
    workflow = Workflow(store, clock=clock)
    h = Harness(workflow, clock, store)  # type: ignore[arg-type]
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    for number, case_id in enumerate(CASES):
        walk_to(h, State.SITE_INSPECTED, case_id, other_base(f"第{number}创业园"))
    walk_to(h, State.DECLARED, "d1", other_base("未推荐园"))
    store.close()
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> str:
    """A fresh copy of the template database, as a store URL."""
    for file in template.parent.glob(template.name + "*"):
        shutil.copy(file, tmp_path / file.name.replace("template", "cases"))
    return f"sqlite:///{tmp_path / 'cases.db'}"


def invoke(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["bulk", *args, "--db", db])
    return result.exit_code, result.stdout, result.stderr


def states(db: str) -> dict[str, str]:
    store = open_store(db)
    try:
        return {case_id: store.get(case_id).state.value for case_id in (*CASES, "d1")}
    finally:
        store.close()


def publicize_entries(db: str) -> dict[str, int]:
    store = open_store(db)
    try:
        return {
            case_id: sum(1 for e in store.history(case_id) if e.action == "publicize")
            for case_id in CASES
        }
    finally:
        store.close()


def outbox_size(db: str) -> int:
    store = open_store(db)
    try:
        return len(store.read_outbox(0, 100_000))
    finally:
        store.close()


def test_publicize_by_ids_json_report(db: str) -> None:
    code, out, err = invoke(
        db, "publicize", "c0", "c1", *BUREAU_ARGS, *TODAY, "--format", "json", "--run-id", "r1"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["run_id"] == "r1"
    assert report["succeeded"] == ["c0", "c1"]
    assert report["exit_code"] == 0
    assert report["items"][0]["from_state"] == "site_inspected"
    assert report["items"][0]["to_state"] == "publicized"
    assert "r1" in err
    assert states(db)["c0"] == "publicized"
    assert states(db)["c2"] == "site_inspected"


def test_the_table_in_english_and_a_generated_run_id(db: str) -> None:
    code, out, err = invoke(db, "publicize", "c0", "d1", *BUREAU_ARGS, *TODAY, "--lang", "en")
    assert code == 1
    assert re.search(r"run id: bulk-[0-9a-f]{12}", err)
    assert "bulk publicize bulk-" in out
    assert "succeeded" in out
    assert "refused" in out
    assert "Art. 13" in out
    code, out, _ = invoke(db, "publicize", "c1", *BUREAU_ARGS, *TODAY)
    assert code == 0
    assert "批量社会公示" in out
    assert "成功" in out


def test_dry_run_writes_nothing(db: str) -> None:
    before = (states(db), outbox_size(db), publicize_entries(db))
    code, out, _ = invoke(
        db, "publicize", *CASES, "d1", *BUREAU_ARGS, *TODAY, "--dry-run", "--format", "json"
    )
    report = json.loads(out)
    assert code == 1
    assert report["dry_run"] is True
    assert report["would_succeed"] == list(CASES)
    assert report["refused"] == ["d1"]
    assert report["transactions"] == 0
    assert (states(db), outbox_size(db), publicize_entries(db)) == before


def test_one_transaction_per_chunk(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from kmbase_workflow.stores.sqlite import SQLiteStore

    chunks: list[list[str]] = []
    original = SQLiteStore.commit_many

    def spy(self: SQLiteStore, changes: Sequence[Change]) -> None:
        chunks.append([change.case.id for change in changes])
        original(self, changes)

    monkeypatch.setattr(SQLiteStore, "commit_many", spy)
    outbox = outbox_size(db)
    code, out, _ = invoke(
        db, "publicize", *CASES, *BUREAU_ARGS, *TODAY, "--chunk-size", "4", "--format", "json"
    )
    assert code == 0
    assert chunks == [["c0", "c1", "c2", "c3"], ["c4", "c5"]]
    assert json.loads(out)["transactions"] == 2
    assert outbox_size(db) == outbox + 6


def test_stop_on_refusal(db: str) -> None:
    code, out, _ = invoke(
        db, "publicize", "c0", "d1", "c1", "c2", *BUREAU_ARGS, *TODAY,
        "--stop-on-refusal", "--format", "json",
    )  # fmt: skip
    report = json.loads(out)
    assert code == 1
    assert report["succeeded"] == ["c0"]
    assert report["refused"] == ["d1"]
    assert report["not_attempted"] == ["c1", "c2"]
    assert states(db)["c1"] == "site_inspected"


def test_exit_2_for_an_unknown_id(db: str) -> None:
    code, out, _ = invoke(db, "publicize", "c0", "nobody", *BUREAU_ARGS, *TODAY, "--format", "json")
    assert code == 2
    assert json.loads(out)["not_found"] == ["nobody"]


def test_exit_4_when_a_case_conflicts_and_a_rerun_finishes(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmbase_workflow.stores.sqlite import SQLiteStore

    original = SQLiteStore.commit_many

    def busy_c1(self: SQLiteStore, changes: Sequence[Change]) -> None:
        if any(change.case.id == "c1" for change in changes):
            raise ConcurrencyConflictError.stale_version(
                "c1", changes[0].expected_version, changes[0].expected_version + 1
            )
        original(self, changes)

    monkeypatch.setattr(SQLiteStore, "commit_many", busy_c1)
    args = ["publicize", "c0", "c1", "c2", *BUREAU_ARGS, *TODAY, "--run-id", "r1"]
    code, out, _ = invoke(db, *args, "--format", "json")
    assert code == 4
    report = json.loads(out)
    assert report["conflicted"] == ["c1"]
    assert report["succeeded"] == ["c0", "c2"]
    monkeypatch.setattr(SQLiteStore, "commit_many", original)
    code, out, _ = invoke(db, *args, "--format", "json")
    assert code == 0
    assert json.loads(out)["skipped"] == ["c0", "c2"]
    assert publicize_entries(db)["c1"] == 1


@pytest.fixture
def in_2031(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A machine in 2031, whose holiday data stops earlier (a claimed day after the real one
    would be refused with exit 2 before the calendar is asked); the --today to claim."""
    import kmbase_workflow.clock

    monkeypatch.setattr(
        kmbase_workflow.clock, "SystemClock", lambda: FixedClock(dt.date(2031, 3, 3))
    )
    return ["--today", "2031-03-03"]


def test_exit_3_without_calendar_data(db: str, in_2031: list[str]) -> None:
    code, out, err = invoke(db, "publicize", "c0", *BUREAU_ARGS, *in_2031)
    assert code == 3
    assert out == ""
    assert "2031" in err


def test_bulk_takes_allow_provisional_as_fire_does(db: str, in_2031: list[str]) -> None:
    code, out, err = invoke(
        db, "publicize", "c0", *BUREAU_ARGS, *in_2031, "--allow-provisional", "--json"
    )
    assert code == 0, out + err
    assert json.loads(out)["succeeded"] == ["c0"]
    assert states(db)["c0"] == "publicized"


def test_bulk_takes_holiday_files_as_fire_does(db: str, in_2031: list[str], tmp_path: Path) -> None:
    holidays = tmp_path / "2031.json"  # holiday-cn's format; dates invented for the test
    holidays.write_text(
        json.dumps(
            {
                "year": 2031,
                "papers": ["https://example.org/notice-2031"],
                "days": [{"name": "元旦", "date": "2031-01-01", "isOffDay": True}],
            }
        ),
        encoding="utf-8",
    )
    for case_id, option in (("c0", "--holidays"), ("c1", "--notice")):  # --notice: deprecated
        code, out, err = invoke(
            db, "publicize", case_id, *BUREAU_ARGS, *in_2031, option, str(holidays), "--json"
        )
        assert code == 0, out + err
        assert json.loads(out)["succeeded"] == [case_id]


def test_bulk_takes_a_policy_file_as_fire_does(db: str, tmp_path: Path) -> None:
    import kmbase_workflow.policy

    bundled = Path(kmbase_workflow.policy.__file__).parent / "data" / "kunming_2022.toml"
    own = tmp_path / "policy.toml"
    own.write_text(bundled.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = invoke(db, "publicize", "c0", *BUREAU_ARGS, *TODAY, "--policy", str(own))
    assert code == 0, out + err
    broken = tmp_path / "broken.toml"
    broken.write_text("id = 1", encoding="utf-8")
    code, out, err = invoke(
        db, "publicize", "c1", *BUREAU_ARGS, *TODAY, "--policy", str(broken), "--json"
    )
    assert code == 2
    assert json.loads(out)["error"]["code"] == "policy_format"
    assert states(db)["c1"] == "site_inspected"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["publicise", "c0", *BUREAU_ARGS], "unknown trigger"),
        (["declare", "c0", *BUREAU_ARGS], "declare cannot run in bulk"),
        (["publicize", *BUREAU_ARGS], "no cases chosen"),
        (["publicize", "c0", "--state", "site_inspected", *BUREAU_ARGS], "not both"),
        (["publicize", "--state", "inspected", *BUREAU_ARGS], "invalid --state"),
        (["publicize", "c0", "--actor-role", "mayor", "--actor-id", "x"], "invalid --actor-role"),
        (["publicize", "c0", "--actor-role", "city_bureau"], "--actor-id is missing"),
        (["decline", "c0", "--actor-role", "district_authority", "--actor-id", "x"], "district"),
        (["decline", "c0", *BUREAU_ARGS, "--payload", '{"a": 1}'], "takes no payload"),
        (["publicize", "c0", *BUREAU_ARGS, "--payload", "{"], "not valid JSON"),
        (["publicize", "c0", *BUREAU_ARGS, "--today", "2025-02-30"], "--today"),
        (["publicize", "--csv-column", "ids.csv", *BUREAU_ARGS], "FILE:COLUMN"),
        (["publicize", "--ids-file", "missing.txt", *BUREAU_ARGS], "cannot read"),
        (["publicize", "c0", *BUREAU_ARGS, "--lang", "fr"], "unsupported language"),
    ],
)
def test_exit_2_for_bad_input(db: str, args: list[str], message: str) -> None:
    code, out, err = (
        invoke(db, *args, "--lang", "en") if "--lang" not in args else invoke(db, *args)
    )
    assert code == 2, err
    assert out == ""
    assert message in err
    assert publicize_entries(db) == dict.fromkeys(CASES, 0)


def test_chunk_size_must_be_positive(db: str) -> None:
    code, _, _ = invoke(db, "publicize", "c0", *BUREAU_ARGS, "--chunk-size", "0")
    assert code == 2


def test_ids_file_csv_column_and_csv_report(db: str, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("c0\n# 暂缓\nc1\n", encoding="utf-8")
    table = tmp_path / "名单.csv"
    table.write_text("基地,case\n甲,c2\n乙,nobody\n", encoding="utf-8")
    report_file = tmp_path / "report.csv"
    code, _, _ = invoke(
        db, "publicize", "c3", "--ids-file", str(ids), "--csv-column", f"{table}:case",
        *BUREAU_ARGS, *TODAY, "--csv", str(report_file), "--lang", "en",
    )  # fmt: skip
    assert code == 2
    with report_file.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["case_id"] for row in rows] == ["c3", "c0", "c1", "c2", "nobody"]
    assert [row["status"] for row in rows] == ["succeeded"] * 4 + ["not_found"]
    assert rows[-1]["message"] == "no case with id nobody"
    assert list(rows[0]) == [
        "case_id", "status", "from_state", "to_state", "guards", "articles", "message",
    ]  # fmt: skip


def test_ids_from_files_saved_in_gbk_as_the_csv_import_reads_them(db: str, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes("# 公示名单\nc0\n".encode("gbk"))
    table = tmp_path / "名单.csv"
    table.write_bytes("基地,case\n甲,c1\n".encode("gbk"))  # Excel's CSV on Chinese Windows
    code, out, err = invoke(
        db, "publicize", "--ids-file", str(ids), "--csv-column", f"{table}:case",
        *BUREAU_ARGS, *TODAY, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["succeeded"] == ["c0", "c1"]


@pytest.mark.parametrize("option", ["--ids-file", "--csv-column"])
def test_an_ids_file_that_is_not_text_is_bad_input(db: str, tmp_path: Path, option: str) -> None:
    binary = tmp_path / "ids.bin"
    binary.write_bytes(b"case\n\xff\xfe\x80\x81c0\n")
    spec = str(binary) if option == "--ids-file" else f"{binary}:case"
    for lang, words in (("en", "neither UTF-8 nor GB18030"), ("zh", "既不是 UTF-8 也不是 GB18030")):
        code, out, err = invoke(db, "publicize", option, spec, *BUREAU_ARGS, "--lang", lang)
        assert code == 2, err
        assert out == ""
        assert words in err
    assert publicize_entries(db) == dict.fromkeys(CASES, 0)


def test_selection_by_query_with_a_payload(db: str) -> None:
    code, out, _ = invoke(
        db, "announce_notice", "--state", "site_inspected", "--round", "2025", "--district", "五华区",
        *BUREAU_ARGS, *TODAY, "--payload", '{"starts_on": "2025-09-29"}', "--format", "json",
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["succeeded"] == list(CASES)
    store = open_store(db)
    try:
        notice = store.get("c0").notice
        assert notice is not None
        assert notice.start.isoformat() == "2025-09-29"
    finally:
        store.close()


def test_the_store_url_from_the_environment(db: str) -> None:
    result = runner.invoke(
        app, ["bulk", "publicize", "c0", *BUREAU_ARGS, *TODAY], env={"KMBASE_DB": db}
    )
    assert result.exit_code == 0
    assert states(db)["c0"] == "publicized"


def test_every_option_is_declared_as_documented() -> None:
    command = typer.main.get_command(app).commands["bulk"]  # type: ignore[attr-defined]
    options = {opt for param in command.params for opt in param.opts if opt.startswith("--")}
    assert {
        "--ids-file", "--csv-column", "--state", "--round", "--district", "--base",
        "--actor-role", "--actor-id", "--actor-district", "--reason", "--payload",
        "--dry-run", "--chunk-size", "--stop-on-refusal", "--run-id", "--db", "--format",
        "--csv", "--lang", "--today",
    } <= options  # fmt: skip


def _process(
    db: str, *args: str, env: dict[str, str] | None = None, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", prelude + _MOUNT + "app()", "bulk", *args, "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_a_killed_run_resumes_with_its_run_id_and_applies_each_transition_once(db: str) -> None:
    args = ["publicize", *CASES, *BUREAU_ARGS, *TODAY, "--chunk-size", "1"]
    killed = _process(db, *args, env={"KMBASE_TEST_KILL_AFTER_COMMITS": "2"}, prelude=_KILLER)
    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout == ""  # no report: the process died
    found = re.search(r"--run-id (bulk-[0-9a-f]+)", killed.stderr)
    assert found, killed.stderr
    run_id = found.group(1)
    assert list(publicize_entries(db).values()) == [1, 1, 0, 0, 0, 0]
    resumed = _process(db, *args, "--run-id", run_id, "--format", "json")
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["run_id"] == run_id
    assert report["skipped"] == ["c0", "c1"]
    assert report["succeeded"] == ["c2", "c3", "c4", "c5"]
    assert publicize_entries(db) == dict.fromkeys(CASES, 1)
    again = _process(db, *args, "--run-id", run_id, "--format", "json")
    assert json.loads(again.stdout)["skipped"] == list(CASES)
    assert publicize_entries(db) == dict.fromkeys(CASES, 1)


def test_a_real_process_prints_no_progress_bar_when_piped(db: str) -> None:
    done = _process(db, "publicize", "c0", "c1", *BUREAU_ARGS, *TODAY)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().count("\n") == 0  # the run id line, nothing else
    assert "━" not in done.stderr
    assert "c0" in done.stdout


def test_mounted_on_the_kmbase_app() -> None:
    from kmbase_workflow.cli import app as kmbase

    commands = typer.main.get_command(kmbase).commands  # type: ignore[attr-defined]
    if "bulk" not in commands:
        pytest.skip("kmbase bulk is not mounted on the kmbase app yet")
    done = subprocess.run(
        [sys.executable, "-c", "from kmbase_workflow.cli import main; main()", "bulk", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "--run-id" in done.stdout


# -- the report is never lost, and data is never markup or a formula (issues 11, 12) -------------


def test_markup_in_a_case_id_is_shown_as_it_is(db: str) -> None:
    code, out, err = invoke(db, "publicize", "c0", "[/b]", "[red]x", *BUREAU_ARGS, *TODAY)
    assert code == 2, err
    flat = "".join(out.split())
    assert "[/b]" in flat
    assert "[red]x" in flat
    assert states(db)["c0"] == "publicized"


def test_the_csv_report_neutralises_formulas(db: str, tmp_path: Path) -> None:
    report_file = tmp_path / "report.csv"
    code, _, _ = invoke(
        db, "publicize", "c0", "=HYPERLINK(1)", "@x", *BUREAU_ARGS, *TODAY,
        "--csv", str(report_file), "--format", "json",
    )  # fmt: skip
    assert code == 2
    with report_file.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["case_id"] for row in rows] == ["c0", "'=HYPERLINK(1)", "'@x"]
    assert rows[1]["message"] == "没有编号为 =HYPERLINK(1) 的案件"  # not at the start: as it is


@pytest.mark.parametrize("where", ["a folder", "a missing folder"])
def test_a_csv_report_path_that_cannot_be_written_is_refused_before_any_work(
    db: str, tmp_path: Path, where: str
) -> None:
    target = tmp_path if where == "a folder" else tmp_path / "missing" / "report.csv"
    code, out, err = invoke(
        db, "publicize", "c0", *BUREAU_ARGS, *TODAY, "--csv", str(target), "--lang", "en"
    )
    assert code == 2
    assert out == ""
    assert "--csv" in err
    assert str(target) in err
    assert publicize_entries(db) == dict.fromkeys(CASES, 0)


def test_a_csv_report_that_fails_after_the_commit_still_reaches_stdout(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmbase_workflow.bulk import BulkReport

    def disk_full(self: BulkReport, target: object, lang: str = "zh") -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(BulkReport, "write_csv", disk_full)
    code, out, err = invoke(
        db, "publicize", "c0", *BUREAU_ARGS, *TODAY, "--csv", str(tmp_path / "r.csv"),
        "--format", "json", "--lang", "en",
    )  # fmt: skip
    assert code == 2
    report = json.loads(out)  # one JSON document: the report, with the CSV's error
    assert report["succeeded"] == ["c0"]
    assert "No space left on device" in report["error"]["message"]["en"]
    assert "Traceback" not in err
    assert states(db)["c0"] == "publicized"


def test_a_dry_run_does_not_tell_the_user_to_resume(db: str) -> None:
    code, _out, err = invoke(db, "publicize", "c0", *BUREAU_ARGS, *TODAY, "--dry-run")
    assert code == 0
    assert "nothing is written" in err or "不写入任何内容" in err
    assert "--run-id" not in err


def test_bulk_refuses_a_database_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    code, _out, _err = invoke(f"sqlite:///{missing}", "publicize", "c0", *BUREAU_ARGS, *TODAY)
    assert code == 2
    assert not missing.exists()
