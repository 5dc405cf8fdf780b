"""The browser tests' own machinery fails when it should: a console error, an uncaught
exception, an axe violation, a missing browser under CI; and the service it starts is the
service (a token signs in)."""

from __future__ import annotations

import pytest

from browser import browser_helpers
from browser.browser_helpers import Console, People, Watch, assert_accessible


def test_the_watch_sees_console_errors_and_uncaught_exceptions(people: People) -> None:
    page = people.page()
    watch = Watch()
    watch.attach(page)
    # the thrown error is reported after the task that threw: wait for it, not for a time
    with page.expect_event("pageerror"):
        page.set_content(
            "<!doctype html><html lang='en'><title>t</title>"
            "<script>console.error('boom'); setTimeout(() => { throw new Error('bang'); });"
            "</script>"
        )
    problems = "\n".join(watch.problems)
    assert "boom" in problems
    assert "bang" in problems
    with pytest.raises(AssertionError, match="boom"):
        watch.check()
    people.watch.problems.clear()  # the fixture's own watch saw them too: expected here


def test_a_refused_page_is_not_an_error_but_a_server_error_is(
    people: People, console: Console
) -> None:
    page = people.page()
    watch = Watch()
    watch.attach(page)
    assert page.goto(console.url("/cases/no-such-case")).status == 401  # type: ignore[union-attr]
    assert watch.problems == []
    watch._response(_FakeResponse(500, console.url("/boom")))  # type: ignore[arg-type]
    assert watch.problems == [f"500 from GET {console.url('/boom')}"]


class _FakeRequest:
    method = "GET"


class _FakeResponse:
    def __init__(self, status: int, url: str) -> None:
        self.status, self.url, self.request = status, url, _FakeRequest()


def test_axe_names_each_violation_and_passes_a_clean_page(people: People) -> None:
    page = people.page()
    page.set_content(
        "<!doctype html><html lang='zh-CN'><head><title>示范基地</title></head>"
        "<body><main><h1>示范基地</h1><img src='data:,' alt='徽标'></main></body></html>"
    )
    assert_accessible(page, "a clean page")
    page.set_content(
        "<!doctype html><html lang='zh-CN'><head><title>示范基地</title></head>"
        "<body><main><h1>示范基地</h1><img src='data:,'>"
        "<input type='text'></main></body></html>"
    )
    with pytest.raises(AssertionError, match=r"image-alt \(critical\)[\s\S]*label \(critical\)"):
        assert_accessible(page, "a page with an unlabelled image and field")


def test_the_service_signs_in_a_bearer_token(people: People, console: Console) -> None:
    page = people.page()
    page.context.set_extra_http_headers({"Authorization": f"Bearer {console.tokens['district']}"})
    me = page.goto(console.url("/me"))
    assert me is not None
    assert me.json()["district"] == "五华区"


def test_without_a_browser_ci_fails_and_a_user_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_helpers, "missing", lambda: "no Chromium to drive")
    monkeypatch.setattr(browser_helpers, "REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match="KMBASE_REQUIRE_SERVICES=1"):
        browser_helpers.require_browser()
    monkeypatch.setattr(browser_helpers, "REQUIRED", False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        browser_helpers.require_browser()


def test_chromium_honours_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(browser_helpers.CHROMIUM_VARIABLE, "/nonexistent/chromium")
    assert browser_helpers.chromium() is None
