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
    resident small and micro enterprises, rounded up.

    第十条 fixes the sample size, not a satisfaction the sample must reach: the satisfaction
    found is evidence for the district's recommendation. ``satisfaction_blocking`` (off in
    the Kunming file) makes it a condition for a jurisdiction that wants one: the sample is
    then judged against the satisfaction rule of 第六条第（六）项.
    """

    article: Text
    minimum_share: float
    description: Text
    satisfaction_blocking: bool = False

    def minimum_sample(self, resident_enterprises: int) -> int:
        """Smallest allowed sample for ``resident_enterprises`` residents (rounded up)."""
        if resident_enterprises < 0:
            msg = "resident_enterprises must not be negative"
            raise ValueError(msg)
        # Round the product first so that 10% of 30 is 3, not 3.0000000000000004 → 4.
        return math.ceil(round(resident_enterprises * self.minimum_share, 9))

    def required_sample(self, resident_enterprises: int) -> int:
        """The sample a spot check (and a satisfaction survey speaking for the residents)
        must reach: `minimum_sample`, and at least one, for a sample of none is no spot check."""
        return max(self.minimum_sample(resident_enterprises), 1)


class DistrictKind(enum.Enum):
    """The two kinds of authority 第四条 names: 县（市）区 and 开发（度假）区."""

    COUNTY_LEVEL = "county_level"
    """A county-level division (区, 县, 县级市, 自治县), with its administrative division code."""
    DEVELOPMENT_ZONE = "development_zone"
    """A development or resort zone (开发区, 度假区, 风景名胜区) with its own SME authority."""


@attrs.frozen
class District:
    """A district whose SME authority reviews and recommends bases (第四条, 第九条)."""

    name: str
    """The name exactly as applications and officials write it (``五华区``)."""
    kind: DistrictKind
    code: str | None = None
    """The administrative division code (行政区划代码, GB/T 2260), where it has one."""


@attrs.frozen
class Pledge:
    """One undertaking of the pledge (附件1 承诺书) the applicant signs."""

    id: str
    article: Text
    description: Text


@attrs.frozen
class FiguresYearRule:
    """Which year's figures are judged (第六条, 第七条, 第八条第（三）项).

    The conditions speak of the base as it is, and 第八条第（三）项 asks for the previous
    year's audit: the figures judged are those of ``years_before`` years before the year of
    the judged day (1: the year before).
    """

    id: str
    article: Text
    years_before: int
    description: Text

    def expected_year(self, judged_on: dt.date) -> int:
        """The year whose figures an application judged on ``judged_on`` must report."""
        return judged_on.year - self.years_before


@attrs.frozen
class ExpertReviewRule:
    """The expert review and selection of 第十一条: the score scale and the tie-break."""

    article: Text
    score_min: float
    score_max: float
    description: Text
    tie_break: Text
    """How cases with equal mean scores are ordered (documented, applied by the selection)."""
    minimum_opinions: int = 1
    """How many expert opinions the review needs before it can pass (第十一条 专家评审)."""


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
class NoticePeriod(WorkingDayPeriod):
    """The public notice (社会公示) of 第十三条: 公示期不少于 ``working_days`` 个工作日. The
    bureau may announce a longer notice, never a shorter one."""

    @property
    def minimum_working_days(self) -> int:
        """The least number of working days an announced notice may last (不少于)."""
        return self.working_days


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

    notice: NoticePeriod
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
    districts: tuple[District, ...]
    """The authorities of 第四条: every district an application or an official may name."""
    districts_article: Text
    pledges: tuple[Pledge, ...]
    """The undertakings of 附件1 承诺书."""
    figures: FiguresYearRule
    expert_review: ExpertReviewRule

    def district(self, name: str) -> District:
        """The district with exactly this name (``KeyError`` if the policy lists none)."""
        for district in self.districts:
            if district.name == name:
                return district
        raise KeyError(name)

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
