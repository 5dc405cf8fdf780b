"""The console's pages: one small route each over the same workflow calls as the HTTP service.

Each write calls the `Workflow` method the service's route calls, with the actor the service's
authenticator gives and the idempotency key the form carried (scoped to the actor as at the
API); each read checks the service's reading rule (`may_read`). A refusal re-renders the form
with every failed guard and its article, next to the field it concerns.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
import urllib.parse
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from .._i18n import Lang, Text
from ..actors import Actor, Role
from ..as_of import case_as_of
from ..case import Case, DeclarationRound, State
from ..eligibility import evaluate
from ..errors import (
    ApplicationFormatError,
    ConcurrencyConflictError,
    InvalidInputError,
    KmbaseError,
    TransitionRefusedError,
)
from ..lifecycle import RECORDS, STEPS, GuardFailure, Step, Trigger, step_for
from ..policy import policy_in_force
from ..queues import dashboard, work_queue
from ..records import Application
from ..serialization import loads_application
from ..service._errors import ServiceError, status_of
from ..service._routing import (
    RoundYear,
    declaration_refused_as_read,
    may_read,
    readable_case,
    scoped_key,
)
from ..workflow import Outcome, Workflow
from . import _forms
from ._forms import APPLICATION as APPLICATION_FIELD
from ._forms import FormField, field_of_guard, field_of_problem, read_form, step_form
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

__all__ = ["MAX_UPLOAD", "router"]

router = APIRouter()

MAX_UPLOAD = 4 * 1024 * 1024
"""The largest file or form read (the service's own body limit)."""
KEY_FIELD = "idempotency_key"
VERSION_FIELD = "expected_version"
INTENT_FIELD = "intent"

_PUBLIC_STATES = (State.NOTICE_ANNOUNCED, State.PUBLICIZED, State.OBJECTED, State.VERIFIED)
"""The states of a base the public notice shows (第十三条): announced, running, objected to."""


class SignInRequired(Exception):  # noqa: N818 - a signal, answered with the sign-in page
    """The page needs a signed-in actor."""


def _actor(request: Request) -> Actor:
    actor = current_actor(request)
    if actor is None:
        raise SignInRequired
    return actor


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _redirect(request: Request, path: str) -> Response:
    return RedirectResponse(f"{_base(request)}{path}", status_code=303)


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


def _with_article(failure: GuardFailure) -> Text:
    """A failed guard's message with its article, unless the message already names it."""
    zh = failure.message.zh
    en = failure.message.en
    if failure.article.zh not in zh:
        zh = f"{zh}（{failure.article.zh}）"
    if failure.article.en not in en:
        en = f"{en} ({failure.article.en})"
    return Text(zh=zh, en=en)


def _texts(form: FormData) -> dict[str, str]:
    """The form's text fields (the first of repeated ones), files left out."""
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in values:
            values[key] = value
    return values


def _csrf_refusal(request: Request) -> Response:
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


def _key(values: Mapping[str, str]) -> str | None:
    key = values.get(KEY_FIELD, "").strip()
    return key[:200] if key else None


# -- signing in -------------------------------------------------------------------------------


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    """The inbox when signed in, else the sign-in page."""
    try:
        actor = current_actor(request)
    except KmbaseError:
        actor = None
    if actor is None:
        return _redirect(request, "/sign-in")
    return _redirect(request, "/notices" if actor.role is Role.PUBLIC else "/inbox")


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    """The sign-in form (a token)."""
    return render(request, "sign_in.html", {"problem": None})


@router.post("/sign-in")
async def sign_in(request: Request, form: FormParam) -> Response:
    """Check the token with the service's authenticator and keep it in the session cookie."""
    values = _texts(form)
    if csrf_problem(request, values):
        return _csrf_refusal(request)
    token = values.get("token", "")
    try:
        actor = signed_in_with(request, token)
    except KmbaseError as error:
        return render(request, "sign_in.html", {"problem": error.message}, status=401)
    response = _redirect(request, "/notices" if actor.role is Role.PUBLIC else "/inbox")
    start_session(request, response, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, form: FormParam) -> Response:
    """End the session."""
    values = _texts(form)
    if csrf_problem(request, values):
        return _csrf_refusal(request)
    response = _redirect(request, "/sign-in")
    end_session(request, response)
    return response


# -- the inbox and the cases --------------------------------------------------------------------


@router.get("/inbox")
def inbox(
    request: Request,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """What awaits the actor, most urgent first (the work queue), with deadline and article."""
    actor = _actor(request)
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
    actor = _actor(request)
    workflow = workflow_of(request)
    if actor.role is Role.PUBLIC:
        return _redirect(request, "/notices")
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
    actor = _actor(request)
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


def _step(trigger: str) -> Step:
    step = step_for(Trigger(trigger))  # an unknown name: InvalidInputError listing the choices
    if step.trigger is Trigger.DECLARE:
        raise InvalidInputError(
            Text(zh="申报请使用申报页面", en="use the declaration page to declare"),
        )
    return step


def _fields(workflow: Workflow, step: Step, case: Case) -> tuple[FormField, ...]:
    return step_form(step, workflow.policy_for(case))


def _action_context(
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
    fields = _fields(workflow, step, case)
    by_field: dict[str, list[Text]] = {
        name: list(found) for name, found in (problems or {}).items()
    }
    for failure in failures:
        name = field_of_guard(failure, fields)
        if name is not None:
            by_field.setdefault(name, []).append(_with_article(failure))
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


@router.get("/cases/{case_id}/{trigger}")
def action_form(request: Request, case_id: str, trigger: str) -> Response:
    """The form of a step, derived from its payload, with a fresh idempotency key."""
    actor = _actor(request)
    workflow = workflow_of(request)
    step = _step(trigger)
    case = readable_case(workflow, actor, case_id)
    fields = _fields(workflow, step, case)
    values = _forms.defaults(fields, workflow.today(), actor.id)
    return render(request, "action.html", _action_context(workflow, actor, case, step, values))


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


async def _with_roster(form: FormData, application: Application) -> Application:
    """``application`` with the uploaded roster workbook's rows as its residents (`import_roster`)."""
    roster = form.get("roster_file")
    if not (isinstance(roster, UploadFile) and roster.filename):
        return application
    from ..exports import import_roster  # noqa: PLC0415 - openpyxl only when a roster comes

    suffix = ".csv" if roster.filename.lower().endswith(".csv") else ".xlsx"
    data = await roster.read(MAX_UPLOAD + 1)
    with tempfile.TemporaryDirectory(prefix="kmbase-") as folder:
        path = Path(folder) / f"roster{suffix}"
        path.write_bytes(data[:MAX_UPLOAD])
        return import_roster(application, path)


async def _application_from(form: FormData) -> tuple[Application | None, list[Text]]:
    """The application of a declaration or resubmission, or why it cannot be read (every
    problem with its path)."""
    text, fmt, source, problems = await _application_text(form)
    if problems:
        return None, problems
    if not text.strip():
        return None, [Text(zh="请上传或粘贴申请材料", en="upload or paste the application")]
    try:
        return await _with_roster(form, loads_application(text, fmt=fmt, source=source)), []
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
    values = _texts(form)
    if csrf_problem(request, values):
        return _csrf_refusal(request)
    actor = _actor(request)
    workflow = workflow_of(request)
    step = _step(trigger)
    case = readable_case(workflow, actor, case_id)
    fields = _fields(workflow, step, case)
    command, problems = read_form(step, fields, values, workflow.today())

    def again(status: int, **extra: Any) -> Response:
        context = _action_context(workflow, actor, case, step, values, **extra)
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
        key = scoped_key(actor, _key(values))
        outcome = workflow.fire(case_id, step.trigger, actor, idempotency_key=key, **options)
    except TransitionRefusedError as error:
        return again(
            409, failures=error.failures, general=[] if error.failures else [error.message]
        )
    except ConcurrencyConflictError as error:
        return again(409, general=[error.message, *([error.hint] if error.hint else [])])
    return _done(request, actor, outcome)


def _done(request: Request, actor: Actor, outcome: Outcome) -> Response:
    """After a write: the case page (with a note), or, for someone who may not read the case
    (a member of the public objecting), an acknowledgement that tells nothing more."""
    note = "replayed" if outcome.replayed else "done"
    if not may_read(actor, outcome.case):
        return render(request, "acknowledged.html", {"replayed": outcome.replayed})
    quoted = urllib.parse.quote(outcome.case.id, safe="")
    return _redirect(request, f"/cases/{quoted}?note={note}")


# -- declaring (the operator) -------------------------------------------------------------------


@router.get("/declare")
def declare_page(request: Request) -> Response:
    """Upload the application (附件1 as JSON or TOML, a roster workbook optional)."""
    actor = _actor(request)
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
    values = _texts(form)
    if csrf_problem(request, values):
        return _csrf_refusal(request)
    actor = _actor(request)
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
                application, actor, idempotency_key=scoped_key(actor, _key(values))
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
    return _done(request, actor, outcome)


# -- rounds (the city bureau) -------------------------------------------------------------------


@router.get("/rounds")
def rounds(request: Request) -> Response:
    """The declaration rounds, and the form to open one (第九条)."""
    actor = _actor(request)
    workflow = workflow_of(request)
    return render(
        request,
        "rounds.html",
        {
            "actor": actor,
            "rounds": workflow.store.rounds(),
            "values": {},
            "failures": (),
            "general": (),
        },
    )


def _refusal(error: KmbaseError) -> dict[str, Any]:
    """A refusal as a page shows it: every failed guard with its article, else the message."""
    failures = tuple(getattr(error, "failures", ()))
    general = [] if failures else [error.message, *([error.hint] if error.hint else [])]
    return {"failures": failures, "general": general}


def _round_dates(values: Mapping[str, str]) -> tuple[int, dt.date, dt.date] | None:
    year = values.get("year", "").strip()
    try:
        opens = dt.date.fromisoformat(values.get("opens_on", "").strip())
        closes = dt.date.fromisoformat(values.get("closes_on", "").strip())
    except ValueError:
        return None
    if not year.isdigit() or len(year) > 4:
        return None
    return int(year), opens, closes


@router.post("/rounds")
async def open_round(request: Request, form: FormParam) -> Response:
    """Open a round (第九条); the same round submitted again (a double click) is shown, not
    refused."""
    values = _texts(form)
    if csrf_problem(request, values):
        return _csrf_refusal(request)
    actor = _actor(request)
    workflow = workflow_of(request)
    wanted = _round_dates(values)
    refusal: dict[str, Any] = {"failures": (), "general": []}
    status = 422
    if wanted is None:
        refusal["general"] = [
            Text(
                zh="请填写年度和 YYYY-MM-DD 格式的起止日期",
                en="give the year and both dates as YYYY-MM-DD",
            )
        ]
    else:
        year, opens, closes = wanted
        notice = values.get("notice", "")[:500]
        if DeclarationRound(year, opens, closes, notice) in workflow.store.rounds():
            return _redirect(request, f"/rounds/{year}")
        try:
            workflow.open_round(year, opens, closes, actor, notice)
        except KmbaseError as error:
            refusal, status = _refusal(error), status_of(error)
        else:
            return _redirect(request, f"/rounds/{year}")
    context = {"actor": actor, "rounds": workflow.store.rounds(), "values": values, **refusal}
    return render(request, "rounds.html", context, status=status)


def _ranked(workflow: Workflow, actor: Actor, year: int) -> list[Case]:
    """The round's cases the actor may read, ranked (unranked last, by declaration)."""
    found = [case for case in workflow.cases(round_year=year) if may_read(actor, case)]
    return sorted(
        found,
        key=lambda case: (
            case.selection is None,
            case.selection.rank if case.selection else 0,
            case.declared_on,
            case.id,
        ),
    )


def _decision(cases: Sequence[Case]) -> int:
    return max((case.selection.decision for case in cases if case.selection), default=0)


def _round_page(
    request: Request, actor: Actor, year: int, *, status: int = 200, **refusal: Any
) -> Response:
    if actor.role not in (Role.CITY_BUREAU, Role.EXPERT, Role.DISTRICT_AUTHORITY, Role.SYSTEM):
        raise ServiceError(
            403, Text(zh="无权查看年度概览", en="you may not see the round dashboard")
        )
    workflow = workflow_of(request)
    district = actor.district if actor.role is Role.DISTRICT_AUTHORITY else None
    ranked = _ranked(workflow, actor, year)
    context = {
        "actor": actor,
        "year": year,
        "board": dashboard(workflow, round_year=year, district=district),
        "ranked": ranked,
        "decision": _decision(ranked),
        "districts": sorted({case.district for case in ranked}),
        "failures": (),
        "general": (),
        **refusal,
    }
    return render(request, "round.html", context, status=status)


@router.get("/rounds/{year}")
def round_page(request: Request, year: RoundYear) -> Response:
    """The round dashboard: cases by state and district, notices running, deadlines soon,
    overdue; the ranking with the experts' scores, and the selection (择优)."""
    return _round_page(request, _actor(request), year)


@router.post("/rounds/{year}/selection")
async def select(request: Request, year: RoundYear, form: FormParam) -> Response:
    """Rank the round and select the best ``quota`` (择优, 第十一条). The form carries the
    decision it was rendered after: a second submission of it (a double click, a reload)
    finds a newer decision and shows it instead of ranking again."""
    values = _texts(form)
    if csrf_problem(request, values):
        return _csrf_refusal(request)
    actor = _actor(request)
    workflow = workflow_of(request)
    seen = values.get("decision", "")
    quota = values.get("quota", "").strip()
    if seen.isdigit() and int(seen) < _decision(_ranked(workflow, actor, year)):
        return _redirect(request, f"/rounds/{year}")
    try:
        if not quota.isdigit() or len(quota) > 9:
            raise InvalidInputError(
                Text(
                    zh=f"择优名额应为非负整数，收到 {quota[:20]!r}",
                    en=f"the quota must be a whole number, got {quota[:20]!r}",
                )
            )
        workflow.select_round(year, actor, quota=int(quota), reason=values.get("reason", "")[:2000])
    except KmbaseError as error:
        return _round_page(request, actor, year, status=status_of(error), **_refusal(error))
    return _redirect(request, f"/rounds/{year}")


# -- the public notice (no sign-in) -------------------------------------------------------------


def _in_notice(workflow: Workflow) -> list[Case]:
    found: list[Case] = []
    for state in _PUBLIC_STATES:
        found.extend(workflow.cases(state=state))
    return sorted(
        found,
        key=lambda case: (
            case.round_year,
            case.notice.start if case.notice else dt.date.min,
            case.id,
        ),
    )


def _contact(request: Request) -> Any:
    from ..service._documents import _settings  # noqa: PLC0415 - the documents' settings

    try:
        return _settings(request).objections
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
        {**_action_context(workflow, actor, case, step, values), "public": True},
    )


@router.post("/notices/{case_id}/object")
async def objection(request: Request, case_id: str, form: FormParam) -> Response:
    """Raise an objection: the same step (`object`) and guards as at the API."""
    values = _texts(form)
    if csrf_problem(request, values):
        return _csrf_refusal(request)
    workflow = workflow_of(request)
    case = _public_case(workflow, case_id)
    actor = _public_actor(request)
    step = step_for(Trigger.OBJECT)
    fields = step_form(step, workflow.policy_for(case))
    command, problems = read_form(step, fields, values, workflow.today())

    def again(status: int, **extra: Any) -> Response:
        context = _action_context(workflow, actor, case, step, values, **extra)
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
            idempotency_key=scoped_key(actor, _key(values)),
        )
    except ApplicationFormatError as error:
        return again(422, general=[error.message, *error.problems])
    except TransitionRefusedError as error:
        return again(
            409, failures=error.failures, general=[] if error.failures else [error.message]
        )
    except (InvalidInputError, ConcurrencyConflictError) as error:
        return again(409, general=[error.message])
    return _done(request, actor, outcome)
