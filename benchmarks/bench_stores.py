"""Persistence: 100,000 cases through one transition on SQLite, against plain sqlite3.

This times ``commit_many`` alone, of changes built beforehand: the store's write, not what a
user feels. The end-to-end figure (select, read, check, build, write) is ``bench_bulk``.

Prints, in one run:
- the time to persist one transition (state + history + outbox) for each of 100,000 cases
  with ``commit_many`` in chunks, against the floor of plain ``sqlite3.executemany`` writing
  the same rows (already encoded) in one transaction, and the ratio;
- single-transition latency (median and p99) on SQLite and, when reachable, PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import attrs
import psycopg

from kmbase_workflow.case import State
from kmbase_workflow.stores import Change, open_store
from kmbase_workflow.stores._rows import case_columns, dumps, event_data, history_columns
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.testing import sample_case, sample_change

CASES = int(os.environ.get("KMBASE_BENCH_CASES", "100000"))
CHUNK = int(os.environ.get("KMBASE_BENCH_CHUNK", "5000"))
LATENCY_SAMPLES = 300


def _declared(count: int) -> list[Change]:
    template = sample_case("template")
    return [sample_change(attrs.evolve(template, id=f"case-{i:06d}"), None) for i in range(count)]


def _second_steps(first: list[Change]) -> list[Change]:
    out = []
    for change in first:
        after = attrs.evolve(change.case, version=2, state=State.DISTRICT_RECOMMENDED)
        out.append(sample_change(after, change.history))
    return out


def _floor(path: Path, steps: list[Change]) -> float:
    """Plain sqlite3: the same three rows per step, pre-encoded, executemany, one commit."""
    case_rows, history_rows, outbox_rows = [], [], []
    for change in steps:
        columns = case_columns(change.case)
        case_rows.append(
            (columns["state"], columns["version"], dumps(columns["data"]), columns["id"])
        )
        history = history_columns(change.history)
        history_rows.append(
            (history["case_id"], history["sequence"], history["action"], history["from_state"],
             history["to_state"], history["at"], history["previous_hash"], history["hash"],
             dumps(history["data"]))
        )  # fmt: skip
        outbox_rows.extend(
            (e.id, e.type, e.case_id, e.occurred_at.isoformat(), dumps(event_data(e)))
            for e in change.events
        )
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "UPDATE cases SET state = ?, version = ?, data = ? WHERE id = ?", case_rows
    )
    connection.executemany("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", history_rows)
    connection.executemany(
        "INSERT INTO outbox (id, type, case_id, occurred_at, data) VALUES (?, ?, ?, ?, ?)",
        outbox_rows,
    )
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def _latency(url: str, label: str) -> None:
    store = open_store(url)
    firsts = _declared(LATENCY_SAMPLES)
    store.commit_many(firsts)
    timings = []
    for change in _second_steps(firsts):
        started = time.perf_counter()
        store.commit(change)
        timings.append(time.perf_counter() - started)
    store.close()
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(
        f"single transition on {label}: median {statistics.median(timings) * 1e3:.2f} ms, "
        f"p99 {p99 * 1e3:.2f} ms ({len(timings)} samples)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        ours_path = Path(folder) / "ours.db"
        floor_path = Path(folder) / "floor.db"
        firsts = _declared(CASES)
        for path in (ours_path, floor_path):
            store = SQLiteStore(path)
            for start in range(0, CASES, 10_000):
                store.commit_many(firsts[start : start + 10_000])
            store.close()
        started = time.perf_counter()
        steps = _second_steps(firsts)
        build = time.perf_counter() - started

        store = SQLiteStore(ours_path)
        started = time.perf_counter()
        for start in range(0, CASES, CHUNK):
            store.commit_many(steps[start : start + CHUNK])
        ours = time.perf_counter() - started
        store.close()
        floor = _floor(floor_path, steps)
        print(f"{CASES:,} transitions built (case, sealed history entry, event): {build:.2f} s")
        print(
            f"commit_many alone (changes built beforehand; end to end: bench_bulk), chunks of "
            f"{CHUNK:,}: {ours:.2f} s "
            f"({CASES / ours:,.0f} transitions/s)"
        )
        print(f"floor, plain sqlite3 executemany of the same rows, one transaction: {floor:.2f} s")
        print(f"ratio ours / floor: {ours / floor:.2f}x (target: within 3x)")

        _latency(f"sqlite:///{folder}/latency.db", "SQLite (WAL, synchronous=FULL)")
    url = os.environ.get("KMBASE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        _latency(f"{url}?schema={schema}", "PostgreSQL")
    except Exception as error:  # the bench reports, never fails, without a server
        print(f"PostgreSQL latency not measured: {error}")
    finally:
        try:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        except Exception:
            pass


if __name__ == "__main__":
    main()
