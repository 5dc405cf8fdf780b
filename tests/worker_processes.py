"""Starting ``kmbase worker run`` and event writers as child processes (the chaos and signal
tests): each a real process, so that it can be killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
TESTS = Path(__file__).resolve().parent


def publicized_cases(db: str, count: int) -> None:
    """``count`` cases in their public notice (c0, c1, …), which ends at `NOTICE_DUE`."""
    import datetime as dt

    from kmbase_workflow import FixedClock, Workflow
    from kmbase_workflow.case import State
    from kmbase_workflow.stores import open_store
    from lifecycle_helpers import BUREAU, harness, other_base, walk_to

    clock = FixedClock(dt.date(2025, 6, 20))
    with Workflow(open_store(db), clock=clock) as workflow:
        h = harness()
        h.workflow, h.clock = workflow, clock
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
        for index in range(count):
            walk_to(h, State.PUBLICIZED, f"c{index}", application=other_base(f"第{index}创业园"))
            clock.set(dt.date(2025, 6, 20))


def environment(**extra: str) -> dict[str, str]:
    """The children's environment: this checkout's library first on the path."""
    path = os.pathsep.join(filter(None, [str(SRC), str(TESTS), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def start_worker(
    db: str, *options: str, secret: str, log: Path, wait: bool = True
) -> subprocess.Popen[bytes]:
    """``kmbase worker run --db db options…`` with the webhook secret in its environment,
    its (JSON) log written to ``log``; with ``wait``, returns once the worker has started
    (so that a signal finds its handlers in place)."""
    command = [sys.executable, "-c", "from kmbase_workflow.cli import main; main()"]
    with log.open("wb") as stderr:
        worker = subprocess.Popen(
            [*command, "worker", "run", "--db", db, "--log-format", "json", *options],
            env=environment(KMBASE_WEBHOOK_SECRET=secret),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    if wait:
        started(worker, log)
    return worker


def started(worker: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``worker`` logged that it started (or ended, or two minutes passed)."""
    deadline = time.monotonic() + 120
    while b"worker_started" not in log.read_bytes() and worker.poll() is None:
        if time.monotonic() > deadline:  # pragma: no cover - a broken worker
            break
        time.sleep(0.05)


def start_writer(db: str, prefix: str, seconds: float) -> subprocess.Popen[bytes]:
    """A process that declares cases and takes them a step further for ``seconds``."""
    return subprocess.Popen(
        [sys.executable, str(TESTS / "worker_processes.py"), db, prefix, str(seconds)],
        env=environment(),
    )


def write_for(db: str, prefix: str, seconds: float) -> None:
    """Declare cases and take each one step further, until ``seconds`` have passed."""
    import time

    from durability_workers import next_change
    from kmbase_workflow.errors import StoreBusyError
    from kmbase_workflow.stores import open_store
    from kmbase_workflow.testing import sample_case, sample_change

    store = open_store(db)
    end = time.monotonic() + seconds
    index = 0
    while time.monotonic() < end:
        case_id = f"{prefix}-{index}"
        try:
            store.commit(sample_change(sample_case(case_id), None))
            store.commit(next_change(store, case_id, "second"))  # type: ignore[arg-type]
        except StoreBusyError:
            continue  # SQLite: another writer held the lock too long; the case is retried
        index += 1
        time.sleep(0.02)
    store.close()


def start_stepper(db: str, prefix: str, seconds: float) -> subprocess.Popen[bytes]:
    """A process that takes real steps (`step_for`) for ``seconds``."""
    return subprocess.Popen(
        [sys.executable, str(TESTS / "worker_processes.py"), db, prefix, str(seconds), "steps"],
        env=environment(),
    )


def step_for(db: str, prefix: str, seconds: float) -> None:
    """Declare cases of bases of their own and recommend them, through a `Workflow` (so the
    audit verifies every chain), dawdling at random inside each transaction so that steps
    of several processes commit out of the order of their outbox positions (issue 27)."""
    import datetime as dt
    import random

    from kmbase_workflow import FixedClock, Workflow
    from kmbase_workflow.case import State
    from kmbase_workflow.stores import open_store
    from lifecycle_helpers import harness, other_base, walk_to

    store = open_store(db)
    store.on_checkpoint = lambda name: time.sleep(random.random() / 100)  # type: ignore[attr-defined]
    clock = FixedClock(dt.date(2025, 6, 20))
    h = harness(open_round=False)
    h.workflow, h.clock = Workflow(store, clock=clock), clock
    end = time.monotonic() + seconds
    index = 0
    while time.monotonic() < end:
        case_id = f"{prefix}-{index}"
        walk_to(h, State.DISTRICT_RECOMMENDED, case_id, other_base(f"{prefix}第{index}创业园"))
        clock.set(dt.date(2025, 6, 20))
        index += 1
    store.close()


def start_relay(
    db: str, url: str, options: list[str], consumer: str, log: Path
) -> subprocess.Popen[bytes]:
    """``kmbase relay --to url --db db --consumer consumer options…``, its output to ``log``."""
    command = [sys.executable, "-c", "from kmbase_workflow.cli import main; main()", "relay"]
    command += ["--to", url, "--db", db, "--consumer", consumer, "--poll", "0.1"]
    with log.open("ab") as output:
        return subprocess.Popen(
            [*command, "--batch", "25", "--lang", "en", *options],
            env=environment(),
            stdout=output,
            stderr=output,
        )


if __name__ == "__main__":
    if sys.argv[4:] == ["steps"]:
        step_for(sys.argv[1], sys.argv[2], float(sys.argv[3]))
    else:
        write_for(sys.argv[1], sys.argv[2], float(sys.argv[3]))
