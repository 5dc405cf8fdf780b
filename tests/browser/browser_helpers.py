"""The officials' console in a real browser: where Chromium and Playwright are, what happens
without them, the service on a movable day, and the checks every page passes.

Playwright drives the machine's Chromium (Debian's ``chromium`` package, ``/usr/bin/chromium``;
``KMBASE_CHROMIUM`` names another binary): nothing is downloaded (no ``playwright install``).
Without them a browser test skips and says why, unless ``KMBASE_REQUIRE_SERVICES=1`` (or
``KMBASE_REQUIRE_BROWSER=1``), set by CI, in which case it fails: CI must never pass by skipping.

The service runs in a thread of the test process under uvicorn, from ``create_app`` (the
factory ``kmbase serve`` runs), over a workflow whose `FixedClock` the test moves: a round
spans months, and a server restarted on each new day would sign everyone out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from kmbase_workflow import FixedClock, Workflow
from lifecycle_helpers import APPLICATION, BUREAU, OPERATOR, ROUND_CLOSES, ROUND_OPENS

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        LocatorAssertions,
        Page,
        PageAssertions,
        Response,
        Route,
    )

CHROMIUM_VARIABLE = "KMBASE_CHROMIUM"
REQUIRED = "1" in (
    os.environ.get("KMBASE_REQUIRE_SERVICES"),
    os.environ.get("KMBASE_REQUIRE_BROWSER"),
)


def chromium() -> str | None:
    """The Chromium binary the tests drive (``$KMBASE_CHROMIUM``, else Debian's)."""
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        return named if os.access(named, os.X_OK) else None
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@functools.cache
def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        return (
            f"the browser tests need {error.name} (the tests dependency group: "
            "pip install playwright axe-playwright-python)"
        )
    if chromium() is None:
        return (
            "no Chromium to drive (apt-get install chromium, or set "
            f"{CHROMIUM_VARIABLE}=/path/to/chromium)"
        )
    return None


def require_browser() -> None:
    """Skip (or, when required, fail) the calling test if there is no browser to drive."""
    reason = missing()
    if reason is None:
        return
    if REQUIRED:
        pytest.fail(f"KMBASE_REQUIRE_SERVICES=1 (or KMBASE_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""``@pytest.mark.parametrize("console", STORES, indirect=True)``: a test on both stores."""


def expect(target: Any) -> LocatorAssertions | PageAssertions:
    """Playwright's waiting assertions, imported when a test runs (so that a machine without
    Playwright collects the tests and skips them with the reason)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)  # type: ignore[no-any-return]


# -- the service ----------------------------------------------------------------------------


@attrs.define
class Console:
    """A running service (console included): its address, workflow, clock and a token for
    each person of lifecycle_helpers.ACTORS."""

    base: str
    workflow: Workflow
    clock: FixedClock
    tokens: dict[str, str]

    def url(self, path: str = "/console/") -> str:
        """The absolute address of ``path``."""
        return self.base + path

    def set_day(self, day: dt.date) -> None:
        """Move the service's day (as the office's calendar moves)."""
        self.clock.set(day)


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    """The base URL of ``app`` served by uvicorn in a thread of this process, on a port the
    kernel picked (bound before uvicorn starts: two xdist workers never race for one)."""
    import uvicorn

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", proxy_headers=False, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the service did not start (uvicorn in a thread)")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


# -- what every page must pass --------------------------------------------------------------


@attrs.define(slots=False)  # Playwright marks the object of a bound method it is given
class Watch:
    """What went wrong in the pages it watches: console errors, uncaught exceptions, and
    responses of 500 and above (a refusal is 4xx and a page; a 5xx is a bug)."""

    problems: list[str] = attrs.field(factory=list)

    def attach(self, page: Page) -> Page:
        """Watch ``page`` from now on; return it."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("response", self._response)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not _refusal_status(message):
            where = message.location.get("url", "")
            self.problems.append(f"console error at {where}: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} from {response.request.method} {response.url}")

    def check(self) -> None:
        """Fail naming every problem seen (and forget them)."""
        problems, self.problems = self.problems, []
        assert not problems, "the browser saw:\n" + "\n".join(problems)


def _refusal_status(message: ConsoleMessage) -> bool:
    # Chromium logs every 4xx document as "Failed to load resource": a refused step is
    # answered 4xx with the form and its failed conditions, which is the page working.
    return message.text.startswith(
        "Failed to load resource: the server responded with a status of 4"
    )


AXE_EXCLUDED: dict[str, str] = {}
"""axe rules not applied, each with why (none: every rule, every impact, fails the test)."""


def assert_accessible(page: Page, what: str) -> None:
    """No axe-core violation on ``page`` as it is now (any impact, every rule not in
    AXE_EXCLUDED): each is listed with its impact, help and the elements concerned."""
    from axe_playwright_python.sync_playwright import Axe

    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if AXE_EXCLUDED:
        options["rules"] = {rule: {"enabled": False} for rule in AXE_EXCLUDED}
    violations = Axe().run(page, options=options).response["violations"]
    lines = []
    for violation in violations:
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    assert not lines, f"axe-core on {what} ({page.url}):\n" + "\n".join(lines)


@attrs.define
class People:
    """Opens a browser context (its own cookies) per person, every page watched; at the end
    of the test, fails on anything the watch saw."""

    browser: Browser
    watch: Watch
    contexts: list[BrowserContext] = attrs.field(factory=list)

    def page(self, *, locale: str = "zh-CN", phone: bool = False) -> Page:
        """A new page in a context of its own (a phone's viewport when ``phone``)."""
        size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
        context = self.browser.new_context(locale=locale, viewport=size, is_mobile=phone)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return self.watch.attach(context.new_page())

    def keep_evidence(self, folder: Path) -> None:
        """Each open page's screenshot and accessibility tree, into ``folder``."""
        for number, context in enumerate(self.contexts, start=1):
            for page in context.pages:
                stem = folder / f"page-{number}"
                page.screenshot(path=stem.with_suffix(".png"), full_page=True)
                tree = page.locator("body").aria_snapshot()
                stem.with_suffix(".yaml").write_text(tree, encoding="utf-8")
                print(f"--- page {number}: {page.url} ({stem}.png)\n{tree}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


# -- the console's own moves ----------------------------------------------------------------


BASE_NAME = APPLICATION.base.name
"""The base of docs/examples/eligible.json (春城数字经济创业创新园, 五华区)."""


def declared(console: Console) -> str:
    """Open the 2025 round and declare the example application (in Python): its case id."""
    workflow = console.workflow
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    return workflow.declare(APPLICATION, OPERATOR).case.id


def sign_in(page: Page, console: Console, who: str) -> None:
    """Sign ``who`` in through the sign-in form with its token; lands on the inbox."""
    page.goto(console.url("/console/sign-in"))
    page.get_by_label("访问令牌").fill(console.tokens[who])
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1, name="待办")).to_be_visible()


@contextlib.contextmanager
def posted_twice(page: Page) -> Iterator[list[int]]:
    """Within the block, every form the page posts reaches the server twice, the same body
    both times: the first as a click whose answer was lost (a dropped connection, a double
    click the browser let through), the second as the browser's own, whose answer it shows.
    Yields the statuses of the first sendings."""
    first: list[int] = []

    def twice(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        answer = route.fetch(max_redirects=0)
        first.append(answer.status)
        route.continue_()

    page.route("**/*", twice)
    try:
        yield first
    finally:
        page.unroute("**/*", twice)


def open_action(page: Page, console: Console, case_id: str, step: str) -> None:
    """From the case page, follow the action link named ``step`` (its form opens)."""
    page.goto(console.url(f"/console/cases/{case_id}"))
    page.get_by_role("link", name=step, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=step)).to_be_visible()


def submit(page: Page) -> None:
    """Press the form's 提交."""
    page.get_by_role("button", name="提交", exact=True).click()


def refusal(page: Page) -> str:
    """The text of the refusal shown above the form."""
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    return alert.inner_text()
