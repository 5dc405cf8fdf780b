"""第十条: the district's satisfaction spot check, judged for the ``recommend`` guard."""

from __future__ import annotations

import datetime as dt

from .._i18n import Text
from ..policy import Policy, load_policy
from ..records import Application, SpotCheck
from . import _checks
from ._findings import _format, _percent
from ._measures import _as_float, _judged_day, _share
from ._verdict import _CODE_STATUS, Finding, Status

# -- 第十条: the district's satisfaction spot check --------------------------------------------------


def spot_check_sample_size(resident_enterprises: int, policy: Policy | None = None) -> int:
    """The least number of resident small and micro enterprises a spot check samples (第十条):
    the share rounded up, and at least one, for 第十条 has a spot check made
    (`SpotCheckRule.required_sample`, which `judge_spot_check` requires).

    >>> spot_check_sample_size(45)
    5
    >>> spot_check_sample_size(0)
    1
    """
    return (policy or load_policy()).spot_check.required_sample(resident_enterprises)


def spot_check_population(
    application: Application, policy: Policy, *, judged_on: dt.date | None = None
) -> int | None:
    """The resident small and micro enterprises a spot check samples a share of (第十条): the
    application's own figure of the year judged on ``judged_on`` (default: its
    ``declared_on``; a case's is `Case.judged_on`), ``None`` if it reports none."""
    year = policy.figures.expected_year(_judged_day(application, judged_on))
    figures = application.figures_for(year)
    return figures.resident_small_micro_enterprises if figures is not None else None


def judge_spot_check(
    spot_check: SpotCheck,
    policy: Policy | None = None,
    *,
    claimed_rate: float | None = None,
    population: int | None = None,
) -> tuple[Finding, ...]:
    """Judge a recorded spot check (第十条): two findings.

    ``spot_check.sample_size`` passes when at least the policy's share of the resident small
    and micro enterprises (rounded up) was sampled, and at least one enterprise, and fails
    otherwise: 第十条 fixes the sample, and a sample of none is no spot check. The residents
    are ``population``, the application's own figure (`spot_check_population`; the
    ``recommend`` guard always passes it); without it, the figure the spot check records. ``spot_check.satisfaction_rate`` records the satisfaction the sample found,
    beside the applicant's ``claimed_rate`` (see `claimed_satisfaction_rate`), as evidence
    for the district's decision: it passes whatever the rate, unless the policy's
    ``spot_check.satisfaction_blocking`` is on (off in the Kunming file), when the sample is
    judged against the satisfaction rule of 第六条第（六）项. So every finding that is not a
    pass blocks the recommendation.
    """
    policy = policy or load_policy()
    rule = policy.spot_check
    residents = spot_check.resident_small_micro_enterprises if population is None else population
    minimum = rule.required_sample(residents)
    size_ok = spot_check.sampled >= minimum
    size_status = Status.PASS if size_ok else Status.FAIL
    findings = [
        Finding(
            rule="spot_check.sample_size",
            article=rule.article,
            status=size_status,
            required=minimum,
            actual=spot_check.sampled,
            message=Text(
                zh=f"{rule.description.zh}：应至少抽查 {minimum} 家，实际 {spot_check.sampled} 家，{size_status.label.zh}",
                en=f"{rule.description.en}: at least {minimum} to sample, sampled {spot_check.sampled}; {size_status.label.en}",
            ),
            basis="spot_check",
        )
    ]
    rate = _share(spot_check.satisfied, spot_check.sampled)
    claimed = Text(
        zh="申报单位自报 " + (_percent(claimed_rate) if claimed_rate is not None else "—"),
        en="the applicant reports " + (_percent(claimed_rate) if claimed_rate is not None else "—"),
    )
    found = Text(
        zh=f"抽查 {spot_check.sampled} 家，满意 {spot_check.satisfied} 家（"
        + (_percent(rate) if rate is not None else "—")
        + f"），{claimed.zh}",
        en=f"{spot_check.satisfied} of {spot_check.sampled} sampled satisfied ("
        + (_percent(rate) if rate is not None else "—")
        + f"), {claimed.en}",
    )
    satisfaction = next((r for r in policy.rules if r.measure == "satisfaction_rate"), None)
    if rule.satisfaction_blocking and satisfaction is not None:
        status = _CODE_STATUS[_checks.rule_code(satisfaction, _as_float(rate))]
        required = (
            f"{satisfaction.comparison.symbol} {_format(satisfaction.required, satisfaction)}"
        )
        findings.append(
            Finding(
                rule="spot_check.satisfaction_rate",
                article=satisfaction.article,
                status=status,
                required=satisfaction.required,
                actual=rate,
                message=Text(
                    zh=f"{satisfaction.description.zh}（县区抽查）：要求 {required}，{found.zh}，{status.label.zh}",
                    en=f"{satisfaction.description.en} (district spot check): required {required}, "
                    f"{found.en}; {status.label.en}",
                ),
                basis="spot_check",
            )
        )
    else:
        findings.append(
            Finding(
                rule="spot_check.satisfaction_rate",
                article=rule.article,
                status=Status.PASS,
                required=None,
                actual=rate,
                message=Text(
                    zh=f"满意度随机抽查结果：{found.zh}；作为推荐依据记录，是否推荐由县区决定",
                    en=f"Satisfaction spot check: {found.en}; recorded as evidence, the district "
                    "decides on the recommendation",
                ),
                basis="spot_check",
            )
        )
    return tuple(findings)
