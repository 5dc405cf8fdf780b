"""Test helpers shipped for host applications: the store contract every backend passes, a
clock you can move, and an event recorder.

A host that writes its own store proves it with the same suite the bundled stores pass::

    from kmbase_workflow.testing import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self):
            return MyStore(...)
"""

from __future__ import annotations

from ..clock import FixedClock
from .events import EventRecorder
from .store_contract import StoreContract, sample_case, sample_change

__all__ = ["EventRecorder", "FixedClock", "StoreContract", "sample_case", "sample_change"]
