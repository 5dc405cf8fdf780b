"""A database that does not exist is refused, never created: every ``kmbase`` command that
takes ``--db``, found by walking the typer app, either begins a store's life (``db init``,
``round open``, and ``demo`` for its own) or refuses a mistyped path with exit 2 and leaves
no file behind, so no read reports on, and no audit vouches for, an empty database that
nobody meant (issue 22). The same holds for a PostgreSQL schema, and for
``open_store(..., create=False)`` in Python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
import typer.main
from typer.testing import CliRunner

from kmbase_workflow.cli import app
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.stores import open_store
from postgres_server import URL, require_server

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
ACTOR = ["--actor-role", "city_bureau", "--actor-id", "u-1"]

CREATORS = {("db", "init"), ("round", "open"), ("demo",)}
"""The commands that may create a database (docs/reference/cli.md, "The database must exist")."""

ARGUMENTS: dict[tuple[str, ...], list[str]] = {
    ("as-of",): ["c1"],
    ("audit", "checkpoint"): [],
    ("audit", "verify"): [],
    ("bulk",): ["withdraw", *ACTOR],
    ("dashboard",): [],
    ("db", "rebuild-work-queue"): [],
    ("db", "upgrade"): [],
    ("declare",): [str(EXAMPLES / "eligible.json"), "--today", "2025-06-20"],
    ("export", "case"): ["c1", "--output", "{tmp}/case.xlsx"],
    ("export", "application-form"): ["c1", "--output", "{tmp}/form.html"],
    ("export", "decision"): ["--round", "2025", "--output", "{tmp}/decision.html"],
    ("export", "notice"): ["--round", "2025", "--output", "{tmp}/notice.html"],
    ("export", "recommendations"): [
        "--district",
        "五华区",
        "--round",
        "2025",
        "--output",
        "{tmp}/table.xlsx",
    ],
    ("fire",): ["c1", "withdraw", *ACTOR],
    ("follow",): ["reader"],
    ("history",): ["c1"],
    ("inbox",): ACTOR,
    ("relay",): ["--to", "redis://127.0.0.1:6379/0"],
    ("round", "as-of"): ["2025", "2025-10-01"],
    ("round", "list"): [],
    ("round", "select"): ["2025", "--quota", "3"],
    ("serve",): [],
    ("show",): ["c1"],
    ("sweep",): [],
    ("token", "issue"): ACTOR,
    ("token", "list"): [],
    ("token", "revoke"): ["t1"],
    ("worker", "dead-letters"): [],
    ("worker", "redrive"): ["reader"],
    ("worker", "run"): [],
    ("worker", "status"): [],
}
"""Each command that must find its database, with the least it needs to get that far."""


def _commands_with_db() -> set[tuple[str, ...]]:
    def walk(command: Any, path: tuple[str, ...]) -> set[tuple[str, ...]]:
        found: set[tuple[str, ...]] = set()
        for name, sub in getattr(command, "commands", {}).items():
            if hasattr(sub, "commands"):
                found |= walk(sub, (*path, name))
            elif any(param.name == "db" for param in sub.params):
                found.add((*path, name))
        return found

    return walk(typer.main.get_command(app), ())


def test_every_command_with_a_database_is_listed() -> None:
    """A command added later is either a creator or in the table below."""
    assert _commands_with_db() == CREATORS | set(ARGUMENTS)


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve`` would run until stopped: it must be refused before it starts."""
    uvicorn = pytest.importorskip("uvicorn")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the server started on a database that does not exist")

    monkeypatch.setattr(uvicorn, "run", refuse)


@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize("path", sorted(ARGUMENTS), ids=" ".join)
def test_a_missing_database_is_refused_and_not_created(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KMBASE_AUDIT_KEY", "k" * 32)  # so that checkpoint gets to its store
    missing = tmp_path / "typo.db"
    words = [word.format(tmp=tmp_path) for word in ARGUMENTS[path]]
    result = runner.invoke(app, [*path, *words, "--db", f"sqlite:///{missing}", "--json"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout.splitlines()[-1])["error"]
    assert error["code"] == "invalid_input"
    assert str(missing) in error["message"]["en"]
    assert error["message"]["zh"].startswith("数据库不存在")
    assert not missing.exists()


def test_db_init_creates_and_then_every_command_finds_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'new.db'}"
    assert runner.invoke(app, ["audit", "verify", "--db", db]).exit_code == 2
    assert runner.invoke(app, ["db", "init", "--db", db]).exit_code == 0
    verified = runner.invoke(app, ["audit", "verify", "--db", db, "--json"])
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["verified"] is True


def test_open_store_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(InvalidInputError, match="no database"):
        open_store(f"sqlite:///{missing}?timeout=5", create=False)
    assert not missing.exists()
    open_store(f"sqlite:///{missing}").close()  # the default creates
    open_store(f"sqlite:///{missing}?timeout=5", create=False).close()


def test_a_missing_postgres_schema_is_refused_not_created() -> None:
    require_server()
    name = "kmbase_typo_never_created"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    url = f"{URL}?schema={name}"
    with pytest.raises(InvalidInputError, match="no database"):
        open_store(url, create=False)
    result = runner.invoke(app, ["audit", "verify", "--db", url, "--json"])
    assert result.exit_code == 2, result.output
    with psycopg.connect(URL, autocommit=True) as conn:
        found = conn.execute("SELECT to_regnamespace(%s)", (name,)).fetchone()
    assert found == (None,)
