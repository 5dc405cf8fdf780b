"""Pluggable persistence: the store protocol and the bundled backends.

Backends live in their own modules so their drivers are imported only when used:
``memory`` (here), ``sqlite`` (sqlite-utils, the embedded default) and ``postgres``
(psycopg 3). :func:`open_store` picks one by URL.
"""

from __future__ import annotations

from ._protocol import CaseQuery, CaseStore, Change, CommandResult, OutboxRecord
from .memory import MemoryStore

__all__ = [
    "CaseQuery",
    "CaseStore",
    "Change",
    "CommandResult",
    "MemoryStore",
    "OutboxRecord",
]
