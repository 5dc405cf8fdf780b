"""Who uses the console, and whether a form came from it.

Signing in is the API's: the console asks the service's own authenticator (`create_app`'s
``auth``: API tokens, or the SSO gateway's signed identity) about every request, with the same
district check. A browser may send ``Authorization: Bearer`` itself or come through the
gateway; otherwise the sign-in form takes a token and keeps it in a session cookie (HttpOnly,
SameSite=Lax, Secure when served over TLS, directly or behind a proxy that says so), which is checked again on every request, so a
revoked token ends the session at once.

Every form carries a CSRF token that must equal the ``kmbase_csrf`` cookie (SameSite=Strict,
HttpOnly; a double-submit token: a page of another site can neither read the cookie nor set
the field), and a request a browser marks as cross-site (``Sec-Fetch-Site: cross-site``) is
refused whatever it carries.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import Response

from .._i18n import Lang, Text
from ..actors import Actor
from ..errors import KmbaseError
from ..service._auth import IDENTITY_HEADER
from ..service._errors import ServiceError
from ..service._routing import request_actor as service_actor

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "LANG_COOKIE",
    "SESSION_COOKIE",
    "csrf_problem",
    "csrf_token",
    "current_actor",
    "language",
    "set_cookies",
    "signed_in_with",
]

SESSION_COOKIE = "kmbase_session"
CSRF_COOKIE = "kmbase_csrf"
CSRF_FIELD = "csrf"
LANG_COOKIE = "kmbase_lang"
SESSION_SECONDS = 12 * 3600
"""How long a session cookie lasts (a working day; the token itself may be revoked sooner)."""
MAX_TOKEN = 200


def _with_authorization(request: Request, token: str) -> Request:
    """The request as if it carried ``Authorization: Bearer token`` (the cookie's token)."""
    headers = [(k, v) for k, v in request.scope["headers"] if k.lower() != b"authorization"]
    headers.append((b"authorization", f"Bearer {token}".encode("latin-1")))
    return Request({**request.scope, "headers": headers}, request.receive)


def signed_in_with(request: Request, token: str) -> Actor:
    """The actor of ``token`` as the service's authenticator sees it (`ServiceError` 401
    if it knows none)."""
    if not token.strip() or len(token) > MAX_TOKEN or not token.isascii():
        raise ServiceError(
            401,
            Text(
                zh="未认证：令牌无效或已吊销",
                en="not authenticated: the token is unknown or revoked",
            ),
        )
    return service_actor(_with_authorization(request, token.strip()))


def current_actor(request: Request) -> Actor | None:
    """Who sends ``request``: by its own ``Authorization`` or gateway headers, else by the
    session cookie; ``None`` when neither is there. A credential that fails is a
    `ServiceError` (401), as at the API."""
    headers = request.headers
    if "authorization" in headers or IDENTITY_HEADER.lower() in headers:
        return service_actor(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    try:
        return signed_in_with(request, token)
    except KmbaseError:
        return None  # a revoked token or a stale cookie: signed out


def language(request: Request) -> Lang:
    """Chinese unless ``?lang=en`` or the language cookie says English."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE, "")
    return "en" if chosen == "en" else "zh"


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (its cookie's, or a fresh one `set_cookies` sets)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) < 32 or len(token) > 100 or not token.isascii():
        token = getattr(request.state, "new_csrf", "") or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def csrf_problem(request: Request, form: Mapping[str, object]) -> bool:
    """Whether a submitted form fails the CSRF check (True: refuse it)."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD, "")
    if not isinstance(sent, str) or len(cookie) < 32 or not sent:
        return True
    return not hmac.compare_digest(
        cookie.encode("utf-8", "replace"), sent.encode("utf-8", "replace")
    )


def _secure(request: Request) -> bool:
    """Served over TLS: the request's scheme, or the reverse proxy that terminates TLS says so
    (``X-Forwarded-Proto``, ``Forwarded: proto=https``; ``kmbase serve`` does not let uvicorn
    rewrite the scheme from them). A client that claims TLS itself only makes its own cookies
    Secure."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    standard = request.headers.get("forwarded", "").lower().replace(" ", "")
    return forwarded == "https" or "proto=https" in standard


def set_cookies(request: Request, response: Response) -> None:
    """The cookies a page sets: a fresh CSRF token, the language asked with ``?lang=``."""
    new = getattr(request.state, "new_csrf", "")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/"
        )
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=365 * 86400,
            samesite="lax",
            secure=_secure(request),
            path="/",
        )


def start_session(request: Request, response: Response, token: str) -> None:
    """Keep ``token`` in the session cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        token.strip(),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
