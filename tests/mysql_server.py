"""Where the MariaDB/MySQL tests find their server, and what happens without one.

``KMBASE_TEST_MYSQL_URL`` names the server (default: the project machines' local MariaDB,
``mysql://root@127.0.0.1:3306/test``; .ci/run installs and starts one). Without a reachable
server the tests skip and say why, unless ``KMBASE_REQUIRE_MYSQL=1`` or
``KMBASE_REQUIRE_SERVICES=1`` (set by CI), in which case they fail: CI must never pass by
skipping them. Each test gets a database of its own (`database`), dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import pytest

from servers import Server

URL = os.environ.get("KMBASE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")


def _connect() -> object:
    import pymysql

    parts = urlsplit(URL)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        connect_timeout=3,
        autocommit=True,
    )


def _unreachable(url: str) -> str | None:
    try:
        import pymysql
    except ImportError:
        return "PyMySQL is not installed (the mysql extra)"
    try:
        _connect().close()  # type: ignore[attr-defined]
    except pymysql.MySQLError as error:
        return f"no MariaDB/MySQL server at {url}: {error}".strip()
    return None


SERVER = Server(URL, "KMBASE_REQUIRE_MYSQL", _unreachable)
require_server = SERVER.require


def database_url(name: str) -> str:
    """``URL`` with its database replaced by ``name``."""
    parts = urlsplit(URL)
    return parts._replace(path=f"/{name}", query="").geturl()


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """The URL of a fresh database for one test (created by the store), dropped afterwards."""
    require_server()
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield database_url(name)
    connection = _connect()
    try:
        connection.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")  # type: ignore[attr-defined]
    finally:
        connection.close()  # type: ignore[attr-defined]
