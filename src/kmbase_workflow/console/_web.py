"""What every console page is built from: the signed-in actor (or the sign-in page), the
submitted form (its files closed after the answer), the CSRF check, a fresh idempotency key,
the context of a step's form and the answer after a write."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from .._i18n import Text
from ..actors import Actor
from ..case import Case
from ..errors import (
    InvalidInputError,
    KmbaseError,
)
from ..lifecycle import GuardFailure, Step, Trigger, step_for
from ..service._errors import ServiceError
from ..service._routing import (
    may_read,
)
from ..workflow import Outcome, Workflow
from ._forms import FormField, field_of_guard, step_form
from ._render import render
from ._session import (
    current_actor,
    language,
)
from ._text import t

__all__ = [
    "INTENT_FIELD",
    "KEY_FIELD",
    "MAX_UPLOAD",
    "VERSION_FIELD",
    "FormParam",
    "SignInRequired",
    "action_context",
    "actor_of",
    "after_write",
    "base_of",
    "csrf_refusal",
    "key_of",
    "new_key",
    "redirect",
    "refusal_of",
    "step_fields",
    "step_named",
    "text_fields",
    "with_article",
]

MAX_UPLOAD = 4 * 1024 * 1024
"""The largest file or form read (the service's own body limit)."""
KEY_FIELD = "idempotency_key"
VERSION_FIELD = "expected_version"
INTENT_FIELD = "intent"


class SignInRequired(Exception):  # noqa: N818 - a signal, answered with the sign-in page
    """The page needs a signed-in actor."""


def actor_of(request: Request) -> Actor:
    actor = current_actor(request)
    if actor is None:
        raise SignInRequired
    return actor


def base_of(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def redirect(request: Request, path: str) -> Response:
    return RedirectResponse(f"{base_of(request)}{path}", status_code=303)


async def _form(request: Request) -> AsyncIterator[FormData]:
    """The submitted form (at most `MAX_UPLOAD`), its uploaded files closed after the answer."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_UPLOAD:
        raise ServiceError(
            413,
            Text(zh="提交的内容过大", en="the form is too large"),
            hint=Text(zh=f"上限 {MAX_UPLOAD} 字节", en=f"at most {MAX_UPLOAD:,} bytes"),
        )
    form = await request.form(max_files=4, max_fields=400, max_part_size=MAX_UPLOAD)
    try:
        yield form
    finally:
        await form.close()


FormParam = Annotated[FormData, Depends(_form)]
"""A route's submitted form."""


def with_article(failure: GuardFailure) -> Text:
    """A failed guard's message with its article, unless the message already names it."""
    zh = failure.message.zh
    en = failure.message.en
    if failure.article.zh not in zh:
        zh = f"{zh}（{failure.article.zh}）"
    if failure.article.en not in en:
        en = f"{en} ({failure.article.en})"
    return Text(zh=zh, en=en)


def text_fields(form: FormData) -> dict[str, str]:
    """The form's text fields (the first of repeated ones), files left out."""
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in values:
            values[key] = value
    return values


def csrf_refusal(request: Request) -> Response:
    lang = language(request)
    return render(
        request,
        "error.html",
        {"message": t("csrf", lang), "hint": ""},
        status=403,
    )


def new_key() -> str:
    """A fresh idempotency key for a form being rendered."""
    return secrets.token_urlsafe(18)


def key_of(values: Mapping[str, str]) -> str | None:
    key = values.get(KEY_FIELD, "").strip()
    return key[:200] if key else None


def step_named(trigger: str) -> Step:
    step = step_for(Trigger(trigger))  # an unknown name: InvalidInputError listing the choices
    if step.trigger is Trigger.DECLARE:
        raise InvalidInputError(
            Text(zh="申报请使用申报页面", en="use the declaration page to declare"),
        )
    return step


def step_fields(workflow: Workflow, step: Step, case: Case) -> tuple[FormField, ...]:
    return step_form(step, workflow.policy_for(case))


def action_context(
    workflow: Workflow,
    actor: Actor,
    case: Case,
    step: Step,
    values: Mapping[str, str],
    *,
    problems: Mapping[str, Sequence[Text]] | None = None,
    failures: Sequence[GuardFailure] = (),
    general: Sequence[Text] = (),
    preview: Case | None = None,
) -> dict[str, Any]:
    fields = step_fields(workflow, step, case)
    by_field: dict[str, list[Text]] = {
        name: list(found) for name, found in (problems or {}).items()
    }
    for failure in failures:
        name = field_of_guard(failure, fields)
        if name is not None:
            by_field.setdefault(name, []).append(with_article(failure))
    return {
        "case": case,
        "actor": actor,
        "step": step,
        "fields": fields,
        "values": values,
        "problems": by_field,
        "failures": failures,
        "general": general,
        "preview": preview,
        "key": values.get(KEY_FIELD) or new_key(),
        "version": values.get(VERSION_FIELD) or str(case.version),
    }


def refusal_of(error: KmbaseError) -> dict[str, Any]:
    """A refusal as a page shows it: every failed guard with its article, else the message."""
    failures = tuple(getattr(error, "failures", ()))
    general = [] if failures else [error.message, *([error.hint] if error.hint else [])]
    return {"failures": failures, "general": general}


def after_write(request: Request, actor: Actor, outcome: Outcome) -> Response:
    """After a write: the case page (with a note), or, for someone who may not read the case
    (a member of the public objecting), an acknowledgement that tells nothing more."""
    note = "replayed" if outcome.replayed else "done"
    if not may_read(actor, outcome.case):
        return render(request, "acknowledged.html", {"replayed": outcome.replayed})
    quoted = urllib.parse.quote(outcome.case.id, safe="")
    return redirect(request, f"/cases/{quoted}?note={note}")
