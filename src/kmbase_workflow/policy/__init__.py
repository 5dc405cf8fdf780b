"""The regulation as data: the policy model, the bundled policy files and their loader.

>>> from kmbase_workflow.policy import load_policy
>>> policy = load_policy()
>>> policy.id, policy.rule("resident_enterprises").required
('kunming-2022', 40)
>>> str(policy.rule("resident_enterprises").article)
'第六条第（三）项 / Art. 6(3)'
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from .._i18n import Text
from ..errors import PolicyNotFoundError
from ._loader import FORMAT_VERSION, bundled_policies, load_policy_file, read_policy
from ._measures import (
    APPLICATION_MEASURES,
    CATEGORICAL_MEASURES,
    CATEGORICAL_VALUES,
    CONSISTENCY_MEASURES,
    SERVICE_MEASURES,
)
from ._model import (
    AnnualReportPeriod,
    Comparison,
    Counting,
    DeclarationWindow,
    District,
    DistrictKind,
    EndOfPeriodRule,
    ExpertReviewRule,
    FiguresYearRule,
    Material,
    NoticePeriod,
    Periods,
    Pledge,
    Policy,
    Rule,
    ServiceFunction,
    ServiceFunctionRequirement,
    SpotCheckRule,
    ValidityPeriod,
    ValidityStart,
    WorkingDayPeriod,
)

__all__ = [
    "APPLICATION_MEASURES",
    "CATEGORICAL_MEASURES",
    "CATEGORICAL_VALUES",
    "CONSISTENCY_MEASURES",
    "FORMAT_VERSION",
    "SERVICE_MEASURES",
    "AnnualReportPeriod",
    "Comparison",
    "Counting",
    "DeclarationWindow",
    "District",
    "DistrictKind",
    "EndOfPeriodRule",
    "ExpertReviewRule",
    "FiguresYearRule",
    "Material",
    "NoticePeriod",
    "Periods",
    "Pledge",
    "Policy",
    "Rule",
    "ServiceFunction",
    "ServiceFunctionRequirement",
    "SpotCheckRule",
    "ValidityPeriod",
    "ValidityStart",
    "WorkingDayPeriod",
    "bundled_policies",
    "load_policy",
    "load_policy_file",
    "policy_in_force",
    "read_policy",
]


@functools.cache
def _bundled() -> tuple[Policy, ...]:
    return bundled_policies()


def policy_in_force(policies: tuple[Policy, ...] | list[Policy], on: dt.date) -> Policy:
    """The policy among ``policies`` that governs an application declared ``on`` that day."""
    in_force = [policy for policy in policies if policy.in_force_on(on)]
    if not in_force:
        known = ", ".join(
            f"{p.id} ({p.effective_from}–{p.effective_until or ''})" for p in policies
        )
        raise PolicyNotFoundError(
            Text(
                zh=f"{on} 没有施行中的政策（已知：{known}）",
                en=f"no policy in force on {on} (known: {known})",
            ),
            hint=Text(
                zh="请检查日期，或用 load_policy(path=…) 提供适用的政策文件",
                en="check the date, or pass the applicable policy file with load_policy(path=...)",
            ),
        )
    # Overlapping files: the most recently effective one governs.
    return max(in_force, key=lambda policy: policy.effective_from)


def load_policy(on: dt.date | None = None, *, path: str | Path | None = None) -> Policy:
    """The policy in force on ``on`` (default: the newest bundled one), or the file at ``path``.

    An application is judged by the policy in force on its declaration date.
    """
    if path is not None:
        policy = load_policy_file(path)
        if on is not None:
            return policy_in_force([policy], on)
        return policy
    policies = _bundled()
    if on is None:
        return policies[-1]
    return policy_in_force(policies, on)
