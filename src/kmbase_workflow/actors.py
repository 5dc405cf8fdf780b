"""Who acts in the workflow: roles of the measures and the actors that hold them.

An actor is an identity, not a name: an operator is its unified social credit code
(`Actor.for_operator`), an official or expert an id the host application gives (its user
id), with a role and, for a district authority, a district. ``name`` is for display only;
no rule ever compares names. Authentication is the host's job: the library trusts the actor
it is given, and records it on every step.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from ._i18n import Text
from .errors import FieldValueError, unknown_choice

if TYPE_CHECKING:
    from .records import Operator

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

    @classmethod
    def _missing_(cls, value: object) -> Role:
        raise unknown_choice(cls, value)

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


def _identifier(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise FieldValueError(
            attribute.name,
            Text(zh="身份标识不能为空", en="an actor needs a non-empty id"),
        )


@attrs.frozen
class Actor:
    """Someone acting in a role, by a stable ``id``; a district authority also names its
    district.

    >>> Actor(Role.CITY_BUREAU, "u-1024", name="张三").describe().en
    'city bureau 张三 u-1024'
    """

    role: Role
    id: str = attrs.field(validator=_identifier)
    """Who acts: an operator's unified social credit code, an official's or expert's user id."""
    district: str | None = attrs.field(default=None)
    """The district a district authority acts for (it acts on its own district's bases only)."""
    name: str = attrs.field(default="", kw_only=True)
    """A display name (never compared by any rule)."""
    via: str = attrs.field(default="", kw_only=True)
    """Through which face the actor came (``cli``, ``http`` …), recorded with each step."""

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

    @classmethod
    def for_operator(cls, operator: Operator, *, via: str = "") -> Actor:
        """The operator of a base, identified by its unified social credit code."""
        return cls(Role.OPERATOR, operator.unified_social_credit_code, name=operator.name, via=via)

    @property
    def display_name(self) -> str:
        """The name to show: the display name, else the id."""
        return self.name or self.id

    def describe(self) -> Text:
        """``市工业和信息化局 张三`` / ``city bureau 张三`` (with the id when a name is given)."""
        where = f"（{self.district}）" if self.district else ""
        where_en = f" ({self.district})" if self.district else ""
        who = f"{self.name} {self.id}" if self.name else self.id
        return Text(
            zh=f"{self.role.label.zh}{where} {who}",
            en=f"{self.role.label.en}{where_en} {who}",
        )
