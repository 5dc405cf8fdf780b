"""Simulation: a million applications through the DataFrame path, and simulated rounds.

Figures printed (never asserted): generating the synthetic population (numpy columns, then
the data frame), judging it end to end with ``evaluate_frame`` (frame → columns → verdict →
status frame), and the same judgement one application at a time with ``evaluate`` measured
on a sample and extrapolated to the population's size. Then a round timeline.
"""

from __future__ import annotations

import datetime as dt
import time

from kmbase_workflow.eligibility import evaluate
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.policy import load_policy
from kmbase_workflow.simulation import (
    compare,
    evaluate_frame,
    generate_columns,
    generate_population,
    simulate_round,
    vary,
)

SIZE = 1_000_000
SAMPLE = 400
TARGET_SECONDS = 2.0
TARGET_SPEED_UP = 50


def main() -> None:
    policy = load_policy()

    started = time.perf_counter()
    generate_columns(SIZE, policy=policy, seed=1)
    columns_s = time.perf_counter() - started
    started = time.perf_counter()
    frame = generate_population(SIZE, policy=policy, seed=1)
    generate_s = time.perf_counter() - started
    print(
        f"generate {SIZE:,} applications: {columns_s:.2f} s as numpy columns, "
        f"{generate_s:.2f} s as a data frame"
    )

    evaluate_frame(frame.head(1000), policy)  # warm up
    started = time.perf_counter()
    result = evaluate_frame(frame, policy)
    frame_s = time.perf_counter() - started
    print(
        f"evaluate_frame, {SIZE:,} rows end to end: {frame_s:.2f} s "
        f"({frame_s / SIZE * 1e9:,.0f} ns per application; eligible {result['eligible'].mean():.1%}); "
        f"target < {TARGET_SECONDS:.0f} s: {'met' if frame_s < TARGET_SECONDS else 'NOT met'}"
    )

    sample = [eligible_application(), ineligible_application()] * (SAMPLE // 2)
    started = time.perf_counter()
    for application in sample:
        evaluate(application, policy)
    single_s = (time.perf_counter() - started) / len(sample)
    extrapolated = single_s * SIZE
    speed_up = extrapolated / frame_s
    print(
        f"one by one (evaluate, measured on {len(sample)} applications, extrapolated): "
        f"{single_s * 1e6:,.0f} µs each → {extrapolated:,.0f} s for {SIZE:,}; "
        f"the frame path is {speed_up:,.0f}x faster "
        f"(target ≥ {TARGET_SPEED_UP}x: {'met' if speed_up >= TARGET_SPEED_UP else 'NOT met'})"
    )

    started = time.perf_counter()
    compare(frame, [policy, vary(policy, resident_enterprises=30)])
    print(f"compare two variants on {SIZE:,} rows: {time.perf_counter() - started:.2f} s")

    for replications in (1_000, 10_000):
        started = time.perf_counter()
        timeline = simulate_round(dt.date(2025, 9, 22), cases=30, replications=replications)
        elapsed = time.perf_counter() - started
        print(
            f"simulate_round, {replications:,} rounds of 30 cases ({timeline.size:,} cases): "
            f"{elapsed:.2f} s; median {timeline.summary_data()['median_days']:.0f} days "
            "to certification"
        )


if __name__ == "__main__":
    main()
