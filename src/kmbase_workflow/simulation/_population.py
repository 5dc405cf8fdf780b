"""Populations as data frames: the columns, judging every row at once, synthetic populations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from .._i18n import Text
from ..eligibility import (
    DISTRICT_COLUMN,
    FIGURES_YEAR,
    SERVICES_YEAR,
    UNKNOWN_KEYS,
    JudgedOn,
    PopulationVerdict,
    Status,
    application_columns,
    evaluate_population,
)
from ..errors import InvalidInputError
from ..policy import (
    APPLICATION_MEASURES,
    CONSISTENCY_MEASURES,
    Policy,
    load_policy,
)
from ..records import Application, Focus
from ._deps import Frame, _pandas

STATUS_CATEGORIES: tuple[str, ...] = tuple(status.value for status in Status)
"""The values of a status column of `evaluate_frame`, in code order
(``pass``, ``fail``, ``not_assessable``)."""

# -- populations as data frames ----------------------------------------------------------------------


def frame_columns(policy: Policy | None = None) -> tuple[str, ...]:
    """The columns `evaluate_frame` reads for ``policy``, in order.

    Each measure of `APPLICATION_MEASURES` (numbers; booleans as
    1.0/0.0; missing as NaN or ``pd.NA``), ``focus`` (``manufacturing`` /
    ``production_services``), ``declared.<measure>`` for each declared rule (1.0 declared with
    evidence, 0.0 declared false, missing otherwise), ``service.<function>.<measure>`` for each
    threshold of 第七条 (0 when the function is not claimed), ``material.<id>`` (bool),
    ``application.unknown_keys`` (how many keys the policy does not know; optional), each
    measure of `CONSISTENCY_MEASURES` (1.0 agrees, 0.0 not), ``pledge.<id>`` (附件1 承诺书:
    1.0 pledged, 0.0 cannot pledge, missing otherwise), ``figures_year.yearly`` and
    ``figures_year.services`` (1.0 the judged year's figures are given) and
    ``district.listed`` (1.0 the base's district is one of the policy's).
    """
    policy = policy or load_policy()
    names = [*APPLICATION_MEASURES, "focus"]
    names += [f"declared.{rule.measure}" for rule in policy.rules if rule.declared]
    names += [
        f"service.{function.id}.{threshold.measure}"
        for function in policy.service_functions.functions
        for threshold in function.thresholds
    ]
    names += [UNKNOWN_KEYS]
    names += [f"material.{material.id}" for material in policy.materials]
    names += [*CONSISTENCY_MEASURES]
    names += [f"pledge.{pledge.id}" for pledge in policy.pledges]
    names += [FIGURES_YEAR, SERVICES_YEAR, DISTRICT_COLUMN]
    return tuple(names)


def to_frame(
    applications: Sequence[Application],
    policy: Policy | None = None,
    *,
    judged_on: JudgedOn = None,
) -> Frame:
    """One row per application with the columns of `frame_columns`, indexed by the
    base's name (index name ``base``). Built on
    `application_columns`, so it measures exactly what
    `evaluate` measures; ``judged_on`` (one day, one per application, or each
    application's own date) is the day each is judged at, as in `evaluate`."""
    pd = _pandas()
    policy = policy or load_policy()
    columns = application_columns(applications, policy, judged_on=judged_on)
    index = pd.Index([app.base.name for app in applications], name="base")
    return pd.DataFrame({name: columns[name] for name in frame_columns(policy)}, index=index)


def _frame_arrays(frame: Frame, policy: Policy) -> dict[str, npt.NDArray[Any]]:
    """The frame's columns as the arrays ``evaluate_population`` reads; missing → NaN/False."""
    pd = _pandas()
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name in frame_columns(policy):
        if name not in frame.columns:
            continue
        column = frame[name]
        if name == "focus":
            arrays[name] = column.astype(object).where(column.notna(), None).to_numpy(dtype=object)
        elif name.startswith("material."):
            # A missing entry is a material not submitted, never a submitted one.
            arrays[name] = column.fillna(False).astype(bool).to_numpy(dtype=bool)
        else:
            numbers = pd.to_numeric(column, errors="coerce")
            arrays[name] = numbers.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return arrays


def _status_frame(verdict: PopulationVerdict, index: Any) -> Frame:
    pd = _pandas()
    data: dict[str, Any] = {
        rule: pd.Categorical.from_codes(codes, categories=list(STATUS_CATEGORIES))
        for rule, codes in verdict.rules.items()
    }
    data["eligible"] = verdict.eligible
    return pd.DataFrame(data, index=index)


def evaluate_frame(frame: Frame, policy: Policy | None = None) -> Frame:
    """Judge every row of ``frame`` (columns of `frame_columns`) under ``policy``.

    Returns a frame with the same index: one categorical column per rule id (and
    ``service_functions``, each ``service.<function>``, each ``material.<id>``, and
    ``application.unknown_keys`` when the column is given) holding ``pass``, ``fail`` or
    ``not_assessable``, and a boolean ``eligible`` column. A missing value is not assessable,
    never a pass; an absent column makes its rule not assessable for every row. The judgement
    is `evaluate_population`, column by column.
    """
    policy = policy or load_policy()
    verdict = evaluate_population(_frame_arrays(frame, policy), policy)
    if len(frame) and not verdict.rules:  # pragma: no cover - a policy always has rules
        raise InvalidInputError(Text(zh="没有规则", en="no rules"))
    return _status_frame(verdict, frame.index)


# -- synthetic populations --------------------------------------------------------------------------


@attrs.frozen
class LogNormal:
    """A positive quantity: half the population below ``median``; ``sigma`` is the spread of
    its logarithm (0.5 ≈ the middle half within ×0.7 … ×1.4). ``integer`` rounds to counts."""

    median: float
    sigma: float
    integer: bool = True

    def draw(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.float64]:
        """``size`` values."""
        values = self.median * np.exp(self.sigma * rng.standard_normal(size))
        return np.round(values) if self.integer else values


@attrs.frozen
class Normal:
    """A quantity around ``mean`` with standard deviation ``sd`` (growth rates)."""

    mean: float
    sd: float

    def draw(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.float64]:
        """``size`` values."""
        return self.mean + self.sd * rng.standard_normal(size)


@attrs.frozen
class Beta:
    """A share between 0 and 1 with average ``mean``; larger ``concentration`` = less spread."""

    mean: float
    concentration: float

    def draw(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.float64]:
        """``size`` values."""
        a = self.mean * self.concentration
        return rng.beta(a, self.concentration - a, size)


@attrs.frozen
class Bernoulli:
    """True (1.0) with probability ``p``, else False (0.0)."""

    p: float

    def draw(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.float64]:
        """``size`` values."""
        return (rng.random(size) < self.p).astype(np.float64)


@attrs.frozen
class Choice:
    """One of ``values`` with the given ``weights`` (normalised)."""

    values: tuple[float, ...]
    weights: tuple[float, ...]

    def draw(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.float64]:
        """``size`` values."""
        p = np.asarray(self.weights, dtype=np.float64)
        return rng.choice(np.asarray(self.values, dtype=np.float64), size=size, p=p / p.sum())


Distribution = LogNormal | Normal | Beta | Bernoulli | Choice


def _default_measures() -> dict[str, Distribution]:
    return {
        "independent_legal_person": Bernoulli(0.99),
        "operating_years": LogNormal(5.0, 0.4, integer=False),
        "resident_small_micro_enterprises": LogNormal(52, 0.3),
        "small_micro_employees": LogNormal(720, 0.35),
        "leading_industries": Choice((0, 1, 2, 3, 4), (0.005, 0.3, 0.4, 0.28, 0.015)),
        "leading_industry_share": Beta(0.9, 40),
        "full_time_service_staff": LogNormal(14, 0.25),
        "qualified_staff_share": Beta(0.9, 40),
        "startup_mentors": LogNormal(5, 0.35),
        "contracted_agencies": LogNormal(7, 0.35),
        "free_or_low_fee_share": Beta(0.3, 40),
        "satisfaction_rate": Beta(0.9, 60),
        "site_area_m2": LogNormal(12000, 0.5, integer=False),
        "resident_growth": Normal(0.2, 0.07),
        "employee_growth": Normal(0.2, 0.07),
        "innovation_growth": Normal(0.22, 0.08),
    }


@attrs.frozen
class PopulationSpec:
    """How `generate_population` draws a synthetic population (no real data needed).

    The defaults are a plausible population of applicants, not statistics of real ones:
    replace any of them (``attrs.evolve(spec, measures={**spec.measures, "site_area_m2":
    LogNormal(12000, 0.5, integer=False)})``). Measures are drawn independently.

    ``measures`` gives a distribution per measure of
    `APPLICATION_MEASURES` (a measure without one is missing for
    everyone); ``missing`` the share of rows where a measure is missing (default
    ``missing_rate`` for every measure); ``manufacturing_share`` the share of manufacturing
    bases (the rest are production services); ``declared_true`` the probability that a
    declared condition is declared met with evidence (else it is declared not met or lacks
    evidence, half each); ``material_provided`` the probability that each material is
    submitted; ``service_claimed`` the probability that a base claims a service function;
    ``service_ratio`` the claimed figure as a multiple of the policy's threshold (so the
    figures follow the policy under judgement, whatever its numbers).
    """

    measures: Mapping[str, Distribution] = attrs.field(factory=_default_measures)
    missing_rate: float = 0.005
    missing: Mapping[str, float] = attrs.field(factory=dict)
    manufacturing_share: float = 0.35
    declared_true: float = 0.995
    material_provided: float = 0.995
    service_claimed: float = 0.85
    service_ratio: Distribution = LogNormal(1.5, 0.4, integer=False)


def generate_columns(
    size: int,
    spec: PopulationSpec | None = None,
    *,
    policy: Policy | None = None,
    seed: int | None = 0,
) -> dict[str, npt.NDArray[Any]]:
    """A synthetic population of ``size`` applications as numpy columns (no pandas needed).

    Same ``seed``, same population. Service figures are drawn relative to ``policy``'s
    thresholds (default: the policy in force), see `PopulationSpec`.
    """
    if size < 0:
        raise InvalidInputError(
            Text(zh=f"人数不能为负：{size}", en=f"size must not be negative: {size}"),
            hint=Text(zh="请传入非负整数", en="pass a non-negative integer"),
        )
    spec = spec or PopulationSpec()
    policy = policy or load_policy()
    rng = np.random.default_rng(seed)
    columns: dict[str, npt.NDArray[Any]] = {}
    for name in APPLICATION_MEASURES:
        distribution = spec.measures.get(name)
        if distribution is None:
            columns[name] = np.full(size, np.nan)
            continue
        values = np.asarray(distribution.draw(rng, size), dtype=np.float64)
        rate = spec.missing.get(name, spec.missing_rate)
        if rate > 0:
            values[rng.random(size) < rate] = np.nan
        columns[name] = values
    manufacturing = rng.random(size) < spec.manufacturing_share
    focus_values = np.array(
        [Focus.PRODUCTION_SERVICES.value, Focus.MANUFACTURING.value], dtype=object
    )
    columns["focus"] = focus_values[manufacturing.astype(np.int8)]
    for rule in policy.rules:
        if rule.declared:
            u = rng.random(size)
            no = spec.declared_true + (1 - spec.declared_true) / 2
            columns[f"declared.{rule.measure}"] = np.where(
                u < spec.declared_true, 1.0, np.where(u < no, 0.0, np.nan)
            )
    for function in policy.service_functions.functions:
        claimed = rng.random(size) < spec.service_claimed
        for threshold in function.thresholds:
            figure = np.round(float(threshold.required) * spec.service_ratio.draw(rng, size))
            columns[f"service.{function.id}.{threshold.measure}"] = np.where(claimed, figure, 0.0)
    columns[UNKNOWN_KEYS] = np.zeros(size)
    for material in policy.materials:
        columns[f"material.{material.id}"] = rng.random(size) < spec.material_provided
    # Drawn after everything else so that a seed gives the same population as before: a
    # synthetic application is coherent, current, in a listed district and pledges all.
    for name in (*CONSISTENCY_MEASURES, FIGURES_YEAR, SERVICES_YEAR, DISTRICT_COLUMN):
        columns[name] = np.ones(size)
    for pledge in policy.pledges:
        columns[f"pledge.{pledge.id}"] = np.ones(size)
    return columns


def generate_population(
    size: int,
    spec: PopulationSpec | None = None,
    *,
    policy: Policy | None = None,
    seed: int | None = 0,
) -> Frame:
    """`generate_columns` as a data frame (index ``base``: 1, 2, …; ``focus`` is
    categorical)."""
    pd = _pandas()
    policy = policy or load_policy()
    columns = generate_columns(size, spec, policy=policy, seed=seed)
    data: dict[str, Any] = {name: columns[name] for name in frame_columns(policy)}
    data["focus"] = pd.Categorical(columns["focus"], categories=[f.value for f in Focus])
    index = pd.RangeIndex(1, size + 1, name="base")
    return pd.DataFrame(data, index=index)
