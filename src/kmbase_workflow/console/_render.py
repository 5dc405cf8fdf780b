"""Rendering a page: the Jinja2 environment (autoescaped: data is text, never markup), the
strings of the chosen language, and the cookies a page sets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from .._i18n import Lang, Text
from ..case import State
from ..workflow import Workflow
from ._session import CSRF_FIELD, csrf_token, language, set_cookies
from ._text import UI, t

__all__ = ["render", "workflow_of"]

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("kmbase_workflow.console", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def workflow_of(request: Request) -> Workflow:
    """The workflow the console runs over (the service's)."""
    workflow: Workflow = request.app.state.workflow
    return workflow


def _in(lang: Lang) -> Any:
    def text(value: object) -> str:
        if isinstance(value, Text):
            return value.in_(lang)
        if isinstance(value, dict) and set(value) >= {"zh", "en"}:
            return str(value[lang])
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
        if value is None:
            return ""
        return str(value)

    return text


def _shown(lang: Lang) -> Any:
    """A finding's required or actual value as a person reads it."""

    def shown(value: object) -> str:
        if isinstance(value, bool):
            return t("yes", lang) if value else t("no", lang)
        if isinstance(value, float):
            return f"{value:.4g}"
        if value is None:
            return "—"
        return str(value)

    return shown


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """``template`` with ``context``, in the request's language, with its CSRF token."""
    lang = language(request)
    other: Lang = "en" if lang == "zh" else "zh"
    path = request.url.path
    page = _ENVIRONMENT.get_template(template).render(
        {
            "lang": lang,
            "html_lang": "zh-CN" if lang == "zh" else "en",
            "other_lang": other,
            "t": lambda key, **values: t(key, lang, **values),
            "tx": _in(lang),
            "shown": _shown(lang),
            "ui": UI,
            "state_labels": {state.value: state.label for state in State},
            "base": str(request.scope.get("root_path", "")).rstrip("/"),
            "path": path,
            "csrf_field": CSRF_FIELD,
            "csrf": csrf_token(request),
            "actor": None,
            "note": request.query_params.get("note", "")[:20],
            "note_step": "",
            # punctuation around the pages' values: full-width in Chinese
            "colon": "：" if lang == "zh" else ": ",
            "lp": "（" if lang == "zh" else " (",
            "rp": "）" if lang == "zh" else ")",
            **context,
        }
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    set_cookies(request, response)
    return response
