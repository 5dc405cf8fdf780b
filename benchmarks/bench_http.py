"""The HTTP service under load beside its floor, in the same run (issue 24): 32 clients
(`http_load`) declaring, reading the district's inbox and recommending, against ``kmbase
serve --no-access-log`` (uvicorn, one process; the floor logs no request either) and
against the hand-written floor app (`floor_app`: a token check and one transaction a
request, the same JSON sizes), on SQLite and on PostgreSQL.

Printed: each side's throughput, p50 and p99, errors, the ratios (targets: throughput at
least 0.8× the floor's, p99 at most 1.5× the floor's, no error) and the audit after the load
(`verify_store` clean, and every write answered 2xx in the history exactly once, none
other). ``KMBASE_BENCH_HTTP_SECONDS`` sets each load's length (default 8 s; the issue's
figures are for 60: ``python benchmarks/bench_http.py --seconds 60``),
``KMBASE_BENCH_CLIENTS`` the clients (default 32).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx2
import psycopg
from _timing import load
from floor_app import Database
from http_load import LoadReport, run_load

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.audit import verify_store
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.stores.tokens import token_store

CLIENTS = int(os.environ.get("KMBASE_BENCH_CLIENTS", "32"))
SECONDS = float(os.environ.get("KMBASE_BENCH_HTTP_SECONDS", "8"))
POSTGRES = os.environ.get("KMBASE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
DAY = dt.date(2025, 6, 20)
BUREAU = Actor(Role.CITY_BUREAU, "bureau")
APPLICATION = eligible_application()
OPERATOR = Actor.for_operator(APPLICATION.operator)
DISTRICT = Actor(Role.DISTRICT_AUTHORITY, "district", district=APPLICATION.base.district)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far (Linux's /proc; 0 elsewhere):
    on a shared machine, CPU per request tells more than the wall clock."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@attrs.define
class _Server:
    base: str
    pid: int


@contextlib.contextmanager
def _serving(command: list[str], port: int) -> Iterator[_Server]:
    """``command`` listening on ``port``, once ``/health`` answers; stopped after the
    block."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE)])}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx2.get(f"{base}/health").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            else:
                log.seek(0)
                raise RuntimeError(f"{command} did not start: {log.read().decode()[-2000:]}")
            yield _Server(base, process.pid)
        finally:
            process.terminate()
            process.wait()


def _service(url: str) -> tuple[dict[str, str], list[str]]:
    """An open round and the two tokens on the service's store; its command line."""
    workflow = Workflow(url, clock=FixedClock(DAY))
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    tokens = token_store(workflow.store)
    now = dt.datetime.now(dt.UTC)
    issued = {"operator": tokens.issue(OPERATOR, now=now)[1]}
    issued["district"] = tokens.issue(DISTRICT, now=now)[1]
    workflow.close()
    command = [
        sys.executable, "-c", "import sys; from kmbase_workflow.cli import main; main()",
        "serve", "--db", url, "--today", DAY.isoformat(), "--no-access-log",
    ]  # fmt: skip
    return issued, command


def _floor(url: str) -> tuple[dict[str, str], list[str]]:
    database = Database(url)
    issued = {"operator": secrets.token_urlsafe(24), "district": secrets.token_urlsafe(24)}
    database.issue(issued["operator"], "operator", OPERATOR.id, None)
    database.issue(issued["district"], "district_authority", DISTRICT.id, DISTRICT.district)
    if database.postgres:
        database.pool.close()
    return issued, [sys.executable, str(HERE / "floor_app.py"), url]


def _audit(url: str, report: LoadReport) -> str:
    """Whether the store verifies and holds every write answered 2xx exactly once (and no
    write of the load that was not answered so)."""
    workflow = Workflow(url, clock=FixedClock(DAY))
    try:
        verified = verify_store(workflow.store)
        answered = Counter(report.writes)
        recorded: Counter[tuple[str, str]] = Counter()
        for case in workflow.cases():
            for entry in workflow.history(case.id):
                recorded[case.id, entry.action] += 1
    finally:
        workflow.close()
    missing = answered - recorded
    extra = recorded - answered
    clean = verified.ok and not missing and not extra
    return (
        f"audit {'clean' if clean else 'NOT clean'}: {verified.summary().en}; "
        f"{sum(answered.values())} writes answered 2xx, {sum(missing.values())} missing, "
        f"{sum(extra.values())} not answered 2xx but recorded"
    )


def _measured(command: list[str], port: int, tokens: dict[str, str], seconds: float) -> LoadReport:
    """The load against ``command``'s server, with the server's CPU per request answered."""
    with _serving(command, port) as server:
        before: list[float] = []
        report = run_load(
            server.base,
            tokens,
            clients=CLIENTS,
            seconds=seconds,
            measuring=lambda: before.append(_cpu_seconds(server.pid)),
        )
        used = _cpu_seconds(server.pid) - before[0]
    return attrs.evolve(report, cpu_seconds=used)


def _compare(label: str, service_url: str, floor_url: str, seconds: float) -> None:
    tokens, command = _service(service_url)
    port = _port()
    service = _measured([*command, "--port", str(port)], port, tokens, seconds)
    audit = _audit(service_url, service)
    tokens, command = _floor(floor_url)
    port = _port()
    floor = _measured([*command, str(port)], port, tokens, seconds)
    throughput = service.throughput / floor.throughput
    p99 = service.percentile(0.99) / floor.percentile(0.99)
    print(f"{label}: {CLIENTS} clients, {seconds:g} s each, declare / inbox / recommend")
    print(service.line("service"))
    print(floor.line("floor"))
    print(
        f"  ratio      throughput {throughput:4.2f}× the floor's (target ≥ 0.8: "
        f"{'met' if throughput >= 0.8 else 'NOT met'}), p99 {p99:4.2f}× (target ≤ 1.5: "
        f"{'met' if p99 <= 1.5 else 'NOT met'}), errors {service.errors} (target 0)"
    )
    cpu = service.cpu_per_request / floor.cpu_per_request
    print(
        f"  CPU        {service.cpu_per_request:5.1f} ms a request against the floor's "
        f"{floor.cpu_per_request:4.1f} ms: {cpu:4.1f}× (the server's own CPU, which the "
        "machine's load inflates far less than the wall clock)"
    )
    print(f"  {audit}")
    for failure in service.failures:
        print(f"    service: {failure}")
    for failure in floor.failures:
        print(f"    floor: {failure}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args(argv or [])
    print(load())
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as folder:
            _compare(
                "SQLite",
                f"sqlite:///{Path(folder) / 'service.db'}",
                f"sqlite:///{Path(folder) / 'floor.db'}",
                args.seconds,
            )
    if args.only == "sqlite":
        return
    try:
        with psycopg.connect(POSTGRES, connect_timeout=3, autocommit=True) as connection:
            schema = f"bench_http_{os.getpid()}"
            connection.execute(f"CREATE SCHEMA {schema}_floor")
            try:
                _compare(
                    "PostgreSQL",
                    f"{POSTGRES}?schema={schema}",
                    f"{POSTGRES}?options=-csearch_path%3D{schema}_floor",
                    args.seconds,
                )
            finally:
                connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                connection.execute(f"DROP SCHEMA IF EXISTS {schema}_floor CASCADE")
    except psycopg.OperationalError as error:
        print(f"PostgreSQL: skipped ({error})")


if __name__ == "__main__":
    main(sys.argv[1:])
