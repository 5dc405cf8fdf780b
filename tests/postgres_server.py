"""Where the PostgreSQL tests find their server, and what happens without one.

``KMBASE_TEST_POSTGRES_URL`` names the server (default: the project machines' local one).
Without a reachable server the tests skip and say why, unless ``KMBASE_REQUIRE_POSTGRES=1``
or ``KMBASE_REQUIRE_SERVICES=1`` (set by CI), in which case they fail (tests/servers.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import Server

URL = os.environ.get("KMBASE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _unreachable(url: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (the postgres extra)"
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"no PostgreSQL server at {url}: {error}".strip()
    return None


SERVER = Server(URL, "KMBASE_REQUIRE_POSTGRES", _unreachable)
require_server = SERVER.require


@pytest.fixture
def schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    require_server()
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture(
    params=["memory", "sqlite", "postgres", pytest.param("mysql", marks=pytest.mark.mysql)]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh store of each bundled kind (PostgreSQL: in a fresh schema;
    MariaDB: in a fresh database, the module importing ``mysql_server.mysql_url``)."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/cases.db"
    if request.param == "mysql":
        return str(request.getfixturevalue("mysql_url"))
    return f"{URL}?schema={request.getfixturevalue('schema')}"
