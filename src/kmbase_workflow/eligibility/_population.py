"""A population judged column by column (a simulation): its columns (`application_columns`),
the column-wise runner of the plan (`judge_columns`, numpy) and `evaluate_population`.
Imported on first use, so judging one application loads no numpy."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from ..policy import Policy, load_policy
from ..records import Application
from . import _checks
from ._checks import FAIL, NA, PASS, Kind, Plan
from ._evaluate import _judge
from ._measures import JudgedOn, _application_row, _judged_days
from ._verdict import _CODE_STATUS, Status, Verdict

CodeArray = npt.NDArray[np.int8]

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
    codes = judge_columns(checks, arrays, size)
    return PopulationVerdict(
        policy_id=policy.id,
        rules={key: code for key, code in codes.items() if key in checks.recorded},
        eligible=eligible_columns(checks, codes, size),
    )


def application_columns(
    applications: Sequence[Application],
    policy: Policy | None = None,
    *,
    judged_on: JudgedOn = None,
) -> dict[str, npt.NDArray[Any]]:
    """The columns `evaluate_population` reads, built from records.

    ``judged_on`` is the day each application is judged at (one day, one per application,
    or by default each application's ``declared_on``), as in `evaluate`.

    Column names: each measure of `APPLICATION_MEASURES` and `CONSISTENCY_MEASURES`
    (float, NaN for missing; booleans as 1.0/0.0), ``focus`` (str),
    ``declared.<id>`` (1.0 declared true with evidence, 0.0 declared false, NaN otherwise),
    ``pledge.<id>`` (1.0 pledged, 0.0 cannot pledge, NaN missing),
    ``service.<function>.<measure>`` (float, NaN missing), ``material.<id>`` (bool),
    ``figures_year.yearly`` and ``figures_year.services`` (1.0 the judged year's figures
    are given, 0.0 not) and ``district.listed`` (1.0 the district is the policy's, 0.0 not).
    """
    policy = policy or load_policy()
    checks = _checks.plan(policy)
    days = _judged_days(applications, judged_on)
    rows = [
        _application_row(app, policy, checks, day)[0]
        for app, day in zip(applications, days, strict=True)
    ]
    return {
        name: np.array([row[name] for row in rows], dtype=_column_dtype(name))
        for name in checks.columns
    }


def _column_dtype(name: str) -> type[Any]:
    if name == "focus":
        return object
    return bool if name.startswith("material.") else np.float64


def _evaluate_columnwise(
    application: Application, policy: Policy | None = None, *, judged_on: dt.date | None = None
) -> Verdict:
    """`evaluate` through the column-wise path (`evaluate_population` on a one-row
    population): what `evaluate` did before it had a path of its own, kept as the reference
    the tests and the benchmark hold it to."""
    return _judge(application, policy, judged_on, _columnwise_path)


def _columnwise_path(
    application: Application,
    policy: Policy,
    checks: _checks.Plan,
    _row: dict[str, Any],
    day: dt.date,
) -> tuple[dict[str, int], bool]:
    columns = application_columns([application], policy, judged_on=day)
    population = judge_columns(checks, columns, 1)
    codes = {key: int(code[0]) for key, code in population.items()}
    return codes, bool(eligible_columns(checks, population, 1)[0])


# -- a population: numpy columns ---------------------------------------------------------------


# int8 scalars: np.where with Python ints would build an int64 array per check first.
_PASS8, _FAIL8, _NA8 = np.int8(PASS), np.int8(FAIL), np.int8(NA)


def judge_columns(
    checks: Plan, arrays: Mapping[str, npt.NDArray[Any]], size: int
) -> dict[str, CodeArray]:
    """The codes of every check for every row of ``arrays`` (the same keys as `judge_row`)."""
    codes: dict[str, CodeArray] = {}
    for check in checks.checks:
        kind = check.kind
        if kind is Kind.COMPARE:
            values = _floats(arrays, check.column, size)
            with np.errstate(invalid="ignore"):
                met = check.op(values, check.required)
            code = np.where(met, _PASS8, _FAIL8)
            code[np.isnan(values)] = NA
            if check.applies_when:
                applies = np.ones(size, dtype=bool)
                for key, wanted in check.applies_when:
                    applies &= arrays[key] == wanted
                code = np.where(applies, code, _PASS8)
        elif kind is Kind.PROVIDED:
            provided = np.asarray(arrays.get(check.column, np.zeros(size, dtype=bool)), dtype=bool)
            code = np.where(provided, _PASS8, _PASS8 if check.optional else _FAIL8)
        elif kind is Kind.ALL_MET:
            any_fail = np.zeros(size, dtype=bool)
            any_na = np.zeros(size, dtype=bool)
            for part in check.parts:
                any_fail |= codes[part] == FAIL
                any_na |= codes[part] == NA
            code = np.where(any_fail, _FAIL8, np.where(any_na, _NA8, _PASS8))
        elif kind is Kind.AT_LEAST:
            met = np.zeros(size, dtype=np.int64)
            unknown = np.zeros(size, dtype=np.int64)
            for part in check.parts:
                met += codes[part] == PASS
                unknown += codes[part] == NA
            code = np.where(
                met >= check.minimum, _PASS8, np.where(met + unknown >= check.minimum, _NA8, _FAIL8)
            )
        else:
            count = arrays.get(check.column)
            if count is None:
                continue
            with np.errstate(invalid="ignore"):
                code = np.where(np.asarray(count) > 0, _NA8, _PASS8)
        codes[check.key] = code
    return codes


def eligible_columns(
    checks: Plan, codes: Mapping[str, CodeArray], size: int
) -> npt.NDArray[np.bool_]:
    """Where every deciding result of `judge_columns` passes."""
    eligible = np.ones(size, dtype=bool)
    for key, code in codes.items():
        if key in checks.deciding:
            eligible &= code == PASS
    return eligible


def _floats(arrays: Mapping[str, npt.NDArray[Any]], key: str, size: int) -> npt.NDArray[np.float64]:
    column = arrays.get(key)
    return np.full(size, np.nan) if column is None else np.asarray(column, dtype=np.float64)
