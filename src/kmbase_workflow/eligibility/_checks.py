"""The pass/fail logic of eligibility, declared once and run two ways.

`plan` turns a policy into checks: which column each rule reads, how it compares, how the
service functions of 第七条 combine, which results decide eligibility. `judge_columns` (in
``_population``, with numpy) runs the checks over numpy columns (a population: a
simulation), `judge_row` over the plain values
of one application (a portal, a recommendation), where a numpy call per rule would cost more
than the whole judgement. The two runners differ only in how each of five kinds of check is
computed; tests/test_eligibility.py holds them to the same codes on drawn applications.
"""

from __future__ import annotations

import enum
import math
import operator
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..policy import APPLICATION_MEASURES, CONSISTENCY_MEASURES, Comparison, Policy, Rule

PASS, FAIL, NA = 0, 1, 2
"""Status codes: the order matters (a fail outranks a pass, missing data outranks both when
combining rules)."""

FIGURES_YEAR = "figures_year.yearly"
SERVICES_YEAR = "figures_year.services"
DISTRICT = "district"
DISTRICT_COLUMN = "district.listed"
UNKNOWN_KEYS = "application.unknown_keys"

_OPERATORS: dict[Comparison, Callable[[Any, Any], Any]] = {
    Comparison.AT_LEAST: operator.ge,
    Comparison.AT_MOST: operator.le,
    Comparison.MORE_THAN: operator.gt,
    Comparison.LESS_THAN: operator.lt,
    Comparison.IS_TRUE: operator.eq,  # 1.0 for true, 0.0 for false
}


class Kind(enum.Enum):
    """How a check turns its inputs into a status code."""

    COMPARE = "compare"
    """A column against a required value; NaN is not assessable; a row outside
    ``applies_when`` passes."""
    PROVIDED = "provided"
    """A material (第八条): given, or not required."""
    ALL_MET = "all_met"
    """Every part passes; one failed part decides before missing data (a service function)."""
    AT_LEAST = "at_least"
    """At least ``minimum`` parts pass; not assessable while the unknown parts could make up
    the number (第七条)."""
    FLAGGED = "flagged"
    """A count above zero is not assessable (keys the policy does not know)."""


@attrs.frozen
class Check:
    """One result of the judgement and how it is computed."""

    key: str
    kind: Kind
    column: str = ""
    op: Callable[[Any, Any], Any] = operator.eq
    required: float = 1.0
    applies_when: tuple[tuple[str, str], ...] = ()
    parts: tuple[str, ...] = ()
    minimum: int = 0
    optional: bool = False
    recorded: bool = True
    """Part of `PopulationVerdict.rules` (a threshold of a function only explains it)."""
    deciding: bool = True
    """Counts for eligibility (a function's own code only explains the 第七条 finding)."""


@attrs.frozen
class Plan:
    """Every check of one policy, in the order of the findings."""

    checks: tuple[Check, ...]
    deciding: frozenset[str]
    recorded: frozenset[str]
    columns: tuple[str, ...]
    """The columns of one application (`application_columns`), in order."""
    declared_columns: tuple[tuple[str, str], ...]
    """(column, declaration key) of each declared rule."""
    pledge_columns: tuple[tuple[str, str], ...]
    """(column, pledge id)."""
    service_columns: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    """(function id, ((column, measure) of each threshold))."""
    material_columns: tuple[tuple[str, str], ...]
    """(column, material id)."""
    compares: tuple[
        tuple[str, str, Callable[[Any, Any], Any], float, tuple[tuple[str, str], ...]], ...
    ]
    """The COMPARE checks unpacked, which `judge_row` runs first (nothing they read is
    computed by another check): attribute look-ups per rule cost a third of the judgement."""
    combined: tuple[Check, ...]
    """The other checks, in order, after the comparisons their parts name."""
    functions: frozenset[str]
    materials: frozenset[str]
    declared: frozenset[str]
    pledges: frozenset[str]
    """The keys the application may use (`unknown_keys`)."""
    districts: frozenset[str]


def compare_check(key: str, rule: Rule, column: str, *, recorded: bool = True) -> Check:
    """The check of one rule of the policy file."""
    return Check(
        key=key,
        kind=Kind.COMPARE,
        column=column,
        op=_OPERATORS[rule.comparison],
        required=float(rule.required),
        applies_when=tuple(rule.applies_when.items()),
        recorded=recorded,
        deciding=recorded,
    )


def _truth(key: str, column: str) -> Check:
    """1.0 passes, anything else fails, NaN is not assessable."""
    return Check(key=key, kind=Kind.COMPARE, column=column)


def _build(policy: Policy) -> Plan:
    checks: list[Check] = []
    for rule in policy.rules:
        column = f"declared.{rule.measure}" if rule.declared else rule.measure
        checks.append(compare_check(rule.id, rule, column))
    requirement = policy.service_functions
    functions = []
    for function in requirement.functions:
        parts = []
        for threshold in function.thresholds:
            column = f"service.{function.id}.{threshold.measure}"
            checks.append(compare_check(column, threshold, column, recorded=False))
            parts.append(column)
        key = f"service.{function.id}"
        checks.append(Check(key=key, kind=Kind.ALL_MET, parts=tuple(parts), deciding=False))
        functions.append(key)
    checks.append(
        Check(
            key=requirement.id,
            kind=Kind.AT_LEAST,
            parts=tuple(functions),
            minimum=requirement.minimum,
        )
    )
    for material in policy.materials:
        key = f"material.{material.id}"
        checks.append(
            Check(key=key, kind=Kind.PROVIDED, column=key, optional=not material.required)
        )
    checks.extend(_truth(f"pledge.{pledge.id}", f"pledge.{pledge.id}") for pledge in policy.pledges)
    checks.append(_truth(FIGURES_YEAR, FIGURES_YEAR))
    checks.append(_truth(SERVICES_YEAR, SERVICES_YEAR))
    checks.append(_truth(DISTRICT, DISTRICT_COLUMN))
    checks.append(Check(key=UNKNOWN_KEYS, kind=Kind.FLAGGED, column=UNKNOWN_KEYS))
    declared = tuple((f"declared.{r.measure}", r.measure) for r in policy.rules if r.declared)
    pledges = tuple((f"pledge.{pledge.id}", pledge.id) for pledge in policy.pledges)
    services = tuple(
        (
            function.id,
            tuple(
                (f"service.{function.id}.{threshold.measure}", threshold.measure)
                for threshold in function.thresholds
            ),
        )
        for function in requirement.functions
    )
    materials = tuple((f"material.{m.id}", m.id) for m in policy.materials)
    columns = (
        *APPLICATION_MEASURES,
        *CONSISTENCY_MEASURES,
        "focus",
        *(column for column, _ in declared),
        *(column for column, _ in pledges),
        *(column for _, thresholds in services for column, _ in thresholds),
        UNKNOWN_KEYS,
        *(column for column, _ in materials),
        FIGURES_YEAR,
        SERVICES_YEAR,
        DISTRICT_COLUMN,
    )
    return Plan(
        checks=tuple(checks),
        deciding=frozenset(check.key for check in checks if check.deciding),
        recorded=frozenset(check.key for check in checks if check.recorded),
        columns=columns,
        declared_columns=declared,
        pledge_columns=pledges,
        service_columns=services,
        material_columns=materials,
        compares=tuple(
            (check.key, check.column, check.op, check.required, check.applies_when)
            for check in checks
            if check.kind is Kind.COMPARE
        ),
        combined=tuple(check for check in checks if check.kind is not Kind.COMPARE),
        functions=frozenset(function.id for function in requirement.functions),
        materials=frozenset(material.id for material in policy.materials),
        declared=frozenset(rule.measure for rule in policy.rules if rule.declared),
        pledges=frozenset(pledge.id for pledge in policy.pledges),
        districts=frozenset(district.name for district in policy.districts),
    )


# A Policy holds dicts, so it is not hashable: plans are kept by identity while it lives.
_PLANS: dict[int, tuple[weakref.ref[Policy], Plan]] = {}


def plan(policy: Policy) -> Plan:
    """The checks of ``policy`` (built once per policy object)."""
    key = id(policy)
    kept = _PLANS.get(key)
    if kept is not None and kept[0]() is policy:
        return kept[1]
    built = _build(policy)
    _PLANS[key] = (weakref.ref(policy, lambda _: _PLANS.pop(key, None)), built)
    return built


# -- one application: plain Python values ---------------------------------------------------------


def compare_code(op: Callable[[Any, Any], Any], required: float, value: float) -> int:
    """The code of one value against a required one (NaN: not assessable)."""
    if math.isnan(value):  # missing
        return NA
    return PASS if op(value, required) else FAIL


def rule_code(rule: Rule, value: float) -> int:
    """The code of one value under one rule (its ``applies_when`` aside)."""
    return compare_code(_OPERATORS[rule.comparison], float(rule.required), value)


def judge_row(checks: Plan, row: Mapping[str, Any]) -> tuple[dict[str, int], bool]:
    """The code of every check for one application's values (`application_columns`' keys),
    and whether every deciding one passes.

    Includes the thresholds of the service functions, which `judge_columns` computes too
    but `PopulationVerdict` does not keep.
    """
    codes: dict[str, int] = {}
    get, isnan, nan = row.get, math.isnan, math.nan
    for key, column, op, required, applies_when in checks.compares:
        if applies_when and not all(row[k] == v for k, v in applies_when):
            codes[key] = PASS
            continue
        # compare_code, inlined: a call per rule would cost a fifth of the judgement.
        value = get(column, nan)
        codes[key] = NA if isnan(value) else PASS if op(value, required) else FAIL
    for check in checks.combined:
        kind = check.kind
        if kind is Kind.PROVIDED:
            code = PASS if check.optional or get(check.column, False) else FAIL
        elif kind is Kind.ALL_MET:
            parts = [codes[part] for part in check.parts]
            code = FAIL if FAIL in parts else NA if NA in parts else PASS
        elif kind is Kind.AT_LEAST:
            parts = [codes[part] for part in check.parts]
            met = parts.count(PASS)
            if met >= check.minimum:
                code = PASS
            else:
                code = NA if met + parts.count(NA) >= check.minimum else FAIL
        else:
            count = get(check.column)
            if count is None:  # as a population without the column: no result
                continue
            code = NA if count > 0 else PASS
        codes[check.key] = code
    return codes, checks.deciding.isdisjoint([key for key, code in codes.items() if code])
