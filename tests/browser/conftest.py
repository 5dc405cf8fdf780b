"""Fixtures of the browser tests: one Chromium per pytest process (each xdist worker has its
own), the service on a fresh SQLite file or PostgreSQL schema with a token per person, and a
browser context per person whose pages are watched for errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from browser.browser_helpers import Console, People, Watch, chromium, require_browser, running
from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.service import GatewayAuthenticator, create_app
from lifecycle_helpers import DECLARED_ON
from postgres_server import URL as POSTGRES_URL
from postgres_server import schema  # noqa: F401 - the fixture
from service_helpers import issue_tokens

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run on one xdist worker, one after the other (``--dist loadgroup``,
    as ``nox -s tests`` runs), so each module starts Chromium once."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, headless, for one test module. Not for the whole process: Playwright's sync
    API keeps an event loop running in the test thread while it is open, and the process's
    other tests call ``asyncio.run`` (webhooks, bridges), which refuses to run inside it."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium())
        yield launched
        launched.close()


@pytest.fixture
def console(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Console]:
    """The service on its declaration day (2025-06-20) over a fresh store: SQLite unless the
    test is parametrized with STORES."""
    require_browser()  # before a server is started for nothing
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.db'}"
    else:
        url = f"{POSTGRES_URL}?schema={request.getfixturevalue('schema')}"
    clock = FixedClock(DECLARED_ON)
    workflow = Workflow(url, clock=clock)
    try:
        tokens = issue_tokens(workflow)
        with running(create_app(workflow, poll_interval=0.05)) as base:
            yield Console(base, workflow, clock, tokens)
    finally:
        workflow.close()


@pytest.fixture
def gateway_console(tmp_path: Path) -> Iterator[tuple[Console, str]]:
    """The service behind an SSO gateway (``kmbase serve --auth gateway``) on SQLite: the
    console and the gateway's shared secret."""
    require_browser()
    secret = "g" * 40
    clock = FixedClock(DECLARED_ON)
    workflow = Workflow(f"sqlite:///{tmp_path / 'gateway.db'}", clock=clock)
    try:
        app = create_app(workflow, auth=GatewayAuthenticator(secret.encode()))
        with running(app) as base:
            yield Console(base, workflow, clock, {}), secret
    finally:
        workflow.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def people(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[People]:
    """Pages for the people of a test; the test fails if any saw a console error. When the
    test failed, each open page's screenshot and accessibility tree are left in its tmp_path
    (and the tree printed), to tell what the browser showed."""
    opened = People(browser, Watch())
    try:
        yield opened
        if request.node.stash.get(FAILED, False):
            opened.keep_evidence(tmp_path)
        opened.watch.check()
    finally:
        opened.close()
