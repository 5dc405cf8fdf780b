"""The regulation as frozen attrs objects, loaded from a versioned TOML policy file.

Nothing in the library hard-codes a threshold, a share or a period of the measures: it reads
them from a `Policy`. Each rule and period carries the article it comes from and a
description in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping

import attrs

from .._i18n import Text

__all__ = [
    "AnnualReportPeriod",
    "Comparison",
    "Counting",
    "DeclarationWindow",
    "EndOfPeriodRule",
    "Material",
    "Periods",
    "Policy",
    "PublicNoticePeriod",
    "Rule",
    "ServiceFunction",
    "ServiceFunctionRequirement",
    "SpotCheckRule",
    "ValidityPeriod",
    "ValidityStart",
    "WorkingDayPeriod",
]


class Comparison(enum.Enum):
    """How a rule compares an application's measure with the required value.

    The Chinese legal words map as 不少于/不低于/以上 → ``at_least`` (以上 includes the number
    itself, 《民法典》第一千二百五十九条), 不超过 → ``at_most``, 具有/具备 → ``is_true``.
    """

    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    MORE_THAN = "more_than"
    LESS_THAN = "less_than"
    IS_TRUE = "is_true"

    @property
    def symbol(self) -> str:
        """A short mathematical symbol for tables (≥, ≤, >, <, =)."""
        return {
            "at_least": "≥",
            "at_most": "≤",
            "more_than": ">",
            "less_than": "<",
            "is_true": "=",
        }[self.value]


@attrs.frozen
class Rule:
    """One condition an application must meet, with its article.

    ``measure`` names a quantity computed from the application (see
    `kmbase_workflow.eligibility.MEASURES`); ``applies_when`` restricts the rule to
    applications whose categorical measures have the given values (for example the site
    area of 第六条第（七）项 depends on the base's focus).
    """

    id: str
    article: Text
    measure: str
    comparison: Comparison
    required: float | bool
    description: Text
    unit: Text | None = None
    applies_when: Mapping[str, str] = attrs.field(factory=dict)
    declared: bool = False
    """A qualitative condition the applicant declares with evidence (not measured)."""


@attrs.frozen
class ServiceFunction:
    """A service function of 第七条 and the yearly figures it must reach."""

    id: str
    article: Text
    name: Text
    description: Text
    thresholds: tuple[Rule, ...]


@attrs.frozen
class ServiceFunctionRequirement:
    """At least ``minimum`` of ``functions`` must each meet all of their thresholds."""

    id: str
    article: Text
    minimum: int
    description: Text
    functions: tuple[ServiceFunction, ...]

    def function(self, function_id: str) -> ServiceFunction:
        """The service function with this id (``KeyError`` if the policy has none)."""
        for function in self.functions:
            if function.id == function_id:
                return function
        raise KeyError(function_id)


@attrs.frozen
class Material:
    """An item of the materials list (第八条)."""

    id: str
    article: Text
    name: Text
    required: bool = True
    """Whether the materials are incomplete without it (第八条第（七）项's "other evidence"
    is offered where it exists)."""


@attrs.frozen
class SpotCheckRule:
    """The satisfaction spot check of 第十条: sample at least ``minimum_share`` of the
    resident small and micro enterprises, rounded up."""

    article: Text
    minimum_share: float
    description: Text

    def minimum_sample(self, resident_enterprises: int) -> int:
        """Smallest allowed sample for ``resident_enterprises`` residents (rounded up)."""
        if resident_enterprises < 0:
            msg = "resident_enterprises must not be negative"
            raise ValueError(msg)
        # Round the product first so that 10% of 30 is 3, not 3.0000000000000004 → 4.
        return math.ceil(round(resident_enterprises * self.minimum_share, 9))


class Counting(enum.Enum):
    """Whether the first day of a working-day period counts.

    ``START_DAY_COUNTS``: the start day is day 1 when it is a working day, otherwise the next
    working day is (public notice, 第十三条: a notice published Monday 2023-11-06 for 10
    working days runs to Friday 2023-11-17). ``START_DAY_EXCLUDED``: counting begins the
    working day after the start (filing within 10 working days of a change, 第十九条).
    """

    START_DAY_COUNTS = "start_day_counts"
    START_DAY_EXCLUDED = "start_day_excluded"


class EndOfPeriodRule(enum.Enum):
    """What happens when a calendar-date deadline falls on a day that is not a working day.

    ``NEXT_WORKING_DAY`` follows 《民法典》第二百零三条 (a period whose last day is a statutory
    rest day ends on the day after the rest ends); ``UNCHANGED`` keeps the date.
    """

    NEXT_WORKING_DAY = "next_working_day"
    UNCHANGED = "unchanged"


class ValidityStart(enum.Enum):
    """When the validity of a certification starts (第十五条 and variants)."""

    CERTIFICATION_DATE = "certification_date"
    """Runs from the certification date for ``years`` years (the day before the anniversary)."""
    NEXT_JANUARY_FIRST = "next_january_first"
    """Runs from 1 January after certification to 31 December ``years`` years later."""


@attrs.frozen
class WorkingDayPeriod:
    """A period counted in working days."""

    article: Text
    working_days: int
    counting: Counting
    description: Text


@attrs.frozen
class PublicNoticePeriod(WorkingDayPeriod):
    """The public notice (社会公示) of 第十三条."""


@attrs.frozen
class ValidityPeriod:
    """Validity of a certification and when a base may apply again (第十五条)."""

    article: Text
    years: int
    starts: ValidityStart
    reapply_in_final_year: bool
    description: Text


@attrs.frozen
class AnnualReportPeriod:
    """A yearly report due by the end of a month (第十六条, 第十七条)."""

    article: Text
    due_month: int
    end_rule: EndOfPeriodRule
    description: Text


@attrs.frozen
class DeclarationWindow:
    """The yearly declaration round (第九条): one round a year, dates set by each year's
    notice; the policy only fixes how many rounds a year there may be."""

    article: Text
    rounds_per_year: int
    description: Text


@attrs.frozen
class Periods:
    """Every period of the measures."""

    public_notice: PublicNoticePeriod
    change_filing: WorkingDayPeriod
    validity: ValidityPeriod
    base_annual_report: AnnualReportPeriod
    district_annual_report: AnnualReportPeriod
    declaration: DeclarationWindow


@attrs.frozen
class Policy:
    """One version of the measures, in force from ``effective_from`` (inclusive) until
    ``effective_until`` (exclusive, ``None`` while in force)."""

    id: str
    title: Text
    document: str
    jurisdiction: Text
    effective_from: dt.date
    effective_until: dt.date | None
    rules: tuple[Rule, ...]
    service_functions: ServiceFunctionRequirement
    materials: tuple[Material, ...]
    materials_article: Text
    spot_check: SpotCheckRule
    periods: Periods

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (``KeyError`` if the policy has none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def in_force_on(self, day: dt.date) -> bool:
        """Whether this policy governs an application declared on ``day``."""
        if day < self.effective_from:
            return False
        return self.effective_until is None or day < self.effective_until
