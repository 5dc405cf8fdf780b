"""The tamper suite: every kind of alteration someone with write access to the database might
make, each of which must be prevented by the database or detected by the audit.

Each `Tamper` alters a database that holds a realistic round (the demonstration's five bases,
written through a real store), after a signed `kmbase_workflow.audit.Checkpoint` was taken.
Its `Outcome` is:

- ``prevented``: the database refused the change (the append-only triggers);
- ``detected``: plain verification (`kmbase_workflow.audit.verify_store`) finds it;
- ``detected_by_checkpoint``: only verification against the checkpoint finds it (a chain
  re-sealed with plain SHA-256, a tail cut together with its events);
- ``passed``: nothing found it: the suite fails.

Tampers marked ``dba`` first drop the append-only triggers, as a database administrator can.
Run it on a backend by subclassing `TamperSuite`::

    from kmbase_workflow.testing import SQLiteDatabase, TamperSuite

    class TestMyStoreTampering(TamperSuite):
        def make_store(self): ...
        def database(self, store): return SQLiteDatabase(store.path)

or all at once with `run_tamper_suite`, whose `TamperReport` counts the outcomes.

The package's rooms: ``_databases`` (raw access per backend), ``_scenario`` (the database a
tamper alters), ``_alterations`` (every `Tamper`) and ``_running`` (running them).
"""

from __future__ import annotations

from ._alterations import TAMPERS, Tamper
from ._databases import Database, MySQLDatabase, PostgresDatabase, SQLiteDatabase
from ._running import (
    RECORDED,
    Outcome,
    TamperReport,
    TamperResult,
    TamperSuite,
    run_tamper,
    run_tamper_suite,
)
from ._scenario import TAMPER_KEY

# Importable from here as before the package, outside __all__ (a third party's own Tamper
# takes a Scenario).
from ._running import tampers_for as tampers_for  # isort: skip
from ._scenario import Scenario as Scenario  # isort: skip

__all__ = [
    "RECORDED",
    "TAMPERS",
    "TAMPER_KEY",
    "Database",
    "MySQLDatabase",
    "Outcome",
    "PostgresDatabase",
    "SQLiteDatabase",
    "Tamper",
    "TamperReport",
    "TamperResult",
    "TamperSuite",
    "run_tamper",
    "run_tamper_suite",
]
