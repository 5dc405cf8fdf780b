"""Checks the lifecycle's guards apply at steps after the verdict: the base's district
(第四条), the declaration's own date (第六条第（二）项), expert scores and selection
(第十一条), the public notice's length (第十三条)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from .._i18n import Text
from ..policy import Policy, load_policy
from ..records import Application


def district_problems(name: str, policy: Policy | None = None) -> list[Text]:
    """Why ``name`` is not a district of ``policy`` (第四条: the county-level divisions and
    development or resort zones whose SME authorities recommend bases); empty when it is.

    Names must match exactly. Call it for a base's district at declaration and for a district
    official's district; the problem lists every district of the policy.

    >>> district_problems("五华区")
    []
    >>> print(district_problems("五华 区")[0].en)  # doctest: +ELLIPSIS
    "五华 区" is not a district of kunming-2022 (Arts. 4 and 9); the districts are: 五华区 (530102), ...
    """
    policy = policy or load_policy()
    if any(district.name == name for district in policy.districts):
        return []
    listed = "、".join(_district_label(d.name, d.code) for d in policy.districts)
    return [
        Text(
            zh=f"“{name}”不是 {policy.id} 所列县区（{policy.districts_article.zh}）；所列县区为：{listed}",
            en=f'"{name}" is not a district of {policy.id} ({policy.districts_article.en}); '
            f"the districts are: {listed.replace('、', ', ')}",
        )
    ]


def district_problems_in_any(name: str, policies: Sequence[Policy]) -> list[Text]:
    """`district_problems` across several policies (those a service or a token issuer runs
    under): empty when any of them lists ``name``, else the newest one's refusal (第四条).

    >>> from kmbase_workflow.policy import bundled_policies
    >>> district_problems_in_any("五华区", bundled_policies())
    []
    """
    if any(not district_problems(name, policy) for policy in policies):
        return []
    return district_problems(name, policies[-1])


def _district_label(name: str, code: str | None) -> str:
    return f"{name} ({code})" if code else name


def declaration_date_problems(application: Application, declared_on: dt.date) -> list[Text]:
    """How the application's own 填报日期 disagrees with the day the case is really declared
    (empty when they agree).

    A workflow that overrides (``evaluate(application, judged_on=declared_on)``) judges at
    the real day whatever the file says; one that prefers to refuse calls this at
    declaration. Either way a file dated after its declaration cannot buy the base age.
    """
    if application.declared_on == declared_on:
        return []
    return [
        Text(
            zh=f"申请报告的填报日期 {application.declared_on} 与实际申报日 {declared_on} 不一致"
            "（第六条第（二）项的成立时间和所判年度按实际申报日计算）",
            en=f"the application is dated {application.declared_on} but declared on "
            f"{declared_on} (the age of Art. 6(2) and the judged year count from the real day)",
        )
    ]


# -- 第十一条 and 第十三条: checks the lifecycle applies -------------------------------------------


def expert_score_problems(score: float, policy: Policy | None = None) -> list[Text]:
    """Why an expert's score cannot be recorded (第十一条): it must be a finite number inside
    the policy's scale (``expert_review.score_min`` to ``score_max``, ends included); empty
    when it is fine.

    >>> expert_score_problems(85), [p.en for p in expert_score_problems(150)]
    ([], ['an expert score must lie between 0 and 100 (Art. 11), got 150'])
    """
    rule = (policy or load_policy()).expert_review
    low, high = _format_number(rule.score_min), _format_number(rule.score_max)
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return [
            Text(
                zh=f"专家评分应为 {low} 至 {high} 之间的有限数（{rule.article.zh}），实际为 {score!r}",
                en=f"an expert score must be a finite number between {low} and {high} "
                f"({rule.article.en}), got {score!r}",
            )
        ]
    if not rule.score_min <= score <= rule.score_max:
        return [
            Text(
                zh=f"专家评分应在 {low} 至 {high} 之间（{rule.article.zh}），实际为 {_format_number(score)}",
                en=f"an expert score must lie between {low} and {high} ({rule.article.en}), "
                f"got {_format_number(score)}",
            )
        ]
    return []


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def selection_key(
    mean_score: float | None, opinions: int, declared_on: dt.date, case_id: str
) -> tuple[bool, float, int, dt.date, str]:
    """The order of 择优 (第十一条) as a sort key, best first: the higher mean expert score,
    then more opinions, then the earlier declaration, then the case id; a case without a
    score ranks last. The policy's ``expert_review.tie_break`` states the same rule in words.

    >>> import datetime as dt
    >>> cases = [("b", 90.0, 2, dt.date(2025, 6, 2)), ("a", 90.0, 3, dt.date(2025, 6, 3)),
    ...          ("c", None, 0, dt.date(2025, 6, 1)), ("d", 92.5, 1, dt.date(2025, 6, 4))]
    >>> order = sorted(cases, key=lambda case: selection_key(*case[1:], case_id=case[0]))
    >>> "".join(case_id for case_id, *_ in order)
    'dabc'
    """
    return (mean_score is None, -(mean_score or 0.0), -opinions, declared_on, case_id)


def notice_problems(working_days: int, policy: Policy | None = None) -> list[Text]:
    """Why an announced public notice of ``working_days`` working days is too short
    (第十三条: 公示期不少于 the policy's minimum); empty when it is long enough.

    >>> notice_problems(10), [p.en for p in notice_problems(9)]
    ([], ['the public notice must last at least 10 working days (Art. 13), announced 9'])
    """
    period = (policy or load_policy()).periods.notice
    minimum = period.minimum_working_days
    if working_days >= minimum:
        return []
    return [
        Text(
            zh=f"公示期不少于 {minimum} 个工作日（{period.article.zh}），公布的公示期为 {working_days} 个工作日",
            en=f"the public notice must last at least {minimum} working days "
            f"({period.article.en}), announced {working_days}",
        )
    ]
