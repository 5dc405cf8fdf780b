"""Who may fire a step (第四条): the regulation's roles, and how a host adds its own rules."""

from __future__ import annotations

from ..actors import Actor, Role
from ..case import Case
from ._model import Authorization, GuardFailure, Step, failure, text


def regulation_roles(actor: Actor, step: Step, case: Case) -> list[GuardFailure]:
    """The roles of the measures: the step's roles (第四条); a district authority acts for
    its own district's bases only (第四条, 第九条 属地原则); an operator for its own base only,
    recognised by its unified social credit code (the current operator, after any filed
    change of operator, 第十九条). Objections are open to anyone (第十三条)."""
    if actor.role not in step.roles:
        allowed_zh = "、".join(sorted(role.label.zh for role in step.roles))
        allowed_en = ", ".join(sorted(role.label.en for role in step.roles))
        return [
            failure(
                "role",
                text("第四条", "Art. 4"),
                f"{actor.role.label.zh}不能{step.label.zh}，只有{allowed_zh}可以",
                f"a {actor.role.label.en} cannot {step.label.en}; only: {allowed_en}",
            )
        ]
    if not step.on_own_behalf:
        return []
    if actor.role is Role.DISTRICT_AUTHORITY and actor.district != case.district:
        return [
            failure(
                "district",
                text("第四条、第九条（属地原则）", "Art. 4, 9 (locality)"),
                f"{actor.district}主管部门不能办理{case.district}的基地",
                f"the authority of {actor.district} cannot act on a base in {case.district}",
            )
        ]
    if actor.role is not Role.OPERATOR:
        return []
    operator = case.operator  # computed from the filings: only an operator's step needs it
    if actor.id != operator.unified_social_credit_code:
        return [
            failure(
                "operator",
                text("第九条、第十九条", "Art. 9, 19"),
                f"{actor.id}不是该基地运营主体（{operator.name}，"
                f"统一社会信用代码 {operator.unified_social_credit_code}）",
                f"{actor.id} is not the base's operator ({operator.name}, unified social "
                f"credit code {operator.unified_social_credit_code})",
            )
        ]
    return []


def all_of(*rules: Authorization) -> Authorization:
    """An authorization that asks every rule and reports every refusal (a host adds its own
    rules beside `regulation_roles`)."""

    def check(actor: Actor, step: Step, case: Case) -> list[GuardFailure]:
        return [failure for rule in rules for failure in rule(actor, step, case)]

    return check
