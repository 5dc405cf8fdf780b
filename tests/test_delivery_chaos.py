"""Tested as deployed: worker and writer processes on one database for a bounded time, one
worker killed (SIGKILL) and restarted, the webhook receiver down for a while.

Afterwards every event of the outbox reached the receiver at least once, each case's events
first arrived in order, and no notice was emitted twice, however many sweeps overlapped.

The run of issue 27 adds the three broker bridges (``kmbase relay`` processes, each killed
and restarted twice), writers whose steps commit out of the order of their outbox positions
(one of them killed mid-transaction) and a checkpoint job: every event reaches every
consumer at least once and in order per case, and every checkpoint verifies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import signal
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from broker_servers import BROKERS, Received, require, target
from kmbase_workflow.audit import Checkpoint, checkpoint, verify_store
from kmbase_workflow.bridges import open_sink
from kmbase_workflow.stores import OutboxRecord, open_store
from lifecycle_helpers import NOTICE_DUE
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name
from webhook_receiver import SECRET, receiving
from worker_processes import (
    publicized_cases,
    start_relay,
    start_stepper,
    start_worker,
    start_writer,
    started,
)

WRITING = 4.0
"""Seconds the writers write."""
NOTICES = 3
"""Cases whose public notice has ended on the workers' day: one notice each, no more."""
_OPTIONS = (
    "--today", (NOTICE_DUE + dt.timedelta(days=2)).isoformat(),
    "--sweep-every", "0.2",  # every worker sweeps, again and again, at once
    "--poll", "0.2",
    "--backoff", "0.05",
    "--backoff-cap", "0.5",
    "--max-attempts", "100000",
    "--lease", "2",
    "--timeout", "1",  # each request's deadline, below the lease
    "--batch", "10",
)  # fmt: skip


def _chaos(db: str, workers: int, writers: int, logs: Path) -> None:
    publicized_cases(db, NOTICES)
    with receiving() as receiver:
        options = ("--webhook", f"portal={receiver.url}", *_OPTIONS)
        receiver.failing = True  # the receiver is down when the run starts
        running = [
            start_worker(db, *options, secret=SECRET, log=logs / f"worker-{n}.log", wait=False)
            for n in range(workers)
        ]
        for n, worker in enumerate(running):
            started(worker, logs / f"worker-{n}.log")
        writing = [start_writer(db, f"w{n}", WRITING) for n in range(writers)]
        _until(lambda: receiver.refused >= 5)  # workers met the failing receiver
        receiver.failing = False
        running[0].send_signal(signal.SIGKILL)  # no clean stop: its leases must run out
        running[0].wait(timeout=60)
        running[0] = start_worker(db, *options, secret=SECRET, log=logs / "restarted.log")
        for writer in writing:
            assert writer.wait(timeout=300) == 0
        with open_store(db) as store:
            expected = {record.event.id for record in store.read_outbox(0, 1_000_000)}
            outbox = store.read_outbox(0, 1_000_000)
        _until(lambda: expected <= receiver.ids())
        for worker in running:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=120) for worker in running]
    assert codes == [0] * workers, [log.read_text()[-2000:] for log in logs.glob("*.log")]
    assert receiver.refused > 0  # the receiver really was down for a while
    assert len(expected) > 2 * NOTICES
    assert expected <= receiver.ids()  # at least once
    notices = [r.event.case_id for r in outbox if r.event.type == "notice_period_ended"]
    assert sorted(notices) == [f"c{index}" for index in range(NOTICES)]  # once each
    first: dict[str, int] = {}
    for event_id, _case, position, _at in receiver.received:
        first.setdefault(event_id, position)
    by_case: dict[str, list[int]] = defaultdict(list)
    for event_id, case_id, _position, _at in receiver.received:
        if first.pop(event_id, None) is not None:
            by_case[case_id].append(_position)
    assert all(positions == sorted(positions) for positions in by_case.values())


def _until(condition: Callable[[], bool], timeout: float = 300) -> None:
    """Wait until ``condition()`` (a bound for a broken run, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.slow
def test_three_workers_two_writers_one_killed_on_postgresql(
    schema: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    _chaos(f"{URL}?schema={schema}", workers=3, writers=2, logs=tmp_path)


@pytest.mark.slow
def test_one_worker_two_writers_killed_and_restarted_on_sqlite(tmp_path: Path) -> None:
    _chaos(f"sqlite:///{tmp_path / 'chaos.db'}", workers=1, writers=2, logs=tmp_path)


STEPPING = float(os.environ.get("KMBASE_CHAOS_SECONDS", "8"))
"""Seconds the writers of the issue-27 run take steps (``KMBASE_CHAOS_SECONDS`` for a longer
run than the suite's)."""
KEY = b"held by the auditor, never by the DBA"
CHECKPOINTS = 10
"""Checkpoints the job takes while the writers step (every one is verified at the end)."""


def _in_order_per_case(first_seen: list[str], outbox: list[OutboxRecord]) -> bool:
    """Whether the events first received of each case came in the outbox's order."""
    case_of = {record.event.id: record.event.case_id for record in outbox}
    mine: dict[str, list[str]] = defaultdict(list)
    for event_id in first_seen:
        mine[case_of[event_id]].append(event_id)
    return all(
        ids == [r.event.id for r in outbox if r.event.case_id == case] for case, ids in mine.items()
    )


@pytest.mark.slow
def test_writers_workers_bridges_and_checkpoints_with_kills_on_postgresql(
    schema: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    for broker in BROKERS:
        require(broker)
    db = f"{URL}?schema={schema}"
    publicized_cases(db, NOTICES)
    started_at = time.monotonic()
    received: dict[str, list[Received]] = {broker: [] for broker in BROKERS}
    checkpoints: list[Checkpoint] = []
    with contextlib.ExitStack() as stack:
        places = {b: stack.enter_context(contextlib.contextmanager(target)(b)) for b in BROKERS}
        for place in places.values():  # its queue or stream made, so it can be read at once
            open_sink(place.url, **place.options).close()
        receiver = stack.enter_context(receiving())
        options = ("--webhook", f"portal={receiver.url}", *_OPTIONS)

        def worker(name: str) -> subprocess.Popen[bytes]:
            return start_worker(db, *options, secret=SECRET, log=tmp_path / f"{name}.log")

        def relay(broker: str, *more: str) -> subprocess.Popen[bytes]:
            place = places[broker]
            log = tmp_path / f"relay-{broker}.log"
            return start_relay(db, place.url, [*place.cli_options(), *more], broker, log)

        def ids(broker: str) -> set[str]:
            received[broker].extend(places[broker].drain())
            return {message.message_id for message in received[broker]}

        workers = [worker("worker-0"), worker("worker-1")]
        relays = {broker: relay(broker) for broker in BROKERS}
        steppers = [start_stepper(db, f"s{n}", STEPPING) for n in range(3)]
        stop = threading.Event()

        def take_checkpoints() -> None:  # while the steps go on (each is verified after)
            with open_store(db) as store:
                while len(checkpoints) < CHECKPOINTS and not stop.wait(STEPPING / CHECKPOINTS):
                    checkpoints.append(checkpoint(store, KEY))

        job = threading.Thread(target=take_checkpoints)
        job.start()
        stack.callback(job.join)
        stack.callback(stop.set)
        kills = 0
        for round_ in range(2):  # kill every relay and a worker, twice, while steps go on
            seen = {broker: len(ids(broker)) for broker in BROKERS}
            _until(
                lambda: (
                    all(len(ids(b)) > seen[b] for b in BROKERS)  # noqa: B023
                    or all(stepper.poll() is not None for stepper in steppers)
                )
            )
            doomed = [*relays.values(), workers[0]] + ([steppers[0]] if round_ == 0 else [])
            for process in doomed:
                process.send_signal(signal.SIGKILL)  # a writer's open transaction rolls back
                process.wait(timeout=60)
            kills += len(doomed)
            relays = {broker: relay(broker) for broker in BROKERS}
            workers[0] = worker(f"worker-0-restarted-{round_}")
        assert [stepper.wait(timeout=300) for stepper in steppers[1:]] == [0, 0]
        stop.set()
        job.join()
        with open_store(db) as store:
            outbox = store.read_outbox(0, 1_000_000)
        expected = {record.event.id for record in outbox}
        for process in relays.values():  # killed a last time, wherever they are
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        kills += len(relays)
        last = [relay(broker, "--once") for broker in BROKERS]  # each catches up, then exits
        _until(lambda: expected <= receiver.ids() and all(expected <= ids(b) for b in BROKERS))
        for process in workers:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=120) for process in [*workers, *last]]
        with open_store(db) as store:
            reports = [verify_store(store, saved, KEY) for saved in checkpoints]
    assert codes == [0] * len(codes), [log.read_text()[-2000:] for log in tmp_path.glob("*.log")]
    positions = [record.position for record in outbox]
    late = sum(1 for before, after in itertools.pairwise(positions) if after < before)
    webhook_first = list(dict.fromkeys(event_id for event_id, *_ in receiver.received))
    assert expected <= receiver.ids()
    assert _in_order_per_case(webhook_first, outbox)
    for broker in BROKERS:
        first = list(dict.fromkeys(message.message_id for message in received[broker]))
        assert set(first) == expected, broker  # every event, nothing else
        assert _in_order_per_case(first, outbox), broker
    assert checkpoints
    assert all(report.ok for report in reports), [
        finding.problem.en for report in reports for finding in report.findings
    ]
    print(  # the figures of the closing note (pytest -s shows them)
        f"issue 27 chaos: {len(outbox)} events, {len({r.event.case_id for r in outbox})} cases, "
        f"{late} read after a higher position, {max(positions) - len(positions)} positions "
        f"never committed, {kills} kills, webhook {len(receiver.received)} deliveries, "
        + ", ".join(f"{b} {len(received[b])} messages" for b in BROKERS)
        + f", {len(checkpoints)} checkpoints verified, {time.monotonic() - started_at:.0f} s"
    )
