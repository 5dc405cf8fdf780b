"""The lifecycle: the workflow service over a MemoryStore versus one ``transitions.Machine``
per case, one recommendation step beside its target (issue 16: within 300 µs in memory), and
one declaration beside its targets (issue 24: within 500 µs in memory, and within 3x a
hand-written SQLite floor that encodes the application once, hashes it once and inserts its
rows in one transaction).

(a) 100,000 cases through the real service path (``Workflow.declare`` and ``Workflow.fire``
with every guard, the hash-chained history entry, the outbox event and the publish), and
the memory a case costs; (b) the same graph as one ``transitions.Machine`` per case:
construction time and memory per case and trigger time. Figures and ratios, no assertions.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import itertools
import json
import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from _timing import load, timed
from transitions import Machine

from kmbase_workflow import Actor, FixedClock, Role, Workflow, evaluate
from kmbase_workflow.case import Case, Recommendation, State
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.lifecycle import NEW, STEPS, Trigger, next_state
from kmbase_workflow.records import SpotCheck
from kmbase_workflow.serialization import converter
from kmbase_workflow.stores import CaseStore, MemoryStore, open_store

CASES = 100_000
MACHINES = 10_000  # one Machine per case costs ~0.5 ms and ~35 kB: scaled down for the budget
MEMORY_SAMPLE = 10_000
GROWTH_SAMPLE = 6_000
RECOMMEND_SAMPLE = 5_000
RECOMMEND_TARGET_US = 300.0
DECLARE_SAMPLE = 1_000
DECLARE_TARGET_US = 500.0
DECLARE_FLOOR_TARGET = 3.0
WARM_UP = 200

BUREAU = Actor(Role.CITY_BUREAU, "市工业和信息化局")
DISTRICT = Actor(Role.DISTRICT_AUTHORITY, "五华区工信局", district="五华区")
RECOMMENDATION = Recommendation("同意推荐", True, SpotCheck(60, 6, 6))


def _workflow(store: CaseStore) -> Workflow:
    counter = itertools.count(1)
    workflow = Workflow(
        store, clock=FixedClock(dt.date(2025, 6, 20)), new_id=lambda: f"c{next(counter)}"
    )
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    return workflow


def _declare(workflow: Workflow, count: int, prefix: str = "b") -> tuple[list[str], float]:
    application = eligible_application()
    operator = Actor.for_operator(application.operator)
    started = time.perf_counter()
    ids = [
        workflow.declare(application, operator, base_id=f"{prefix}{i}").case.id
        for i in range(count)
    ]
    return ids, time.perf_counter() - started


def _rate(label: str, count: int, elapsed: float) -> float:
    per = elapsed / count * 1e6
    print(
        f"  {label:<44} {count:>8,} in {elapsed:6.2f} s: {count / elapsed:>9,.0f}/s, {per:7.1f} µs each"
    )
    return per


def _service() -> dict[str, float]:
    print(
        f"(a) Workflow over a MemoryStore, {CASES:,} cases, every guard on (the real service path)"
    )
    figures: dict[str, float] = {}
    _declare_growth()
    _throughput(figures)
    _memory(figures)
    return figures


def _declare_growth() -> None:
    workflow = _workflow(MemoryStore())
    application = eligible_application()
    operator = Actor.for_operator(application.operator)
    chunk = 1_000
    per_chunk = []
    for start in range(0, GROWTH_SAMPLE, chunk):
        began = time.perf_counter()
        for i in range(start, start + chunk):
            workflow.declare(application, operator, base_id=f"g{i}")
        per_chunk.append((time.perf_counter() - began) / chunk * 1e6)
    print(
        f"  declare costs {per_chunk[0]:.0f} µs with <{chunk:,} cases stored, "
        f"{per_chunk[-1]:.0f} µs with {GROWTH_SAMPLE - chunk:,}+ (the base look-up is indexed)"
    )
    del workflow
    gc.collect()


def _throughput(figures: dict[str, float]) -> None:
    workflow = _workflow(MemoryStore())
    ids, elapsed = _declare(workflow, CASES)
    figures["declare"] = _rate("declare (round, 第八条 materials, 第十五条)", CASES, elapsed)

    started = time.perf_counter()
    for case_id in ids:
        workflow.decline(case_id, DISTRICT, "不符合推荐条件")
    figures["fire"] = _rate(
        "fire decline (role, district, reason guards)", CASES, time.perf_counter() - started
    )

    sample = _workflow(MemoryStore())
    sample_ids, _ = _declare(sample, RECOMMEND_SAMPLE)
    started = time.perf_counter()
    for case_id in sample_ids:
        sample.recommend(case_id, DISTRICT, RECOMMENDATION)
    figures["recommend"] = _rate(
        "fire recommend (+ 第六/七条 verdict, spot check)",
        RECOMMEND_SAMPLE,
        time.perf_counter() - started,
    )
    del sample

    cases = [workflow.case(case_id) for case_id in ids]
    started = time.perf_counter()
    for case in cases:
        state = next_state(case.state, Trigger.WITHDRAW)
        attrs.evolve(case, state=state or case.state, version=case.version + 1)
    figures["graph"] = _rate(
        "graph step only (next_state + evolve)", CASES, time.perf_counter() - started
    )
    del workflow, cases, ids
    gc.collect()


def _memory(figures: dict[str, float]) -> None:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    workflow = _workflow(MemoryStore())
    ids, _ = _declare(workflow, MEMORY_SAMPLE, prefix="m")
    stored = (tracemalloc.get_traced_memory()[0] - before) / MEMORY_SAMPLE
    one = workflow.case(ids[0])
    mark = tracemalloc.get_traced_memory()[0]
    copies = [attrs.evolve(one, id=f"x{i}") for i in range(MEMORY_SAMPLE)]
    shared = (tracemalloc.get_traced_memory()[0] - mark) / MEMORY_SAMPLE
    plain = converter.unstructure(one)
    mark = tracemalloc.get_traced_memory()[0]
    loaded = [converter.structure(plain, Case) for _ in range(MEMORY_SAMPLE)]
    own = (tracemalloc.get_traced_memory()[0] - mark) / MEMORY_SAMPLE
    tracemalloc.stop()
    figures["case_bytes"] = own
    print(f"  memory (tracemalloc, {MEMORY_SAMPLE:,} cases):")
    print(
        f"    a declared case in the store (case + history entry + outbox event): {stored:>9,.0f} bytes"
    )
    print(
        f"    a Case sharing its Application (as the MemoryStore holds it):      {shared:>9,.0f} bytes"
    )
    print(
        f"    a Case loaded with its own Application (as a durable store loads): {own:>9,.0f} bytes"
    )
    del workflow, ids, copies, loaded
    gc.collect()


def _machine_spec() -> dict[str, Any]:
    return {
        "states": [NEW, *(state.value for state in State)],
        "transitions": [
            {
                "trigger": step.trigger.value,
                "source": [NEW if source is None else source.value for source in step.sources],
                "dest": step.destination.value,
            }
            for step in STEPS
        ],
        "auto_transitions": False,
    }


class _Model:
    """A bare model for a per-case Machine."""


def _machines(figures: dict[str, float]) -> None:
    print(
        f"\n(b) one transitions.Machine per case, same states and transitions (from STEPS), "
        f"SCALED DOWN to {MACHINES:,} cases to stay within the benchmark's time budget"
    )
    spec = _machine_spec()
    models = []
    started = time.perf_counter()
    for _ in range(MACHINES):
        model = _Model()
        Machine(model=model, initial=State.DECLARED.value, **spec)
        models.append(model)
    build = _rate("construct Machine(model=case)", MACHINES, time.perf_counter() - started)

    started = time.perf_counter()
    for model in models:
        model.decline()  # type: ignore[attr-defined]
    trigger = _rate(
        "trigger decline (no guards, no record)", MACHINES, time.perf_counter() - started
    )
    del models
    gc.collect()

    sample = MACHINES // 10
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = []
    for _ in range(sample):
        model = _Model()
        Machine(model=model, initial=State.DECLARED.value, **spec)
        kept.append(model)
    machine_bytes = (tracemalloc.get_traced_memory()[0] - before) / sample
    tracemalloc.stop()
    del kept
    gc.collect()
    print(f"  memory per Machine + model (tracemalloc, {sample:,}):  {machine_bytes:>9,.0f} bytes")
    print(
        f"  at these rates {CASES:,} Machines would take {build * CASES / 1e6:.0f} s to build "
        f"and {machine_bytes * CASES / 1e9:.1f} GB"
    )

    print("\nratios")
    print(
        f"  building a Machine per case costs {build / figures['fire']:.0f}x a whole service "
        f"trigger (decline) and {build / figures['declare']:.0f}x a declare"
    )
    print(
        f"  a Machine trigger alone: {trigger:.1f} µs vs the shared graph's next_state + evolve "
        f"{figures['graph']:.1f} µs ({trigger / figures['graph']:.1f}x)"
    )
    print(
        f"  memory: a Machine per case {machine_bytes:,.0f} bytes = "
        f"{machine_bytes / figures['case_bytes']:.1f}x a loaded Case with its own application; "
        f"for {CASES:,} cases {machine_bytes * CASES / 1e9:.1f} GB of machines"
    )
    print(
        f"  the service's decline is {figures['fire'] / trigger:.1f}x a bare Machine trigger: "
        "it also checks guards, hashes a history entry, writes the outbox and publishes"
    )


def _recommend_step() -> None:
    """One recommendation (第十条: the guards judge the application) in a MemoryStore: the
    median of single steps, then the same step split into its parts."""
    workflow = _workflow(MemoryStore())
    each = RECOMMEND_SAMPLE + WARM_UP
    ids, _ = _declare(workflow, 3 * each, prefix="r")
    whole, prepare, commit = ids[:each], ids[each : 2 * each], ids[2 * each :]
    policy = workflow.policy_for(workflow.case(ids[0]))
    application, declared_on = eligible_application(), workflow.case(ids[0]).declared_on
    print(f"\n(c) one recommendation step in memory (medians of {RECOMMEND_SAMPLE:,}; {load()})")
    step = timed(
        lambda i: workflow.recommend(whole[i], DISTRICT, RECOMMENDATION), RECOMMEND_SAMPLE, WARM_UP
    )
    print(step.against("Workflow.recommend (fire RECOMMEND, every guard)", RECOMMEND_TARGET_US, 50))
    prepared = timed(
        lambda i: workflow.prepare(prepare[i], "recommend", DISTRICT, payload=RECOMMENDATION),
        RECOMMEND_SAMPLE,
        WARM_UP,
    )
    print(prepared.against("  prepare: guards, effect, event, sealed entry", width=50))
    judged = timed(
        lambda _: evaluate(application, policy, judged_on=declared_on).eligible,
        RECOMMEND_SAMPLE,
        WARM_UP,
    )
    print(judged.against("    of which the verdict (evaluate, scalar path)", width=50))
    changes = [
        workflow.prepare(case_id, "recommend", DISTRICT, payload=RECOMMENDATION)
        for case_id in commit
    ]
    committed = timed(lambda i: workflow.commit([changes[i]]), RECOMMEND_SAMPLE, WARM_UP)
    print(committed.against("  commit: the store's write, publish", width=50))


_FLOOR_SCHEMA = """
CREATE TABLE cases (id TEXT PRIMARY KEY, base_id TEXT NOT NULL, state TEXT NOT NULL,
    version INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE applications (case_id TEXT PRIMARY KEY REFERENCES cases(id), data TEXT NOT NULL);
CREATE TABLE history (case_id TEXT NOT NULL REFERENCES cases(id), sequence INTEGER NOT NULL,
    hash TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (case_id, sequence));
CREATE TABLE outbox (position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL, data TEXT NOT NULL);
"""


def _declare_floor(path: Path, application: Any) -> Callable[[int], object]:
    """A hand-written declaration on SQLite: the application unstructured and encoded once
    (sorted keys: the text hashed is the text stored), hashed once, and the case, the
    application, the history entry and the event inserted in one transaction, with the
    store's settings (durable commits, foreign keys)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.executescript(_FLOOR_SCHEMA)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode

    def declare(i: int) -> None:
        case_id = uuid.uuid4().hex
        text = encode(converter.unstructure(application))
        digest = hashlib.sha256(text.encode()).hexdigest()
        case = encode({"id": case_id, "base_id": f"f{i}", "state": "declared", "version": 1})
        event = encode({"type": "declared", "id": uuid.uuid4().hex, "case_id": case_id})
        entry = f'{{"case_id":"{case_id}","application_hash":"{digest}","payload":{text}}}'
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO cases VALUES (?, ?, 'declared', 1, ?)", (case_id, f"f{i}", case)
        )
        connection.execute("INSERT INTO applications VALUES (?, ?)", (case_id, text))
        connection.execute(
            "INSERT INTO history VALUES (?, 1, ?, ?)",
            (case_id, hashlib.sha256(entry.encode()).hexdigest(), entry),
        )
        connection.execute(
            "INSERT INTO outbox (id, case_id, data) VALUES (?, ?, ?)",
            (uuid.uuid4().hex, case_id, event),
        )
        connection.execute("COMMIT")

    return declare


def _declare_step() -> None:
    """One declaration (第九条): in a MemoryStore against its target, and on a SQLite file
    against the hand-written floor (`_declare_floor`), medians of single calls."""
    application = eligible_application()
    operator = Actor.for_operator(application.operator)
    print(f"\n(d) one declaration (medians of {DECLARE_SAMPLE:,}; {load()})")
    memory = _workflow(MemoryStore())
    in_memory = timed(
        lambda i: memory.declare(application, operator, base_id=f"m{i}"), DECLARE_SAMPLE, 100
    )
    print(in_memory.against("Workflow.declare, MemoryStore", DECLARE_TARGET_US, 50))
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/declare.db")
        on_file = _workflow(store)
        ours = timed(
            lambda i: on_file.declare(application, operator, base_id=f"s{i}"), DECLARE_SAMPLE, 100
        )
        store.close()
        floor = timed(_declare_floor(Path(folder) / "floor.db", application), DECLARE_SAMPLE, 100)
    print(ours.against("Workflow.declare, SQLite file", width=50))
    print(floor.against("floor: encode once, hash once, one transaction", width=50))
    for kind, mine, theirs in (("CPU", ours.cpu, floor.cpu), ("wall", ours.wall, floor.wall)):
        ratio = mine / theirs
        met = "met" if ratio <= DECLARE_FLOOR_TARGET else "NOT met"
        print(
            f"  ratio to the floor ({kind}) {ratio:5.1f}x   target ≤ {DECLARE_FLOOR_TARGET:.0f}x: "
            f"{met}"
        )


def main() -> None:
    _declare_step()
    gc.collect()
    _recommend_step()
    gc.collect()
    figures = _service()
    _machines(figures)


if __name__ == "__main__":
    main()
