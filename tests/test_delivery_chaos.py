"""Tested as deployed: worker and writer processes on one database for a bounded time, one
worker killed (SIGKILL) and restarted, the webhook receiver down for a while.

Afterwards every event of the outbox reached the receiver at least once, each case's events
first arrived in order, and no notice was emitted twice, however many sweeps overlapped.
"""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from kmbase_workflow.stores import open_store
from lifecycle_helpers import NOTICE_DUE
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name
from webhook_receiver import SECRET, receiving
from worker_processes import publicized_cases, start_worker, start_writer, started

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
