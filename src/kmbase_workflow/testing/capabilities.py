"""The contracts of the capabilities beyond cases: mix each one a backend has into its
`StoreContract <kmbase_workflow.testing.StoreContract>` subclass (which gives the ``store``
fixture), as `WorkQueueContract <kmbase_workflow.testing.WorkQueueContract>` is::

    class TestMyStore(StoreContract, WorkQueueContract, TokenContract, RawRowContract):
        def make_store(self):
            return MyStore(...)

- `TokenContract`: the service's API tokens (`kmbase_workflow.stores.TokenStore`);
- `RawRowContract`: rows as stored, for the audit (`kmbase_workflow.stores.RawRowStore`);
- `DeliveryContract`: durable delivery's rows (`kmbase_workflow.stores.DeliveryStore`), as
  `kmbase_workflow.delivery.DeliveryQueue` uses them.
"""

from __future__ import annotations

import datetime as dt

from ..actors import Actor, Role
from ..stores import CaseStore, RawRowStore, TokenStore
from ..stores.tokens import token_store
from .store_contract import sample_case, sample_change

__all__ = ["DeliveryContract", "RawRowContract", "TokenContract"]

_NOW = dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC)


class TokenContract:
    """API tokens: issued for an actor, checked in constant time, listed, revoked."""

    def test_a_token_stands_for_its_actor_until_revoked(self, store: CaseStore) -> None:
        assert isinstance(store, TokenStore)
        tokens = token_store(store)
        actor = Actor(Role.DISTRICT_AUTHORITY, "wh-007", district="五华区", name="李四")
        token, secret = tokens.issue(actor, now=_NOW)
        assert tokens.check(secret) == Actor(
            Role.DISTRICT_AUTHORITY, "wh-007", district="五华区", name="李四", via="http"
        )
        assert tokens.check(secret[:-1]) is None
        assert tokens.check(secret.upper()) is None  # compared exactly, never case-folded
        later = _NOW + dt.timedelta(hours=1)
        assert tokens.revoke(token.id, now=later).revoked_at == later
        assert tokens.check(secret) is None
        assert tokens.revoke(token.id, now=later + dt.timedelta(hours=1)).revoked_at == later

    def test_tokens_are_listed_oldest_first(self, store: CaseStore) -> None:
        tokens = token_store(store)
        first, _ = tokens.issue(Actor(Role.CITY_BUREAU, "bureau-01"), now=_NOW)
        second, _ = tokens.issue(
            Actor(Role.CITY_BUREAU, "bureau-02"), now=_NOW + dt.timedelta(seconds=1)
        )
        assert [token.id for token in tokens.list()] == [first.id, second.id]
        assert [token.actor.id for token in tokens.list()] == ["bureau-01", "bureau-02"]
        assert all(token.active for token in tokens.list())


class RawRowContract:
    """Rows as stored: every table's columns by name, ``data`` decoded (the audit checks the
    columns against it; `TamperSuite <kmbase_workflow.testing.TamperSuite>` proves that)."""

    def test_rows_read_back_as_stored_and_verify(self, store: CaseStore) -> None:
        assert isinstance(store, RawRowStore)
        change = sample_change(sample_case("case-1"), None)
        store.commit(change)
        [case] = store.raw_rows("cases", "case-1")
        assert (case["id"], case["state"], case["version"]) == ("case-1", "declared", 1)
        assert case["base_id"] == "base-case-1"
        assert case["declared_on"] == "2025-06-20"
        assert isinstance(case["data"], dict)
        [application] = store.raw_rows("applications", "case-1")
        assert isinstance(application["data"], dict)
        [entry] = store.raw_rows("history", "case-1")
        assert (entry["sequence"], entry["hash"]) == (1, change.history.hash)
        events = store.raw_rows("outbox", "case-1")
        assert [row["id"] for row in events] == [event.id for event in change.events]
        assert store.raw_rows("cases", "no-such-case") == []
        assert [row["id"] for row in store.raw_rows("cases")] == ["case-1"]


class DeliveryContract:
    """Durable delivery on the store: relay, lease, complete, fail, release, dead letters,
    sweeps (leases that end are not waited for here: a contract never races a clock)."""

    def test_events_are_relayed_leased_once_per_case_and_completed(self, store: CaseStore) -> None:
        from ..delivery import DeliveryQueue  # noqa: PLC0415 - delivery imports the workflow

        first = sample_change(sample_case("case-1"), None)
        store.commit(first)
        store.commit(sample_change(sample_case("case-2"), None))
        queue = DeliveryQueue(store)
        assert queue.relay("portal") == 2
        assert queue.relay("portal") == 0  # the cursor moved past them
        taken = queue.claim("portal", "worker-1", limit=10)
        assert {d.record.event.case_id for d in taken} == {"case-1", "case-2"}
        assert all(d.attempts == 1 for d in taken)
        assert queue.claim("portal", "worker-2") == []  # leased
        queue.complete(taken)
        status = queue.status()
        assert (status.head, status.consumers[0].lag) == (2, 0)

    def test_a_failed_event_is_retried_then_dead_then_redriven(self, store: CaseStore) -> None:
        from ..delivery import DeliveryQueue  # noqa: PLC0415

        store.commit(sample_change(sample_case("case-1"), None))
        queue = DeliveryQueue(store)
        queue.relay("portal")
        [taken] = queue.claim("portal", "worker-1")
        queue.fail(taken, "worker-1", "down", retry_in=0)
        [again] = queue.claim("portal", "worker-1")
        assert again.attempts == 2
        queue.fail(again, "worker-1", "still down", retry_in=None)
        [letter] = queue.dead_letters("portal")
        assert (letter.attempts, letter.last_error) == (2, "still down")
        assert queue.redrive("portal") == 1
        assert queue.dead_letters() == []
        [redriven] = queue.claim("portal", "worker-1")
        assert redriven.record.position == taken.record.position

    def test_one_worker_runs_a_day_s_sweep(self, store: CaseStore) -> None:
        from ..delivery import DeliveryQueue  # noqa: PLC0415

        queue = DeliveryQueue(store)
        assert queue.claim_sweep("2026-03-02", "worker-1")
        assert not queue.claim_sweep("2026-03-02", "worker-2")  # held
        queue.finish_sweep("2026-03-02", "worker-1", 3)
        assert queue.sweep_finished("2026-03-02")
        assert not queue.claim_sweep("2026-03-02", "worker-2")  # finished
        assert queue.status().last_sweep_day == "2026-03-02"

    def test_a_case_s_events_are_leased_one_at_a_time_in_order(self, store: CaseStore) -> None:
        from ..delivery import DeliveryQueue  # noqa: PLC0415

        store.commit(sample_change(sample_case("case-1"), None, events=2))
        queue = DeliveryQueue(store)
        assert queue.relay("portal") == 2
        [first] = queue.claim("portal", "worker-1", limit=10)
        assert queue.claim("portal", "worker-2", limit=10) == []  # the case's next one waits
        queue.complete([first])
        [second] = queue.claim("portal", "worker-2", limit=10)
        assert second.record.position > first.record.position
        assert second.record.event.case_id == "case-1"

    def test_only_the_lease_holder_fails_or_releases_an_event(self, store: CaseStore) -> None:
        from ..delivery import DeliveryQueue  # noqa: PLC0415

        store.commit(sample_change(sample_case("case-1"), None))
        queue = DeliveryQueue(store)
        queue.relay("portal")
        [taken] = queue.claim("portal", "worker-1", lease=3600)
        queue.fail(taken, "worker-2", "not mine", retry_in=None)
        queue.release([taken], "worker-2")
        assert queue.dead_letters() == []
        assert queue.claim("portal", "worker-3") == []  # still worker-1's
        queue.release([taken], "worker-1")  # given back untried: due now, attempt uncounted
        [again] = queue.claim("portal", "worker-3")
        assert (again.record.position, again.attempts) == (taken.record.position, 1)

    def test_a_consumer_of_some_types_moves_past_the_others(self, store: CaseStore) -> None:
        from ..delivery import DeliveryQueue  # noqa: PLC0415

        store.commit(sample_change(sample_case("case-1"), None))
        store.commit(sample_change(sample_case("case-2"), None))
        queue = DeliveryQueue(store)
        assert queue.relay("archive", types={"no_such_type"}) == 2  # read, none queued
        assert queue.claim("archive", "worker-1") == []
        assert queue.relay("portal") == 2
        assert queue.consumers() == ["archive", "portal"]
        status = {consumer.name: consumer for consumer in queue.status().consumers}
        assert (status["archive"].queued, status["archive"].lag) == (0, 0)
        assert (status["portal"].queued, status["portal"].lag) == (2, 2)

    def test_dead_letters_are_kept_per_consumer_and_redriven_by_position(
        self, store: CaseStore
    ) -> None:
        from ..delivery import DeliveryQueue  # noqa: PLC0415

        store.commit(sample_change(sample_case("case-1"), None))
        store.commit(sample_change(sample_case("case-2"), None))
        queue = DeliveryQueue(store)
        queue.relay("portal")
        queue.relay("archive")
        for consumer in ("portal", "archive"):
            for delivery in queue.claim(consumer, "worker-1", limit=10):
                queue.fail(delivery, "worker-1", f"{consumer} down", retry_in=None)
        letters = queue.dead_letters("portal")
        assert [letter.case_id for letter in letters] == ["case-1", "case-2"]
        assert {letter.last_error for letter in letters} == {"portal down"}
        assert [letter.consumer for letter in queue.dead_letters()] == ["archive"] * 2 + [
            "portal"
        ] * 2
        assert queue.redrive("portal", [letters[1].position]) == 1
        assert [letter.case_id for letter in queue.dead_letters("portal")] == ["case-1"]
        [redriven] = queue.claim("portal", "worker-2")
        assert (redriven.record.event.case_id, redriven.attempts) == ("case-2", 1)
        assert queue.status().consumers[1].dead == 1  # "portal", after "archive"
