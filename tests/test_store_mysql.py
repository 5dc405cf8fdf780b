"""The MariaDB/MySQL store passes the store contract against a real server."""

from __future__ import annotations

import pytest

from kmbase_workflow.stores import CaseStore
from kmbase_workflow.stores.mysql import MySQLStore
from kmbase_workflow.testing import StoreContract, WorkQueueContract
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.mysql


class TestMySQLStore(StoreContract, WorkQueueContract):
    @pytest.fixture(autouse=True)
    def _database(self, mysql_url: str) -> None:  # noqa: F811
        self.url = mysql_url

    def make_store(self) -> CaseStore:
        return MySQLStore(self.url)
