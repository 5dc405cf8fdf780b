"""The garbage collector during long runs: the objects alive when a run starts (the
modules, the policies, the calendar's holidays: some 100,000 objects) are set aside from
its passes until the run ends. A full pass rescans every tracked object, and a bulk run
allocates enough to start one every few thousand cases: 5-15% of a run (issue 24)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["heap_set_aside"]


@contextlib.contextmanager
def heap_set_aside() -> Iterator[None]:
    """Within the block, the collector passes over what was alive before it (`gc.freeze`);
    after it, they are collected as before (`gc.unfreeze`). The freeze is the process's:
    when something else froze objects already (a server before it forks), it is left as it
    is and the block changes nothing."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
