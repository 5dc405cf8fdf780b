"""One application judged: `evaluate`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..policy import Policy, load_policy
from ..records import Application
from . import _checks
from ._findings import _Pending
from ._measures import _application_row, _judged_day
from ._verdict import Verdict


def evaluate(
    application: Application, policy: Policy | None = None, *, judged_on: dt.date | None = None
) -> Verdict:
    """Judge one application at ``judged_on`` (default: its own ``declared_on``), by default
    under the policy in force on that day.

    The day sets the age of 第六条第（二）项 and which year's figures are judged (the
    policy's ``figures`` rule: the year before). A workflow passes the case's real
    declaration day, so a file's own date cannot move the judgement; the verdict records the
    day it used (`Verdict.judged_on`).

    The rules run over the application's plain values, not numpy arrays of one row (the same
    checks as `evaluate_population`, a few times faster for one application); the verdict's
    findings are rendered when first read.
    """
    return _judge(application, policy, judged_on, _scalar_path)


_Path = Callable[
    [Application, Policy, _checks.Plan, dict[str, Any], dt.date], tuple[dict[str, int], bool]
]
"""How the codes of an application's rules are worked out: (application, policy, checks,
its values, the day) → (codes, eligible)."""


def _scalar_path(
    _application: Application,
    _policy: Policy,
    checks: _checks.Plan,
    row: dict[str, Any],
    _day: dt.date,
) -> tuple[dict[str, int], bool]:
    return _checks.judge_row(checks, row)


def _judge(
    application: Application, policy: Policy | None, judged_on: dt.date | None, path: _Path
) -> Verdict:
    """The verdict of one application, its rules' codes worked out by ``path``."""
    day = _judged_day(application, judged_on)
    policy = policy or load_policy(day)
    checks = _checks.plan(policy)
    row, measures, unknown = _application_row(application, policy, checks, day)
    codes, eligible = path(application, policy, checks, row, day)
    return _verdict(
        _Pending(
            application=application,
            policy=policy,
            day=day,
            year=policy.figures.expected_year(day),
            measures=measures,
            row=row,
            unknown=unknown,
            codes=codes,
            eligible=eligible,
        )
    )


def _verdict(pending: _Pending) -> Verdict:
    # Built without __init__ so that ``findings`` stays unset until read (Verdict.__getattr__).
    verdict = object.__new__(Verdict)
    for name, value in (
        ("policy_id", pending.policy.id),
        ("base_name", pending.application.base.name),
        ("judged_on", pending.day),
        ("figures_year", pending.year),
        ("_pending", pending),
    ):
        object.__setattr__(verdict, name, value)
    return verdict
