"""Eligibility: one application at a time versus a whole population column by column."""

from __future__ import annotations

import time

import numpy as np

from kmbase_workflow import evaluate
from kmbase_workflow.eligibility import application_columns, evaluate_population
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.policy import load_policy


def _population(size: int) -> dict[str, np.ndarray]:
    """Columns for ``size`` applications, tiled from the two examples with noise."""
    policy = load_policy()
    base = application_columns([eligible_application(), ineligible_application()], policy)
    rng = np.random.default_rng(2022)
    picks = rng.integers(0, 2, size)
    columns = {name: values[picks] for name, values in base.items()}
    for name in ("resident_small_micro_enterprises", "small_micro_employees", "site_area_m2"):
        columns[name] = columns[name] * rng.uniform(0.7, 1.3, size)
    return columns


def main() -> None:
    policy = load_policy()
    apps = [eligible_application(), ineligible_application()] * 500
    started = time.perf_counter()
    for app in apps:
        evaluate(app, policy)
    single = (time.perf_counter() - started) / len(apps)
    print(f"one application at a time: {single * 1e6:,.0f} µs per application")

    for size in (100_000, 1_000_000):
        columns = _population(size)
        started = time.perf_counter()
        result = evaluate_population(columns, policy)
        elapsed = time.perf_counter() - started
        print(
            f"population of {size:>9,}: {elapsed * 1e3:,.0f} ms "
            f"({elapsed / size * 1e9:,.0f} ns per application; "
            f"{single * size / elapsed:,.0f}x faster than one by one); "
            f"eligible {result.eligible.mean():.1%}"
        )


if __name__ == "__main__":
    main()
