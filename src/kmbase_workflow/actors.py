"""Who acts in the workflow: roles of the measures and the actors that hold them."""

from __future__ import annotations

import enum

import attrs

from ._i18n import Text
from .errors import FieldValueError

__all__ = ["Actor", "Role"]


class Role(enum.Enum):
    """The parties of the measures (第四条, 第九条 to 第十八条)."""

    OPERATOR = "operator"
    """基地运营主体: declares, withdraws, files reports and changes."""
    DISTRICT_AUTHORITY = "district_authority"
    """县（市）区、开发（度假）区中小企业主管部门: reviews and recommends its own district's bases."""
    CITY_BUREAU = "city_bureau"
    """市工业和信息化局: reviews, inspects, publicizes, certifies, revokes."""
    EXPERT = "expert"
    """专家: gives review opinions (第十一条) and evaluations (第十八条)."""
    PUBLIC = "public"
    """社会公众: may object during the public notice (第十三条)."""
    SYSTEM = "system"
    """The library itself, acting on dates (expiry, reminders)."""

    @property
    def label(self) -> Text:
        """The role's name in both languages."""
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.OPERATOR: Text(zh="基地运营主体", en="operator"),
    Role.DISTRICT_AUTHORITY: Text(zh="县（市）区中小企业主管部门", en="district SME authority"),
    Role.CITY_BUREAU: Text(zh="市工业和信息化局", en="city bureau"),
    Role.EXPERT: Text(zh="专家", en="expert"),
    Role.PUBLIC: Text(zh="社会公众", en="member of the public"),
    Role.SYSTEM: Text(zh="系统", en="system"),
}


@attrs.frozen
class Actor:
    """Someone acting in a role; a district authority also names its district."""

    role: Role
    name: str
    district: str | None = attrs.field(default=None)
    """The district a district authority acts for (it acts on its own district's bases only)."""

    @district.validator
    def _district_for_authorities(
        self, _attribute: attrs.Attribute[str | None], value: str | None
    ) -> None:
        if self.role is Role.DISTRICT_AUTHORITY and not value:
            raise FieldValueError(
                "district",
                Text(
                    zh="县区主管部门必须注明所属县区",
                    en="a district authority must name its district",
                ),
            )

    @classmethod
    def system(cls) -> Actor:
        """The library acting on its own (the sweep)."""
        return cls(Role.SYSTEM, "kmbase_workflow")

    def describe(self) -> Text:
        """``市工业和信息化局 张三`` / ``city bureau Zhang San``."""
        where = f"（{self.district}）" if self.district else ""
        where_en = f" ({self.district})" if self.district else ""
        return Text(
            zh=f"{self.role.label.zh}{where} {self.name}",
            en=f"{self.role.label.en}{where_en} {self.name}",
        )
