"""The documents of `kmbase_workflow.exports` over HTTP (``.docx``, ``.html``, ``.txt``), under
the reading rights of the records they come from: a round's 公示 or 认定 notice to whoever
may read every case it lists, 附件1 to whoever may read the case, 附件2 as its workbook.

The host's `DocumentSettings` (the issuing office, where to object) are ``app.state.documents``
when the host set them, else read (once per app) from the file named by ``$KMBASE_DOCUMENTS``.
"""

from __future__ import annotations

import enum
import os
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from .._i18n import Text
from ..actors import Role
from ..exports import (
    Document,
    DocumentSettings,
    application_form,
    certification_notice,
    load_document_settings,
    public_notice,
    recommendation_document,
    render_docx,
    render_html,
    render_text,
)
from ._routing import (
    ERRORS,
    ActorParam,
    RoundYear,
    WorkflowParam,
    forbidden,
    may_read,
    parse_date,
    readable_case,
)

__all__ = ["document_settings", "router"]

router = APIRouter(responses=ERRORS)


class DocumentFormat(enum.Enum):
    """The formats the service answers with."""

    DOCX = "docx"
    HTML = "html"
    TXT = "txt"


_MEDIA = {
    DocumentFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentFormat.HTML: "text/html; charset=utf-8",
    DocumentFormat.TXT: "text/plain; charset=utf-8",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document",
        "content": {media.split(";")[0]: {} for media in _MEDIA.values()},
    }
}


def document_settings(request: Request) -> DocumentSettings:
    """The issuing office's settings: the app's, else ``$KMBASE_DOCUMENTS``'s file, read once
    per app (and again only when the variable names another file)."""
    state = request.app.state
    configured = getattr(state, "documents", None)
    if isinstance(configured, DocumentSettings):
        return configured
    path = os.environ.get("KMBASE_DOCUMENTS")
    if not path:
        return DocumentSettings()
    read: tuple[str, DocumentSettings] | None = getattr(state, "documents_file", None)
    if read is not None and read[0] == path:
        return read[1]
    settings = load_document_settings(path)
    state.documents_file = (path, settings)
    return settings


def _answer(document: Document, form: DocumentFormat, name: str) -> Response:
    content: bytes
    if form is DocumentFormat.DOCX:
        content = render_docx(document)
    elif form is DocumentFormat.HTML:
        content = render_html(document).encode("utf-8")
    else:
        content = render_text(document).encode("utf-8")
    quoted = urllib.parse.quote(f"{name}.{form.value}")
    return Response(
        content,
        media_type=_MEDIA[form],
        headers={
            "Content-Disposition": (
                f"attachment; filename=document.{form.value}; filename*=UTF-8''{quoted}"
            )
        },
    )


def _listed_readable(workflow: WorkflowParam, actor: ActorParam, document: Document) -> None:
    """Refuse unless the actor may read every case the document lists."""
    cases = document.summary.get("cases", [])
    assert isinstance(cases, list)
    for case_id in cases:
        if not may_read(actor, workflow.case(str(case_id))):
            raise forbidden(Text(zh=document.title, en=f"the document {document.title}"))


DateQuery = Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD")]


@router.get(
    "/rounds/{year}/notice.{form}",
    tags=["exports"],
    response_class=Response,
    responses=_RESPONSES,
)
def notice_document(
    year: RoundYear,
    form: DocumentFormat,
    request: Request,
    actor: ActorParam,
    workflow: WorkflowParam,
    starts_on: DateQuery = None,
) -> Response:
    """The 公示 of a round (第十三条): the bases in public notice and its stored period."""
    first = parse_date(starts_on, "starts_on") if starts_on else None
    document = public_notice(workflow, year, document_settings(request), starts_on=first).document()
    _listed_readable(workflow, actor, document)
    return _answer(document, form, f"公示-{year}")


@router.get(
    "/rounds/{year}/decision.{form}",
    tags=["exports"],
    response_class=Response,
    responses=_RESPONSES,
)
def decision_document(
    year: RoundYear,
    form: DocumentFormat,
    request: Request,
    actor: ActorParam,
    workflow: WorkflowParam,
    decision: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The 认定 notice of a round (第十四条), each base with its validity (第十五条)."""
    notice = certification_notice(workflow, year, document_settings(request), decision=decision)
    document = notice.document()
    _listed_readable(workflow, actor, document)
    return _answer(document, form, f"认定通知-{year}")


@router.get(
    "/cases/{case_id}/application-form.{form}",
    tags=["exports"],
    response_class=Response,
    responses=_RESPONSES,
)
def application_form_document(
    case_id: str, form: DocumentFormat, actor: ActorParam, workflow: WorkflowParam
) -> Response:
    """附件1 of the case as the form to sign (承诺书, 申请表 and its four tables)."""
    case = readable_case(workflow, actor, case_id)
    document = application_form(case, policy=workflow.policy_for(case))
    return _answer(document, form, f"附件1-{case.id}")


@router.get(
    "/rounds/{year}/districts/{district}/recommendation-table.{form}",
    tags=["exports"],
    response_class=Response,
    responses=_RESPONSES,
)
def recommendation_document_route(
    year: RoundYear, district: str, form: DocumentFormat, actor: ActorParam, workflow: WorkflowParam
) -> Response:
    """A district's 推荐汇总表 (附件2) as a document: the bureau's, or the district's own."""
    if actor.role is not Role.CITY_BUREAU and not (
        actor.role is Role.DISTRICT_AUTHORITY and actor.district == district
    ):
        raise forbidden(
            Text(zh=f"{district}的推荐汇总表", en=f"the recommendation table of {district}")
        )
    document = recommendation_document(workflow, district, year)
    return _answer(document, form, f"附件2-推荐汇总表-{district}-{year}")
