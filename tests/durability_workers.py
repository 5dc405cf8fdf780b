"""Code that runs in child processes for the durability tests (spawned, so importable)."""

from __future__ import annotations

import os
import signal
from typing import Any

import attrs

from kmbase_workflow.case import State
from kmbase_workflow.errors import ConcurrencyConflictError
from kmbase_workflow.stores import CaseStore, open_store
from kmbase_workflow.testing import sample_change

_STATES = (State.DECLARED, State.DISTRICT_RECOMMENDED)


def next_change(store: CaseStore, case_id: str, reason: str) -> object:
    """The next step of a case as a writer that just loaded it would build it."""
    case = store.get(case_id)
    history = store.history(case_id)
    after = attrs.evolve(case, version=case.version + 1, state=_STATES[case.version % 2])
    change = sample_change(after, history[-1])
    # Ids and reasons unique per attempt, so the test can tell whose step was recorded.
    events = tuple(attrs.evolve(e, id=f"{e.id}-{reason}") for e in change.events)
    entry = attrs.evolve(change.history, reason=reason, event_ids=tuple(e.id for e in events))
    return attrs.evolve(change, history=entry.sealed(history[-1].hash), events=events)


def race(url: str, case_id: str, worker: int, attempts: int) -> list[str]:
    """Try ``attempts`` steps on one case; return the reasons of the steps that won."""
    store = open_store(url)
    won = []
    for attempt in range(attempts):
        reason = f"w{worker}-a{attempt}"
        try:
            store.commit(next_change(store, case_id, reason))  # type: ignore[arg-type]
        except ConcurrencyConflictError:
            continue
        won.append(reason)
    store.close()
    return won


def crash_at(url: str, case_id: str, point: str) -> None:
    """Start a step and die (SIGKILL) at ``point`` inside the write."""
    store = open_store(url)

    def die(name: str) -> None:
        if name == point:
            os.kill(os.getpid(), signal.SIGKILL)

    store.on_checkpoint = die  # type: ignore[attr-defined]
    store.commit(next_change(store, case_id, f"crash-{point}"))  # type: ignore[arg-type]
    if point == "after_commit":
        os.kill(os.getpid(), signal.SIGKILL)


def open_many_times(folder: str, rounds: int, barrier: Any, failures: Any) -> None:
    """Open (create and migrate) ``rounds`` new SQLite files, each at the same moment as the
    other processes; record every failure instead of dying on the first."""
    for index in range(rounds):
        barrier.wait()
        try:
            store = open_store(f"sqlite:///{folder}/new-{index}.db")
            store.close()
        except Exception as error:
            failures.append(f"{index}: {type(error).__name__}: {error}")
