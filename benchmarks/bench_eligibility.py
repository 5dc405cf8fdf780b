"""Eligibility: one application at a time (the scalar path of `evaluate`) beside the
column-wise path on one row, and a whole population column by column.

Target (issue 16): one application's verdict within 100 µs. Figures are medians of single
calls, wall clock and CPU time, with the machine's load beside them. No assertions.
"""

from __future__ import annotations

import time

import numpy as np
from _timing import load, timed

from kmbase_workflow import evaluate
from kmbase_workflow.eligibility import application_columns, evaluate_population
from kmbase_workflow.eligibility._population import _evaluate_columnwise
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.policy import load_policy
from kmbase_workflow.records import Application

VERDICT_TARGET_US = 100.0
CALLS = 3_000


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
    apps: list[Application] = [eligible_application(), ineligible_application()]
    print(f"one application (medians of {CALLS:,} calls; {load()})")
    scalar = timed(lambda i: evaluate(apps[i % 2], policy).eligible, CALLS)
    print(scalar.against("evaluate(), scalar path: the decision (eligible)", VERDICT_TARGET_US))
    rendered = timed(lambda i: evaluate(apps[i % 2], policy).findings, CALLS)
    print(rendered.against("evaluate(), scalar path, every finding rendered"))
    columnwise = timed(lambda i: _evaluate_columnwise(apps[i % 2], policy).eligible, CALLS)
    print(columnwise.against("column-wise path on a one-row population: the decision"))
    print(
        f"  the scalar path decides {columnwise.cpu / scalar.cpu:.0f}x faster (CPU) than one row "
        f"through numpy; rendering the ~65 bilingual findings costs {rendered.cpu - scalar.cpu:.0f}"
        " µs more, paid only when they are read"
    )

    started = time.perf_counter()
    for i in range(CALLS):
        evaluate(apps[i % 2], policy).eligible  # noqa: B018
    single = (time.perf_counter() - started) / CALLS
    for size in (100_000, 1_000_000):
        columns = _population(size)
        started = time.perf_counter()
        result = evaluate_population(columns, policy)
        elapsed = time.perf_counter() - started
        print(
            f"population of {size:>9,}: {elapsed * 1e3:,.0f} ms "
            f"({elapsed / size * 1e9:,.0f} ns per application; "
            f"{single * size / elapsed:,.0f}x faster than the scalar path one by one); "
            f"eligible {result.eligible.mean():.1%}"
        )


if __name__ == "__main__":
    main()
