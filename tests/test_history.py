"""The audit trail: a hash-chained history that shows tampering, and what each entry records."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import shutil
from pathlib import Path

import attrs
import pytest

from kmbase_workflow.audit import Checkpoint, verify_store
from kmbase_workflow.case import State
from kmbase_workflow.history import (
    _FORMAT_FIELDS,
    GENESIS_HASH,
    HISTORY_FORMAT,
    HistoryEntry,
    canonical_json,
    verify_history,
)
from kmbase_workflow.serialization import converter
from kmbase_workflow.stores import CaseQuery
from kmbase_workflow.stores._schema import MIGRATION_NAMES
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import (
    APPLICATION,
    BUREAU,
    DISTRICT,
    GOOD_RECOMMENDATION,
    OPERATOR,
    VIOLATION,
    harness,
    walk_to,
)

DATA = Path(__file__).resolve().parent / "data"
DATA_KEY = b"kmbase-test-data-checkpoint-key"
"""The key tests/data/audit-format2-m002.checkpoint.json is signed with (a test key)."""


def _history() -> list[HistoryEntry]:
    """A real history of 11 entries: a case certified, reported on, evaluated and revoked."""
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 2, 10))
    h.workflow.file_change("c1", OPERATOR, "法定代表人变更", dt.date(2026, 2, 9))
    h.workflow.record_evaluation("c1", BUREAU, passed=False, evaluator="第三方机构")
    h.set(VIOLATION.decided_on)
    h.workflow.revoke("c1", BUREAU, VIOLATION)
    history = h.workflow.history("c1")
    assert len(history) == h.workflow.case("c1").version == 10
    return history


def test_a_real_history_verifies() -> None:
    history = _history()
    report = verify_history(history)
    assert report.ok
    assert report.entries == len(history)
    assert report.first_bad_position is None
    assert history[0].previous_hash == GENESIS_HASH
    assert all(b.previous_hash == a.hash for a, b in itertools.pairwise(history))
    assert [e.sequence for e in history] == list(range(1, len(history) + 1))
    assert len({e.hash for e in history}) == len(history)


def test_an_empty_history_verifies() -> None:
    assert verify_history([]).ok


@pytest.mark.parametrize("position", [1, 4, 10])
def test_an_altered_entry_is_found_at_its_position(position: int) -> None:
    history = _history()
    index = position - 1
    history[index] = attrs.evolve(history[index], reason="改过的理由")
    report = verify_history(history)
    assert not report.ok
    assert report.first_bad_position == position
    assert report.problem is not None
    assert report.problem.zh
    assert report.problem.en


@pytest.mark.parametrize(
    "change",
    [
        {"actor": DISTRICT},
        {"at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
        {"evidence": ("伪造材料.pdf",)},
        {"payload": {"value": "改"}},
        {"to_state": "certified"},
    ],
    ids=["actor", "at", "evidence", "payload", "to_state"],
)
def test_every_field_is_covered_by_the_hash(change: dict[str, object]) -> None:
    history = _history()
    history[2] = attrs.evolve(history[2], **change)  # type: ignore[arg-type]
    assert verify_history(history).first_bad_position == 3


def test_an_altered_and_resealed_entry_breaks_the_next_link() -> None:
    history = _history()
    forged = attrs.evolve(history[3], reason="伪造").sealed(history[3].previous_hash)
    assert forged.content_hash() == forged.hash
    history[3] = forged
    assert verify_history(history).first_bad_position == 5


@pytest.mark.parametrize("position", [1, 5, 10])
def test_an_altered_hash_is_found(position: int) -> None:
    history = _history()
    history[position - 1] = attrs.evolve(history[position - 1], hash="f" * 64)
    assert verify_history(history).first_bad_position == position


@pytest.mark.parametrize("position", [1, 6, 9])
def test_a_removed_entry_is_found(position: int) -> None:
    history = _history()
    del history[position - 1]
    assert verify_history(history).first_bad_position == position


@pytest.mark.parametrize("position", [1, 5, 9])
def test_two_swapped_entries_are_found(position: int) -> None:
    history = _history()
    i = position - 1
    history[i], history[i + 1] = history[i + 1], history[i]
    assert verify_history(history).first_bad_position == position


def test_renumbered_entries_after_a_removal_are_still_found() -> None:
    history = _history()
    del history[4]
    renumbered = history[:4] + [attrs.evolve(e, sequence=e.sequence - 1) for e in history[4:]]
    assert verify_history(renumbered).first_bad_position == 5


def test_each_transition_records_actor_time_reason_and_evidence() -> None:
    h = harness()
    h.set(dt.datetime(2025, 6, 20, 9, 30))
    h.workflow.declare(APPLICATION, OPERATOR, case_id="c1", evidence=("申请报告.pdf",))
    h.clock.advance(days=3, hours=5)
    outcome = h.workflow.recommend(
        "c1", DISTRICT, GOOD_RECOMMENDATION, reason="材料齐全", evidence=("推荐汇总表.xlsx",)
    )
    first, second = h.workflow.history("c1")
    assert (first.action, first.from_state, first.to_state) == ("declare", None, "declared")
    assert first.actor == OPERATOR
    assert first.evidence == ("申请报告.pdf",)
    assert second == outcome.entry
    assert (second.actor, second.reason, second.evidence) == (
        DISTRICT,
        "材料齐全",
        ("推荐汇总表.xlsx",),
    )
    assert second.payload["spot_check"]["sampled"] == 6
    for entry, wall in ((first, (2025, 6, 20, 9, 30)), (second, (2025, 6, 23, 14, 30))):
        assert entry.at.utcoffset() == dt.timedelta(hours=8)
        assert "Shanghai" in str(entry.at.tzinfo)
        assert (entry.at.year, entry.at.month, entry.at.day, entry.at.hour, entry.at.minute) == wall


def test_the_time_comes_from_the_injected_clock_even_when_given_in_another_zone() -> None:
    h = harness()
    h.clock.set(dt.datetime(2025, 6, 20, 2, 0, tzinfo=dt.UTC))  # 10:00 in Kunming
    outcome = h.workflow.declare(APPLICATION, OPERATOR, case_id="c1")
    assert outcome.entry.at == dt.datetime(2025, 6, 20, 2, 0, tzinfo=dt.UTC)
    assert outcome.entry.at.hour == 10
    assert outcome.case.declared_on == dt.date(2025, 6, 20)


# -- the versioned canonical form ------------------------------------------------------------------


def test_new_entries_are_hashed_in_the_current_format() -> None:
    entry = _history()[0]
    assert entry.format == HISTORY_FORMAT == 3
    assert '"format":3' in entry.canonical()
    assert len(entry.case_hash) == 64
    assert verify_history([attrs.evolve(entry, format=1)]).first_bad_position == 1


def test_an_unknown_format_is_reported_not_raised() -> None:
    history = _history()
    history[0] = attrs.evolve(history[0], format=99)
    report = verify_history(history)
    assert report.first_bad_position == 1
    assert report.problem is not None
    assert "unknown format 99" in report.problem.en
    assert "格式 99" in report.problem.zh


def test_a_chain_is_never_downgraded_to_an_older_format() -> None:
    history = _history()
    history[1] = attrs.evolve(history[1], format=1, case_hash="").sealed(history[0].hash)
    report = verify_history(history[:2])
    assert report.first_bad_position == 2
    assert report.problem is not None
    assert "older than the entries before it" in report.problem.en


def test_an_optional_field_added_later_keeps_the_hash() -> None:
    """A later version may give a record (the actor, say) a field that defaults to null or
    empty: the canonical form leaves null and empty values out, so old hashes still hold."""
    entry = _history()[2]
    data = converter.unstructure(entry)
    hashed = {name: data[name] for name in _FORMAT_FIELDS[2]}
    hashed["actor"] = {**hashed["actor"], "organisation_id": None, "aliases": []}
    assert canonical_json(hashed) == entry.canonical()
    assert canonical_json({"score": 85.0}) == canonical_json({"score": 85})


def test_entries_without_a_format_are_format_1_and_keep_their_hash() -> None:
    """Format 1 is what entries were before formats were numbered: their JSON has no
    ``format`` and hashes every field of that version, nulls included."""
    entry = _history()[0]
    data = converter.unstructure(entry)
    for name in ("format", "case_hash", "application_hash", "event_digests", "entered_at", "hash"):
        del data[name]
    # format 1 knew an actor by its name alone (today's id)
    actor = data["actor"]
    data["actor"] = {"role": actor["role"], "name": actor["id"], "district": actor["district"]}
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    data["hash"] = hashlib.sha256(canonical.encode()).hexdigest()
    old = converter.structure(data, HistoryEntry)
    assert old.format == 1
    assert verify_history([old]).ok


def _copy(name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    shutil.copy(DATA / name, path)
    return path


def test_a_database_written_before_formats_verifies_and_upgrades(tmp_path: Path) -> None:
    """tests/data/audit-format1-m001.db: written by the version before this one (schema
    m001, entries without a format). This and every later version must verify it."""
    path = _copy("audit-format1-m001.db", tmp_path)
    store = SQLiteStore(path)
    assert store.schema_version == MIGRATION_NAMES
    report = verify_store(store)
    assert report.ok, [f.problem.en for f in report.findings]
    assert report.entries == 57
    for case in store.find(CaseQuery()):
        assert {entry.format for entry in store.history(case.id)} == {1}
        assert Workflow(store).verify_chain(case.id).ok
    store.close()


def test_a_database_written_by_this_version_verifies_with_its_checkpoint(tmp_path: Path) -> None:
    """tests/data/audit-format2-m002.db and its checkpoint, signed with the test key: an
    auditor's check from the exported checkpoint and the database alone."""
    path = _copy("audit-format2-m002.db", tmp_path)
    saved = Checkpoint.from_json((DATA / "audit-format2-m002.checkpoint.json").read_text())
    store = SQLiteStore(path)
    assert store.schema_version == MIGRATION_NAMES
    report = verify_store(store, saved, DATA_KEY)
    assert report.ok, [f.problem.en for f in report.findings]
    assert report.checkpoint
    assert len(saved.heads) == report.cases == 5
    for case in store.find(CaseQuery()):
        assert {entry.format for entry in store.history(case.id)} == {2}
    store.close()


def test_format_1_entries_may_be_followed_by_format_2() -> None:
    history = _history()
    old = [attrs.evolve(e, format=1, case_hash="", event_digests=()) for e in history[:3]]
    chain: list[HistoryEntry] = []
    for entry in [*old, *history[3:]]:
        chain.append(entry.sealed(chain[-1].hash if chain else GENESIS_HASH))
    assert verify_history(chain).ok
