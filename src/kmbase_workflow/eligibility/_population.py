"""A population judged column by column (a simulation): `evaluate_population`."""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import numpy as np
import numpy.typing as npt

from ..policy import Policy, load_policy
from . import _checks
from ._checks import PASS, CodeArray
from ._verdict import _CODE_STATUS, Status

# -- a population, column by column ---------------------------------------------------------------


@attrs.frozen
class PopulationVerdict:
    """Status codes per rule for a population (0 pass, 1 fail, 2 not assessable).

    ``rules`` maps each rule id (and ``service_functions``, each ``service.<function>`` and
    ``material.<id>``) to an int8 array; ``eligible`` is True where every rule passes.
    """

    policy_id: str
    rules: Mapping[str, CodeArray]
    eligible: npt.NDArray[np.bool_]

    def status(self, rule_id: str, index: int) -> Status:
        """The status of one rule for the application at ``index``."""
        return _CODE_STATUS[int(self.rules[rule_id][index])]

    def pass_rate(self, rule_id: str) -> float:
        """Share of all applications for which the rule is met (a rule that does not apply
        to an application, by ``applies_when``, counts as met for it)."""
        codes = self.rules[rule_id]
        return float(np.mean(codes == PASS)) if codes.size else math.nan


def evaluate_population(
    columns: Mapping[str, npt.ArrayLike], policy: Policy | None = None
) -> PopulationVerdict:
    """Judge a whole population at once, column by column (see `application_columns`,
    which takes the day each application is judged at).

    Rules that do not apply to a row (``applies_when``) count as passed for it; a column that
    is absent makes its rule not assessable for every row.
    """
    policy = policy or load_policy()
    checks = _checks.plan(policy)
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    size = len(next(iter(arrays.values()))) if arrays else 0
    codes = _checks.judge_columns(checks, arrays, size)
    return PopulationVerdict(
        policy_id=policy.id,
        rules={key: code for key, code in codes.items() if key in checks.recorded},
        eligible=_checks.eligible_columns(checks, codes, size),
    )
