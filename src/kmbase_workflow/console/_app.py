"""The console's ASGI application: its pages, its stylesheet, its error pages (HTML, in the
chosen language, never a traceback), and the exports forwarded to the service's own routes."""

from __future__ import annotations

import re
import urllib.parse

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from .._i18n import Text
from ..errors import KmbaseError
from ..service._errors import status_of
from . import STATIC
from ._pages import router as pages
from ._public import router as public
from ._render import render
from ._rounds import router as rounds
from ._session import SESSION_COOKIE
from ._web import SignInRequired

__all__ = ["EXPORTS", "build"]

EXPORTS = re.compile(
    r"(cases/[^/]{1,200}/(application-tables\.xlsx|application-form\.(docx|html|txt))"
    r"|rounds/[0-9]{1,4}/(notice|decision)\.(docx|html|txt)"
    r"|rounds/[0-9]{1,4}/districts/[^/]{1,200}/recommendation-table\.(xlsx|docx|html|txt))"
)
"""The service's export routes the console links to (附件1, 附件2, 公示, 认定)."""


def _error_page(request: Request, message: Text, hint: Text | None, status: int) -> Response:
    return render(request, "error.html", {"message": message, "hint": hint or ""}, status=status)


def _library_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, KmbaseError)
    return _error_page(request, error.message, error.hint, status_of(error))


def _sign_in(request: Request, _error: Exception) -> Response:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return RedirectResponse(f"{root}/sign-in", status_code=303)


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404:
        message = Text(
            zh=f"没有这个页面：{request.url.path[:200]}",
            en=f"no such page: {request.url.path[:200]}",
        )
    else:
        message = Text(zh=f"HTTP {error.status_code}", en=f"HTTP {error.status_code}")
    return _error_page(request, message, None, error.status_code)


def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    lines = [
        f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg', '')}"[:200]
        for problem in error.errors()
    ]
    message = Text(zh="输入无效：" + "；".join(lines), en="bad input: " + "; ".join(lines))
    return _error_page(request, message, None, 422)


def _exports(service: FastAPI, prefix: str) -> object:
    """A raw ASGI endpoint: ``/exports/<route>`` is the service's ``GET /<route>`` (one of
    `EXPORTS`), asked with the session's token, so the rights and the files are the service's."""

    async def forward(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        rest = urllib.parse.unquote(scope["path"][len(scope.get("root_path", "")) :].lstrip("/"))
        if request.method != "GET" or not EXPORTS.fullmatch(rest):
            response = _http_error(request, StarletteHTTPException(404))
            await response(scope, receive, send)
            return
        headers = list(scope["headers"])
        names = {name.lower() for name, _ in headers}
        token = request.cookies.get(SESSION_COOKIE, "")
        if b"authorization" not in names and token.isascii() and 0 < len(token) <= 200:
            headers.append((b"authorization", f"Bearer {token}".encode("ascii")))
        root = str(scope.get("root_path", ""))
        top = root[: -len(prefix)] if root.endswith(prefix) else ""  # the service's own root
        quoted = "/" + "/".join(urllib.parse.quote(part, safe="") for part in rest.split("/"))
        inner = {
            **scope,
            "headers": headers,
            "root_path": top,
            "path": top + "/" + rest,
            "raw_path": (top + quoted).encode("ascii"),
        }
        inner.pop("endpoint", None)
        await service(inner, receive, send)

    return forward


def build(service: FastAPI, path: str) -> FastAPI:
    """The console over ``service`` (its state: the workflow, the authenticator, the
    documents' settings), to be mounted at ``path`` of it."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state = service.state
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(KmbaseError, _library_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/exports", _exports(service, f"{path}/exports"), name="exports")  # type: ignore[arg-type]
    for routes in (pages, rounds, public):
        app.include_router(routes)
    return app
