"""The audit trail: a hash-chained history that shows tampering, and what each entry records."""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
import pytest

from kmbase_workflow.case import State
from kmbase_workflow.history import GENESIS_HASH, HistoryEntry, verify_history
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
