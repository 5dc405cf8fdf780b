"""The triggers, one route each, derived from the lifecycle's declaration: a new step gets
its route, its body's schema and its answer's schema without an edit here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from .._i18n import Text
from .._json_schema import command_schema
from ..actors import Role
from ..errors import InvalidInputError
from ..lifecycle import RECORDS, STEPS, Step, Trigger
from ..serialization import structure
from ._routing import (
    ERRORS,
    ActorParam,
    BodyText,
    Command,
    IdempotencyKey,
    RootPath,
    WorkflowParam,
    json_object,
    ok_response,
    outcome_response,
    refused_as_read,
    schema_ref,
    scoped_key,
)

__all__ = ["iter_trigger_routes", "router", "trigger_path"]

router = APIRouter(responses=ERRORS)


def trigger_path(trigger: Trigger) -> str:
    """The route that fires ``trigger`` at a case."""
    return f"/cases/{{case_id}}/{trigger.value}"


def _fire_route(step: Step) -> Callable[..., Response]:
    def fire(
        case_id: str,
        actor: ActorParam,
        workflow: WorkflowParam,
        body: BodyText,
        root_path: RootPath,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        source = f"{step.trigger.value} body"
        command = structure(json_object(body, source), Command, source=source)
        with refused_as_read(workflow, actor, case_id):
            outcome = workflow.fire(
                case_id,
                step.trigger,
                actor,
                reason=command.reason,
                evidence=command.evidence,
                payload=step.parse_payload(command.payload),
                expected_version=command.expected_version,
                idempotency_key=scoped_key(actor, idempotency_key),
            )
        return outcome_response(outcome, actor, root_path=root_path)

    fire.__name__ = f"fire_{step.trigger.value}"
    return fire


def _describe(step: Step) -> str:
    sources = ", ".join("(new)" if s is None else s.value for s in step.sources)
    to = step.destination.value if step.destination is not None else "(unchanged: a record)"
    roles = ", ".join(sorted(role.value for role in step.roles))
    return (
        f"{step.label.zh} / {step.label.en} ({step.article.zh}, {step.article.en}).\n\n"
        f"From: {sources}. To: {to}. Who: {roles}."
    )


def _unknown_trigger(case_id: str, name: str, actor: ActorParam) -> Response:
    """An unknown trigger (or ``declare``, which has its own route): 422 naming the choices."""
    trigger = Trigger(name)  # an unknown name: InvalidInputError listing the choices
    raise InvalidInputError(
        Text(zh=f"{trigger.value} 请用 POST /cases", en=f"{trigger.value}: use POST /cases"),
        hint=Text(zh="申报会新建案件", en="a declaration creates the case"),
    )


def _answer_schema(step: Step) -> dict[str, Any]:
    """A trigger's answer: the outcome, or an acknowledgement where the step may be taken by
    someone who may not read the case (the public; anyone, where the step is not taken on
    one's own behalf, 第十三条). A step taken on one's own behalf is a reader's (第四条)."""
    if Role.PUBLIC in step.roles or not step.on_own_behalf:
        return {"anyOf": [schema_ref("Outcome"), schema_ref("Acknowledgement")]}
    return schema_ref("Outcome")


def _add_trigger_routes(app_router: APIRouter) -> None:
    for step in (*STEPS, *RECORDS):
        if step.trigger is Trigger.DECLARE:
            continue
        app_router.add_api_route(
            trigger_path(step.trigger),
            _fire_route(step),
            methods=["POST"],
            name=step.trigger.value,
            operation_id=f"fire_{step.trigger.value}",
            summary=step.label.en,
            description=_describe(step),
            tags=["triggers" if step.destination is not None else "records"],
            responses=ok_response(_answer_schema(step)),
            openapi_extra={
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": command_schema(step)}},
                }
            },
        )
    app_router.add_api_route(
        "/cases/{case_id}/{name}", _unknown_trigger, methods=["POST"], include_in_schema=False
    )


_add_trigger_routes(router)


def iter_trigger_routes() -> Iterator[tuple[Trigger, str]]:
    """Each trigger with a route and its path (every trigger but ``declare``, which is
    ``POST /cases``)."""
    for step in (*STEPS, *RECORDS):
        yield (
            step.trigger,
            "/cases" if step.trigger is Trigger.DECLARE else trigger_path(step.trigger),
        )
