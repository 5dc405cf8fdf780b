"""Example applications: one that meets every article, one that fails several.

They are the files in ``docs/examples/`` (a test keeps both in step) and the data of
``kmbase demo``, the tutorials and the notebooks. The bases and people are fictitious.

>>> from kmbase_workflow.examples import eligible_application
>>> eligible_application().base.name
'春城数字经济创业创新园'
"""

from __future__ import annotations

import datetime as dt

import attrs

from ._credit_code import credit_code_check_character
from .records import (
    Application,
    Base,
    ContractedAgency,
    Declaration,
    Education,
    Focus,
    Operator,
    ResidentEnterprise,
    SatisfactionResponse,
    ServiceFigures,
    ServiceVolume,
    StaffMember,
    YearFigures,
)

__all__ = ["eligible_application", "ineligible_application"]


def _code(first_17: str) -> str:
    return first_17 + credit_code_check_character(first_17)


_PLACES = (
    "云岭",
    "滇池",
    "春城",
    "金马",
    "碧鸡",
    "翠湖",
    "盘龙",
    "呈贡",
    "长水",
    "螺蛳湾",
    "大观",
    "西山",
    "官渡",
    "五华",
    "石林",
    "阳宗",
    "嵩明",
    "晋宁",
    "安宁",
    "东川",
)
_TRADES = (
    "信息科技",
    "软件",
    "数据服务",
    "电子",
    "智能装备",
    "检测认证",
    "电子商务",
    "设计",
    "物联网",
    "云计算",
)


def _residents(n: int, in_leading: int, start: int = 2019) -> tuple[ResidentEnterprise, ...]:
    out = []
    for i in range(n):
        out.append(
            ResidentEnterprise(
                name=f"昆明{_PLACES[i % 20]}{_TRADES[i % 10]}有限公司"
                + (f"{i // 20 + 1}部" if i >= 20 else ""),
                moved_in_on=dt.date(start + i % 5, 1 + i % 12, 1 + i % 27),
                employees=8 + (i * 7) % 25,
                industry="电子信息" if i < in_leading else "餐饮服务",
                in_leading_industry=i < in_leading,
                main_business="软件开发与信息技术服务" if i < in_leading else "餐饮",
                revenue_last_year_10k_yuan=float(50 + i * 3),
                innovation_outputs=i % 3,
            )
        )
    return tuple(out)


def _staff(n: int, qualified: int, mentors: int) -> tuple[StaffMember, ...]:
    out = []
    for i in range(n):
        out.append(
            StaffMember(
                name=f"服务专员{i + 1:02d}",
                position="创业服务专员" if i else "服务中心主任",
                education=Education.BACHELOR if i < qualified else Education.COLLEGE,
                startup_mentor=i < mentors,
                intermediate_title_or_above=i % 4 == 0 and i < qualified,
                qualification="创业咨询师" if i < mentors else "",
                years_at_base=float(1 + i % 5),
            )
        )
    return tuple(out)


_DECLARED = [
    "sound_management",
    "sound_finances",
    "good_credit",
    "continuous_incubation",
    "leading_industries_fit_policy",
    "one_stop_services",
    "facilities_and_information_systems",
    "governance",
    "development_plans",
    "management_rules",
]
_PLEDGES = (
    "materials_truthful",
    "no_tax_evasion",
    "no_wage_arrears",
    "no_social_insurance_arrears",
    "no_major_safety_accident",
    "no_major_environmental_incident",
    "no_major_quality_incident",
    "no_improper_means",
)
_MATERIALS = {
    "application_report": "申请报告.pdf",
    "licences_and_titles": "证照复印件.pdf",
    "audit_report": "2024年度审计报告.pdf",
    "rules_and_service_evidence": "服务制度及佐证.pdf",
    "staff_credentials": "人员名单及资质.pdf",
    "agency_contracts": "服务机构协议.pdf",
    "other_evidence": "荣誉证书.pdf",
}


def eligible_application() -> Application:
    """A production-services base in 五华区 that meets every article of the 2022 measures and
    signs every undertaking of 附件1 承诺书."""
    return Application(
        base=Base(
            name="春城数字经济创业创新园",
            district="五华区",
            leading_industries=("电子信息", "软件及信息技术服务"),
            focus=Focus.PRODUCTION_SERVICES,
            established_on=dt.date(2019, 3, 1),
            site_area_m2=12500.0,
            public_service_area_m2=2100.0,
            facilities="众创空间、路演厅、共享实验室、信息服务平台",
            address="昆明市五华区学府路 100 号",
            contact_person="李明",
            contact_phone="13800000000",
            website="https://example.org 滇ICP备00000000号",
            email="office@example.org",
        ),
        operator=Operator(
            name="昆明春城数字科技发展有限公司",
            unified_social_credit_code=_code("91530102MA6K5YQ1X"),
            registered_on=dt.date(2018, 11, 12),
            independent_legal_person=True,
            legal_representative="王芳",
            nature="有限责任公司",
            registered_address="昆明市五华区学府路 100 号",
        ),
        declared_on=dt.date(2025, 6, 20),
        yearly=(
            YearFigures(
                year=2023,
                resident_enterprises=58,
                resident_small_micro_enterprises=52,
                small_micro_employees=780,
                innovation_outputs=40,
                small_micro_revenue_10k_yuan=21000.0,
                patent_applications=25,
                patents_held=60,
            ),
            YearFigures(
                year=2024,
                resident_enterprises=60,
                resident_small_micro_enterprises=60,
                small_micro_employees=905,
                innovation_outputs=47,
                small_micro_revenue_10k_yuan=25400.0,
                patent_applications=31,
                patents_held=78,
            ),
        ),
        staff=_staff(12, 11, 4),
        residents=_residents(60, 53),
        services={
            "information": ServiceFigures(
                enterprises_served=86, activities=9, description="线上服务平台与线下信息对接会"
            ),
            "startup_coaching": ServiceFigures(enterprises_served=41, activities=12),
            "innovation_support": ServiceFigures(enterprises_served=18, activities=7),
            "training": ServiceFigures(person_times=420, activities=15),
            "marketing": ServiceFigures(enterprises_served=25, activities=3),
            "investment_financing": ServiceFigures(enterprises_served=22, activities=3),
            "management_consulting": ServiceFigures(enterprises_served=19),
            "professional_services": ServiceFigures(enterprises_served=33),
        },
        service_volume=ServiceVolume(total=420, free_or_low_fee=126),
        satisfaction_survey=tuple(
            SatisfactionResponse(
                enterprise=f"入驻企业{i + 1:02d}", satisfied=i < 18, services="创业辅导、信息服务"
            )
            for i in range(20)
        ),
        agencies=tuple(
            ContractedAgency(name=n, scope=s, signed_on=dt.date(2023, 3, 1))
            for n, s in [
                ("云南某律师事务所", "法律咨询"),
                ("昆明某会计师事务所", "代理记账、审计"),
                ("某知识产权代理公司", "专利代理"),
                ("某人力资源服务公司", "招聘培训"),
                ("某融资担保公司", "融资担保"),
                ("某检验检测机构", "检验检测"),
            ]
        ),
        materials=_MATERIALS,
        declarations={
            k: Declaration(value=True, evidence=f"佐证材料第{i + 3}册")
            for i, k in enumerate(_DECLARED)
        },
        pledges=dict.fromkeys(_PLEDGES, True),
        revenue_last_year_10k_yuan=1860.0,
        fee_reductions_10k_yuan=96.5,
        qualifications="国家级科技企业孵化器",
        government_support="2023年省级中小企业发展专项资金",
        honours="云南省小型微型企业创业创新示范基地（2023）",
    )


def ineligible_application() -> Application:
    """A manufacturing base in 呈贡区 that fails many articles, lacks two materials and cannot
    pledge one undertaking of 附件1 承诺书."""
    good = eligible_application()
    return attrs.evolve(
        good,
        base=attrs.evolve(
            good.base,
            name="滇池智造小微企业孵化园",
            district="呈贡区",
            leading_industries=("先进装备制造", "新材料", "绿色食品", "生物医药"),
            focus=Focus.MANUFACTURING,
            site_area_m2=8000.0,
            established_on=dt.date(2021, 9, 1),
        ),
        operator=attrs.evolve(
            good.operator,
            name="昆明滇池智造园区管理有限公司",
            unified_social_credit_code=_code("91530114MA6N2B3C4"),
        ),
        yearly=(
            YearFigures(
                year=2023,
                resident_enterprises=36,
                resident_small_micro_enterprises=33,
                small_micro_employees=400,
                innovation_outputs=0,
            ),
            YearFigures(
                year=2024,
                resident_enterprises=38,
                resident_small_micro_enterprises=35,
                small_micro_employees=430,
                innovation_outputs=6,
            ),
        ),
        staff=_staff(8, 5, 2),
        residents=_residents(35, 25),
        services={
            "information": ServiceFigures(enterprises_served=40, activities=5),
            "training": ServiceFigures(person_times=320),
            "marketing": ServiceFigures(activities=4),
            "professional_services": ServiceFigures(enterprises_served=12),
        },
        service_volume=ServiceVolume(total=150, free_or_low_fee=21),
        satisfaction_survey=tuple(
            SatisfactionResponse(enterprise=f"入驻企业{i + 1:02d}", satisfied=i < 7)
            for i in range(10)
        ),
        agencies=good.agencies[:3],
        materials={
            k: v for k, v in _MATERIALS.items() if k not in ("audit_report", "other_evidence")
        },
        declarations={
            **{
                k: Declaration(value=True, evidence=f"佐证材料第{i + 3}册")
                for i, k in enumerate(_DECLARED)
            },
            "good_credit": Declaration(value=True, evidence=""),
        },
        # 附件1 承诺书: it cannot pledge that it owes no social-insurance contributions.
        pledges={**dict.fromkeys(_PLEDGES, True), "no_social_insurance_arrears": False},
    )
