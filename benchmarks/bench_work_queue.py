"""Work queues: the inbox of a district and of the bureau with 100,000 cases in the store.

Fills a SQLite file and, when reachable, a PostgreSQL schema with ``KMBASE_BENCH_CASES``
cases (default 100,000) spread over the policy's districts, three rounds and every state
that awaits someone (certified cases carry their annual reports). ``KMBASE_BENCH_SEED``
cases (default 2,000) are written by the store's own ``commit_many``, each with the rows the
workflow derives (`kmbase_workflow.queues.work_items_for`); the rest are copies of their
``cases`` and ``work_queue`` rows under new ids, made in SQL (writing 100,000 cases one by
one takes most of an hour on a loaded machine, and the queue reads neither the history nor
the applications). Then prints the median and p95 latency of a first page (50 entries)
and of the page after it, through `kmbase_workflow.queues.work_queue` (cursor decoding and
entry building included), for a district authority and for the city bureau, and of the
city dashboard, beside the target of issue 13 (under 50 ms).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import attrs
import psycopg

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.calendar import default_calendar
from kmbase_workflow.case import Correction, State
from kmbase_workflow.deadlines import notice_deadline, validity_deadline
from kmbase_workflow.policy import load_policy
from kmbase_workflow.queues import dashboard, work_items_for, work_queue
from kmbase_workflow.stores import CaseStore, Change, open_store
from kmbase_workflow.stores.sqlite import SQLiteStore
from kmbase_workflow.testing import sample_case, sample_change

CASES = int(os.environ.get("KMBASE_BENCH_CASES", "100000"))
SEED = min(CASES, int(os.environ.get("KMBASE_BENCH_SEED", "2000")))
CHUNK = 1000
SAMPLES = int(os.environ.get("KMBASE_BENCH_SAMPLES", "100"))
TARGET_MS = 50.0
TODAY = dt.date(2026, 3, 16)

_STATES = (
    State.DECLARED,
    State.RETURNED_FOR_CORRECTION,
    State.DISTRICT_RECOMMENDED,
    State.EXPERT_REVIEWED,
    State.SITE_INSPECTED,
    State.PUBLICIZED,
    State.OBJECTED,
    State.CERTIFIED,
    State.REJECTED,
    State.WITHDRAWN,
)


def _changes(count: int) -> list[Change]:
    policy = load_policy()
    calendar = default_calendar()
    districts = [district.name for district in policy.districts]
    template = sample_case("template")
    applications = {
        name: attrs.evolve(
            template.application, base=attrs.evolve(template.application.base, district=name)
        )
        for name in districts
    }
    notice = notice_deadline(dt.date(2025, 9, 26), policy.periods, calendar=calendar)
    certified_on = dt.date(2025, 10, 16)
    extras = {
        State.RETURNED_FOR_CORRECTION: {
            "correction": Correction(("缺少审计报告",), dt.date(2025, 7, 10), dt.date(2025, 6, 20))
        },
        State.PUBLICIZED: {"notice": notice},
        State.OBJECTED: {"notice": notice},
        State.CERTIFIED: {
            "notice": notice,
            "certified_on": certified_on,
            "validity": validity_deadline(certified_on, policy.periods.validity),
        },
    }
    changes = []
    for index in range(count):
        state = _STATES[index % len(_STATES)]
        district = districts[(index // len(_STATES)) % len(districts)]
        day = dt.date(2025, 6, 1) + dt.timedelta(days=index % 60)
        case = attrs.evolve(
            template,
            id=f"case-{index:06d}",
            base_id=f"base-{index:06d}",
            round_year=2023 + index % 3,
            state=state,
            application=applications[district],
            declared_on=day,
            last_acted_on=day,
            **extras.get(state, {}),  # type: ignore[arg-type]
        )
        items = work_items_for(case, policy=policy, calendar=calendar)
        changes.append(attrs.evolve(sample_change(case, None), work_items=items))
    return changes


_CASE_COLUMNS = (
    "base_id, round_year, district, state, version, declared_on, notice_due, validity_due, data"
)
_QUEUE_COLUMNS = (
    "obligation, role, district, base_id, base_name, operator_id, round_year, state, version, "
    "actions, article_zh, article_en, since, opens_on, due_on, ready_on, sort_on"
)


def _fill(store: CaseStore, changes: list[Change], copies: int) -> float:
    """The seed through ``commit_many``, then ``copies`` copies of its rows in SQL."""
    started = time.perf_counter()
    for start in range(0, len(changes), CHUNK):
        store.commit_many(changes[start : start + CHUNK])
    if copies:
        numbers = (
            f"WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {copies}) "
            if isinstance(store, SQLiteStore)
            else ""
        )
        source = "n" if numbers else f"generate_series(1, {copies}) AS n(k)"
        with store._connection() as connection:  # a bench's bulk copy
            for table, key, columns in (
                ("cases", "id", _CASE_COLUMNS),
                ("work_queue", "case_id", _QUEUE_COLUMNS),
            ):
                connection.execute(
                    f"INSERT INTO {table} ({key}, {columns}) {numbers}"
                    f"SELECT {key} || '-' || k, {columns} FROM {table}, {source} "
                    f"WHERE {key} NOT LIKE '%-%-%'"
                )
    return time.perf_counter() - started


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    call()  # warm the caches
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def _measure(label: str, store: CaseStore) -> None:
    workflow = Workflow(store, clock=FixedClock(TODAY))
    district_name = load_policy().districts[0].name
    actors = {
        f"district ({district_name})": Actor(
            Role.DISTRICT_AUTHORITY, "d-1", district=district_name
        ),
        "city bureau": Actor(Role.CITY_BUREAU, "b-1"),
    }
    print(f"{label}: inbox latency over {SAMPLES} runs (target < {TARGET_MS:.0f} ms)")
    for name, actor in actors.items():
        first = work_queue(workflow, actor)
        cursor = first.next_cursor
        for page, call in (
            ("first page", lambda actor=actor: work_queue(workflow, actor)),
            (
                "next page",
                lambda actor=actor, cursor=cursor: work_queue(workflow, actor, cursor=cursor),
            ),
        ):
            median, p95 = _timed(call)
            verdict = "ok" if median < TARGET_MS else "OVER TARGET"
            print(
                f"  {name:<22} {page:<10} ({len(first.entries)} entries): median {median:6.2f} ms, "
                f"p95 {p95:6.2f} ms  [{verdict}]"
            )
    median, p95 = _timed(lambda: dashboard(workflow))
    print(f"  {'city dashboard':<33}: median {median:6.2f} ms, p95 {p95:6.2f} ms")


def main() -> None:
    changes = _changes(SEED)
    copies = CASES // SEED - 1
    rows = sum(len(change.work_items or ()) for change in changes) * (copies + 1)
    print(f"{SEED * (copies + 1):,} cases ({SEED:,} committed, the rest copied), {rows:,} "
          "work-queue rows")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        print(f"SQLite: filled in {_fill(store, changes, copies):.1f} s")
        _measure("SQLite", store)
        store.close()
    url = os.environ.get("KMBASE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        store = open_store(f"{url}?schema={schema}")
    except Exception as error:  # a bench reports and goes on
        print(f"PostgreSQL: skipped ({error})")
        return
    try:
        print(f"PostgreSQL: filled in {_fill(store, changes, copies):.1f} s")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"ANALYZE {schema}.work_queue")
            connection.execute(f"ANALYZE {schema}.cases")
        _measure("PostgreSQL", store)
    finally:
        store.close()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    main()
