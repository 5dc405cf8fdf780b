"""The audit (第二十条): the case, its columns and its events under the chain; signed
checkpoints; the append-only holes closed; ``kmbase history`` and ``kmbase audit``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import attrs
import pytest
from typer.testing import CliRunner

from kmbase_workflow.audit import (
    AUDIT_KEY_ENVIRONMENT_VARIABLE,
    CHECKPOINT_FORMAT,
    Checkpoint,
    case_digest,
    checkpoint,
    load_key,
    verify_case,
    verify_event,
    verify_store,
)
from kmbase_workflow.case import Case, State
from kmbase_workflow.cli import app
from kmbase_workflow.clock import FixedClock
from kmbase_workflow.demo import run_demo
from kmbase_workflow.errors import CaseNotFoundError, InvalidInputError
from kmbase_workflow.history import HistoryEntry
from kmbase_workflow.stores import CaseQuery, MemoryStore
from kmbase_workflow.stores._rows import case_columns, dumps, history_columns
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.workflow import Workflow

KEY = b"an-auditors-key-the-dba-never-sees"
CLOCK = FixedClock(dt.datetime(2028, 12, 31, 18, 0))
runner = CliRunner()


@pytest.fixture(scope="module")
def round_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database holding the demonstration round (copied by each test)."""
    path = tmp_path_factory.mktemp("round") / "round.db"
    store = SQLiteStore(path)
    run_demo(store)
    store.close()
    return path


@pytest.fixture
def db(round_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "cases.db"
    shutil.copy(round_db, path)
    return path


def _open(path: Path) -> tuple[Workflow, Case]:
    """The workflow on ``path`` and its case with the longest history (certified, expired)."""
    workflow = Workflow(SQLiteStore(path), clock=CLOCK)
    target = max(workflow.store.find(_all()), key=lambda case: case.version)
    assert target.validity is not None
    assert target.decision is not None
    return workflow, target


def _all() -> CaseQuery:
    return CaseQuery()


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _write_case(path: Path, case: Case) -> None:
    """Overwrite the case row with ``case``, every column consistent with the data."""
    columns = case_columns(case)
    _raw(path).execute(
        "UPDATE cases SET state = ?, version = ?, notice_due = ?, validity_due = ?, data = ? "
        "WHERE id = ?",
        (
            columns["state"],
            columns["version"],
            columns["notice_due"],
            columns["validity_due"],
            dumps(columns["data"]),
            case.id,
        ),
    )


# -- the case under the chain ------------------------------------------------------------------------


def test_a_real_round_verifies(db: Path) -> None:
    workflow, target = _open(db)
    assert workflow.verify_chain(target.id).ok
    report = verify_store(workflow.store)
    assert report.ok, [f.problem.en for f in report.findings]
    # the round's opening is one entry of its own chain and one event (RoundOpened)
    assert (report.cases, report.rounds, report.entries, report.events) == (5, 1, 58, 58)


def test_every_new_entry_binds_the_case_after_it_and_its_events(db: Path) -> None:
    workflow, target = _open(db)
    history = workflow.history(target.id)
    assert history[-1].case_hash == case_digest(workflow.case(target.id))
    assert all(entry.format == 3 and len(entry.case_hash) == 64 for entry in history)
    assert all(len(entry.event_digests) == len(entry.event_ids) for entry in history)


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: attrs.evolve(c, state=State.CERTIFIED),
        lambda c: attrs.evolve(
            c, validity=attrs.evolve(c.validity, due=c.validity.due.replace(year=2038))
        ),
        lambda c: attrs.evolve(c, decision=attrs.evolve(c.decision, reference="伪造文号")),
    ],
    ids=["state", "validity_ten_years", "decision_reference"],
)
def test_a_changed_case_is_found(db: Path, forge: object) -> None:
    workflow, target = _open(db)
    _write_case(db, forge(target))  # type: ignore[operator]
    report = workflow.verify_chain(target.id)
    assert not report.ok
    assert report.problem is not None
    assert "altered" in report.problem.en
    assert "被改动" in report.problem.zh


def test_an_indexed_column_changed_alone_is_found(db: Path) -> None:
    workflow, target = _open(db)
    _raw(db).execute("UPDATE cases SET validity_due = '2038-10-15' WHERE id = ?", (target.id,))
    report = workflow.verify_chain(target.id)
    assert not report.ok
    assert report.problem is not None
    assert "cases.validity_due" in report.problem.en


def test_a_changed_application_is_found_once_the_triggers_are_dropped(db: Path) -> None:
    workflow, target = _open(db)
    raw = _raw(db)
    with pytest.raises(sqlite3.IntegrityError, match="written once"):
        raw.execute("UPDATE applications SET data = '{}' WHERE case_id = ?", (target.id,))
    raw.execute("DROP TRIGGER applications_no_update")
    (data,) = raw.execute(
        "SELECT data FROM applications WHERE case_id = ?", (target.id,)
    ).fetchone()
    forged = json.loads(data)
    forged["operator"]["name"] = "冒名运营主体有限公司"
    raw.execute("UPDATE applications SET data = ? WHERE case_id = ?", (dumps(forged), target.id))
    assert not workflow.verify_chain(target.id).ok


def test_cutting_the_tail_and_rolling_the_case_back_is_found(db: Path) -> None:
    workflow, target = _open(db)
    history = workflow.history(target.id)
    raw = _raw(db)
    raw.execute("DROP TRIGGER history_no_delete")
    raw.execute(
        "DELETE FROM history WHERE case_id = ? AND sequence = ?", (target.id, target.version)
    )
    # The case as the entry before recorded it: rebuild it from the newest remaining step.
    previous = attrs.evolve(target, version=target.version - 1, state=State(history[-2].to_state))
    _write_case(db, previous)
    report = workflow.verify_chain(target.id)
    assert not report.ok
    assert any("comes from no history entry" in p.en for p in report.problems)


def test_outbox_events_are_bound_to_their_entries(db: Path) -> None:
    workflow, target = _open(db)
    raw = _raw(db)
    position, data = raw.execute(
        "SELECT position, data FROM outbox WHERE case_id = ? ORDER BY position LIMIT 1",
        (target.id,),
    ).fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE outbox SET data = '{}' WHERE position = ?", (position,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM outbox WHERE position = ?", (position,))
    forged = json.loads(data)
    forged["id"] = "forged"
    raw.execute(
        "INSERT INTO outbox (id, type, case_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
        ("forged", forged["type"], target.id, forged["occurred_at"], dumps(forged)),
    )
    report = workflow.verify_chain(target.id)
    assert not report.ok
    assert any("event forged" in p.en and "inserted" in p.en for p in report.problems)


def test_the_audit_compares_every_column_a_row_copies_from_its_data(db: Path) -> None:
    """The history and outbox columns beside ``data`` are listed once; the stores write them
    and the audit compares each with the data (`_history_column_findings`)."""
    from kmbase_workflow.stores import HISTORY_SUMMARY_COLUMNS, OUTBOX_SUMMARY_COLUMNS
    from kmbase_workflow.stores._sql import HISTORY_COLUMNS, OUTBOX_COLUMNS, outbox_rows

    workflow, target = _open(db)
    entry = workflow.history(target.id)[0]
    assert tuple(history_columns(entry)) == (*HISTORY_SUMMARY_COLUMNS, "data") == HISTORY_COLUMNS
    event = workflow.store.read_outbox(0, 1)[0].event
    assert tuple(outbox_rows([event])[0]) == (*OUTBOX_SUMMARY_COLUMNS, "data") == OUTBOX_COLUMNS


def test_insert_or_replace_into_history_is_refused(db: Path) -> None:
    workflow, target = _open(db)
    raw = _raw(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute(
            "INSERT OR REPLACE INTO history SELECT case_id, sequence, 'forged', from_state, "
            "to_state, at, previous_hash, hash, data FROM history WHERE case_id = ?",
            (target.id,),
        )
    assert workflow.verify_chain(target.id).ok


def test_the_memory_store_is_verified_through_the_protocol() -> None:
    store = MemoryStore()
    run_demo(store)
    assert verify_store(store).ok
    target = max(store.find(_all()), key=lambda case: case.version)
    assert verify_case(store, target.id).ok
    forged = attrs.evolve(target, state=State.CERTIFIED)
    store._cases[target.id] = forged
    assert not verify_case(store, target.id).ok


def test_an_unknown_case_is_not_found(db: Path) -> None:
    workflow, _ = _open(db)
    with pytest.raises(CaseNotFoundError):
        workflow.verify_chain("no-such-case")


# -- checkpoints ----------------------------------------------------------------------------------


def test_a_checkpoint_round_trips_through_json(db: Path) -> None:
    workflow, target = _open(db)
    saved = checkpoint(workflow.store, KEY, clock=CLOCK)
    again = Checkpoint.from_json(saved.to_json())
    assert again == saved
    assert again.heads[target.id].sequence == target.version
    assert verify_store(workflow.store, again, KEY).ok


def test_a_resealed_chain_passes_plain_verification_but_not_the_checkpoint(db: Path) -> None:
    workflow, target = _open(db)
    saved = checkpoint(workflow.store, KEY, clock=CLOCK)
    history = workflow.history(target.id)
    history[3] = attrs.evolve(history[3], reason="事后改写")
    resealed = history[:3]
    for entry in history[3:]:
        resealed.append(entry.sealed(resealed[-1].hash))
    raw = _raw(db)
    raw.execute("DROP TRIGGER history_no_delete")
    raw.execute("DELETE FROM history WHERE case_id = ?", (target.id,))
    for entry in resealed:
        row = history_columns(entry)
        raw.execute(
            "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["case_id"],
                row["sequence"],
                row["action"],
                row["from_state"],
                row["to_state"],
                row["at"],
                row["previous_hash"],
                row["hash"],
                dumps(row["data"]),
            ),
        )
    assert verify_store(workflow.store).ok
    against = verify_store(workflow.store, saved, KEY)
    assert not against.ok
    assert any("re-sealed" in f.problem.en for f in against.findings)


def test_a_checkpoint_signed_with_another_key_or_altered_is_refused(db: Path) -> None:
    workflow, target = _open(db)
    saved = checkpoint(workflow.store, KEY, clock=CLOCK)
    other = verify_store(workflow.store, saved, b"another-key-of-sixteen-bytes")
    assert [f.kind for f in other.findings] == ["checkpoint"]
    heads = dict(saved.heads)
    del heads[target.id]
    altered = attrs.evolve(saved, heads=heads)
    assert not verify_store(workflow.store, altered, KEY).ok


def test_verifying_a_checkpoint_needs_its_key(db: Path) -> None:
    workflow, _ = _open(db)
    saved = checkpoint(workflow.store, KEY, clock=CLOCK)
    with pytest.raises(InvalidInputError):
        verify_store(workflow.store, saved)


@pytest.mark.parametrize("text", ["", "not json", "{}", '{"format": 1}', "[1, 2]"])
def test_a_malformed_checkpoint_is_bad_input(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Checkpoint.from_json(text)
    assert caught.value.message.zh
    assert caught.value.message.en


def test_the_key_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY + b"\n")
    assert load_key(path) == KEY
    assert load_key(environ={AUDIT_KEY_ENVIRONMENT_VARIABLE: KEY.decode()}) == KEY
    with pytest.raises(InvalidInputError):
        load_key(environ={})
    with pytest.raises(InvalidInputError):
        load_key(environ={AUDIT_KEY_ENVIRONMENT_VARIABLE: "short"})
    with pytest.raises(InvalidInputError):
        load_key(tmp_path / "missing")


# -- the command line -------------------------------------------------------------------------------


def test_kmbase_history_exits_1_on_a_changed_case(db: Path) -> None:
    _, target = _open(db)
    url = f"sqlite:///{db}"
    assert runner.invoke(app, ["history", target.id, "--db", url]).exit_code == 0
    _write_case(db, attrs.evolve(target, state=State.CERTIFIED))
    result = runner.invoke(app, ["history", target.id, "--db", url, "--lang", "en"])
    assert result.exit_code == 1
    assert "altered" in result.stdout


def test_kmbase_audit_checkpoint_and_verify(db: Path, tmp_path: Path) -> None:
    _, target = _open(db)
    url = f"sqlite:///{db}"
    key = tmp_path / "audit.key"
    key.write_bytes(KEY)
    saved = tmp_path / "checkpoint.json"
    written = runner.invoke(
        app, ["audit", "checkpoint", "--db", url, "--key-file", str(key), "--output", str(saved)]
    )
    assert written.exit_code == 0, written.output
    assert Checkpoint.from_json(saved.read_text(encoding="utf-8")).heads
    verify = ["audit", "verify", "--db", url, "--checkpoint", str(saved), "--key-file", str(key)]
    assert runner.invoke(app, verify).exit_code == 0
    _raw(db).execute("UPDATE cases SET district = '[/b]伪造区' WHERE id = ?", (target.id,))
    result = runner.invoke(app, [*verify, "--format", "json", "--lang", "en"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["verified"] is False
    assert [f["kind"] for f in report["findings"]] == ["column"]
    table = runner.invoke(app, verify)
    assert table.exit_code == 1
    assert "[/b]伪造区" in table.stdout


def test_kmbase_audit_verify_without_a_key_is_bad_input(db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db}"
    saved = tmp_path / "checkpoint.json"
    store = SQLiteStore(db)
    saved.write_text(checkpoint(store, KEY, clock=CLOCK).to_json(), encoding="utf-8")
    store.close()
    result = runner.invoke(
        app,
        ["audit", "verify", "--db", url, "--checkpoint", str(saved)],
        env={AUDIT_KEY_ENVIRONMENT_VARIABLE: ""},
    )
    assert result.exit_code == 2
    assert "--key-file" in result.output


def test_kmbase_history_prints_a_problem_quoting_markup_like_data(db: Path) -> None:
    _, target = _open(db)
    _raw(db).execute("UPDATE cases SET district = '[/b]伪造区' WHERE id = ?", (target.id,))
    result = runner.invoke(app, ["history", target.id, "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1
    assert "[/b]伪造区" in result.stdout


def test_a_follower_checks_each_event_it_receives() -> None:
    store = MemoryStore()
    run_demo(store)
    records = store.read_outbox(0, 1000)
    assert all(verify_event(store, record.event).ok for record in records)
    event = records[3].event
    altered = attrs.evolve(event, payload={**event.payload, "forged": True})
    report = verify_event(store, altered)
    assert not report.ok
    assert report.problem is not None
    assert "altered" in report.problem.en
    forged = verify_event(store, attrs.evolve(event, id="forged-event"))
    assert not forged.ok
    assert forged.problem is not None
    assert "comes from no history entry" in forged.problem.en


class _RacingStore(MemoryStore):
    """Its first history read misses the newest entry, as a read racing a commit would."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    def history(self, case_id: str) -> list[HistoryEntry]:
        entries = super().history(case_id)
        if not self.raced and len(entries) > 1:
            self.raced = True
            return entries[:-1]
        return entries


def test_a_step_committed_during_verification_is_not_reported_as_tampering() -> None:
    store = _RacingStore()
    run_demo(store)
    target = max(store.find(_all()), key=lambda case: case.version)
    store.raced = False
    assert verify_case(store, target.id).ok
    assert store.raced


def test_a_checkpoint_of_an_unknown_format_is_bad_input(db: Path) -> None:
    workflow, _ = _open(db)
    data = json.loads(checkpoint(workflow.store, KEY, clock=CLOCK).to_json())
    data["format"] = CHECKPOINT_FORMAT + 1
    with pytest.raises(InvalidInputError):
        Checkpoint.from_json(json.dumps(data))


def test_kmbase_history_shows_a_round_s_chain_and_audit_verify_counts_rounds(db: Path) -> None:
    url = f"sqlite:///{db}"
    shown = runner.invoke(app, ["history", "round:2025", "--db", url, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["verified"] is True
    assert [entry["action"] for entry in record["entries"]] == ["open_round"]
    _raw(db).execute("UPDATE rounds SET closes_on = '2025-12-31' WHERE year = 2025")
    moved = runner.invoke(app, ["history", "round:2025", "--db", url, "--lang", "en"])
    assert moved.exit_code == 1
    assert "window or notice was altered" in moved.stdout
    audit = runner.invoke(app, ["audit", "verify", "--db", url, "--format", "json"])
    assert audit.exit_code == 1
    report = json.loads(audit.stdout)
    assert (report["cases"], report["rounds"]) == (5, 1)
    assert [(f["case"], f["kind"]) for f in report["findings"]] == [("round:2025", "round")]
    missing = runner.invoke(app, ["history", "round:2099", "--db", url])
    assert missing.exit_code != 0
    assert "Traceback" not in missing.output
