"""A browser's part in the console's server-side tests: sign in with a token, read a page's
forms as a browser would submit them (hidden fields, defaults, checked boxes), submit them."""

from __future__ import annotations

import html
import html.parser
import re
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
from fastapi.testclient import TestClient

from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.service import create_app
from service_helpers import issue_tokens


@attrs.define
class Form:
    """A form of a page: where it posts and the values a browser would send as they stand."""

    action: str
    method: str
    values: dict[str, str] = attrs.field(factory=dict)
    buttons: list[tuple[str, str]] = attrs.field(factory=list)


class _Forms(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attributes}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    form.values[a["name"]] = a.get("value", "on")
            elif kind != "file":
                form.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea, self._text = a.get("name", ""), []
        elif tag == "select":
            self._select = a.get("name", "")
            form.values.setdefault(self._select, "")
        elif tag == "option" and self._select is not None and "selected" in a:
            form.values[self._select] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            form.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.forms[-1].values[self._textarea] = "".join(self._text).removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def forms(page: str) -> list[Form]:
    """Every form of ``page``."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def text(page: str) -> str:
    """The visible text of a page, one space between words (tags removed)."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


@attrs.define
class Browser:
    """A TestClient with the console's cookies, signed in as one actor at a time."""

    client: TestClient
    tokens: dict[str, str]

    def sign_in(self, name: str) -> Any:
        """Sign in with the token of ``name`` (an actor of lifecycle_helpers.ACTORS)."""
        self.client.cookies.clear()
        page = self.client.get("/console/sign-in")
        form = next(f for f in forms(page.text) if f.action.endswith("/sign-in"))
        return self.client.post(form.action, data={**form.values, "token": self.tokens[name]})

    def get(self, path: str, **options: Any) -> Any:
        return self.client.get(path, **options)

    def form(self, path: str, action: str | None = None) -> Form:
        """The form of the page at ``path`` that posts to ``action`` (default: the first
        form posting somewhere other than sign-out)."""
        page = self.client.get(path)
        assert page.status_code == 200, text(page.text)
        found = [
            f for f in forms(page.text) if f.method == "post" and not f.action.endswith("/sign-out")
        ]
        if action is not None:
            found = [f for f in found if f.action.endswith(action)]
        assert found, f"no form on {path}"
        return found[0]

    def submit(
        self,
        path: str,
        fields: Mapping[str, str] | None = None,
        *,
        intent: str = "submit",
        action: str | None = None,
        drop: tuple[str, ...] = (),
        files: Any = None,
    ) -> Any:
        """Fill the form of the page at ``path`` with ``fields`` and submit it."""
        form = self.form(path, action)
        data = {**form.values, **(fields or {})}
        if any(name == "intent" for name, _ in form.buttons):
            data["intent"] = intent
        for name in drop:
            data.pop(name, None)
        return self.client.post(form.action, data=data, files=files)


def console(
    url: str = "memory://", clock: FixedClock | None = None
) -> Iterator[tuple[Browser, Workflow, FixedClock]]:
    """A service over a new workflow, and a browser for its console."""
    from lifecycle_helpers import DECLARED_ON

    clock = clock or FixedClock(DECLARED_ON)
    workflow = Workflow(url, clock=clock)
    tokens = issue_tokens(workflow)
    with TestClient(create_app(workflow), follow_redirects=True) as client:
        yield Browser(client, tokens), workflow, clock
    workflow.close()
