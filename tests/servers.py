"""What the tests of a database server do without one: skip and say why, or, when CI
requires the server (``KMBASE_REQUIRE_SERVICES=1``, or the server's own variable), fail: CI
must never pass by skipping them. One home for PostgreSQL's (tests/postgres_server.py) and
MariaDB/MySQL's (tests/mysql_server.py)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest


class Server:
    """A server the tests need: where it is, whether it must be there, why it is not."""

    def __init__(
        self, url: str, require_variable: str, unreachable: Callable[[str], str | None]
    ) -> None:
        self.url = url
        self.require_variable = require_variable
        self.required = "1" in (
            os.environ.get(require_variable),
            os.environ.get("KMBASE_REQUIRE_SERVICES"),
        )
        self.reason = unreachable(url)
        """Why the server cannot be used (``None``: it can), found once per test process."""

    def require(self) -> None:
        """Skip (or, when required, fail) the calling test if the server is not reachable."""
        if self.reason is None:
            return
        if self.required:
            pytest.fail(
                f"{self.require_variable}=1 (or KMBASE_REQUIRE_SERVICES=1) but {self.reason}"
            )
        pytest.skip(self.reason)
