"""Policy simulation for notebooks: populations, policy variants and the timeline of a round.

Three questions an analyst asks, and the tools here that answer them:

* **How many bases qualify, and which rule stops the others?** `to_frame` turns
  application records into a pandas data frame (one row per application, one column per
  measure, see `frame_columns`); `generate_population` draws a synthetic one from
  a `PopulationSpec`; `evaluate_frame` judges every row at once with the same
  column-wise judgement as `evaluate` (it *is*
  `evaluate_population`), so the verdicts agree row by row.
* **What if a threshold or a period changed?** `vary` derives a policy variant without
  editing files; `compare` judges one population under several variants and reports the
  pass rate per rule, the overall pass rate, the rule that binds (fails alone) most often and
  the bases whose outcome changes (`VariantComparison`).
* **When can certification happen?** `simulate_round` runs a round of 第九条 to 第十四条
  on the working-day calendar, with stage durations drawn from `Stage` distributions
  (`TimelineSpec`), the notice period of the policy (第十三条), objections and their
  investigation, and the collective decision (第十四条). Time is computed, never waited for:
  the whole round is date arithmetic on the calendar's numpy batch operations.

pandas and matplotlib are optional (``pip install "kmbase-workflow[notebook]"``): they are
imported only by the functions that return frames or draw plots, and every array-level
function (`generate_columns`, `simulate_round`'s arrays) works without them.

>>> from kmbase_workflow.simulation import vary
>>> from kmbase_workflow.policy import load_policy
>>> variant = vary(load_policy(), resident_enterprises=30)
>>> variant.id, variant.rule("resident_enterprises").required
('kunming-2022+resident_enterprises=30', 30)
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from . import _plots
from ._i18n import Lang, Text
from .calendar import WorkingDayCalendar, default_calendar
from .eligibility import (
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
from .errors import InvalidInputError
from .policy import (
    APPLICATION_MEASURES,
    CONSISTENCY_MEASURES,
    Comparison,
    Counting,
    Policy,
    Rule,
    load_policy,
)
from .records import Application, Focus

__all__ = [
    "OUTCOMES",
    "STATUS_CATEGORIES",
    "STEPS",
    "Bernoulli",
    "Beta",
    "Choice",
    "LogNormal",
    "Normal",
    "PopulationSpec",
    "RoundTimeline",
    "Stage",
    "TimelineComparison",
    "TimelineSpec",
    "VariantComparison",
    "compare",
    "compare_timelines",
    "evaluate_frame",
    "frame_columns",
    "generate_columns",
    "generate_population",
    "simulate_round",
    "to_frame",
    "variant_keys",
    "vary",
]

STATUS_CATEGORIES: tuple[str, ...] = tuple(status.value for status in Status)
"""The values of a status column of `evaluate_frame`, in code order
(``pass``, ``fail``, ``not_assessable``)."""

Frame = Any
"""A ``pandas.DataFrame`` (typed loosely so the library imports without pandas)."""


# -- optional dependencies -------------------------------------------------------------------------


def _optional(module: str) -> Any:
    """Import ``module`` or explain which extra provides it, in both languages."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
        message = Text(
            zh=f'需要 {module.split(".", maxsplit=1)[0]}：请安装 notebook 扩展，pip install "kmbase-workflow[notebook]"',
            en=f"{module.split('.', maxsplit=1)[0]} is needed: install the notebook extra, "
            'pip install "kmbase-workflow[notebook]"',
        )
        raise ImportError(str(message)) from exc


def _pandas() -> Any:
    return _optional("pandas")


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


# -- policy variants -----------------------------------------------------------------------------------

_PERIOD_FIELDS = {
    "public_notice": ("working_days",),
    "change_filing": ("working_days",),
    "validity": ("years",),
    "declaration": ("rounds_per_year",),
}


def variant_keys(policy: Policy | None = None) -> tuple[str, ...]:
    """Every key `vary` accepts for ``policy``: rule ids, ``service_functions.minimum``,
    ``service.<function>.<measure>``, ``spot_check.minimum_share`` and
    ``<period>.<field>`` (``public_notice.working_days``, ``change_filing.working_days``,
    ``validity.years``, ``declaration.rounds_per_year``)."""
    policy = policy or load_policy()
    keys = [rule.id for rule in policy.rules]
    keys.append(f"{policy.service_functions.id}.minimum")
    keys += [
        f"service.{function.id}.{threshold.measure}"
        for function in policy.service_functions.functions
        for threshold in function.thresholds
    ]
    keys.append("spot_check.minimum_share")
    keys += [f"{period}.{name}" for period, names in _PERIOD_FIELDS.items() for name in names]
    return tuple(keys)


def _bad_variant(key: str, problem: Text, policy: Policy) -> InvalidInputError:
    return InvalidInputError(
        Text(
            zh=f"无法改变 {key}：{problem.zh}",
            en=f"cannot vary {key}: {problem.en}",
        ),
        hint=Text(
            zh="可改变的项目：" + ", ".join(variant_keys(policy)),
            en="keys that can be varied: " + ", ".join(variant_keys(policy)),
        ),
    )


def _number(key: str, value: object, policy: Policy, *, whole: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad_variant(
            key,
            Text(zh=f"应为数字，收到 {value!r}", en=f"expected a number, got {value!r}"),
            policy,
        )
    if whole and not float(value).is_integer():
        raise _bad_variant(
            key,
            Text(zh=f"应为整数，收到 {value!r}", en=f"expected a whole number, got {value!r}"),
            policy,
        )
    if value < 0:
        raise _bad_variant(
            key, Text(zh=f"不能为负数：{value!r}", en=f"must not be negative: {value!r}"), policy
        )
    return int(value) if whole else value


def _varied_rule(rule: Rule, key: str, value: object, policy: Policy) -> Rule:
    if rule.comparison is Comparison.IS_TRUE:
        if not isinstance(value, bool):
            raise _bad_variant(
                key,
                Text(zh="该条件只能设为 True 或 False", en="this condition takes True or False"),
                policy,
            )
        required: float | bool = value
    else:
        required = _number(key, value, policy, whole=isinstance(rule.required, int))
    note = Text(
        zh=f"（模拟变体：要求改为 {rule.comparison.symbol} {required}）",
        en=f" (simulated variant: required {rule.comparison.symbol} {required})",
    )
    description = Text(zh=rule.description.zh + note.zh, en=rule.description.en + note.en)
    return attrs.evolve(rule, required=required, description=description)


def vary(policy: Policy, *, id: str | None = None, **changes: object) -> Policy:
    """A variant of ``policy`` with some thresholds or periods changed, files untouched.

    Keys are those of `variant_keys`: a rule id sets that rule's required value; dotted
    keys (pass them with ``**{...}``) set ``service_functions.minimum``, a service threshold
    ``service.<function>.<measure>``, ``spot_check.minimum_share`` or a period's field such as
    ``public_notice.working_days``. The variant gets its own id (default: the policy's id and
    the changes, ``kunming-2022+resident_enterprises=30``), and each changed rule's
    description says it was varied, so messages never quote the file's old number as the
    requirement. An unknown key or a value of the wrong kind raises
    `InvalidInputError` listing the valid keys.

    >>> policy = vary(load_policy(), **{"service_functions.minimum": 3, "public_notice.working_days": 15})
    >>> policy.service_functions.minimum, policy.periods.public_notice.working_days
    (3, 15)
    """
    if not changes:
        return policy if id is None else attrs.evolve(policy, id=id)
    rules = {rule.id: rule for rule in policy.rules}
    requirement = policy.service_functions
    functions = {function.id: function for function in requirement.functions}
    periods = policy.periods
    spot_check = policy.spot_check
    for key, value in changes.items():
        if key in rules:
            rules[key] = _varied_rule(rules[key], key, value, policy)
        elif key == f"{requirement.id}.minimum":
            minimum = int(_number(key, value, policy, whole=True))
            requirement = attrs.evolve(requirement, minimum=minimum)
        elif key.startswith("service.") and key.count(".") == 2:
            _, function_id, measure = key.split(".")
            function = functions.get(function_id)
            thresholds = function.thresholds if function else ()
            if not any(t.measure == measure for t in thresholds) or function is None:
                raise _bad_variant(key, Text(zh="政策中没有此项", en="no such threshold"), policy)
            functions[function_id] = attrs.evolve(
                function,
                thresholds=tuple(
                    _varied_rule(t, key, value, policy) if t.measure == measure else t
                    for t in thresholds
                ),
            )
        elif key == "spot_check.minimum_share":
            share = float(_number(key, value, policy))
            spot_check = attrs.evolve(spot_check, minimum_share=share)
        elif key.count(".") == 1 and key.split(".")[1] in _PERIOD_FIELDS.get(key.split(".")[0], ()):
            period_name, field = key.split(".")
            amount = int(_number(key, value, policy, whole=True))
            if amount < 1:
                raise _bad_variant(key, Text(zh="应至少为 1", en="must be at least 1"), policy)
            period = attrs.evolve(getattr(periods, period_name), **{field: amount})
            periods = attrs.evolve(periods, **{period_name: period})
        else:
            raise _bad_variant(
                key, Text(zh="政策中没有此项", en="the policy has no such key"), policy
            )
    requirement = attrs.evolve(
        requirement, functions=tuple(functions[f.id] for f in requirement.functions)
    )
    suffix = ",".join(f"{key}={value}" for key, value in changes.items())
    return attrs.evolve(
        policy,
        id=id if id is not None else f"{policy.id}+{suffix}",
        title=Text(
            zh=f"{policy.title.zh}（模拟变体：{suffix}）",
            en=f"{policy.title.en} (simulated variant: {suffix})",
        ),
        rules=tuple(rules[rule.id] for rule in policy.rules),
        service_functions=requirement,
        spot_check=spot_check,
        periods=periods,
    )


# -- comparing variants on one population ----------------------------------------------------------


def _deciding(verdict: PopulationVerdict) -> dict[str, npt.NDArray[np.int8]]:
    """The rules that decide eligibility (each service function only explains 第七条)."""
    return {key: codes for key, codes in verdict.rules.items() if not key.startswith("service.")}


def _binding_counts(verdict: PopulationVerdict) -> dict[str, int]:
    """For each deciding rule: rows where it fails and every other deciding rule passes."""
    deciding = _deciding(verdict)
    if not deciding:
        return {}
    codes = np.stack(list(deciding.values()))
    not_passing = (codes != 0).sum(axis=0)
    alone = not_passing == 1
    return {
        key: int(np.count_nonzero(alone & (rule_codes == 1)))
        for key, rule_codes in deciding.items()
    }


@attrs.frozen
class VariantComparison:
    """One population judged under several policy variants (see `compare`).

    ``verdicts`` maps each variant's name to its
    `PopulationVerdict`; ``index`` labels the rows (the
    frame's index, or positions). The methods return pandas objects; ``summary`` and
    ``pass_rate_table`` also work without pandas through their plain-data twins.
    """

    verdicts: Mapping[str, PopulationVerdict]
    index: Sequence[Any]
    policies: Mapping[str, Policy]

    @property
    def size(self) -> int:
        """Number of applications in the population."""
        return len(self.index)

    def eligible_rate(self, variant: str) -> float:
        """Share of the population eligible under ``variant``."""
        eligible = self.verdicts[variant].eligible
        return float(eligible.mean()) if eligible.size else math.nan

    def binding(self, variant: str) -> dict[str, int]:
        """For each deciding rule, how many applications fail it and nothing else: the rule
        that stands alone between them and eligibility ("binds")."""
        return _binding_counts(self.verdicts[variant])

    def most_binding(self, variant: str) -> str | None:
        """The rule that binds most often under ``variant`` (``None`` if none binds)."""
        counts = self.binding(variant)
        best = max(counts, key=lambda key: counts[key], default=None)
        return best if best is not None and counts[best] > 0 else None

    def changed(self, first: str, second: str) -> list[Any]:
        """Labels of the applications whose eligibility differs between two variants."""
        a, b = self.verdicts[first].eligible, self.verdicts[second].eligible
        return [self.index[int(i)] for i in np.flatnonzero(a != b)]

    def summary_rows(self) -> list[dict[str, Any]]:
        """Per variant: policy id, eligible count and rate, the most binding rule and how many
        it binds, and how many outcomes changed against the first variant (plain data)."""
        names = list(self.verdicts)
        rows = []
        for name in names:
            binding = self.most_binding(name)
            rows.append(
                {
                    "variant": name,
                    "policy": self.verdicts[name].policy_id,
                    "eligible": int(self.verdicts[name].eligible.sum()),
                    "eligible_rate": self.eligible_rate(name),
                    "most_binding": binding or "",
                    "binds": self.binding(name).get(binding, 0) if binding else 0,
                    "changed_vs_first": len(self.changed(names[0], name)),
                }
            )
        return rows

    def summary(self) -> Frame:
        """`summary_rows` as a data frame indexed by variant."""
        return _pandas().DataFrame(self.summary_rows()).set_index("variant")

    def pass_rates(self) -> Frame:
        """Pass rate of every rule (rows) under every variant (columns), plus ``eligible``."""
        pd = _pandas()
        data = {
            name: {
                **{rule: verdict.pass_rate(rule) for rule in verdict.rules},
                "eligible": self.eligible_rate(name),
            }
            for name, verdict in self.verdicts.items()
        }
        return pd.DataFrame(data)

    def binding_table(self) -> Frame:
        """`binding` for every variant: rules (rows) × variants (columns), counts."""
        pd = _pandas()
        return pd.DataFrame({name: self.binding(name) for name in self.verdicts}).fillna(0)

    def changes(self) -> Frame:
        """The applications whose eligibility is not the same under every variant, with their
        eligibility per variant (one boolean column per variant)."""
        pd = _pandas()
        table = pd.DataFrame(
            {name: verdict.eligible for name, verdict in self.verdicts.items()},
            index=pd.Index(list(self.index)),
        )
        return table[table.nunique(axis=1) > 1]

    def plot_pass_rates(self, ax: Any = None, lang: Lang = "en", top: int | None = 12) -> Any:
        """A bar chart of the pass rate per rule by variant (matplotlib ``Axes``): the ``top``
        rules with the lowest pass rate, and the overall eligible rate."""
        return _plots.plot_pass_rates(self, ax=ax, lang=lang, top=top)

    def _repr_html_(self) -> str:
        head = (
            "<tr><th>variant 变体</th><th>policy 政策</th><th>eligible 符合</th>"
            "<th>rate 比例</th><th>most binding 最常单独不符合</th><th>binds 次数</th>"
            "<th>changed vs first 结果变化</th></tr>"
        )
        body = "".join(
            "<tr>"
            f"<td>{html.escape(row['variant'])}</td><td>{html.escape(row['policy'])}</td>"
            f"<td>{row['eligible']:,}</td><td>{row['eligible_rate']:.1%}</td>"
            f"<td><code>{html.escape(row['most_binding'])}</code></td><td>{row['binds']:,}</td>"
            f"<td>{row['changed_vs_first']:,}</td></tr>"
            for row in self.summary_rows()
        )
        return (
            f"<div><strong>政策变体比较 / Policy variants compared</strong> "
            f"({self.size:,} applications 份申报)<table>{head}{body}</table></div>"
        )


def compare(
    population: Frame | Mapping[str, npt.ArrayLike],
    variants: Mapping[str, Policy] | Sequence[Policy],
) -> VariantComparison:
    """Judge one population (a frame of `frame_columns`, or a mapping of columns as
    `evaluate_population` reads) under each variant.

    ``variants`` is a mapping of names to policies, or a sequence of policies named by id.
    """
    named = dict(variants) if isinstance(variants, Mapping) else {p.id: p for p in variants}
    if not named:
        raise InvalidInputError(
            Text(zh="至少需要一个政策变体", en="at least one policy variant is needed"),
            hint=Text(zh="例如 [load_policy(), vary(...)]", en="e.g. [load_policy(), vary(...)]"),
        )
    verdicts = {}
    if isinstance(population, Mapping):
        arrays = {key: np.asarray(value) for key, value in population.items()}
        size = len(next(iter(arrays.values()))) if arrays else 0
        index: Sequence[Any] = range(size)
        for name, policy in named.items():
            verdicts[name] = evaluate_population(arrays, policy)
    else:
        index = list(population.index)
        for name, policy in named.items():
            verdicts[name] = evaluate_population(_frame_arrays(population, policy), policy)
    return VariantComparison(verdicts=verdicts, index=index, policies=named)


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


# -- the timeline of a round ------------------------------------------------------------------------


@attrs.frozen
class Stage:
    """A duration in working days: triangular between ``low`` and ``high`` with the most
    likely value ``mode``, rounded to whole days (``Stage(5, 5, 5)`` is always 5)."""

    low: float
    mode: float
    high: float

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.low <= self.mode <= self.high:
            raise InvalidInputError(
                Text(
                    zh=f"工作日数应满足 0 ≤ low ≤ mode ≤ high，收到 {self.low}, {self.mode}, {self.high}",
                    en=f"working days need 0 ≤ low ≤ mode ≤ high, got {self.low}, {self.mode}, {self.high}",
                ),
                hint=Text(zh="请检查阶段设置", en="check the stage"),
            )

    def draw(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.int64]:
        """``size`` whole numbers of working days."""
        if self.low == self.high:
            return np.full(size, round(self.low), dtype=np.int64)
        return np.round(rng.triangular(self.low, self.mode, self.high, size)).astype(np.int64)


@attrs.frozen
class TimelineSpec:
    """Stage durations (working days) and outcome rates of a round (第九条 to 第十四条).

    The defaults are assumptions for illustration, not the bureau's statistics; the notice
    period is never here: it comes from the policy (第十三条).

    - ``district_review``: from the round's start (declarations in) to the district's
      recommendation (第十条), per case; ``recommend_rate`` of cases are recommended (or pass
      ``eligible`` to `simulate_round`).
    - ``expert_review``: from the last recommendation of the round to the expert panel's
      opinion (第十一条), once per round; ``review_pass_rate`` pass (择优).
    - ``site_inspection``: after the panel, per case (第十二条); ``inspection_pass_rate`` pass.
    - ``publication_gap``: from the last inspection to the list's publication (第十三条), once
      per round (the list of bases to be certified is published together).
    - ``objection_rate``: share of publicized cases that receive an objection, on a working
      day inside the notice; ``investigation`` its duration; ``objection_sustained_rate`` the
      share of investigated objections that are upheld (the case is rejected).
    - ``collective_decision``: from the end of the notice (or of the investigation) to the
      collective decision and award (第十四条), at least one working day, since certification
      is possible only after the notice has ended.
    """

    district_review: Stage = Stage(10, 15, 25)
    recommend_rate: float = 0.85
    expert_review: Stage = Stage(10, 15, 30)
    review_pass_rate: float = 0.7
    site_inspection: Stage = Stage(5, 10, 20)
    inspection_pass_rate: float = 0.95
    publication_gap: Stage = Stage(3, 5, 10)
    objection_rate: float = 0.05
    investigation: Stage = Stage(5, 10, 20)
    objection_sustained_rate: float = 0.3
    collective_decision: Stage = Stage(1, 5, 15)

    def __attrs_post_init__(self) -> None:
        if self.collective_decision.low < 1:
            raise InvalidInputError(
                Text(
                    zh="集体决策应在公示期结束后（至少 1 个工作日）",
                    en="the collective decision comes after the notice (at least 1 working day)",
                ),
                hint=Text(zh="第十四条", en="Art. 14"),
            )


STEPS: tuple[tuple[str, Text], ...] = (
    ("declared", Text(zh="申报", en="declared")),
    ("recommended", Text(zh="县区推荐", en="recommended")),
    ("expert_reviewed", Text(zh="专家评审", en="expert review")),
    ("site_inspected", Text(zh="现场核查", en="site inspection")),
    ("publicized", Text(zh="社会公示", en="publicized")),
    ("notice_due", Text(zh="公示期满", en="notice ends")),
    ("certified", Text(zh="认定授牌", en="certified")),
)
"""The dated steps of a simulated case, in order (each a ``datetime64[D]`` array)."""

OUTCOMES: dict[str, Text] = {
    "certified": Text(zh="认定授牌", en="certified"),
    "not_recommended": Text(zh="县区未推荐", en="not recommended"),
    "rejected_review": Text(zh="专家评审未通过", en="failed expert review"),
    "rejected_inspection": Text(zh="现场核查未通过", en="failed site inspection"),
    "rejected_objection": Text(zh="异议成立", en="objection sustained"),
}
"""Where a simulated case ends."""

_NAT = np.datetime64("NaT", "D")


@attrs.frozen(eq=False)
class RoundTimeline:
    """The simulated round(s): one row per case (``replications × cases``).

    ``dates`` maps each step of `STEPS` (and ``objected``, ``investigated``) to a
    ``datetime64[D]`` array, NaT where the case never got there; ``outcome`` holds an
    `OUTCOMES` key per case; ``replication`` the round each case belongs to;
    ``provisional`` is True where a date of the case lies in a year without an official holiday
    notice (the date may still move).
    """

    name: str
    start: dt.date
    policy_id: str
    notice_working_days: int
    dates: Mapping[str, npt.NDArray[np.datetime64]]
    outcome: npt.NDArray[np.str_]
    replication: npt.NDArray[np.int64]
    provisional: npt.NDArray[np.bool_]

    @property
    def size(self) -> int:
        """Number of simulated cases."""
        return int(self.outcome.size)

    def days_to_certification(self) -> npt.NDArray[np.float64]:
        """Calendar days from the round's start to certification (NaN if not certified)."""
        certified = self.dates["certified"]
        days = (certified - np.datetime64(self.start, "D")).astype("float64")
        days[np.isnat(certified)] = np.nan
        return days

    def summary_data(self) -> dict[str, Any]:
        """Median, 10th and 90th percentile of days to certification, the earliest, median and
        latest certification date, and the certified and provisional shares (plain data)."""
        days = self.days_to_certification()
        certified = self.dates["certified"][~np.isnat(self.dates["certified"])]
        known = days[~np.isnan(days)]
        empty = known.size == 0

        def q(p: float) -> float:
            return math.nan if empty else float(np.percentile(known, p))

        def date_at(p: float) -> dt.date | None:
            if empty:
                return None
            ordered = np.sort(certified)
            return ordered[round(p * (ordered.size - 1))].astype(dt.date)  # type: ignore[no-any-return]

        return {
            "variant": self.name,
            "start": self.start,
            "cases": self.size,
            "certified_share": float(np.mean(self.outcome == "certified")) if self.size else 0.0,
            "median_days": q(50),
            "p10_days": q(10),
            "p90_days": q(90),
            "first_certified": date_at(0.0),
            "median_certified": date_at(0.5),
            "last_certified": date_at(1.0),
            "provisional_share": float(self.provisional.mean()) if self.size else 0.0,
        }

    def summary(self) -> Frame:
        """`summary_data` as a one-row data frame indexed by variant."""
        return _pandas().DataFrame([self.summary_data()]).set_index("variant")

    def funnel(self) -> dict[str, int]:
        """How many cases reached each step of `STEPS` (``declared`` … ``certified``)."""
        return {
            step: int(np.count_nonzero(~np.isnat(self.dates[step])))
            for step, _ in STEPS
            if step != "notice_due"
        }

    def to_frame(self) -> Frame:
        """One row per case: replication, outcome, each step's date, provisional, days."""
        pd = _pandas()
        data: dict[str, Any] = {"replication": self.replication, "outcome": self.outcome}
        for step in (*(s for s, _ in STEPS), "objected", "investigated"):
            data[step] = self.dates[step].astype("datetime64[s]")
        data["provisional"] = self.provisional
        data["days_to_certification"] = self.days_to_certification()
        return pd.DataFrame(data)

    def plot(self, ax: Any = None, replication: int = 0, lang: Lang = "en") -> Any:
        """A timeline chart (Gantt) of one replication of the round."""
        return _plots.plot_timeline(self, ax=ax, replication=replication, lang=lang)

    def plot_funnel(self, ax: Any = None, lang: Lang = "en") -> Any:
        """A funnel: how many cases reached each step of the lifecycle."""
        return _plots.plot_funnel(self, ax=ax, lang=lang)

    def _repr_html_(self) -> str:
        return _timelines_html([self])


def _timelines_html(timelines: Sequence[RoundTimeline]) -> str:
    head = (
        "<tr><th>variant 变体</th><th>start 开始</th><th>cases 案件</th>"
        "<th>certified 认定比例</th><th>median days 中位天数</th><th>p10–p90</th>"
        "<th>median certified 认定日期中位</th><th>provisional 临时</th></tr>"
    )
    rows = []
    for timeline in timelines:
        s = timeline.summary_data()
        flag = " ⚠" if s["provisional_share"] > 0 else ""
        rows.append(
            f"<tr><td>{html.escape(s['variant'])}</td><td>{s['start']}</td><td>{s['cases']:,}</td>"
            f"<td>{s['certified_share']:.1%}</td><td>{s['median_days']:.0f}</td>"
            f"<td>{s['p10_days']:.0f}–{s['p90_days']:.0f}</td>"
            f"<td>{s['median_certified']}</td><td>{s['provisional_share']:.0%}{flag}</td></tr>"
        )
    return (
        "<div><strong>认定时间模拟 / Round timeline</strong> "
        "(calendar days from the round's start 自本轮开始的日历天数)"
        f"<table>{head}{''.join(rows)}</table></div>"
    )


def _notice_due(
    calendar: WorkingDayCalendar,
    published: npt.NDArray[np.datetime64],
    policy: Policy,
    allow: bool,
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.datetime64]]:
    """(first day counted, last day) of the notice, the batch twin of
    `public_notice_deadline`."""
    period = policy.periods.public_notice
    n = period.working_days
    if period.counting is Counting.START_DAY_COUNTS:
        working = calendar.is_working_day_many(published, allow_provisional=allow)
        first = np.where(
            working,
            published,
            calendar.add_working_days_many(published, 1, allow_provisional=allow),
        )
        due = calendar.add_working_days_many(first, n - 1, allow_provisional=allow)
    else:
        first = calendar.add_working_days_many(published, 1, allow_provisional=allow)
        due = calendar.add_working_days_many(published, n, allow_provisional=allow)
    return first, due


def _add(
    calendar: WorkingDayCalendar,
    days: npt.NDArray[np.datetime64],
    n: npt.NDArray[np.int64],
    mask: npt.NDArray[np.bool_],
    allow: bool,
) -> npt.NDArray[np.datetime64]:
    """``days + n`` working days where ``mask``, NaT elsewhere."""
    result = np.full(days.shape, _NAT)
    if mask.any():
        result[mask] = calendar.add_working_days_many(days[mask], n[mask], allow_provisional=allow)
    return result


def _round_max(
    days: npt.NDArray[np.datetime64], mask: npt.NDArray[np.bool_], shape: tuple[int, int]
) -> npt.NDArray[np.datetime64]:
    """Per replication, the latest date among ``mask`` (NaT if none), broadcast to cases."""
    as_int = np.where(mask, days.view(np.int64), np.iinfo(np.int64).min).reshape(shape)
    latest = as_int.max(axis=1)
    latest_days = np.where(latest == np.iinfo(np.int64).min, _NAT.view(np.int64), latest).view(
        "datetime64[D]"
    )
    return np.repeat(latest_days, shape[1])


def simulate_round(
    start: dt.date,
    *,
    cases: int = 30,
    replications: int = 200,
    spec: TimelineSpec | None = None,
    policy: Policy | None = None,
    calendar: WorkingDayCalendar | None = None,
    eligible: npt.ArrayLike | None = None,
    seed: int | None = 0,
    name: str | None = None,
    allow_provisional: bool = True,
) -> RoundTimeline:
    """Simulate ``replications`` rounds of ``cases`` applications starting on ``start``.

    Steps, each on the working-day calendar: district recommendation (第十条) → one expert
    panel after the last recommendation (第十一条) → site inspections (第十二条) → one
    publication of the list (第十三条), its notice ending as
    `public_notice_deadline` counts it for ``policy`` →
    objections on a working day inside the notice, investigated → the collective decision
    and award (第十四条), never before the notice has ended or an objection is settled.

    ``eligible`` (one boolean per case, e.g. a column of `evaluate_frame`) replaces
    ``recommend_rate``: the district recommends exactly the eligible cases. Dates in years
    without official holiday data are computed provisionally and flagged; with
    ``allow_provisional=False`` they raise `CalendarDataMissingError`.
    """
    spec = spec or TimelineSpec()
    policy = policy or load_policy()
    calendar = calendar or default_calendar()
    if cases < 1 or replications < 1:
        raise InvalidInputError(
            Text(zh="案件数和重复次数至少为 1", en="cases and replications must be at least 1"),
            hint=Text(zh="请传入正整数", en="pass positive integers"),
        )
    allow = allow_provisional
    rng = np.random.default_rng(seed)
    shape = (replications, cases)
    size = replications * cases
    replication = np.repeat(np.arange(replications, dtype=np.int64), cases)
    declared = np.full(size, np.datetime64(start, "D"))

    def per_round(stage: Stage) -> npt.NDArray[np.int64]:
        return np.repeat(stage.draw(rng, replications), cases)

    if eligible is None:
        recommended_mask = rng.random(size) < spec.recommend_rate
    else:
        flags = np.asarray(eligible, dtype=bool)
        if flags.shape != (cases,):
            raise InvalidInputError(
                Text(
                    zh=f"eligible 应有 {cases} 个值，收到 {flags.size} 个",
                    en=f"eligible needs {cases} values, got {flags.size}",
                ),
                hint=Text(zh="每个案件一个布尔值", en="one boolean per case"),
            )
        recommended_mask = np.tile(flags, replications)
    recommended = _add(
        calendar, declared, spec.district_review.draw(rng, size), recommended_mask, allow
    )
    panel = _add(
        calendar,
        _round_max(recommended, recommended_mask, shape),
        per_round(spec.expert_review),
        recommended_mask,
        allow,
    )
    reviewed_mask = recommended_mask & (rng.random(size) < spec.review_pass_rate)
    reviewed = np.where(reviewed_mask, panel, _NAT)
    inspected_mask = reviewed_mask & (rng.random(size) < spec.inspection_pass_rate)
    inspected = _add(calendar, panel, spec.site_inspection.draw(rng, size), inspected_mask, allow)
    published = _add(
        calendar,
        _round_max(inspected, inspected_mask, shape),
        per_round(spec.publication_gap),
        inspected_mask,
        allow,
    )
    first_day, notice_due = np.full(size, _NAT), np.full(size, _NAT)
    if inspected_mask.any():
        first_day[inspected_mask], notice_due[inspected_mask] = _notice_due(
            calendar, published[inspected_mask], policy, allow
        )
    objected_mask = inspected_mask & (rng.random(size) < spec.objection_rate)
    n = policy.periods.public_notice.working_days
    objected = _add(calendar, first_day, rng.integers(0, n, size), objected_mask, allow)
    investigated = _add(
        calendar, objected, spec.investigation.draw(rng, size), objected_mask, allow
    )
    sustained = objected_mask & (rng.random(size) < spec.objection_sustained_rate)
    certified_mask = inspected_mask & ~sustained
    ready = np.where(objected_mask & (investigated > notice_due), investigated, notice_due).astype(
        "datetime64[D]"
    )
    certified = _add(calendar, ready, per_round(spec.collective_decision), certified_mask, allow)

    outcome = np.full(size, "certified", dtype="<U19")
    outcome[~recommended_mask] = "not_recommended"
    outcome[recommended_mask & ~reviewed_mask] = "rejected_review"
    outcome[reviewed_mask & ~inspected_mask] = "rejected_inspection"
    outcome[sustained] = "rejected_objection"
    dates = {
        "declared": declared,
        "recommended": recommended,
        "expert_reviewed": reviewed,
        "site_inspected": inspected,
        "publicized": published,
        "notice_due": notice_due,
        "objected": objected,
        "investigated": investigated,
        "certified": certified,
    }
    provisional = np.zeros(size, dtype=bool)
    for values in dates.values():
        known = ~np.isnat(values)
        provisional[known] |= ~calendar.is_official_many(values[known])
    return RoundTimeline(
        name=name or f"{start.isoformat()} / {policy.id}",
        start=start,
        policy_id=policy.id,
        notice_working_days=n,
        dates=dates,
        outcome=outcome,
        replication=replication,
        provisional=provisional,
    )


@attrs.frozen(eq=False)
class TimelineComparison:
    """Several simulated rounds side by side (see `compare_timelines`)."""

    timelines: tuple[RoundTimeline, ...]

    def summary(self) -> Frame:
        """One row per round: `RoundTimeline.summary_data`."""
        return _pandas().DataFrame([t.summary_data() for t in self.timelines]).set_index("variant")

    def plot(self, ax: Any = None, lang: Lang = "en") -> Any:
        """Distributions of days to certification, one box per round."""
        return _plots.plot_days_to_certification(self.timelines, ax=ax, lang=lang)

    def _repr_html_(self) -> str:
        return _timelines_html(self.timelines)


def compare_timelines(*timelines: RoundTimeline) -> TimelineComparison:
    """Put simulated rounds side by side (the start moved, a longer notice, …)."""
    return TimelineComparison(timelines=tuple(timelines))
