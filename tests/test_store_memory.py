"""The in-memory store passes the store contract."""

from __future__ import annotations

from kmbase_workflow.stores import CaseStore, MemoryStore
from kmbase_workflow.testing import StoreContract, WorkQueueContract
from kmbase_workflow.testing.capabilities import TokenContract


class TestMemoryStore(StoreContract, WorkQueueContract, TokenContract):
    def make_store(self) -> CaseStore:
        return MemoryStore()
