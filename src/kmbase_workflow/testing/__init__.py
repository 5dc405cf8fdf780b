"""Test helpers shipped for host applications: the store contract every backend passes, a
clock you can move, and an event recorder.

A host that writes its own store proves it with the same suite the bundled stores pass::

    from kmbase_workflow.testing import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self):
            return MyStore(...)

with the contracts of the other capabilities it has mixed in (`WorkQueueContract`,
`TokenContract`, `RawRowContract`, `DeliveryContract`), and that tampering with its
database is prevented or detected with `TamperSuite` (``kmbase_workflow.testing.tamper``).
The suites run under pytest: install the library with its ``testing`` extra.
"""

from __future__ import annotations

from ..clock import FixedClock
from ..errors import install_hint

try:
    from .capabilities import DeliveryContract, RawRowContract, TokenContract
    from .events import EventRecorder
    from .store_contract import (
        StoreContract,
        WorkQueueContract,
        sample_case,
        sample_change,
        sample_item,
    )
    from .tamper import (
        MySQLDatabase,
        PostgresDatabase,
        SQLiteDatabase,
        TamperReport,
        TamperSuite,
        run_tamper_suite,
    )
except ModuleNotFoundError as error:  # the suites are pytest suites: the testing extra
    if error.name != "pytest":
        raise
    raise ImportError(
        f"kmbase_workflow.testing needs pytest: {install_hint('testing').en}", name="pytest"
    ) from error

__all__ = [
    "DeliveryContract",
    "EventRecorder",
    "FixedClock",
    "MySQLDatabase",
    "PostgresDatabase",
    "RawRowContract",
    "SQLiteDatabase",
    "StoreContract",
    "TamperReport",
    "TamperSuite",
    "TokenContract",
    "WorkQueueContract",
    "run_tamper_suite",
    "sample_case",
    "sample_change",
    "sample_item",
]
