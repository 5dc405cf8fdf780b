"""The forms' own words: table names, headers and columns of 附件1 and 附件2, and the labels a
record value is written with. The writer (`_excel`) and the reader (`_import`) share them, so
a table written reads back as it was."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence

import attrs

from ..policy import ServiceFunction
from ..records import Education, ResidentEnterprise

RECOMMENDATION_TITLE = "昆明市小型微型企业创业创新示范基地推荐汇总表"
STAFF_TABLE = "管理和专职服务人员情况表"
ROSTER_TABLE = "入驻企业（项目）名录表"
ACTIVITIES_TABLE = "开展服务活动情况表"
SATISFACTION_TABLE = "入驻小微企业服务满意度评价表"
RECOMMENDATION_NOTE = "注：本表由县（市）区、开发（度假）区中小企业主管部门填写"
YES, NO = "是", "否"
TICK = "√"
TOTAL = "合计"


# -- the columns of the forms -----------------------------------------------------------------


class Kind(enum.Enum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    EDUCATION = "education"


@attrs.frozen
class Column:
    header: str
    """The header as printed on the form (supplementary columns: the library's own)."""
    field: str | None
    """The record field it holds (``None`` for 序号)."""
    kind: Kind = Kind.TEXT
    group: str | None = None
    """The upper header of a two-level header (教育情况 over 学历 …)."""
    width: float = 14


INDEX = Column("序号", None, width=6)

STAFF_COLUMNS: tuple[Column, ...] = (
    INDEX,
    Column("姓名", "name", width=12),
    Column("岗位", "position", width=16),
    Column("学历", "education", Kind.EDUCATION, group="教育情况", width=12),
    Column("毕业院校及专业", "school_and_major", group="教育情况", width=22),
    Column("资格证名称", "qualification", group="专业资质情况", width=16),
    Column("发证机关", "qualification_issuer", group="专业资质情况", width=16),
    Column("在基地工作年限（年）", "years_at_base", Kind.NUMBER, width=12),
    Column("联系电话", "phone", width=15),
    Column("是否为持证创业导师", "startup_mentor", Kind.BOOLEAN, width=12),
    # Supplementary: not on the form, needed for 第六条第（五）项.
    Column("是否为专职服务人员", "full_time_service", Kind.BOOLEAN, width=12),
    Column("是否具有中级及以上职称", "intermediate_title_or_above", Kind.BOOLEAN, width=14),
)
"""管理和专职服务人员情况表: the form's columns, then two supplementary ones."""

ROSTER_COLUMNS: tuple[Column, ...] = (
    INDEX,
    Column("企业名称", "name", width=30),
    Column("入驻基地时间", "moved_in_on", Kind.DATE, width=13),
    Column("从业人员数（人）", "employees", Kind.INTEGER, width=10),
    Column("主营业务", "main_business", width=24),
    Column("所属产业类型", "industry", width=14),
    Column("上年度销售收入（万元）", "revenue_last_year_10k_yuan", Kind.NUMBER, width=12),
    Column("创新成果", "innovation_outputs", Kind.INTEGER, width=10),
    Column("联系人", "contact_person", width=10),
    Column("联系电话", "contact_phone", width=15),
    # Supplementary: not on the form, needed for 第六条第（三）项 and 第（四）项.
    Column("主营业务是否属于主导产业", "in_leading_industry", Kind.BOOLEAN, width=14),
    Column("是否为小型微型企业", "small_or_micro", Kind.BOOLEAN, width=12),
)
"""入驻企业（项目）名录表: the form's columns, then two supplementary ones."""

ACTIVITIES_HEADERS = (
    "序号",
    "服务活动类型",
    "服务活动简介",
    "服务场次",
    "活动成果",
    "公益性服务活动情况",
    "备注",
)
SATISFACTION_HEADERS = ("序号", "企业名称", "联系人", "联系电话", "服务内容简述", "企业满意度")
SATISFACTION_SUBHEADERS = ("满意", "不满意")
RECOMMENDATION_HEADERS = (
    "序号",
    "基地名称",
    "地址",
    "运营机构名称",
    "负责人",
    "联系人",
    "联系电话（手机）",
    "是否满足各项申报条件",
    "是否同意推荐",
    "备注",
)

EDUCATION_LABELS: Mapping[Education, str] = {
    Education.DOCTORATE: "博士研究生",
    Education.MASTER: "硕士研究生",
    Education.BACHELOR: "本科",
    Education.COLLEGE: "大专",
    Education.OTHER: "其他",
}
EDUCATION_SYNONYMS: Mapping[str, Education] = {
    "博士": Education.DOCTORATE,
    "硕士": Education.MASTER,
    "大学本科": Education.BACHELOR,
    "专科": Education.COLLEGE,
    "大学专科": Education.COLLEGE,
}


def cell_value(value: object, kind: Kind) -> object:
    """A record value as a spreadsheet cell (``None`` for an empty cell)."""
    if value is None or value == "":
        return None
    if kind is Kind.BOOLEAN:
        return YES if value else NO
    if kind is Kind.EDUCATION and isinstance(value, Education):
        return EDUCATION_LABELS[value]
    return value


def record_cells(columns: Sequence[Column], record: object, number: int) -> list[object]:
    return [
        number if column.field is None else cell_value(getattr(record, column.field), column.kind)
        for column in columns
    ]


def roster_in_form_order(residents: Iterable[ResidentEnterprise]) -> list[ResidentEnterprise]:
    # 顺序按企业入驻基地年份: by the date moved in; the application's order breaks ties.
    return sorted(residents, key=lambda resident: resident.moved_in_on)


# -- 申请表 and the service functions ------------------------------------------------------------

APPLICATION_FORM_TITLE = "昆明市小型微型企业创业创新示范基地申请表"
APPLICATION_FORM_SHEET = "申请表"

SERVICE_LABELS: Mapping[str, str] = {
    "information": "信息服务",
    "startup_coaching": "创业辅导",
    "innovation_support": "创新支持",
    "training": "人员培训",
    "marketing": "市场营销",
    "investment_financing": "投融资服务",
    "management_consulting": "管理咨询",
    "professional_services": "专业服务",
}
"""The service functions as the forms name them (申请表 三 and 开展服务活动情况表 print
创业辅导 where 第七条 says 创业辅导服务), by the policy's service function id. A function of
another policy that is not listed here is written with its name in that policy."""


def service_label(function: ServiceFunction) -> str:
    """The form's row label of a service function of the policy."""
    return SERVICE_LABELS.get(function.id, function.name.zh)
