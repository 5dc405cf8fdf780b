"""第六条's measures of one application, and the columns a population is judged from."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence

from .._i18n import Text
from ..errors import InvalidInputError
from ..policy import APPLICATION_MEASURES, CONSISTENCY_MEASURES, Policy, load_policy
from ..records import Application, Education
from . import _checks
from ._verdict import MeasureValue

# -- measures of one application --------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _growth(latest: int | None, previous: int | None) -> float | None:
    """Yearly growth as a fraction. From a zero year: any firm more is growth above every
    percentage (``inf``), none more is no growth (0.0); 第六条第（九）项 reads "年增长10%以上"."""
    if latest is None or previous is None:
        return None
    if previous == 0:
        return math.inf if latest > 0 else 0.0
    return (latest - previous) / previous


def _years_between(start: dt.date, end: dt.date) -> float:
    """Completed years plus the elapsed fraction of the current one (exact at anniversaries)."""
    if end < start:
        return -_years_between(end, start)

    def anniversary(years: int) -> dt.date:
        year = start.year + years
        # 29 February: in a common year the anniversary is 28 February.
        if (start.month, start.day) == (2, 29) and not calendar.isleap(year):
            return dt.date(year, 2, 28)
        return start.replace(year=year)

    years = end.year - start.year
    if anniversary(years) > end:
        years -= 1
    try:
        last, following = anniversary(years), anniversary(years + 1)
    except ValueError:  # the anniversary after ``end`` falls in the year 10000
        raise InvalidInputError(
            Text(
                zh=f"无法计算 {start} 至 {end} 的运营年限：其后的周年日晚于 {dt.date.max}",
                en=f"cannot count the operating years from {start} to {end}: the anniversary "
                f"after it is later than {dt.date.max}",
            ),
            hint=Text(
                zh="请检查填报日期（declared_on）与成立日期（established_on）",
                en="check the declaration date (declared_on) and the date the base was "
                "established (established_on)",
            ),
        ) from None
    return years + (end - last).days / (following - last).days


def _judged_day(application: Application, judged_on: dt.date | None) -> dt.date:
    return judged_on if judged_on is not None else application.declared_on


# Education.bachelor_or_above, read once: the property builds a set of members at every call.
_DEGREED = frozenset(education for education in Education if education.bachelor_or_above)


def application_measures(
    application: Application, policy: Policy | None = None, *, judged_on: dt.date | None = None
) -> dict[str, MeasureValue]:
    """Every catalogued measure of an application (``None`` where the data is missing).

    ``judged_on`` (default: the application's ``declared_on``) is the day the age of
    第六条第（二）项 is counted to; the figures judged are those of the year the policy's
    ``figures`` rule names for that day (the year before), and growth compares that year
    with the one before it.
    """
    day = _judged_day(application, judged_on)
    policy = policy or load_policy(day)
    year = policy.figures.expected_year(day)
    latest, previous = application.figures_for(year), application.figures_for(year - 1)
    full_time = [member for member in application.staff if member.full_time_service]
    qualified = [m for m in full_time if m.education in _DEGREED or m.intermediate_title_or_above]
    volume = application.service_volume
    in_leading = sum(1 for r in application.residents if r.in_leading_industry)
    measures: dict[str, MeasureValue] = {
        "independent_legal_person": application.operator.independent_legal_person,
        "operating_years": _years_between(application.base.established_on, day),
        "resident_small_micro_enterprises": latest.resident_small_micro_enterprises
        if latest
        else None,
        "small_micro_employees": latest.small_micro_employees if latest else None,
        "leading_industries": len(application.base.leading_industries),
        # 占入驻企业总数: the reported total of the judged year, not the roster's length.
        "leading_industry_share": _share(in_leading, latest.resident_enterprises)
        if latest
        else None,
        "full_time_service_staff": len(full_time),
        "qualified_staff_share": _share(len(qualified), len(full_time)),
        "startup_mentors": sum(1 for member in application.staff if member.startup_mentor),
        "contracted_agencies": sum(1 for agency in application.agencies if agency.signed_agreement),
        "free_or_low_fee_share": _share(volume.free_or_low_fee, volume.total) if volume else None,
        "satisfaction_rate": claimed_satisfaction_rate(application),
        "site_area_m2": application.base.site_area_m2,
        "resident_growth": _growth(
            latest.resident_small_micro_enterprises if latest else None,
            previous.resident_small_micro_enterprises if previous else None,
        ),
        "employee_growth": _growth(
            latest.small_micro_employees if latest else None,
            previous.small_micro_employees if previous else None,
        ),
        "innovation_growth": _growth(
            latest.innovation_outputs if latest else None,
            previous.innovation_outputs if previous else None,
        ),
        "roster_matches_total": len(application.residents) == latest.resident_enterprises
        if latest
        else None,
        # where the application contradicts itself the verdict says so (第六条第（四）项); with
        # no leading industry declared there is nothing to compare (leading_industries_defined)
        "leading_flags_match_industries": not application.base.leading_industries
        or all(
            r.industry in application.base.leading_industries
            for r in application.residents
            if r.in_leading_industry
        ),
        # the roster's small/micro flags agree with the reported count (第六条第（三）项)
        "small_micro_flags_match_total": sum(1 for r in application.residents if r.small_or_micro)
        == latest.resident_small_micro_enterprises
        if latest
        else None,
        # a survey speaks for the residents when it covers at least the sample 第十条 takes of
        # them (第六条第（六）项); without responses satisfaction_rate is missing already
        "satisfaction_survey_covers_sample": not application.satisfaction_survey
        or len(application.satisfaction_survey)
        >= policy.spot_check.required_sample(latest.resident_small_micro_enterprises)
        if latest
        else None,
        "focus": application.base.focus.value,
    }
    return measures


def claimed_satisfaction_rate(application: Application) -> float | None:
    """The satisfaction the applicant reports (入驻小微企业服务满意度评价表): the share of
    satisfied responses, ``None`` without responses. Shown beside a spot check's own rate."""
    survey = application.satisfaction_survey
    return _share(sum(1 for r in survey if r.satisfied), len(survey))


_YEAR_MEASURES = frozenset(
    {
        "resident_small_micro_enterprises",
        "small_micro_employees",
        "leading_industry_share",
        "roster_matches_total",
        "small_micro_flags_match_total",
        "satisfaction_survey_covers_sample",
    }
)
_GROWTH_MEASURES = frozenset({"resident_growth", "employee_growth", "innovation_growth"})


def _declared_value(application: Application, key: str) -> float:
    declaration = application.declarations.get(key)
    if declaration is None or (declaration.value and not declaration.evidence.strip()):
        return math.nan  # a declaration without evidence cannot be judged
    return 1.0 if declaration.value else 0.0


JudgedOn = dt.date | Sequence[dt.date] | None
"""One day for every application, one per application, or ``None`` (each its own date)."""


def _judged_days(applications: Sequence[Application], judged_on: JudgedOn) -> list[dt.date]:
    if judged_on is None or isinstance(judged_on, dt.date):
        return [_judged_day(app, judged_on) for app in applications]
    days = list(judged_on)
    if len(days) != len(applications):
        raise InvalidInputError(
            Text(
                zh=f"judged_on 有 {len(days)} 个日期，申请有 {len(applications)} 份",
                en=f"judged_on has {len(days)} days for {len(applications)} applications",
            ),
            hint=Text(
                zh="传入一个日期，或每份申请一个日期", en="pass one day, or one per application"
            ),
        )
    return days


FIGURES_YEAR = _checks.FIGURES_YEAR
"""The finding (and column) for 申请表 二 reporting the judged year."""
SERVICES_YEAR = _checks.SERVICES_YEAR
"""The finding (and column) for 申请表 三's service figures being of the judged year."""
DISTRICT = _checks.DISTRICT
"""The finding for the base's district being one the policy lists (第四条)."""
DISTRICT_COLUMN = _checks.DISTRICT_COLUMN
"""The column: 1.0 when the base's district is listed, 0.0 when not."""
UNKNOWN_KEYS = _checks.UNKNOWN_KEYS
"""The finding (and column) for keys the policy does not know: usually typos."""


def _application_row(
    application: Application, policy: Policy, checks: _checks.Plan, day: dt.date
) -> tuple[dict[str, MeasureValue], dict[str, MeasureValue], list[str]]:
    """One application's values under the names of `application_columns` (the one place
    they are read from the records), with its measures and its unknown keys."""
    measures = application_measures(application, policy, judged_on=day)
    unknown = _unknown_keys(application, checks)
    row: dict[str, MeasureValue] = {
        name: _as_float(measures[name]) for name in (*APPLICATION_MEASURES, *CONSISTENCY_MEASURES)
    }
    row["focus"] = measures["focus"]
    for column, key in checks.declared_columns:
        row[column] = _declared_value(application, key)
    for column, key in checks.pledge_columns:
        row[column] = _as_float(application.pledges.get(key))
    for function_id, thresholds in checks.service_columns:
        figures = application.services.get(function_id)
        for column, measure in thresholds:
            # A function the applicant does not claim is not provided: zero, not unknown.
            row[column] = _as_float(getattr(figures, measure) if figures is not None else 0)
    row[UNKNOWN_KEYS] = float(len(unknown))
    for column, key in checks.material_columns:
        row[column] = bool(application.materials.get(key, "").strip())
    year = policy.figures.expected_year(day)
    row[FIGURES_YEAR] = float(application.figures_for(year) is not None)
    row[SERVICES_YEAR] = float(application.service_figures_year == year)
    row[DISTRICT_COLUMN] = float(application.base.district in checks.districts)
    return row, measures, unknown


def unknown_keys(application: Application, policy: Policy) -> list[str]:
    """Keys of ``services``, ``materials``, ``declarations`` and ``pledges`` that ``policy`` does not know
    (``services.trainig``): a typo would otherwise read as a service not provided."""
    return _unknown_keys(application, _checks.plan(policy))


def _unknown_keys(application: Application, checks: _checks.Plan) -> list[str]:
    return sorted(
        [f"services.{key}" for key in application.services if key not in checks.functions]
        + [f"materials.{key}" for key in application.materials if key not in checks.materials]
        + [f"declarations.{key}" for key in application.declarations if key not in checks.declared]
        + [f"pledges.{key}" for key in application.pledges if key not in checks.pledges]
    )


def _as_float(value: MeasureValue) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    return float(value)
