"""The names a policy file may use for what it measures.

Eligibility (``kmbase_workflow.eligibility``) computes each of these from an application and,
column by column, from a population; a test pins that both know every name here.
"""

from __future__ import annotations

from .._i18n import Text
from ..records import Focus

APPLICATION_MEASURES: dict[str, Text] = {
    "independent_legal_person": Text(
        zh="运营主体具有独立法人资格", en="operator is an independent legal person"
    ),
    "operating_years": Text(
        zh="基地成立年限（至判断日，默认填报日期）",
        en="years since the base was established (to the judged day, by default the "
        "declaration date)",
    ),
    "resident_small_micro_enterprises": Text(
        zh="所判年度入驻小微企业户数", en="resident small and micro enterprises, judged year"
    ),
    "small_micro_employees": Text(
        zh="所判年度小微企业从业人员",
        en="employees of resident small and micro enterprises, judged year",
    ),
    "leading_industries": Text(zh="主导产业个数", en="number of leading industries"),
    "leading_industry_share": Text(
        zh="名录中主营业务属于主导产业的企业数占所判年度申报的入驻企业户数的比例",
        en="rostered enterprises in the leading industries as a share of the judged year's "
        "reported resident enterprises",
    ),
    "full_time_service_staff": Text(zh="专职服务人员人数", en="full-time service staff"),
    "qualified_staff_share": Text(
        zh="专职服务人员中本科及以上学历或中级及以上职称者占比",
        en="share of full-time service staff with a bachelor's degree or above, or an intermediate title or above",
    ),
    "startup_mentors": Text(zh="持证创业导师人数", en="certified startup mentors"),
    "contracted_agencies": Text(
        zh="签订合作协议的外部专业服务机构数",
        en="external service agencies under signed agreements",
    ),
    "free_or_low_fee_share": Text(
        zh="公益性或低收费服务占总服务量比例",
        en="free or low-fee services as a share of all services",
    ),
    "satisfaction_rate": Text(
        zh="满意度评价表中满意的比例", en="share of satisfied responses in the satisfaction survey"
    ),
    "site_area_m2": Text(zh="总场地面积（平方米）", en="total site area (m²)"),
    "resident_growth": Text(
        zh="入驻小微企业户数年增长率", en="yearly growth of resident small and micro enterprises"
    ),
    "employee_growth": Text(zh="小微企业从业人员年增长率", en="yearly growth of employees"),
    "innovation_growth": Text(zh="创新成果年增长率", en="yearly growth of innovation outputs"),
}
"""Measures of a whole application, by name."""

CONSISTENCY_MEASURES: dict[str, Text] = {
    "roster_matches_total": Text(
        zh="入驻企业名录的企业数等于所判年度申报的入驻企业户数（1 一致，0 不一致）",
        en="the roster lists as many enterprises as the judged year's reported resident total "
        "(1 matches, 0 does not)",
    ),
    "leading_flags_match_industries": Text(
        zh="名录中标为主导产业的企业，其所属产业类型均为基地主导产业（1 一致，0 不一致）",
        en="every roster enterprise flagged as in a leading industry has one of the base's "
        "leading industries as its industry (1 consistent, 0 not)",
    ),
    "small_micro_flags_match_total": Text(
        zh="名录中标为小型或微型企业的企业数等于所判年度申报的入驻小微企业户数（1 一致，0 不一致）",
        en="the roster flags as many small or micro enterprises as the judged year's reported "
        "resident small and micro enterprises (1 matches, 0 does not)",
    ),
    "satisfaction_survey_covers_sample": Text(
        zh="满意度评价表的份数不少于所判年度申报的入驻小微企业户数按第十条比例应抽查的家数"
        "（1 足够，0 不足；无评价表时为 1，由满意度规则判缺）",
        en="the satisfaction survey has at least as many responses as 第十条's share of the "
        "judged year's reported resident small and micro enterprises (1 enough, 0 too few; 1 "
        "without a survey, which the satisfaction rule finds missing)",
    ),
}
"""Checks that the parts of an application agree, as 1.0 (agree) / 0.0 (do not): a rule
compares them with ``is_true``. A synthetic population agrees everywhere."""

CATEGORICAL_MEASURES: dict[str, Text] = {
    "focus": Text(
        zh="基地类型（manufacturing 以制造业为主 / production_services 以生产服务业为主）",
        en="focus (manufacturing / production_services)",
    ),
}
"""Categorical measures a rule's ``applies_when`` may test."""

CATEGORICAL_VALUES: dict[str, tuple[str, ...]] = {"focus": tuple(focus.value for focus in Focus)}
"""The values each categorical measure takes."""

SERVICE_MEASURES: dict[str, Text] = {
    "enterprises_served": Text(zh="年服务企业家次", en="enterprise-services a year"),
    "activities": Text(zh="年开展相关服务活动次数", en="activities a year"),
    "person_times": Text(zh="年培训人次", en="person-times trained a year"),
}
"""Yearly figures of one service function (第七条)."""
