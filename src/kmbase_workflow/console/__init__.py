"""The officials' console: the workflow in a browser, served by ``kmbase serve`` at ``/console``.

Server-rendered HTML (Jinja2), usable without JavaScript, Chinese by default (``?lang=en``
switches, a cookie remembers). Every page calls the same `Workflow` methods, guards and reading
rule (`may_read`) as the HTTP service, as the actor the service's authenticator gives (a token
from the sign-in form kept in an HttpOnly session cookie, the SSO gateway's identity, or the
browser's own ``Authorization: Bearer``). Needs the ``console`` extra (Jinja2,
python-multipart) besides ``service``. docs/how-to/console.md.

The URLs (under ``/console``; each is stable, the browser tests and the how-to pages use them):

==========================================  ===================================================
``GET  /``                                  the inbox when signed in, else the sign-in page
``GET|POST /sign-in``, ``POST /sign-out``   a token in, a session cookie out
``GET  /inbox``                             the work queue: most urgent first, deadline, article
``GET  /cases``                             the cases you may read (``state``, ``round_year``,
                                            ``district`` filter)
``GET  /cases/{id}``                        state, verdict by article, deadlines, history and its
                                            verification; ``?as_of=YYYY-MM-DD``: as it stood then
``GET|POST /cases/{id}/{trigger}``          any step's form, derived from its payload; POST
                                            fires it (``intent=preview``: every guard, nothing
                                            written)
``GET|POST /declare``                       the operator's declaration: upload, verdict, pledge
``GET|POST /rounds``                        the rounds; the bureau opens one (第九条)
``GET  /rounds/{year}``                     the round dashboard, the ranking with scores
``POST /rounds/{year}/selection``           择优 (第十一条)
``GET  /exports/{route}``                   the service's export route ``GET /{route}`` (附件1,
                                            附件2, 公示, 认定) with the session's token
``GET  /notices``                           public, no sign-in: the bases under notice (第十三条)
``GET|POST /notices/{id}/object``           public: raise an objection
``GET  /static/…``                          the stylesheet
==========================================  ===================================================

Every POST carries a CSRF token (``csrf``) and every action an idempotency key
(``idempotency_key``, made when the form is rendered): a double click or a reload does nothing
twice.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

__all__ = ["console_app", "mount_console"]

if TYPE_CHECKING:
    from fastapi import FastAPI

CONSOLE_PATH = "/console"
STATIC = Path(__file__).parent / "static"


def console_app(service: FastAPI, path: str = CONSOLE_PATH) -> FastAPI:
    """The console as an ASGI application over ``service``'s workflow and authenticator (read
    from its state on each request, so a host that changes them later is followed), to be
    mounted at ``path`` of the service."""
    from ._app import build  # noqa: PLC0415 - Jinja2 only when the console is served

    return build(service, path.rstrip("/"))


def mount_console(service: FastAPI, path: str = CONSOLE_PATH) -> None:
    """Mount the console at ``path`` of the service; without Jinja2 or python-multipart (the
    ``console`` extra) the service runs without it."""
    # python-multipart's own module name (its old name "multipart" warns when imported)
    if any(importlib.util.find_spec(name) is None for name in ("jinja2", "python_multipart")):
        return
    service.mount(path, console_app(service, path), name="console")
