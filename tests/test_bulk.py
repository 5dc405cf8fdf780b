"""Bulk runs through the Python API: selection, chunks and transactions, dry runs, refusals,
idempotent re-runs after an interruption, the conflict fallback, payloads and the report."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest

from kmbase_workflow.actors import Actor
from kmbase_workflow.bulk import (
    CSV_COLUMNS,
    BulkReport,
    CaseSelection,
    ItemStatus,
    idempotency_key,
    parse_payload,
    read_csv_column,
    read_ids_file,
    run_bulk,
)
from kmbase_workflow.case import (
    Case,
    CollectiveDecision,
    ExpertOpinion,
    NoticeAnnouncement,
    Recommendation,
    Revocation,
    RevocationGround,
    State,
)
from kmbase_workflow.clock import FixedClock
from kmbase_workflow.errors import ConcurrencyConflictError, InvalidInputError
from kmbase_workflow.lifecycle import GuardFailure, Step, Trigger, regulation_roles
from kmbase_workflow.records import SpotCheck
from kmbase_workflow.stores import Change, MemoryStore
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import (
    BUREAU,
    DECISION,
    DISTRICT,
    PUBLISHED_ON,
    VIOLATION,
    Harness,
    other_base,
    walk_to,
)

IDS = ("c0", "c1", "c2", "c3", "c4")


class SpyStore(MemoryStore):
    """A MemoryStore that counts transactions and can refuse some with a conflict."""

    def __init__(self) -> None:
        super().__init__()
        self.transactions: list[tuple[str, ...]] = []
        self.conflicts_left = 0
        self.always_conflicting: set[str] = set()
        self.interrupt_at: int | None = None

    def commit_many(self, changes: Sequence[Change]) -> None:
        ids = tuple(change.case.id for change in changes)
        if self.interrupt_at is not None and len(self.transactions) + 1 == self.interrupt_at:
            raise KeyboardInterrupt
        if self.conflicts_left:
            self.conflicts_left -= 1
            raise ConcurrencyConflictError.stale_version(
                ids[0], changes[0].expected_version, changes[0].expected_version + 1
            )
        stale = self.always_conflicting.intersection(ids)
        if stale:
            raise ConcurrencyConflictError.stale_version(sorted(stale)[0], 0, 1)
        super().commit_many(changes)
        self.transactions.append(ids)


def site_inspected(
    count: int = 5, *, declared: Sequence[str] = (), elsewhere: Sequence[str] = ()
) -> tuple[Harness, SpyStore]:
    """``count`` cases c0, c1 … of different bases in 五华区 at site_inspected, the cases
    ``declared`` only declared, the cases ``elsewhere`` site-inspected in 呈贡区; the clock on
    the day the notices are to start; the spy's transaction log starts empty."""
    store = SpyStore()
    clock = FixedClock(dt.date(2025, 6, 20))
    workflow = Workflow(store, clock=clock)
    h = Harness(workflow, clock, store)
    workflow.bus.subscribe(h.seen.append)
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    for number in range(count):
        walk_to(h, State.SITE_INSPECTED, f"c{number}", other_base(f"第{number}创业园"))
    for case_id in declared:
        walk_to(h, State.DECLARED, case_id, other_base(f"{case_id}园"))
    for case_id in elsewhere:
        walk_to(h, State.SITE_INSPECTED, case_id, other_base(f"{case_id}园", district="呈贡区"))
    h.set(PUBLISHED_ON)
    store.transactions.clear()
    return h, store


def publicize_entries(h: Harness, case_id: str) -> int:
    return sum(1 for entry in h.workflow.history(case_id) if entry.action == "publicize")


def test_fires_at_every_case_one_transaction_per_chunk() -> None:
    h, store = site_inspected()
    report = run_bulk(h.workflow, "publicize", IDS, BUREAU, run_id="r1", chunk_size=2)
    assert report.succeeded == IDS
    assert report.exit_code == 0
    assert store.transactions == [("c0", "c1"), ("c2", "c3"), ("c4",)]
    assert report.transactions == 3
    for case_id in IDS:
        assert h.workflow.case(case_id).state is State.PUBLICIZED
        entry = h.workflow.history(case_id)[-1]
        assert entry.action == "publicize"
        assert entry.actor == BUREAU
        result = store.command_result(idempotency_key("r1", Trigger.PUBLICIZE, case_id))
        assert result is not None
        assert result.version == h.workflow.case(case_id).version
    assert h.types().count("publicized") == 5
    assert all(item.from_state is State.SITE_INSPECTED for item in report.items)
    assert all(item.to_state is State.PUBLICIZED for item in report.items)


def test_dry_run_writes_nothing_and_reports_what_would_happen() -> None:
    h, store = site_inspected(3, declared=["d1"])
    before = [h.snapshot(case_id) for case_id in ("c0", "c1", "c2", "d1")]
    report = run_bulk(
        h.workflow, "publicize", ["c0", "d1", "c1", "c2"], BUREAU, run_id="r1", dry_run=True
    )
    assert report.dry_run
    assert report.would_succeed == ("c0", "c1", "c2")
    assert report.refused == ("d1",)
    assert report.succeeded == ()
    assert report.transactions == 0
    assert store.transactions == []
    assert [h.snapshot(case_id) for case_id in ("c0", "c1", "c2", "d1")] == before
    assert store.command_result(idempotency_key("r1", Trigger.PUBLICIZE, "c0")) is None
    # The dry run changed nothing, so the real run under the same id does it all.
    real = run_bulk(h.workflow, "publicize", ["c0", "c1", "c2"], BUREAU, run_id="r1")
    assert real.succeeded == ("c0", "c1", "c2")


def test_refusals_name_their_guards_and_articles_in_both_languages() -> None:
    h, _ = site_inspected(2)
    h.set(dt.date(2025, 10, 16))  # the decision is missing, the notice has not even started
    report = run_bulk(h.workflow, "certify", ["c0", "c1"], BUREAU, run_id="r1")
    assert report.refused == ("c0", "c1")
    assert report.exit_code == 1
    item = report.items[0]
    assert item.status is ItemStatus.REFUSED
    assert item.from_state is State.SITE_INSPECTED
    assert [failure.guard for failure in item.failures] == ["state"]
    zh, en = item.to_dict("zh"), item.to_dict("en")
    assert zh["failures"][0]["article"] == en["failures"][0]["article"]  # both, always
    assert zh["failures"][0]["article"] == {"zh": "第十四条", "en": "Art. 14"}
    assert "不能认定授牌" in zh["failures"][0]["message"]
    assert "cannot certify" in en["failures"][0]["message"]


def test_guard_failures_of_a_wrong_actor_are_all_listed() -> None:
    h, _ = site_inspected(1)
    report = run_bulk(h.workflow, "publicize", ["c0"], DISTRICT, run_id="r1")
    assert [failure.guard for failure in report.items[0].failures] == ["role"]
    assert h.workflow.case("c0").state is State.SITE_INSPECTED


def test_stop_on_refusal_commits_what_came_before_and_leaves_the_rest() -> None:
    h, store = site_inspected(4, declared=["d1"])
    report = run_bulk(
        h.workflow,
        "publicize",
        ["c0", "c1", "d1", "c2", "c3"],
        BUREAU,
        run_id="r1",
        chunk_size=2,
        stop_on_refusal=True,
    )
    assert report.succeeded == ("c0", "c1")
    assert report.refused == ("d1",)
    assert report.not_attempted == ("c2", "c3")
    assert report.exit_code == 1
    assert store.transactions == [("c0", "c1")]
    assert h.workflow.case("c2").state is State.SITE_INSPECTED
    assert h.workflow.case("c3").state is State.SITE_INSPECTED


def test_without_stop_on_refusal_the_run_goes_on() -> None:
    h, store = site_inspected(2, declared=["d1"])
    report = run_bulk(h.workflow, "publicize", ["c0", "d1", "c1"], BUREAU, run_id="r1")
    assert report.succeeded == ("c0", "c1")
    assert report.refused == ("d1",)
    assert store.transactions == [("c0", "c1")]


def test_a_rerun_with_the_same_id_skips_what_is_done_and_a_new_id_is_refused() -> None:
    h, _ = site_inspected(3)
    first = run_bulk(h.workflow, "publicize", ["c0", "c1"], BUREAU, run_id="r1")
    assert first.succeeded == ("c0", "c1")
    again = run_bulk(h.workflow, "publicize", ["c0", "c1", "c2"], BUREAU, run_id="r1")
    assert again.skipped == ("c0", "c1")
    assert again.succeeded == ("c2",)
    assert again.exit_code == 0
    assert [publicize_entries(h, case_id) for case_id in ("c0", "c1", "c2")] == [1, 1, 1]
    other = run_bulk(h.workflow, "publicize", ["c0"], BUREAU, run_id="r2")
    assert other.refused == ("c0",)
    assert other.items[0].failures[0].guard == "state"
    assert publicize_entries(h, "c0") == 1


def test_an_interrupted_run_resumes_and_applies_each_transition_once() -> None:
    h, store = site_inspected()
    store.interrupt_at = 2  # Ctrl-C while the second chunk is being written
    with pytest.raises(KeyboardInterrupt):
        run_bulk(h.workflow, "publicize", IDS, BUREAU, run_id="r1", chunk_size=2)
    assert [h.workflow.case(c).state for c in IDS].count(State.PUBLICIZED) == 2
    store.interrupt_at = None
    resumed = run_bulk(h.workflow, "publicize", IDS, BUREAU, run_id="r1", chunk_size=2)
    assert resumed.skipped == ("c0", "c1")
    assert resumed.succeeded == ("c2", "c3", "c4")
    assert all(publicize_entries(h, case_id) == 1 for case_id in IDS)
    assert all(h.workflow.verify_chain(case_id).ok for case_id in IDS)


def test_a_conflicting_chunk_falls_back_to_one_by_one() -> None:
    h, store = site_inspected(4)
    store.conflicts_left = 1
    report = run_bulk(h.workflow, "publicize", IDS[:4], BUREAU, run_id="r1", chunk_size=3)
    assert report.succeeded == IDS[:4]
    assert report.exit_code == 0
    assert store.transactions == [("c0",), ("c1",), ("c2",), ("c3",)]
    assert report.transactions == 4
    assert all(publicize_entries(h, case_id) == 1 for case_id in IDS[:4])


def test_only_the_truly_conflicting_cases_are_reported_conflicted() -> None:
    h, store = site_inspected(3)
    store.always_conflicting = {"c1"}
    report = run_bulk(h.workflow, "publicize", IDS[:3], BUREAU, run_id="r1")
    assert report.succeeded == ("c0", "c2")
    assert report.conflicted == ("c1",)
    assert report.exit_code == 4
    assert h.workflow.case("c1").state is State.SITE_INSPECTED
    assert report.items[1].message is not None
    store.always_conflicting = set()
    retry = run_bulk(h.workflow, "publicize", IDS[:3], BUREAU, run_id="r1")
    assert retry.skipped == ("c0", "c2")
    assert retry.succeeded == ("c1",)


def test_a_case_changed_meanwhile_is_prepared_again_in_the_fallback() -> None:
    h, store = site_inspected(2)
    real_commit = MemoryStore.commit_many
    calls = 0

    def withdraw_first(changes: Sequence[Change]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:  # another office withdraws c1 while the chunk is being written
            from kmbase_workflow.actors import Actor

            operator = Actor.for_operator(other_base("第1创业园").operator)
            h.workflow.withdraw("c1", operator, "主动撤回")
        real_commit(store, changes)

    store.commit_many = withdraw_first  # type: ignore[method-assign]
    report = run_bulk(h.workflow, "publicize", ["c0", "c1"], BUREAU, run_id="r1")
    assert report.succeeded == ("c0",)
    assert report.refused == ("c1",)
    assert report.items[1].from_state is State.WITHDRAWN


def test_exit_code_rules() -> None:
    def report(*statuses: ItemStatus) -> BulkReport:
        from kmbase_workflow.bulk import BulkItem

        items = tuple(BulkItem(f"c{n}", status) for n, status in enumerate(statuses))
        return BulkReport("r", Trigger.PUBLICIZE, dry_run=False, items=items)

    s = ItemStatus
    assert report().exit_code == 0
    assert report(s.SUCCEEDED, s.SKIPPED).exit_code == 0
    assert report(s.SUCCEEDED, s.REFUSED, s.CONFLICTED, s.NOT_FOUND).exit_code == 1
    assert report(s.REFUSED, s.NOT_ATTEMPTED).exit_code == 1
    assert report(s.CONFLICTED, s.NOT_FOUND).exit_code == 2
    assert report(s.SUCCEEDED, s.CONFLICTED).exit_code == 4


def test_not_found_ids_and_duplicates() -> None:
    h, _ = site_inspected(1)
    report = run_bulk(h.workflow, "publicize", ["c0", "nobody", "c0", " "], BUREAU, run_id="r1")
    assert [item.case_id for item in report.items] == ["c0", "nobody"]
    assert report.not_found == ("nobody",)
    assert report.exit_code == 2
    assert publicize_entries(h, "c0") == 1


def test_selection_by_query_and_a_rerun_lists_what_this_run_did() -> None:
    h, _ = site_inspected(3, declared=["d1"], elsewhere=["far"])
    selection = CaseSelection(state=State.SITE_INSPECTED, district="五华区", round_year=2025)
    report = run_bulk(h.workflow, "publicize", selection, BUREAU, run_id="r1", chunk_size=2)
    assert sorted(report.succeeded) == ["c0", "c1", "c2"]
    assert h.workflow.case("far").state is State.SITE_INSPECTED
    again = run_bulk(h.workflow, "publicize", selection, BUREAU, run_id="r1")
    assert sorted(again.skipped) == ["c0", "c1", "c2"]
    # Another run id does not see them: they no longer match the state.
    assert run_bulk(h.workflow, "publicize", selection, BUREAU, run_id="r2").items == ()
    base = h.workflow.case("far").base_id
    by_base = run_bulk(h.workflow, "publicize", CaseSelection(base_id=base), BUREAU, run_id="r3")
    assert by_base.succeeded == ("far",)


def test_selection_must_be_ids_or_a_query() -> None:
    h, _ = site_inspected(0)
    with pytest.raises(InvalidInputError, match="no cases chosen"):
        run_bulk(h.workflow, "publicize", CaseSelection(), BUREAU)
    both = CaseSelection(ids=("c0",), state=State.SITE_INSPECTED)
    with pytest.raises(InvalidInputError, match="not both"):
        run_bulk(h.workflow, "publicize", both, BUREAU)
    with pytest.raises(InvalidInputError, match="chunk size"):
        run_bulk(h.workflow, "publicize", ["c0"], BUREAU, chunk_size=0)
    with pytest.raises(InvalidInputError, match="declare cannot run in bulk"):
        run_bulk(h.workflow, "declare", ["c0"], BUREAU)
    with pytest.raises(InvalidInputError, match="unknown trigger"):
        run_bulk(h.workflow, "publicise", ["c0"], BUREAU)


def test_a_generated_run_id_keys_the_commands() -> None:
    h, store = site_inspected(1)
    report = run_bulk(h.workflow, "publicize", ["c0"], BUREAU)
    assert report.run_id.startswith("bulk-")
    assert store.command_result(idempotency_key(report.run_id, Trigger.PUBLICIZE, "c0"))


def test_progress_is_told_every_case_and_the_total_first() -> None:
    h, _ = site_inspected(3)
    seen: list[object] = []
    run_bulk(
        h.workflow,
        "publicize",
        ["c0", "x", "c1", "c2"],
        BUREAU,
        run_id="r1",
        chunk_size=2,
        on_selected=seen.append,
        progress=lambda item: seen.append((item.case_id, item.status.value)),
    )
    assert seen == [
        4,
        ("c0", "succeeded"),
        ("x", "not_found"),
        ("c1", "succeeded"),
        ("c2", "succeeded"),
    ]


def test_the_collector_sets_the_heap_aside_during_a_run_and_restores_it_after() -> None:
    # a full collection would rescan the process's long-lived objects every few thousand
    # cases (issue 24): they are frozen for the run, and unfrozen after it, even on failure
    h, _ = site_inspected(3)
    assert gc.get_freeze_count() == 0
    frozen: list[int] = []
    run_bulk(
        h.workflow,
        "publicize",
        ["c0"],
        BUREAU,
        run_id="r1",
        progress=lambda _item: frozen.append(gc.get_freeze_count()),
    )
    assert frozen[0] > 0
    assert gc.get_freeze_count() == 0

    def fail(_item: object) -> None:
        raise RuntimeError("the caller's progress callback failed")

    with pytest.raises(RuntimeError):
        run_bulk(h.workflow, "publicize", ["c1"], BUREAU, run_id="r2", progress=fail)
    assert gc.get_freeze_count() == 0


def test_a_heap_frozen_by_the_host_is_left_as_it_is() -> None:
    h, _ = site_inspected(3)
    gc.freeze()  # as a server does before it forks
    try:
        before = gc.get_freeze_count()
        run_bulk(h.workflow, "publicize", ["c0"], BUREAU, run_id="r1")
        # neither unfrozen (0) nor frozen again (more): only what was freed meanwhile left
        assert 0 < gc.get_freeze_count() <= before
    finally:
        gc.unfreeze()


def test_a_whole_round_to_certification_with_payloads() -> None:
    h, _ = site_inspected(2)
    notice = parse_payload("announce_notice", '{"starts_on": "2025-09-29"}')
    report = run_bulk(h.workflow, "announce_notice", ["c0", "c1"], BUREAU, payload=notice)
    assert report.exit_code == 0
    assert h.workflow.case("c0").state is State.NOTICE_ANNOUNCED
    assert h.workflow.case("c0").notice is not None
    assert h.workflow.case("c0").notice.start == dt.date(2025, 9, 29)  # type: ignore[union-attr]
    h.set(dt.date(2025, 9, 29))  # the notice goes up: the sweep starts it
    assert set(h.workflow.sweep().started) == {"c0", "c1"}
    assert h.workflow.case("c1").state is State.PUBLICIZED
    h.set(dt.date(2025, 10, 31))  # the later notice ends later
    decision = parse_payload(
        "certify", '{"reference": "局党组会议纪要〔2025〕12号", "decided_on": "2025-10-16"}'
    )
    assert decision == DECISION
    # a decision dated before the later notice ended is refused (第十四条): date it today
    decision = attrs.evolve(DECISION, decided_on=dt.date(2025, 10, 31))
    report = run_bulk(h.workflow, "certify", ["c0", "c1"], BUREAU, payload=decision)
    assert report.succeeded == ("c0", "c1")
    assert h.workflow.case("c1").decision == decision
    h.set(VIOLATION.decided_on)
    report = run_bulk(h.workflow, "revoke", ["c0"], BUREAU, payload=VIOLATION)
    assert report.succeeded == ("c0",)
    assert h.workflow.history("c0")[-1].reason == VIOLATION.details


def test_decline_takes_its_reason() -> None:
    h, _ = site_inspected(0, declared=["d1", "d2"])
    refused = run_bulk(h.workflow, "decline", ["d1"], DISTRICT, run_id="r1")
    assert refused.items[0].failures[0].guard == "reason"
    report = run_bulk(h.workflow, "decline", ["d1", "d2"], DISTRICT, reason="材料不实", run_id="r2")
    assert report.succeeded == ("d1", "d2")
    assert h.workflow.case("d2").closing_reason == "材料不实"


def test_parse_payload_for_each_kind() -> None:
    assert parse_payload("publicize", '"2025-09-26"') == NoticeAnnouncement(dt.date(2025, 9, 26))
    assert parse_payload("publicize", '{"starts_on": "2025-09-26", "working_days": 15}') == (
        NoticeAnnouncement(dt.date(2025, 9, 26), working_days=15)
    )
    assert parse_payload("publicize", None) is None
    assert parse_payload("pass_inspection", '{"opinion": "属实"}') == "属实"
    assert parse_payload("pass_inspection", '"属实"') == "属实"
    assert parse_payload("expert_opinion", '{"expert": "甲", "score": 88, "opinion": "好"}') == (
        ExpertOpinion("甲", 88.0, "好")
    )
    recommendation = parse_payload(
        "recommend",
        '{"opinion": "同意", "authenticity_checked": true, "spot_check": '
        '{"resident_small_micro_enterprises": 60, "sampled": 6, "satisfied": 6}}',
    )
    assert recommendation == Recommendation("同意", True, SpotCheck(60, 6, 6))
    revocation = parse_payload(
        "revoke", '{"ground": "violation", "decided_on": "2026-03-05", "details": "虚报"}'
    )
    assert revocation == Revocation(RevocationGround.VIOLATION, dt.date(2026, 3, 5), "虚报")
    assert isinstance(
        parse_payload("certify", '{"reference": "x", "decided_on": "2025-10-16"}'),
        CollectiveDecision,
    )


@pytest.mark.parametrize(
    ("trigger", "text", "problem"),
    [
        ("decline", '{"x": 1}', "takes no payload"),
        ("publicize", "{not json", "not valid JSON"),
        ("publicize", '"2025-13-01"', "expected a date"),
        ("publicize", "42", "expected an object"),
        ("certify", '{"reference": "x"}', "decided_on"),
        ("certify", '["x"]', "expected an object"),
    ],
)
def test_parse_payload_refuses_bad_input(trigger: str, text: str, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        parse_payload(trigger, text)


def test_ids_from_a_file_and_from_a_csv_column(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("# 公示名单\nc0\n\n  c1  \n", encoding="utf-8")
    assert read_ids_file(ids) == ["c0", "c1"]
    table = tmp_path / "cases.csv"
    table.write_text("名称,case_id\n甲,c0\n乙,\n丙,c2\n", encoding="utf-8-sig")
    assert read_csv_column(table, "case_id") == ["c0", "c2"]
    with pytest.raises(InvalidInputError, match="has no column id"):
        read_csv_column(table, "id")
    with pytest.raises(InvalidInputError, match="cannot read the ids file"):
        read_ids_file(tmp_path / "missing.txt")
    with pytest.raises(InvalidInputError, match="cannot read the CSV file"):
        read_csv_column(tmp_path / "missing.csv", "id")


def test_the_report_as_json_and_csv(tmp_path: Path) -> None:
    h, _ = site_inspected(1, declared=["d1"])
    report = run_bulk(h.workflow, "publicize", ["c0", "d1", "x"], BUREAU, run_id="r1")
    data = report.to_dict("en")
    assert data["run_id"] == "r1"
    assert data["trigger"] == "publicize"
    assert data["exit_code"] == 1
    assert data["succeeded"] == ["c0"]
    assert data["refused"] == ["d1"]
    assert data["not_found"] == ["x"]
    assert data["counts"]["succeeded"] == 1
    assert sum(data["counts"].values()) == 3
    assert data["summary"].startswith("bulk publicize r1")
    assert report.to_dict("zh")["summary"].startswith("批量社会公示 r1")
    rows = list(csv.DictReader(io.StringIO(report.to_csv("en"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1]["guards"] == "state"
    assert rows[1]["articles"] == "Art. 13"
    assert rows[2]["message"] == "no case with id x"
    path = tmp_path / "report.csv"
    report.write_csv(path, "zh")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "第十三条" in path.read_text(encoding="utf-8-sig")


def test_after_a_refusal_the_cases_left_are_not_even_judged() -> None:
    h, _ = site_inspected(3, declared=["d1"])
    judged: list[str] = []

    def spy(actor: Actor, step: Step, case: Case) -> list[GuardFailure]:
        judged.append(case.id)
        return regulation_roles(actor, step, case)

    h.workflow.authorization = spy
    report = run_bulk(
        h.workflow,
        "publicize",
        ["c0", "d1", "c1", "c2"],
        BUREAU,
        run_id="r1",
        chunk_size=3,
        stop_on_refusal=True,
    )
    assert report.refused == ("d1",)
    assert report.not_attempted == ("c1", "c2")
    assert "c1" not in judged  # after the refusal in its chunk
    assert "c2" not in judged  # in the next chunk
