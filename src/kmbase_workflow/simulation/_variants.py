"""Policy variants: `vary` a threshold or a period, `compare` one population under several."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from .._i18n import Lang, Text
from ..eligibility import (
    PopulationVerdict,
    evaluate_population,
)
from ..errors import InvalidInputError
from ..policy import (
    Comparison,
    Policy,
    Rule,
    load_policy,
)
from . import _plots
from ._deps import Frame, _pandas
from ._population import _frame_arrays

# -- policy variants -----------------------------------------------------------------------------------

_PERIOD_FIELDS = {
    "notice": ("working_days",),
    "change_filing": ("working_days",),
    "validity": ("years",),
    "declaration": ("rounds_per_year",),
}


def variant_keys(policy: Policy | None = None) -> tuple[str, ...]:
    """Every key `vary` accepts for ``policy``: rule ids, ``service_functions.minimum``,
    ``service.<function>.<measure>``, ``spot_check.minimum_share`` and
    ``<period>.<field>`` (``notice.working_days``, ``change_filing.working_days``,
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
    ``notice.working_days``. The variant gets its own id (default: the policy's id and
    the changes, ``kunming-2022+resident_enterprises=30``), and each changed rule's
    description says it was varied, so messages never quote the file's old number as the
    requirement. An unknown key or a value of the wrong kind raises
    `InvalidInputError` listing the valid keys.

    >>> policy = vary(load_policy(), **{"service_functions.minimum": 3, "notice.working_days": 15})
    >>> policy.service_functions.minimum, policy.periods.notice.working_days
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
