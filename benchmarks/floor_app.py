"""The floor the HTTP service is measured against (issue 24): a hand-written FastAPI
application doing the least a service answering the same requests must do, and no more.

Each request checks its bearer token (one look-up by the token's SHA-256, as the service's
token store does) and runs one transaction: a declaration parses the application once,
encodes the case once, hashes it once and inserts the case, its history entry, its event and
its work-queue row; a recommendation reads the case, updates it and inserts the same three
rows; the inbox reads a page of 50 of the district's work queue. Its answers are JSON of the
same sizes as the service's (the case with its application, the entry, the event). No rule
is checked, no schema read: the gap between the two is what the library's guarantees cost.

SQLite goes through one connection behind a lock, in WAL with ``synchronous=FULL`` (as the
library's store does); PostgreSQL through a psycopg pool of 10 connections (the store's
default). Run it with ``python benchmarks/floor_app.py URL PORT`` (uvicorn, one process).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import sqlite3
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TABLES = (
    "CREATE TABLE IF NOT EXISTS floor_tokens (hash TEXT PRIMARY KEY, role TEXT, actor TEXT,"
    " district TEXT)",
    "CREATE TABLE IF NOT EXISTS floor_cases (id TEXT PRIMARY KEY, version INTEGER, state TEXT,"
    " district TEXT, document TEXT)",
    "CREATE TABLE IF NOT EXISTS floor_history (case_id TEXT, sequence INTEGER, entry TEXT,"
    " hash TEXT, PRIMARY KEY (case_id, sequence))",
    "CREATE TABLE IF NOT EXISTS floor_outbox (id TEXT PRIMARY KEY, case_id TEXT, event TEXT)",
    "CREATE TABLE IF NOT EXISTS floor_queue (case_id TEXT PRIMARY KEY, district TEXT,"
    " state TEXT, due TEXT, item TEXT)",
    "CREATE INDEX IF NOT EXISTS floor_queue_district ON floor_queue (district, due)",
)


class Database:
    """One transaction at a time on SQLite (one connection, as the store), a pool on
    PostgreSQL; ``?`` placeholders either way."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith(("postgresql://", "postgres://"))
        if self.postgres:
            import psycopg_pool  # noqa: PLC0415 - only for PostgreSQL

            self.pool = psycopg_pool.ConnectionPool(url, min_size=10, max_size=10, open=True)
        else:
            path = url.removeprefix("sqlite:///")
            self.connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30
            )
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=FULL")
            self.lock = threading.Lock()
        with self.transaction() as run:
            for statement in TABLES:
                run(statement)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A function ``run(sql, *args) -> rows`` inside one transaction."""
        if self.postgres:
            with self.pool.connection() as connection, connection.transaction():

                def run_pg(sql: str, *args: object) -> list[tuple[Any, ...]]:
                    cursor = connection.execute(sql.replace("?", "%s"), args)  # type: ignore[arg-type]
                    return cursor.fetchall() if cursor.description else []

                yield run_pg
            return
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:

                def run_lite(sql: str, *args: object) -> list[tuple[Any, ...]]:
                    return self.connection.execute(sql, args).fetchall()

                yield run_lite
                self.connection.execute("COMMIT")
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise

    def issue(self, token: str, role: str, actor: str, district: str | None) -> None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.transaction() as run:
            run(
                "INSERT INTO floor_tokens VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                digest,
                role,
                actor,
                district,
            )


def _canonical(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


Who = tuple[str, str, str | None]
"""An authenticated caller: role, id, district."""


class Floor:
    """The floor's request handlers over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def actor(self, request: Request) -> Who | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.db.transaction() as run:
            rows = run("SELECT role, actor, district FROM floor_tokens WHERE hash = ?", digest)
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    @staticmethod
    def write(run: Any, case: dict[str, Any], who: Who, action: str) -> dict[str, Any]:
        """The rows of one step: its entry (the case hashed once), its event, its queue row;
        the outcome as the service answers it."""
        text = _canonical(case)
        at = _now()
        event = {
            "type": action,
            "id": uuid.uuid4().hex,
            "case_id": case["id"],
            "occurred_at": at,
            "actor": {"role": who[0], "id": who[1], "district": who[2]},
            "payload": {"district": case["district"], "base_name": case["base_name"]},
        }
        if action == "declare":  # the service's declared event carries the application
            event["payload"]["application"] = case["application"]
        entry = {
            "case_id": case["id"],
            "sequence": case["version"],
            "action": action,
            "to_state": case["state"],
            "actor": event["actor"],
            "at": at,
            "event_ids": [event["id"]],
            "case_hash": hashlib.sha256(text.encode()).hexdigest(),
        }
        entry_text = _canonical(entry)
        run(
            "INSERT INTO floor_history VALUES (?, ?, ?, ?)",
            case["id"],
            case["version"],
            entry_text,
            hashlib.sha256(entry_text.encode()).hexdigest(),
        )
        run("INSERT INTO floor_outbox VALUES (?, ?, ?)", event["id"], case["id"], _canonical(event))
        item = {"case_id": case["id"], "base_name": case["base_name"], "state": case["state"]}
        run(
            "INSERT INTO floor_queue VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE"
            " SET state = excluded.state, item = excluded.item",
            case["id"],
            case["district"],
            case["state"],
            at,
            json.dumps({**item, "actions": ["recommend", "decline"], "due": at[:10]}),
        )
        return {"case": case, "entry": entry, "events": [event], "replayed": False}

    def declare(self, request: Request, body: bytes) -> Response:
        who = self.actor(request)
        if who is None:
            return _unauthorized()
        application = json.loads(body)
        base = application["base"]
        case = {
            "id": request.query_params.get("case_id") or uuid.uuid4().hex,
            "base_id": f"{application['operator']['unified_social_credit_code']}/{base['name']}",
            "base_name": base["name"],
            "district": base["district"],
            "state": "declared",
            "version": 1,
            "application": application,
        }
        with self.db.transaction() as run:
            outcome = self.write(run, case, who, "declare")
            run(
                "INSERT INTO floor_cases VALUES (?, ?, ?, ?, ?)",
                case["id"],
                1,
                "declared",
                case["district"],
                _canonical(case),
            )
        return JSONResponse(outcome, status_code=201)

    def recommend(self, request: Request, body: bytes, case_id: str) -> Response:
        who = self.actor(request)
        if who is None:
            return _unauthorized()
        command = json.loads(body)
        with self.db.transaction() as run:
            rows = run("SELECT document FROM floor_cases WHERE id = ?", case_id)
            if not rows:
                return JSONResponse({"error": "no such case"}, status_code=404)
            case = json.loads(rows[0][0])
            case.update(
                state="district_recommended",
                version=case["version"] + 1,
                recommendation=command["payload"],
            )
            outcome = self.write(run, case, who, "recommend")
            run(
                "UPDATE floor_cases SET document = ?, state = ?, version = ? WHERE id = ?",
                _canonical(case),
                case["state"],
                case["version"],
                case_id,
            )
        return JSONResponse(outcome)

    def inbox(self, request: Request) -> Response:
        who = self.actor(request)
        if who is None:
            return _unauthorized()
        with self.db.transaction() as run:
            rows = run(
                "SELECT item FROM floor_queue WHERE district = ? AND state = 'declared'"
                " ORDER BY due LIMIT 50",
                who[2],
            )
        items = [json.loads(row[0]) for row in rows]
        return JSONResponse({"items": items, "next_cursor": None})


def _unauthorized() -> Response:
    return JSONResponse({"error": "not authenticated"}, status_code=401)


def create_floor(url: str) -> FastAPI:
    """The floor application over the database at ``url``: ``def`` handlers in the thread
    pool, as the service's routes."""
    floor = Floor(Database(url))
    app = FastAPI()

    @app.get("/health")
    def health() -> Response:
        return JSONResponse({"status": "ok"})

    @app.post("/cases", status_code=201)
    async def declare(request: Request) -> Response:
        return await _threaded(floor.declare, request, await request.body())

    @app.post("/cases/{case_id}/recommend")
    async def recommend(case_id: str, request: Request) -> Response:
        return await _threaded(floor.recommend, request, await request.body(), case_id)

    @app.get("/inbox")
    async def inbox(request: Request) -> Response:
        return await _threaded(floor.inbox, request)

    return app


async def _threaded(function: Any, *args: object) -> Response:
    """A blocking handler in the thread pool, as FastAPI runs a ``def`` route."""
    from starlette.concurrency import run_in_threadpool  # noqa: PLC0415

    response: Response = await run_in_threadpool(function, *args)
    return response


def main(argv: list[str]) -> None:
    import uvicorn  # noqa: PLC0415

    url, port = argv[0], int(argv[1])
    uvicorn.run(create_floor(url), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
