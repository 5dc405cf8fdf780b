"""Medians of single calls for the benchmarks: wall clock, and the CPU time of the calling
thread, which other processes on a shared machine inflate far less."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import attrs


@attrs.frozen
class Timing:
    """Median µs of one call."""

    wall: float
    cpu: float

    def against(self, label: str, target: float | None = None, width: int = 58) -> str:
        """One line: the label, both medians and, with a target, whether the CPU median
        meets it (the wall median says the same on an idle machine)."""
        line = f"  {label:<{width}} {self.wall:8.1f} µs wall, {self.cpu:8.1f} µs CPU"
        if target is None:
            return line
        met = "met" if self.cpu <= target else "NOT met"
        return f"{line}   target ≤ {target:.0f} µs: {met}"


def timed(call: Callable[[int], object], calls: int, warm_up: int = 200) -> Timing:
    """Median wall-clock and thread-CPU time of ``call(i)`` for ``i`` in ``range(calls)``,
    after ``warm_up`` calls with the indices that follow (``calls + warm_up`` in all)."""
    for i in range(calls, calls + warm_up):
        call(i)
    walls, cpus = [], []
    for i in range(calls):
        wall, cpu = time.perf_counter(), time.thread_time()
        call(i)
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return Timing(statistics.median(walls) * 1e6, statistics.median(cpus) * 1e6)


def load() -> str:
    """The machine's load average and cores, to read wall-clock figures by."""
    averages = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"load average {averages} on {os.cpu_count()} cores"
