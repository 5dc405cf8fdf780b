"""The public's pages, no sign-in (第十三条): the bases under public notice, the period and how
to object, and the objection form (the `object` step, its guards as at the API)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .._i18n import Text
from ..actors import Actor, Role
from ..case import Case, State
from ..errors import (
    ApplicationFormatError,
    ConcurrencyConflictError,
    InvalidInputError,
    KmbaseError,
    TransitionRefusedError,
)
from ..lifecycle import Trigger, step_for
from ..service._errors import ServiceError
from ..service._routing import (
    scoped_key,
)
from ..workflow import Workflow
from . import _forms
from ._forms import read_form, step_form
from ._render import render, workflow_of
from ._session import (
    csrf_problem,
    current_actor,
)
from ._web import (
    FormParam,
    action_context,
    after_write,
    csrf_refusal,
    key_of,
    text_fields,
)

__all__ = ["router"]

router = APIRouter()

_PUBLIC_STATES = (State.NOTICE_ANNOUNCED, State.PUBLICIZED, State.OBJECTED, State.VERIFIED)
"""The states of a base the public notice shows (第十三条): announced, running, objected to."""


# -- the public notice (no sign-in) -------------------------------------------------------------


def _in_notice(workflow: Workflow) -> list[Case]:
    """The bases whose public notice is announced or running today (第十三条)."""
    today = workflow.today()
    found = [
        case
        for state in _PUBLIC_STATES
        for case in workflow.cases(state=state)
        if case.notice is not None and case.notice.due >= today
    ]
    return sorted(found, key=lambda case: (case.notice.start if case.notice else today, case.id))


def _contact(request: Request) -> Any:
    from ..service._documents import document_settings  # noqa: PLC0415 - the documents' settings

    try:
        return document_settings(request).objections
    except KmbaseError:
        return None


@router.get("/notices")
def notices(request: Request) -> Response:
    """The bases under public notice (第十三条): name, operator, district, period, and how to
    object. No sign-in."""
    workflow = workflow_of(request)
    return render(
        request,
        "notices.html",
        {"cases": _in_notice(workflow), "contact": _contact(request), "today": workflow.today()},
    )


def _public_case(workflow: Workflow, case_id: str) -> Case:
    case = workflow.case(case_id)
    if case.state not in _PUBLIC_STATES:
        raise ServiceError(
            404,
            Text(
                zh=f"没有正在公示的案件 {case_id}", en=f"no base under public notice as {case_id}"
            ),
        )
    return case


def _public_actor(request: Request) -> Actor:
    """The signed-in actor, else a member of the public (第十三条: anyone may object)."""
    try:
        actor = current_actor(request)
    except KmbaseError:
        actor = None
    return actor or Actor(Role.PUBLIC, "anonymous", name="", via="console")


@router.get("/notices/{case_id}/object")
def objection_form(request: Request, case_id: str) -> Response:
    """The objection form of a publicized base."""
    workflow = workflow_of(request)
    case = _public_case(workflow, case_id)
    actor = _public_actor(request)
    step = step_for(Trigger.OBJECT)
    fields = step_form(step, workflow.policy_for(case))
    values = _forms.defaults(
        fields, workflow.today(), "" if actor.role is Role.PUBLIC else actor.id
    )
    return render(
        request,
        "objection.html",
        {**action_context(workflow, actor, case, step, values), "public": True},
    )


@router.post("/notices/{case_id}/object")
async def objection(request: Request, case_id: str, form: FormParam) -> Response:
    """Raise an objection: the same step (`object`) and guards as at the API."""
    values = text_fields(form)
    if csrf_problem(request, values):
        return csrf_refusal(request)
    workflow = workflow_of(request)
    case = _public_case(workflow, case_id)
    actor = _public_actor(request)
    step = step_for(Trigger.OBJECT)
    fields = step_form(step, workflow.policy_for(case))
    command, problems = read_form(step, fields, values, workflow.today())

    def again(status: int, **extra: Any) -> Response:
        context = action_context(workflow, actor, case, step, values, **extra)
        return render(request, "objection.html", {**context, "public": True}, status=status)

    if problems:
        return again(422, problems=problems)
    try:
        payload = step.parse_payload(command["payload"])
        outcome = workflow.fire(
            case_id,
            Trigger.OBJECT,
            actor,
            reason=command["reason"],
            evidence=tuple(command["evidence"]),
            payload=payload,
            idempotency_key=scoped_key(actor, key_of(values)),
        )
    except ApplicationFormatError as error:
        return again(422, general=[error.message, *error.problems])
    except TransitionRefusedError as error:
        return again(
            409, failures=error.failures, general=[] if error.failures else [error.message]
        )
    except (InvalidInputError, ConcurrencyConflictError) as error:
        return again(409, general=[error.message])
    return after_write(request, actor, outcome)
