"""The officials' console, server side (issue 25): a whole round through its pages across the
roles, the same rights as the API, sign-in and its cookies, CSRF on every form, idempotency
keys that make a double click or a reload do nothing twice, refusals shown with their
articles next to their fields, both languages."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from console_helpers import Browser, console, forms, text
from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.case import State
from kmbase_workflow.stores.tokens import token_store
from lifecycle_helpers import ACTORS, CERTIFIED_ON, NOTICE_DUE, PUBLISHED_ON
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import URL as POSTGRES_URL
from postgres_server import schema  # noqa: F401 - the fixture
from service_helpers import APPLICATION_JSON


@pytest.fixture
def site() -> Iterator[tuple[Browser, Workflow, FixedClock]]:
    yield from console()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def stored_site(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Browser, Workflow, FixedClock]]:
    """The console over each database the library stores in."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.db'}"
    elif request.param == "mysql":
        url = request.getfixturevalue("mysql_url")
    else:
        url = f"{POSTGRES_URL}?schema={request.getfixturevalue('schema')}"
    yield from console(url)


def case_id_of(response: object) -> str:
    match = re.search(r"/console/cases/([^/?]+)", str(response.url))  # type: ignore[attr-defined]
    assert match, response.url  # type: ignore[attr-defined]
    return match.group(1)


def open_round(browser: Browser) -> None:
    browser.sign_in("city_bureau")
    answer = browser.submit(
        "/console/rounds",
        {"year": "2025", "opens_on": "2025-06-01", "closes_on": "2025-07-31"},
    )
    assert answer.status_code == 200, text(answer.text)
    assert answer.url.path == "/console/rounds/2025"


def declare(browser: Browser) -> str:
    browser.sign_in("operator")
    answer = browser.submit(
        "/console/declare", {"application": APPLICATION_JSON, "pledge": "on"}, intent="submit"
    )
    assert answer.status_code == 200, text(answer.text)
    return case_id_of(answer)


RECOMMENDATION = {
    "opinion": "同意推荐",
    "authenticity_checked": "on",
    "spot_check.resident_small_micro_enterprises": "60",
    "spot_check.sampled": "6",
    "spot_check.satisfied": "6",
}


def recommended(browser: Browser) -> str:
    open_round(browser)
    case_id = declare(browser)
    browser.sign_in("district")
    answer = browser.submit(f"/console/cases/{case_id}/recommend", RECOMMENDATION)
    assert answer.status_code == 200, text(answer.text)
    return case_id


def test_the_inbox_says_none_where_a_step_has_no_deadline_as_the_case_page_does(site) -> None:
    browser, _, _ = site
    open_round(browser)
    case_id = declare(browser)
    browser.sign_in("district")
    for lang, none in (("zh", "无"), ("en", "none")):
        page = browser.get(f"/console/inbox?lang={lang}").text
        row = re.search(r"<tbody>\s*<tr[^>]*>(.*?)</tr>", page, re.S)
        assert row, page
        cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
        assert text(cells[2]) == none  # 期限 / Due: the review of a declaration has none
        case_page = text(browser.get(f"/console/cases/{case_id}?lang={lang}").text)
        assert f" {none} " in case_page


def test_a_whole_round_from_declaration_to_certification_through_the_console(
    stored_site,
) -> None:
    browser, workflow, clock = stored_site
    open_round(browser)

    browser.sign_in("operator")
    preview = browser.submit(
        "/console/declare", {"application": APPLICATION_JSON}, intent="preview"
    )
    assert preview.status_code == 200
    assert "符合申报条件" in text(preview.text)  # the verdict before submitting
    assert "第六条" in text(preview.text)
    assert list(workflow.cases()) == []  # a preview writes nothing
    case_id = declare(browser)
    assert workflow.case(case_id).state is State.DECLARED

    browser.sign_in("district")
    inbox = text(browser.get("/console/inbox").text)
    assert "春城数字经济创业创新园" in inbox
    assert "第十条" in inbox
    assert browser.submit(f"/console/cases/{case_id}/recommend", RECOMMENDATION).status_code == 200

    browser.sign_in("expert")
    form = browser.form(f"/console/cases/{case_id}/expert_opinion")
    assert form.values["expert"] == ACTORS["expert"].id  # the expert's own id, filled in
    page = browser.get(f"/console/cases/{case_id}/expert_opinion").text
    assert 'min="0.0" max="100.0"' in page  # the policy's scale (第十一条)
    scored = browser.submit(
        f"/console/cases/{case_id}/expert_opinion", {"score": "88", "opinion": "服务功能完善"}
    )
    assert scored.status_code == 200, text(scored.text)

    browser.sign_in("city_bureau")
    ranked = browser.submit("/console/rounds/2025", {"quota": "1"}, action="/selection")
    assert ranked.status_code == 200, text(ranked.text)
    assert workflow.case(case_id).selection.selected  # type: ignore[union-attr]
    assert browser.submit(f"/console/cases/{case_id}/pass_review").status_code == 200
    inspected = browser.submit(
        f"/console/cases/{case_id}/pass_inspection", {"opinion": "现场核查属实"}
    )
    assert inspected.status_code == 200, text(inspected.text)

    clock.set(PUBLISHED_ON)
    shown = browser.submit(f"/console/cases/{case_id}/publicize", intent="preview")
    assert shown.status_code == 200, text(shown.text)
    assert NOTICE_DUE.isoformat() in text(shown.text)  # the end date, worked out before confirming
    assert workflow.case(case_id).state is State.SITE_INSPECTED
    assert browser.submit(f"/console/cases/{case_id}/publicize").status_code == 200
    assert workflow.case(case_id).state is State.PUBLICIZED

    browser.client.cookies.clear()  # the public: no sign-in
    notices = text(browser.get("/console/notices").text)
    assert "春城数字经济创业创新园" in notices
    assert NOTICE_DUE.isoformat() in notices
    objected = browser.submit(
        f"/console/notices/{case_id}/object",
        {"raised_by": "市民王某 13800000000", "content": "入驻企业数量存疑"},
    )
    assert objected.status_code == 200, text(objected.text)
    acknowledgement = text(objected.text)
    assert "异议已收到" in acknowledgement
    operator_code = workflow.case(case_id).operator.unified_social_credit_code
    assert operator_code not in acknowledgement  # the public reads no more than the notice
    assert workflow.case(case_id).state is State.OBJECTED

    browser.sign_in("city_bureau")
    verified = browser.submit(
        f"/console/cases/{case_id}/verify", {"reason": "经核实入驻企业数量属实"}
    )
    assert verified.status_code == 200, text(verified.text)
    clock.set(CERTIFIED_ON)
    certified = browser.submit(
        f"/console/cases/{case_id}/certify",
        {"reference": "局党组会议纪要〔2025〕12号", "decided_on": CERTIFIED_ON.isoformat()},
    )
    assert certified.status_code == 200, text(certified.text)
    assert workflow.case(case_id).state is State.CERTIFIED
    page = text(browser.get(f"/console/cases/{case_id}").text)
    assert "已认定授牌" in page
    assert "办理记录完整，未被篡改" in page
    assert "2028-10-15" in page  # the validity (第十五条)
    assert "示范基地称号有效，至 2028-10-15" in page
    assert workflow.verify_chain(case_id).ok


def test_a_refusal_shows_every_failed_guard_with_its_article_next_to_its_field(site) -> None:
    browser, workflow, _ = site
    open_round(browser)
    case_id = declare(browser)
    browser.sign_in("district")
    answer = browser.submit(
        f"/console/cases/{case_id}/recommend",
        {**RECOMMENDATION, "spot_check.sampled": "2", "spot_check.satisfied": "2"},
        drop=("authenticity_checked",),
    )
    assert answer.status_code == 409
    shown = text(answer.text)
    assert "未能办理" in shown
    assert "尚未完成申报材料真实性、完整性初审" in shown
    assert "应至少抽查 6 家，实际 2 家" in shown
    # each next to its field: the control points at its own list of problems
    assert re.search(
        r'id="f-authenticity_checked"[^>]*aria-describedby="f-authenticity_checked-err"',
        answer.text,
    )
    assert re.search(r'id="f-spot_check-sampled"[^>]*aria-invalid="true"', answer.text, re.S)
    assert 'id="f-spot_check-sampled-err"' in answer.text
    assert workflow.case(case_id).state is State.DECLARED
    # and in English
    english = browser.submit(
        f"/console/cases/{case_id}/recommend?lang=en",
        {**RECOMMENDATION, "spot_check.sampled": "2", "spot_check.satisfied": "2"},
    )
    assert "Art. 10" in text(english.text)


def test_the_spot_check_starts_from_the_applications_own_population(site) -> None:
    browser, workflow, _ = site
    open_round(browser)
    case_id = declare(browser)
    browser.sign_in("district")
    form = browser.form(f"/console/cases/{case_id}/recommend")
    case = workflow.case(case_id)
    reported = case.application.figures_for(2024).resident_small_micro_enterprises  # type: ignore[union-attr]
    assert form.values["spot_check.resident_small_micro_enterprises"] == str(reported)


def test_a_bad_field_is_named_next_to_it_and_nothing_is_written(site) -> None:
    browser, workflow, _ = site
    case_id = recommended(browser)
    browser.sign_in("expert")
    answer = browser.submit(
        f"/console/cases/{case_id}/expert_opinion", {"score": "八十", "opinion": "好"}
    )
    assert answer.status_code == 422
    assert "应为数字" in text(answer.text)
    assert 'id="f-score-err"' in answer.text
    out_of_scale = browser.submit(
        f"/console/cases/{case_id}/expert_opinion", {"score": "150", "opinion": "好"}
    )
    assert out_of_scale.status_code == 409
    assert "第十一条" in text(out_of_scale.text)
    assert workflow.case(case_id).expert_opinions == ()


def test_a_double_submit_or_a_reload_does_nothing_twice(site) -> None:
    browser, workflow, _ = site
    open_round(browser)
    case_id = declare(browser)
    browser.sign_in("district")
    form = browser.form(f"/console/cases/{case_id}/recommend")
    data = {**form.values, **RECOMMENDATION, "intent": "submit"}
    first = browser.client.post(form.action, data=data)
    again = browser.client.post(form.action, data=data)  # the same form sent twice
    assert first.status_code == again.status_code == 200
    assert "已办理" in text(first.text)
    assert "未重复办理" in text(again.text)
    assert [entry.action for entry in workflow.history(case_id)] == ["declare", "recommend"]


def test_a_declaration_submitted_twice_is_one_case(site) -> None:
    browser, workflow, _ = site
    open_round(browser)
    browser.sign_in("operator")
    form = browser.form("/console/declare")
    data = {**form.values, "application": APPLICATION_JSON, "pledge": "on", "intent": "submit"}
    first = browser.client.post(form.action, data=data)
    second = browser.client.post(form.action, data=data)
    assert case_id_of(first) == case_id_of(second)
    assert len(list(workflow.cases())) == 1


def test_the_pledge_is_needed_to_declare(site) -> None:
    browser, workflow, _ = site
    open_round(browser)
    browser.sign_in("operator")
    answer = browser.submit("/console/declare", {"application": APPLICATION_JSON}, intent="submit")
    assert answer.status_code == 422
    assert "请勾选承诺书" in text(answer.text)
    assert list(workflow.cases()) == []


def test_a_declaration_outside_a_round_is_refused_with_its_article(site) -> None:
    browser, workflow, _ = site
    browser.sign_in("operator")
    answer = browser.submit(
        "/console/declare", {"application": APPLICATION_JSON, "pledge": "on"}, intent="submit"
    )
    assert answer.status_code == 409
    assert "第九条" in text(answer.text)
    assert list(workflow.cases()) == []


def test_a_bad_application_lists_its_problems_with_their_paths(site) -> None:
    browser, _, _ = site
    open_round(browser)
    browser.sign_in("operator")
    answer = browser.submit(
        "/console/declare", {"application": '{"base": {"name": 5}}'}, intent="preview"
    )
    assert answer.status_code == 422
    assert "base.name" in text(answer.text)


def test_the_selection_submitted_twice_is_one_decision(site) -> None:
    browser, workflow, _ = site
    case_id = recommended(browser)
    browser.sign_in("expert")
    browser.submit(f"/console/cases/{case_id}/expert_opinion", {"score": "90", "opinion": "好"})
    browser.sign_in("city_bureau")
    form = browser.form("/console/rounds/2025", "/selection")
    data = {**form.values, "quota": "1"}
    browser.client.post(form.action, data=data)
    browser.client.post(form.action, data=data)  # a double click
    assert workflow.case(case_id).selection.decision == 1  # type: ignore[union-attr]


# -- signing in ----------------------------------------------------------------------------------


def test_signing_in_keeps_the_token_in_an_httponly_samesite_cookie(site) -> None:
    browser, _, _ = site
    answer = browser.sign_in("city_bureau")
    assert answer.url.path == "/console/inbox"
    cookie = answer.history[0].headers["set-cookie"]
    assert "kmbase_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    assert browser.get("/console/inbox").status_code == 200


def test_over_tls_the_cookies_are_secure() -> None:
    for browser, _, _ in console():
        browser.client.base_url = browser.client.base_url.copy_with(scheme="https")  # type: ignore[assignment]
        page = browser.client.get("/console/sign-in")
        assert "Secure" in page.headers["set-cookie"]
        answer = browser.sign_in("city_bureau")
        assert "Secure" in answer.history[0].headers["set-cookie"]


def test_behind_a_proxy_that_terminates_tls_the_cookies_are_secure(site) -> None:
    browser, _, _ = site
    for header in ({"X-Forwarded-Proto": "https"}, {"Forwarded": "for=10.0.0.1;proto=https"}):
        browser.client.cookies.clear()
        page = browser.client.get("/console/sign-in", headers=header)
        assert "Secure" in page.headers["set-cookie"], header
    browser.client.cookies.clear()
    assert "Secure" not in browser.client.get("/console/sign-in").headers["set-cookie"]


def test_a_wrong_token_is_refused_and_a_revoked_one_ends_the_session(site) -> None:
    browser, workflow, _ = site
    browser.client.cookies.clear()
    page = browser.client.get("/console/sign-in")
    form = forms(page.text)[-1]
    refused = browser.client.post(form.action, data={**form.values, "token": "kmb_nothing_here"})
    assert refused.status_code == 401
    assert "令牌无效或已吊销" in text(refused.text)
    browser.sign_in("district")
    assert browser.get("/console/inbox").url.path == "/console/inbox"
    tokens = token_store(workflow.store)
    for token in tokens.list():
        if token.actor.id == ACTORS["district"].id:
            tokens.revoke(token.id, now=dt.datetime(2025, 6, 2, tzinfo=dt.UTC))
    assert browser.get("/console/inbox").url.path == "/console/sign-in"


def test_a_browser_sending_its_own_bearer_token_is_signed_in(site) -> None:
    browser, _, _ = site
    browser.client.cookies.clear()
    page = browser.client.get(
        "/console/inbox", headers={"Authorization": f"Bearer {browser.tokens['city_bureau']}"}
    )
    assert page.status_code == 200
    assert "市工业和信息化局" in text(page.text)


def test_the_gateway_identity_signs_in_as_at_the_api() -> None:
    import time

    from fastapi.testclient import TestClient

    from kmbase_workflow.service import GatewayAuthenticator, create_app, sign_identity

    secret = b"s" * 32
    workflow = Workflow("memory://")
    app = create_app(workflow, auth=GatewayAuthenticator(secret))
    identity = {"role": "district_authority", "id": "wh-1", "district": "五华区"}
    headers = sign_identity(secret, identity, int(time.time()))
    with TestClient(app) as client:
        page = client.get("/console/inbox", headers=headers)
        assert page.status_code == 200
        assert "五华区" in text(page.text)
        forged = client.get(
            "/console/inbox", headers={**headers, "X-Kmbase-Identity-Signature": "0" * 64}
        )
        assert forged.status_code == 401
    workflow.close()


def test_signing_out_ends_the_session(site) -> None:
    browser, _, _ = site
    browser.sign_in("operator")
    page = browser.get("/console/inbox")
    form = next(f for f in forms(page.text) if f.action.endswith("/sign-out"))
    answer = browser.client.post(form.action, data=form.values)
    assert answer.url.path == "/console/sign-in"
    assert browser.get("/console/inbox").url.path == "/console/sign-in"


# -- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("forged", ["missing", "wrong", "cross-site"])
def test_every_form_is_refused_without_its_csrf_token(site, forged: str) -> None:
    browser, workflow, _ = site
    open_round(browser)
    case_id = declare(browser)
    browser.sign_in("district")
    form = browser.form(f"/console/cases/{case_id}/recommend")
    data = {**form.values, **RECOMMENDATION, "intent": "submit"}
    headers = {}
    if forged == "missing":
        del data["csrf"]
    elif forged == "wrong":
        data["csrf"] = "x" * 43
    else:
        headers["Sec-Fetch-Site"] = "cross-site"
    answer = browser.client.post(form.action, data=data, headers=headers)
    assert answer.status_code == 403
    assert "表单已过期或来源不明" in text(answer.text)
    assert workflow.case(case_id).state is State.DECLARED


def test_every_post_form_of_every_page_carries_the_csrf_token(site) -> None:
    browser, _, _ = site
    case_id = recommended(browser)
    pages = {
        "city_bureau": [
            "/console/rounds",
            "/console/rounds/2025",
            f"/console/cases/{case_id}/pass_review",
        ],
        "operator": ["/console/declare", f"/console/cases/{case_id}/withdraw"],
        "district": [f"/console/cases/{case_id}/decline", "/console/inbox"],
    }
    seen = 0
    for name, paths in pages.items():
        browser.sign_in(name)
        for path in paths:
            for form in forms(browser.get(path).text):
                if form.method == "post":
                    seen += 1
                    assert len(form.values.get("csrf", "")) >= 32, (path, form.action)
    assert seen >= 7


# -- reading rights ------------------------------------------------------------------------------


def test_a_district_sees_only_its_own_district_and_an_operator_its_own_base(site) -> None:
    browser, _, _ = site
    open_round(browser)
    case_id = declare(browser)
    for name in ("other_district", "other_operator"):
        browser.sign_in(name)
        page = browser.get(f"/console/cases/{case_id}")
        assert page.status_code == 403, name
        assert case_id not in text(browser.get("/console/cases").text)
        refused = browser.get(f"/console/cases/{case_id}/recommend")
        assert refused.status_code == 403
    browser.sign_in("district")
    assert browser.get(f"/console/cases/{case_id}").status_code == 200
    assert "春城数字经济创业创新园" in text(browser.get("/console/cases").text)


def test_the_exports_follow_the_services_rights(site) -> None:
    browser, _, _ = site
    open_round(browser)
    case_id = declare(browser)
    browser.sign_in("district")
    annex2 = browser.get("/console/exports/rounds/2025/districts/五华区/recommendation-table.xlsx")
    assert annex2.status_code == 200
    assert annex2.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert (
        browser.get(f"/console/exports/cases/{case_id}/application-tables.xlsx").status_code == 200
    )
    browser.sign_in("other_district")
    assert (
        browser.get(
            "/console/exports/rounds/2025/districts/五华区/recommendation-table.xlsx"
        ).status_code
        == 403
    )
    assert (
        browser.get(f"/console/exports/cases/{case_id}/application-tables.xlsx").status_code == 403
    )
    assert browser.get("/console/exports/events").status_code == 404  # only the export routes


def test_the_public_sees_the_notice_without_signing_in_and_nothing_else(site) -> None:
    browser, _, _ = site
    browser.client.cookies.clear()
    page = browser.get("/console/notices")
    assert page.status_code == 200
    assert "目前没有正在公示的基地" in text(page.text)
    assert browser.get("/console/inbox").url.path == "/console/sign-in"
    assert browser.get("/console/cases/anything").url.path == "/console/sign-in"


# -- the case page -------------------------------------------------------------------------------


def test_the_case_page_shows_the_verdict_the_history_and_the_case_on_a_chosen_day(site) -> None:
    browser, _, _ = site
    case_id = recommended(browser)
    page = text(browser.get(f"/console/cases/{case_id}").text)
    assert "县区已推荐" in page
    assert "第六条第（二）项" in page
    assert "符合" in page  # the verdict by article
    assert "申报" in page
    assert "初审推荐" in page  # the timeline
    assert "办理记录完整，未被篡改" in page
    before = text(browser.get(f"/console/cases/{case_id}?as_of=2025-06-01").text)
    assert "当日尚未申报" in before
    on_the_day = text(browser.get(f"/console/cases/{case_id}?as_of=2025-06-20").text)
    assert "2025-06-20 时的状态：县区已推荐" in on_the_day
    bad = browser.get(f"/console/cases/{case_id}?as_of=yesterday")
    assert bad.status_code == 422
    assert "不是有效日期" in text(bad.text)


def test_chinese_by_default_english_a_click_away_and_remembered(site) -> None:
    browser, _, _ = site
    browser.sign_in("city_bureau")
    assert "待办" in text(browser.get("/console/inbox").text)
    english = browser.get("/console/inbox?lang=en")
    assert "Inbox" in text(english.text)
    assert '<html lang="en">' in english.text
    assert "Signed in as: city bureau" in text(english.text)  # English punctuation too
    assert "：" not in text(english.text)
    assert "Inbox" in text(browser.get("/console/inbox").text)  # the cookie remembers
    assert "待办" in text(browser.get("/console/inbox?lang=zh").text)


def test_an_unknown_step_or_page_is_a_page_not_a_traceback(site) -> None:
    browser, _, _ = site
    case_id = recommended(browser)
    unknown = browser.get(f"/console/cases/{case_id}/fly")
    assert unknown.status_code == 422
    assert "recommend" in text(unknown.text)  # the choices are named
    assert browser.get(f"/console/cases/{case_id}/declare").status_code == 422
    missing = browser.get("/console/cases/no-such-case")
    assert missing.status_code == 404
    assert browser.get("/console/no/such/page").status_code == 404
    assert "text/html" in missing.headers["content-type"]


def test_a_service_mounted_under_a_prefix_serves_the_console_there() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from kmbase_workflow.service import create_app
    from lifecycle_helpers import DECLARED_ON
    from service_helpers import issue_tokens

    workflow = Workflow("memory://", clock=FixedClock(DECLARED_ON))
    host = FastAPI()
    host.mount("/kmbase", create_app(workflow))
    with TestClient(host, follow_redirects=True) as client:
        page = client.get("/kmbase/console/sign-in")
        assert 'action="/kmbase/console/sign-in"' in page.text
        assert 'href="/kmbase/console/static/console.css"' in page.text
        assert client.get("/kmbase/console/static/console.css").status_code == 200
        tokens = issue_tokens(workflow)
        form = forms(page.text)[-1]
        signed = client.post(form.action, data={**form.values, "token": tokens["city_bureau"]})
        assert signed.url.path == "/kmbase/console/inbox"
        exported = client.get(
            "/kmbase/console/exports/rounds/2025/districts/五华区/recommendation-table.xlsx"
        )
        assert exported.status_code == 200, exported.text
    workflow.close()


def test_the_pages_and_cookies_carry_the_documented_protections(site) -> None:
    browser, _, _ = site
    browser.client.cookies.clear()
    page = browser.get("/console/sign-in")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("kmbase_csrf=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "style=" not in page.text  # no inline style: the policy would block it
    assert "<script" not in page.text  # no script is needed


def test_data_is_text_never_markup(site) -> None:
    browser, workflow, _ = site
    open_round(browser)
    case_id = declare(browser)
    browser.sign_in("district")
    answer = browser.submit(
        f"/console/cases/{case_id}/decline", {"reason": "<script>alert(1)</script>"}
    )
    assert answer.status_code == 200
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert workflow.case(case_id).closing_reason == "<script>alert(1)</script>"


def test_an_uploaded_application_is_read_and_its_files_closed(site) -> None:
    import gc
    import warnings

    browser, workflow, _ = site
    open_round(browser)
    browser.sign_in("operator")
    form = browser.form("/console/declare")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answer = browser.client.post(
            form.action,
            data={**form.values, "pledge": "on", "intent": "submit"},
            files={
                "application_file": ("申请.json", APPLICATION_JSON.encode(), "application/json")
            },
        )
        gc.collect()
    assert answer.status_code == 200, text(answer.text)
    assert len(list(workflow.cases())) == 1
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [
        str(w.message) for w in caught
    ]


def test_a_failed_guard_next_to_its_field_names_its_article_once(site) -> None:
    browser, _, _ = site
    case_id = recommended(browser)
    browser.sign_in("expert")
    answer = browser.submit(
        f"/console/cases/{case_id}/expert_opinion", {"score": "150", "opinion": "好"}
    )
    errors = re.search(r'<ul class="errors" id="f-score-err">(.*?)</ul>', answer.text, re.S)
    assert errors is not None
    assert text(errors.group(1)).count("第十一条") == 1


def test_the_roster_and_staff_workbooks_of_annex_1_replace_the_applications_tables(
    site, tmp_path
) -> None:
    from kmbase_workflow.exports import export_roster, export_staff
    from kmbase_workflow.serialization import loads_application

    browser, workflow, _ = site
    open_round(browser)
    application = loads_application(APPLICATION_JSON)
    export_roster(application, tmp_path / "roster.xlsx")
    export_staff(application, tmp_path / "staff.xlsx")
    without_tables = json.loads(APPLICATION_JSON)
    without_tables["residents"] = without_tables["staff"] = []
    browser.sign_in("operator")
    form = browser.form("/console/declare")
    answer = browser.client.post(
        form.action,
        data={
            **form.values,
            "application": json.dumps(without_tables, ensure_ascii=False),
            "pledge": "on",
            "intent": "submit",
        },
        files={
            "roster_file": ("名录表.xlsx", (tmp_path / "roster.xlsx").read_bytes()),
            "staff_file": ("人员表.xlsx", (tmp_path / "staff.xlsx").read_bytes()),
        },
    )
    assert answer.status_code == 200, text(answer.text)
    case = workflow.case(case_id_of(answer))

    def by_name(rows: object) -> list[object]:
        return sorted(rows, key=lambda row: row.name)  # type: ignore[arg-type, attr-defined]

    # read back from the workbooks (the form lists them in its own order)
    assert by_name(case.application.residents) == by_name(application.residents)
    assert by_name(case.application.staff) == by_name(application.staff)


def test_a_bad_roster_cell_is_named_with_its_row_and_column(site) -> None:
    browser, workflow, _ = site
    open_round(browser)
    browser.sign_in("operator")
    form = browser.form("/console/declare")
    roster = "企业名称,统一社会信用代码,从业人员数（人）\n甲公司,91530102MA6K5YQ1XF,十二\n"
    answer = browser.client.post(
        form.action,
        data={**form.values, "application": APPLICATION_JSON, "intent": "preview"},
        files={"roster_file": ("名录表.csv", roster.encode("utf-8"))},
    )
    assert answer.status_code == 422
    assert "十二" in text(answer.text)
    assert list(workflow.cases()) == []


def test_the_public_notice_lists_a_base_only_until_its_notice_ends() -> None:
    from fastapi.testclient import TestClient

    from kmbase_workflow.service import create_app
    from lifecycle_helpers import harness, walk_to

    h = harness()
    walk_to(h, State.PUBLICIZED)
    with TestClient(create_app(h.workflow)) as client:
        shown = text(client.get("/console/notices").text)
        assert "春城数字经济创业创新园" in shown
        assert NOTICE_DUE.isoformat() in shown
        h.set(CERTIFIED_ON)  # the day after the notice's last day
        assert "目前没有正在公示的基地" in text(client.get("/console/notices").text)
