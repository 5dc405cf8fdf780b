"""Frozen records of the application report (附件1 申请报告).

Each record mirrors a part of the official form; the field docs name the form item they come
from. Records hold data only: judging them is `kmbase_workflow.eligibility`'s job, reading
and writing them is `kmbase_workflow.serialization`'s.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping
from typing import Any

import attrs

from ._credit_code import credit_code_problem
from ._i18n import Text
from .errors import FieldValueError

__all__ = [
    "Application",
    "Base",
    "ContractedAgency",
    "Declaration",
    "Education",
    "Focus",
    "Operator",
    "ResidentEnterprise",
    "SatisfactionResponse",
    "ServiceFigures",
    "ServiceVolume",
    "SpotCheck",
    "StaffMember",
    "YearFigures",
]


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not math.isfinite(value):
        raise FieldValueError(
            attribute.name,
            Text(
                zh=f"应为有限的数字（不能是无穷大或 NaN），实际为 {value}",
                en=f"must be a finite number (not infinity or NaN), got {value}",
            ),
        )
    if value is not None and value < 0:
        raise FieldValueError(
            attribute.name,
            Text(zh=f"不能为负数，实际为 {value}", en=f"must not be negative, got {value}"),
        )


def _non_empty(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise FieldValueError(attribute.name, Text(zh="不能为空", en="must not be empty"))


def _credit_code(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    problem = credit_code_problem(value)
    if problem is not None:
        raise FieldValueError(attribute.name, problem)


def _distinct(_instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    seen: list[str] = []
    for item in value:
        if item.strip() in seen:
            raise FieldValueError(
                attribute.name,
                Text(
                    zh=f"每项只能列出一次，重复：{item.strip()}",
                    en=f"each item may be listed once, repeated: {item.strip()}",
                ),
            )
        seen.append(item.strip())


class Focus(enum.Enum):
    """The base's main line (第六条第（七）项): manufacturing or production services."""

    MANUFACTURING = "manufacturing"
    """以制造业为主."""
    PRODUCTION_SERVICES = "production_services"
    """以生产服务业为主."""


class Education(enum.Enum):
    """Highest education of a staff member (管理和专职服务人员情况表: 学历)."""

    DOCTORATE = "doctorate"
    MASTER = "master"
    BACHELOR = "bachelor"
    COLLEGE = "college"
    """大专."""
    OTHER = "other"

    @property
    def bachelor_or_above(self) -> bool:
        """本科及以上学历."""
        return self in {Education.DOCTORATE, Education.MASTER, Education.BACHELOR}


@attrs.frozen
class Operator:
    """The operator (运营主体) of the base: 申请表 一、运营单位名称 … 注册地址."""

    name: str = attrs.field(validator=_non_empty)
    unified_social_credit_code: str = attrs.field(validator=_credit_code)
    """统一社会信用代码, checked with its GB 32100-2015 check character."""
    registered_on: dt.date
    """注册日期."""
    independent_legal_person: bool
    """独立法人资格 (第六条第（二）项)."""
    legal_representative: str = ""
    nature: str = ""
    """单位性质."""
    registered_address: str = ""


@attrs.frozen
class Base:
    """The base itself: 申请表 一、基地基本情况."""

    name: str = attrs.field(validator=_non_empty)
    district: str = attrs.field(validator=_non_empty)
    """所属县区: the county, district or development zone whose SME authority recommends it."""
    leading_industries: tuple[str, ...] = attrs.field(validator=_distinct)
    """主导产业 (第六条第（四）项: at most 3), each listed once (a repeat is bad input)."""
    focus: Focus
    """以制造业为主 or 以生产服务业为主 (第六条第（七）项)."""
    established_on: dt.date
    """基地成立时间 (第六条第（二）项)."""
    site_area_m2: float = attrs.field(validator=_non_negative)
    """总场地面积 (平方米)."""
    public_service_area_m2: float | None = attrs.field(default=None, validator=_non_negative)
    """其中：公共服务区域面积 (平方米)."""
    facilities: str = ""
    """主要基础设施."""
    address: str = ""
    contact_person: str = ""
    contact_phone: str = ""
    website: str = ""
    """网址及备案号."""
    email: str = ""


@attrs.frozen
class StaffMember:
    """A row of 管理和专职服务人员情况表."""

    name: str = attrs.field(validator=_non_empty)
    position: str
    """岗位."""
    education: Education
    full_time_service: bool = True
    """创业创新专职服务人员 (counts towards 第六条第（五）项)."""
    startup_mentor: bool = False
    """是否为持证创业导师."""
    intermediate_title_or_above: bool = False
    """中级及以上技术职称."""
    school_and_major: str = ""
    qualification: str = ""
    """资格证名称."""
    qualification_issuer: str = ""
    years_at_base: float | None = attrs.field(default=None, validator=_non_negative)
    phone: str = ""


@attrs.frozen
class ResidentEnterprise:
    """A row of 入驻企业（项目）名录表."""

    name: str = attrs.field(validator=_non_empty)
    moved_in_on: dt.date
    """入驻基地时间."""
    employees: int = attrs.field(validator=_non_negative)
    industry: str
    """所属产业类型."""
    in_leading_industry: bool
    """主营业务属于基地主导产业 (第六条第（四）项)."""
    small_or_micro: bool = True
    """小型或微型企业."""
    main_business: str = ""
    revenue_last_year_10k_yuan: float | None = attrs.field(default=None, validator=_non_negative)
    innovation_outputs: int = attrs.field(default=0, validator=_non_negative)
    contact_person: str = ""
    contact_phone: str = ""


@attrs.frozen
class YearFigures:
    """One year of 申请表 二、入驻小微企业创业创新情况 (the form asks for two years at least)."""

    year: int
    resident_enterprises: int = attrs.field(validator=_non_negative)
    """入驻企业户数."""
    resident_small_micro_enterprises: int = attrs.field(validator=_non_negative)
    """入驻小微企业户数 (第六条第（三）项)."""
    small_micro_employees: int = attrs.field(validator=_non_negative)
    """小微企业从业人员 (第六条第（三）项)."""
    innovation_outputs: int = attrs.field(validator=_non_negative)
    """可统计创新成果项目合计 (第六条第（九）项)."""
    small_micro_revenue_10k_yuan: float | None = attrs.field(default=None, validator=_non_negative)
    patent_applications: int | None = attrs.field(default=None, validator=_non_negative)
    patents_held: int | None = attrs.field(default=None, validator=_non_negative)


@attrs.frozen
class ServiceFigures:
    """A service function's yearly figures (申请表 三、服务能力及业绩; 开展服务活动情况表)."""

    enterprises_served: int | None = attrs.field(default=None, validator=_non_negative)
    """服务企业户数 (家次)."""
    activities: int | None = attrs.field(default=None, validator=_non_negative)
    """相关服务活动场次."""
    person_times: int | None = attrs.field(default=None, validator=_non_negative)
    """培训人次 (人员培训)."""
    description: str = ""


@attrs.frozen
class ServiceVolume:
    """All services of the last year and the free or low-fee ones (第六条第（六）项)."""

    total: int = attrs.field(validator=_non_negative)
    free_or_low_fee: int = attrs.field(validator=_non_negative)

    @free_or_low_fee.validator
    def _not_more_than_total(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if value > self.total:
            raise FieldValueError(
                "free_or_low_fee",
                Text(
                    zh=f"不能大于总服务量 {self.total}，实际为 {value}",
                    en=f"must not exceed total ({self.total}), got {value}",
                ),
            )


@attrs.frozen
class SatisfactionResponse:
    """A row of 入驻小微企业服务满意度评价表."""

    enterprise: str = attrs.field(validator=_non_empty)
    satisfied: bool
    services: str = ""
    contact_person: str = ""
    contact_phone: str = ""


@attrs.frozen
class ContractedAgency:
    """An external professional service agency (签约合作服务机构, 第六条第（五）项)."""

    name: str = attrs.field(validator=_non_empty)
    signed_agreement: bool = True
    """签订合作协议的单位 (True) or 其他合作单位 (False)."""
    scope: str = ""
    signed_on: dt.date | None = None


@attrs.frozen
class Declaration:
    """A qualitative condition the applicant declares, with a reference to its evidence
    (good credit, sound governance, development plans …)."""

    value: bool
    evidence: str = ""
    """Where the proof is (a material id, a page, a file name)."""


@attrs.frozen
class SpotCheck:
    """The district authority's satisfaction spot check (第十条)."""

    resident_small_micro_enterprises: int = attrs.field(validator=_non_negative)
    sampled: int = attrs.field(validator=_non_negative)
    satisfied: int = attrs.field(validator=_non_negative)

    @sampled.validator
    def _not_more_than_residents(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if value > self.resident_small_micro_enterprises:
            raise FieldValueError(
                "sampled",
                Text(
                    zh=f"不能大于入驻小微企业数 {self.resident_small_micro_enterprises}，实际为 {value}",
                    en=f"must not exceed the resident small and micro enterprises "
                    f"({self.resident_small_micro_enterprises}), got {value}",
                ),
            )

    @satisfied.validator
    def _not_more_than_sampled(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if value > self.sampled:
            raise FieldValueError(
                "satisfied",
                Text(
                    zh=f"不能大于抽查数 {self.sampled}，实际为 {value}",
                    en=f"must not exceed sampled ({self.sampled}), got {value}",
                ),
            )


def _unique_years(
    _instance: object,
    _attribute: attrs.Attribute[tuple[YearFigures, ...]],
    value: tuple[YearFigures, ...],
) -> None:
    years = [figures.year for figures in value]
    duplicates = sorted({year for year in years if years.count(year) > 1})
    if duplicates:
        raise FieldValueError(
            "yearly",
            Text(
                zh=f"每个年度只能出现一次，重复：{duplicates}",
                en=f"each year may appear once, repeated: {duplicates}",
            ),
        )


@attrs.frozen
class Application:
    """One base's application report (附件1) as declared on ``declared_on`` (填报日期).

    ``services`` is keyed by the service function ids of the policy in force (第七条);
    ``materials`` maps each material id of 第八条 to a reference to the submitted document;
    ``declarations`` maps the ids of the policy's declared conditions to the declaration.
    """

    base: Base
    operator: Operator
    declared_on: dt.date
    yearly: tuple[YearFigures, ...] = attrs.field(validator=_unique_years)
    staff: tuple[StaffMember, ...] = ()
    residents: tuple[ResidentEnterprise, ...] = ()
    services: Mapping[str, ServiceFigures] = attrs.field(factory=dict)
    service_volume: ServiceVolume | None = None
    satisfaction_survey: tuple[SatisfactionResponse, ...] = ()
    agencies: tuple[ContractedAgency, ...] = ()
    materials: Mapping[str, str] = attrs.field(factory=dict)
    declarations: Mapping[str, Declaration] = attrs.field(factory=dict)
    pledges: Mapping[str, bool] = attrs.field(factory=dict)
    """附件1 承诺书: each undertaking of the policy's pledge, ``true`` when the applicant
    pledges it, ``false`` when it cannot (a missing one is not assessable)."""
    services_year: int | None = None
    """The year of 申请表 三's service figures and ``service_volume``; ``None``: the year
    before ``declared_on`` (the form reports 上一年度)."""
    revenue_last_year_10k_yuan: float | None = attrs.field(default=None, validator=_non_negative)
    """上一年度营业收入 (万元)."""
    fee_reductions_10k_yuan: float | None = attrs.field(default=None, validator=_non_negative)
    """减免小微企业各类服务费用 (万元)."""
    qualifications: str = ""
    """获得专业资质情况."""
    government_support: str = ""
    """得到政府扶持的情况."""
    honours: str = ""
    """各级政府或省级行业协会授予称号、荣誉."""

    def figures_for(self, year: int) -> YearFigures | None:
        """The figures of ``year`` in ``yearly`` (``None`` if the application has none)."""
        return next((figures for figures in self.yearly if figures.year == year), None)

    @property
    def service_figures_year(self) -> int:
        """The year the service figures describe: ``services_year``, or else the year
        before the declaration (申请表 三 reports 上一年度)."""
        return self.services_year if self.services_year is not None else self.declared_on.year - 1

    def latest_years(self) -> tuple[YearFigures | None, YearFigures | None]:
        """The latest year's figures and the year before it (``None`` where missing)."""
        by_year = sorted(self.yearly, key=lambda figures: figures.year)
        latest = by_year[-1] if by_year else None
        previous = (
            by_year[-2] if len(by_year) >= 2 and by_year[-2].year == by_year[-1].year - 1 else None
        )
        return latest, previous
