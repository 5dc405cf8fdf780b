"""Code that runs in child processes for the outbox visibility tests (spawned, so importable)."""

from __future__ import annotations

import random
import time

import attrs

from kmbase_workflow.case import State
from kmbase_workflow.stores import open_store
from kmbase_workflow.testing import sample_case, sample_change


def write_steps(url: str, prefix: str, steps: int) -> None:
    """``steps`` cases, each declared then advanced, one transaction each, dawdling at random
    inside the transaction so that positions commit out of order across processes."""
    store = open_store(url)
    store.on_checkpoint = lambda name: time.sleep(random.random() / 200)  # type: ignore[attr-defined]
    for index in range(steps):
        case = sample_case(f"{prefix}-{index:03d}", base_id=f"{prefix}-{index:03d}")
        declared = sample_change(case, None)
        store.commit(declared)
        advanced = attrs.evolve(case, version=2, state=State.DISTRICT_RECOMMENDED)
        store.commit(sample_change(advanced, declared.history))
    store.close()
