"""The console's pages for the signed-in: signing in, the inbox, the cases, every step's form,
the declaration (the rounds' pages are in ``_rounds``, the public's in ``_public``, what they
share in ``_web``): one small route each over the same workflow calls as the HTTP service.

Each write calls the `Workflow` method the service's route calls, with the actor the service's
authenticator gives and the idempotency key the form carried (scoped to the actor as at the
API); each read checks the service's reading rule (`may_read`). A refusal re-renders the form
with every failed guard and its article, next to the field it concerns.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from .._i18n import Lang, Text
from ..actors import Actor, Role
from ..as_of import case_as_of
from ..case import Case, State
from ..eligibility import evaluate, spot_check_population
from ..errors import (
    ApplicationFormatError,
    ConcurrencyConflictError,
    InvalidInputError,
    KmbaseError,
    TransitionRefusedError,
)
from ..lifecycle import RECORDS, STEPS, Step, Trigger
from ..policy import policy_in_force
from ..queues import work_queue
from ..records import Application
from ..serialization import loads_application
from ..service._routing import (
    declaration_refused_as_read,
    may_read,
    readable_case,
    scoped_key,
)
from ..workflow import Workflow
from . import _forms
from ._forms import APPLICATION as APPLICATION_FIELD
from ._forms import FormField, field_of_problem, read_form
from ._render import render, workflow_of
from ._session import (
    csrf_problem,
    current_actor,
    end_session,
    language,
    signed_in_with,
    start_session,
)
from ._text import t
from ._web import (
    INTENT_FIELD,
    KEY_FIELD,
    MAX_UPLOAD,
    VERSION_FIELD,
    FormParam,
    action_context,
    actor_of,
    after_write,
    csrf_refusal,
    key_of,
    new_key,
    redirect,
    step_fields,
    step_named,
    text_fields,
)

__all__ = ["router"]

router = APIRouter()


# -- signing in -------------------------------------------------------------------------------


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    """The inbox when signed in, else the sign-in page."""
    try:
        actor = current_actor(request)
    except KmbaseError:
        actor = None
    if actor is None:
        return redirect(request, "/sign-in")
    return redirect(request, "/notices" if actor.role is Role.PUBLIC else "/inbox")


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    """The sign-in form (a token)."""
    return render(request, "sign_in.html", {"problem": None})


@router.post("/sign-in")
async def sign_in(request: Request, form: FormParam) -> Response:
    """Check the token with the service's authenticator and keep it in the session cookie."""
    values = text_fields(form)
    if csrf_problem(request, values):
        return csrf_refusal(request)
    token = values.get("token", "")
    try:
        actor = signed_in_with(request, token)
    except KmbaseError as error:
        return render(request, "sign_in.html", {"problem": error.message}, status=401)
    response = redirect(request, "/notices" if actor.role is Role.PUBLIC else "/inbox")
    start_session(request, response, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, form: FormParam) -> Response:
    """End the session."""
    values = text_fields(form)
    if csrf_problem(request, values):
        return csrf_refusal(request)
    response = redirect(request, "/sign-in")
    end_session(request, response)
    return response


# -- the inbox and the cases --------------------------------------------------------------------


@router.get("/inbox")
def inbox(
    request: Request,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """What awaits the actor, most urgent first (the work queue), with deadline and article."""
    actor = actor_of(request)
    workflow = workflow_of(request)
    page = work_queue(workflow, actor, limit=50, cursor=cursor)
    return render(request, "inbox.html", {"page": page, "actor": actor})


@router.get("/cases")
def cases(
    request: Request,
    state: Annotated[str | None, Query(max_length=60)] = None,
    round_year: Annotated[int | None, Query(ge=0, le=9999)] = None,
    district: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The cases the actor may read (a district its own, an operator its own bases)."""
    actor = actor_of(request)
    workflow = workflow_of(request)
    if actor.role is Role.PUBLIC:
        return redirect(request, "/notices")
    if actor.role is Role.DISTRICT_AUTHORITY:
        district = actor.district
    chosen = State(state) if state else None
    found = workflow.cases(state=chosen, round_year=round_year, district=district or None)
    visible = [case for case in found if may_read(actor, case)][:500]
    return render(
        request,
        "cases.html",
        {
            "cases": visible,
            "states": list(State),
            "chosen_state": chosen,
            "round_year": round_year,
            "district": district or "",
            "actor": actor,
        },
    )


def _verdict_rows(workflow: Workflow, case: Case, lang: Lang) -> tuple[list[dict[str, Any]], bool]:
    verdict = evaluate(case.application, workflow.policy_for(case), judged_on=case.judged_on)
    return [finding.to_dict(lang) for finding in verdict.findings], bool(verdict.eligible)


def _actions(actor: Actor, case: Case) -> list[Step]:
    """The steps the actor's role may take from the case's state (the guards decide the rest)."""
    return [
        step
        for step in (*STEPS, *RECORDS)
        if step.trigger is not Trigger.DECLARE
        and actor.role in step.roles
        and case.state in step.sources
    ]


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: str,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """A case: state, verdict article by article, deadlines, history with its verification,
    and the case as it stood on a chosen day."""
    actor = actor_of(request)
    workflow = workflow_of(request)
    lang = language(request)
    case = readable_case(workflow, actor, case_id)
    findings, eligible = _verdict_rows(workflow, case, lang)
    history = workflow.history(case_id)
    labels = _action_labels()
    newest = labels.get(history[-1].action) if history else None
    past = None
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise InvalidInputError(
                Text(zh=f"不是有效日期：{as_of[:40]!r}", en=f"not a valid date: {as_of[:40]!r}"),
                hint=Text(zh="请用 YYYY-MM-DD", en="use YYYY-MM-DD"),
            ) from None
        past = case_as_of(workflow, case_id, day)
    return render(
        request,
        "case.html",
        {
            "case": case,
            "actor": actor,
            "findings": findings,
            "eligible": eligible,
            "history": history,
            "note_step": newest.in_(lang) if newest else "",
            "chain": workflow.verify_chain(case_id),
            "actions": _actions(actor, case),
            "past": past,
            "as_of": as_of or "",
            "labels": labels,
        },
    )


def _action_labels() -> dict[str, Text]:
    labels = {step.trigger.value: step.label for step in (*STEPS, *RECORDS)}
    labels["open_round"] = Text(zh="开启申报年度", en="open the round")
    return labels


# -- the actions, one generic form per step -----------------------------------------------------


@router.get("/cases/{case_id}/{trigger}")
def action_form(request: Request, case_id: str, trigger: str) -> Response:
    """The form of a step, derived from its payload, with a fresh idempotency key."""
    actor = actor_of(request)
    workflow = workflow_of(request)
    step = step_named(trigger)
    case = readable_case(workflow, actor, case_id)
    fields = step_fields(workflow, step, case)
    values = {
        **_forms.defaults(fields, workflow.today(), actor.id),
        **_from_case(workflow, case, fields),
    }
    return render(request, "action.html", action_context(workflow, actor, case, step, values))


def _from_case(workflow: Workflow, case: Case, fields: Sequence[FormField]) -> dict[str, str]:
    """What a new form takes from the case: a spot check's population is the application's own
    figure of the judged year (第十条), the one the guard compares the sample with."""
    values: dict[str, str] = {}
    for field in fields:
        if field.name.endswith("resident_small_micro_enterprises"):
            population = spot_check_population(
                case.application, workflow.policy_for(case), judged_on=case.judged_on
            )
            if population is not None:
                values[field.name] = str(population)
    return values


async def _application_text(form: FormData) -> tuple[str, str, str, list[Text]]:
    """The application's text, format and name: an uploaded JSON/TOML file, or pasted JSON."""
    upload = form.get("application_file")
    if not (isinstance(upload, UploadFile) and upload.filename):
        pasted = form.get(APPLICATION_FIELD, "")
        return (pasted if isinstance(pasted, str) else ""), "json", "application", []
    raw = await upload.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        return "", "json", "", [Text(zh="文件过大", en="the file is too large")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "", "json", "", [Text(zh="文件不是 UTF-8 文本", en="the file is not UTF-8 text")]
    fmt = "toml" if upload.filename.lower().endswith(".toml") else "json"
    return text, fmt, upload.filename[:100], []


_TABLES = ("roster_file", "staff_file")
"""The tables of 附件1 an upload may replace: 入驻企业（项目）名录表 and 管理和专职服务人员情况表."""


async def _with_tables(form: FormData, application: Application) -> Application:
    """``application`` with the rows of the uploaded roster and staff workbooks (`import_roster`,
    `import_staff`: every bad cell named with its sheet, row and column)."""
    from ..exports import import_roster, import_staff  # noqa: PLC0415 - openpyxl when needed

    for name, reader in zip(_TABLES, (import_roster, import_staff), strict=True):
        upload = form.get(name)
        if not (isinstance(upload, UploadFile) and upload.filename):
            continue
        suffix = ".csv" if upload.filename.lower().endswith(".csv") else ".xlsx"
        data = await upload.read(MAX_UPLOAD + 1)
        with tempfile.TemporaryDirectory(prefix="kmbase-") as folder:
            path = Path(folder) / f"{name}{suffix}"
            path.write_bytes(data[:MAX_UPLOAD])
            application = reader(application, path)
    return application


async def _application_from(form: FormData) -> tuple[Application | None, list[Text]]:
    """The application of a declaration or resubmission, or why it cannot be read (every
    problem with its path)."""
    text, fmt, source, problems = await _application_text(form)
    if problems:
        return None, problems
    if not text.strip():
        return None, [Text(zh="请上传或粘贴申请材料", en="upload or paste the application")]
    try:
        return await _with_tables(form, loads_application(text, fmt=fmt, source=source)), []
    except ApplicationFormatError as error:
        return None, [error.message, *error.problems]
    except KmbaseError as error:
        return None, [error.message]


async def _payload(
    step: Step, fields: Sequence[FormField], form: FormData, command: Mapping[str, Any]
) -> tuple[object, dict[str, list[Text]], list[Text]]:
    """The step's payload read from the form: (payload, problems by field, other problems)."""
    if step.payload is Application:
        application, general = await _application_from(form)
        return application, {}, general
    try:
        return step.parse_payload(command.get("payload")), {}, []
    except ApplicationFormatError as error:
        problems: dict[str, list[Text]] = {}
        general = [error.message]
        for problem in error.problems:
            name = field_of_problem(problem, fields)
            if name is None:
                general.append(problem)
            else:
                problems.setdefault(name, []).append(problem)
        return None, problems, general
    except InvalidInputError as error:
        return None, {}, [error.message]


@router.post("/cases/{case_id}/{trigger}")
async def act(request: Request, case_id: str, trigger: str, form: FormParam) -> Response:
    """Fire the step with the submitted form (or preview it: every guard, nothing written)."""
    values = text_fields(form)
    if csrf_problem(request, values):
        return csrf_refusal(request)
    actor = actor_of(request)
    workflow = workflow_of(request)
    step = step_named(trigger)
    case = readable_case(workflow, actor, case_id)
    fields = step_fields(workflow, step, case)
    command, problems = read_form(step, fields, values, workflow.today())

    def again(status: int, **extra: Any) -> Response:
        context = action_context(workflow, actor, case, step, values, **extra)
        return render(request, "action.html", context, status=status)

    payload, more, general = await _payload(step, fields, form, command)
    for name, found in more.items():
        problems.setdefault(name, []).extend(found)
    if problems or general:
        return again(422, problems=problems, general=general)
    version = values.get(VERSION_FIELD, "")
    options: dict[str, Any] = {
        "reason": command["reason"],
        "evidence": tuple(command["evidence"]),
        "payload": payload,
        "expected_version": int(version) if version.isdigit() and len(version) < 18 else None,
    }
    try:
        if values.get(INTENT_FIELD) == "preview":
            return again(
                200, preview=workflow.prepare(case_id, step.trigger, actor, **options).case
            )
        key = scoped_key(actor, key_of(values))
        outcome = workflow.fire(case_id, step.trigger, actor, idempotency_key=key, **options)
    except TransitionRefusedError as error:
        return again(
            409, failures=error.failures, general=[] if error.failures else [error.message]
        )
    except ConcurrencyConflictError as error:
        return again(409, general=[error.message, *([error.hint] if error.hint else [])])
    return after_write(request, actor, outcome)


# -- declaring (the operator) -------------------------------------------------------------------


@router.get("/declare")
def declare_page(request: Request) -> Response:
    """Upload the application (附件1 as JSON or TOML, a roster workbook optional)."""
    actor = actor_of(request)
    return render(request, "declare.html", _declare_context(actor, {}))


def _declare_context(actor: Actor, values: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "actor": actor,
        "values": values,
        "key": values.get(KEY_FIELD) or new_key(),
        "findings": None,
        "eligible": None,
        "failures": (),
        "general": (),
        "application_text": values.get(APPLICATION_FIELD, ""),
    }
    context.update(extra)
    return context


@router.post("/declare")
async def declare(request: Request, form: FormParam) -> Response:
    """Preview the verdict (and every guard of 第九条), then declare with the pledge."""
    values = text_fields(form)
    if csrf_problem(request, values):
        return csrf_refusal(request)
    actor = actor_of(request)
    workflow = workflow_of(request)
    lang = language(request)
    application, general = await _application_from(form)
    if general or application is None:
        return render(
            request, "declare.html", _declare_context(actor, values, general=general), status=422
        )
    from ..serialization import dumps_json  # noqa: PLC0415

    text = dumps_json(application, indent=None)
    policy = policy_in_force(workflow.policies, workflow.today())
    verdict = evaluate(application, policy, judged_on=workflow.today())
    shown = {
        "findings": [finding.to_dict(lang) for finding in verdict.findings],
        "eligible": bool(verdict.eligible),
        "application_text": text,
    }
    pledged = values.get("pledge", "") in ("on", "true", "1")
    base = Case.default_base_id(application)
    try:
        with declaration_refused_as_read(workflow, actor, base):
            if values.get(INTENT_FIELD) != "submit" or not pledged:
                workflow.prepare("", Trigger.DECLARE, actor, payload=application)
                general = (
                    []
                    if pledged or values.get(INTENT_FIELD) != "submit"
                    else [Text(zh=t("pledge_missing", "zh"), en=t("pledge_missing", "en"))]
                )
                status = 422 if general else 200
                context = _declare_context(actor, values, general=general, previewed=True, **shown)
                return render(request, "declare.html", context, status=status)
            outcome = workflow.declare(
                application, actor, idempotency_key=scoped_key(actor, key_of(values))
            )
    except TransitionRefusedError as error:
        context = _declare_context(
            actor,
            values,
            failures=error.failures,
            general=[] if error.failures else [error.message],
            **shown,
        )
        return render(request, "declare.html", context, status=409)
    return after_write(request, actor, outcome)
