"""The console's pages in Chromium, one concern each: signing in (the form's cookie, a
browser's own Bearer header, a wrong token), the same reading rights as the API, English a
click away, a phone's screen, the keyboard, and ``kmbase serve`` serving it all."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from browser.browser_helpers import (
    BASE_NAME,
    Console,
    People,
    assert_accessible,
    declared,
    expect,
    open_action,
    refusal,
    sign_in,
    submit,
)
from kmbase_workflow import Workflow
from kmbase_workflow.case import State
from kmbase_workflow.service import sign_identity
from kmbase_workflow.stores import open_store
from service_helpers import EXAMPLE, KMBASE, SRC, kmbase_serve


def test_the_sign_in_form_sets_a_session_cookie_scripts_cannot_read(
    console: Console, people: People
) -> None:
    page = people.page()
    page.goto(console.url("/console/"))
    expect(page.get_by_role("heading", level=1, name="登录")).to_be_visible()
    assert_accessible(page, "the sign-in page")
    page.get_by_label("访问令牌").fill("kmb_000000000000_not-a-token")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("令牌无效或已吊销")
    assert_accessible(page, "a refused sign-in")
    sign_in(page, console, "district")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = cookies["kmbase_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] in ("Lax", "Strict")
    assert page.evaluate("document.cookie").find("kmbase_session") == -1
    expect(page.get_by_text("五华区工信局")).to_be_visible()  # who the console takes you for
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", level=1, name="登录")).to_be_visible()
    page.goto(console.url("/console/inbox"))
    expect(page.get_by_role("heading", level=1, name="待办")).not_to_be_visible()


def test_a_browser_sending_its_own_bearer_token_is_signed_in(
    console: Console, people: People
) -> None:
    case_id = declared(console)
    page = people.page()
    page.context.set_extra_http_headers({"Authorization": f"Bearer {console.tokens['district']}"})
    page.goto(console.url("/console/inbox"))
    row = page.get_by_role("row").filter(has_text=BASE_NAME)
    expect(row.get_by_role("link", name="初审推荐")).to_have_attribute(
        "href", f"/console/cases/{case_id}/recommend"
    )


def test_a_district_reads_only_its_own_district(console: Console, people: People) -> None:
    """The API's reading rule: 五华区's case is not 呈贡区's to read, nor another operator's."""
    case_id = declared(console)
    for who in ("other_district", "other_operator"):
        page = people.page()
        sign_in(page, console, who)
        expect(page.get_by_text(BASE_NAME)).to_have_count(0)  # not in its inbox
        answer = page.goto(console.url(f"/console/cases/{case_id}"))
        assert answer is not None
        assert answer.status in (403, 404), answer.status
        expect(page.get_by_text(BASE_NAME)).to_have_count(0)
        assert_accessible(page, f"a case {who} may not read")
    mine = people.page()
    sign_in(mine, console, "district")
    mine.goto(console.url(f"/console/cases/{case_id}"))
    expect(mine.get_by_role("heading", level=1, name=BASE_NAME)).to_be_visible()


def test_english_is_a_click_away_and_stays(console: Console, people: People) -> None:
    declared(console)
    page = people.page()
    sign_in(page, console, "district")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    row = page.get_by_role("row").filter(has_text=BASE_NAME)
    expect(row).to_contain_text("Art. 10")
    assert_accessible(page, "the inbox in English")
    page.get_by_role("link", name="Cases", exact=True).click()  # the choice is remembered
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("案件")


def phone_pages(console: Console) -> list[str]:
    case_id = declared(console)
    return ["/console/inbox", f"/console/cases/{case_id}", f"/console/cases/{case_id}/recommend"]


def test_a_phone_shows_the_case_without_sideways_scrolling(
    console: Console, people: People
) -> None:
    page = people.page(phone=True)
    sign_in(page, console, "district")
    for path in phone_pages(console):
        page.goto(console.url(path))
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone's screen"


def test_a_phone_s_pages_pass_axe(console: Console, people: People) -> None:
    page = people.page(phone=True)
    sign_in(page, console, "district")
    for path in phone_pages(console):
        page.goto(console.url(path))
        assert_accessible(page, f"{path} on a phone")


def test_the_keyboard_skips_to_the_content_and_reaches_every_field(
    console: Console, people: People
) -> None:
    case_id = declared(console)
    page = people.page()
    sign_in(page, console, "district")
    page.goto(console.url(f"/console/cases/{case_id}/recommend"))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    opinion = page.get_by_label("意见")
    for _ in range(30):  # from the top of the content, Tab reaches the form's first field
        page.keyboard.press("Tab")
        if opinion.evaluate("element => element === document.activeElement"):
            break
    expect(opinion).to_be_focused()
    page.keyboard.type("同意推荐")
    expect(opinion).to_have_value("同意推荐")


def test_kmbase_serve_serves_the_console_to_a_token_kmbase_token_issues(
    people: People, tmp_path: Path
) -> None:
    """The command an office runs, not the test's thread: ``kmbase token issue``, then
    ``kmbase serve``, then the sign-in form."""
    db = f"sqlite:///{tmp_path / 'office.db'}"
    open_store(db).close()
    workflow = Workflow(db)
    workflow.close()
    issued = subprocess.run(
        [
            *KMBASE,
            "token",
            "issue",
            "--actor-role",
            "city_bureau",
            "--actor-id",
            "bureau-01",
            "--actor-name",
            "张三",
            "--db",
            db,
            "--json",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert issued.returncode == 0, issued.stderr
    token = json.loads(issued.stdout)["token"]
    with kmbase_serve("--db", db, folder=tmp_path) as base:
        page = people.page()
        page.goto(f"{base}/console/sign-in")
        page.get_by_label("访问令牌").fill(token)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", level=1, name="待办")).to_be_visible()
        expect(page.get_by_text("张三")).to_be_visible()
        page.get_by_role("link", name="申报年度").click()
        expect(page.get_by_role("button", name="开启申报年度（第九条）")).to_be_visible()
        assert_accessible(page, "the rounds page under kmbase serve")


def test_a_return_for_correction_and_the_operator_s_resubmission(
    console: Console, people: People
) -> None:
    """第十条: the district returns the application with its deficiencies and a last day; the
    operator finds both in its inbox and resubmits through the same upload."""
    case_id = declared(console)
    district = people.page()
    sign_in(district, console, "district")
    open_action(district, console, case_id, "退回补正")
    district.get_by_label("需补正事项（每行一项）").fill(
        "缺少上一年度财务审计报告\n入驻企业名录不全"
    )
    district.get_by_label("补正截止日期").fill("2025-07-10")
    submit(district)
    expect(district.get_by_role("status").first).to_contain_text("已办理")
    operator = people.page()
    sign_in(operator, console, "operator")
    row = operator.get_by_role("row").filter(has_text=BASE_NAME)
    expect(row).to_contain_text("2025-07-10")
    expect(row).to_contain_text("第十条")
    assert_accessible(operator, "the operator's inbox with a correction due")
    row.get_by_role("link", name="补正后重新提交").click()
    operator.get_by_label("上传申请材料文件（JSON 或 TOML）").set_input_files(EXAMPLE)
    submit(operator)
    expect(operator.get_by_role("status").first).to_contain_text("已办理")
    assert console.workflow.case(case_id).state is State.DECLARED
    steps = [entry.action for entry in console.workflow.history(case_id)]
    assert steps[-2:] == ["return_for_correction", "resubmit"]


def test_a_refusal_in_english_names_its_article_in_english(
    console: Console, people: People
) -> None:
    case_id = declared(console)
    page = people.page()
    sign_in(page, console, "district")
    page.goto(console.url(f"/console/cases/{case_id}/recommend?lang=en"))
    page.get_by_label("Opinion").fill("recommended")
    page.get_by_label("Resident small and micro enterprises").fill("60")
    page.get_by_label("Enterprises sampled").fill("1")
    page.get_by_label("Enterprises satisfied").fill("1")
    submit_en = page.get_by_role("button", name="Submit", exact=True)
    submit_en.click()
    shown = refusal(page)
    assert "Art. 10" in shown
    assert "第十条" not in shown
    assert_accessible(page, "a refusal in English")
    assert console.workflow.case(case_id).state is State.DECLARED


def test_the_notice_page_says_when_nothing_is_under_notice(
    console: Console, people: People
) -> None:
    """What the first hour's check of /console/notices shows on a new database."""
    page = people.page()
    page.goto(console.url("/console/notices"))
    expect(page.get_by_text("目前没有正在公示的基地。")).to_be_visible()
    assert_accessible(page, "the empty notice page")


def test_behind_the_sso_gateway_its_identity_signs_in(
    gateway_console: tuple[Console, str], people: People
) -> None:
    """The gateway adds its signed identity to every request (here: the browser context's
    extra headers stand for the gateway); the console takes it as the API does, and refuses
    an identity someone altered."""
    console, secret = gateway_console
    case_id = declared(console)
    identity = {"role": "district_authority", "id": "wh-007", "district": "五华区", "name": "李四"}
    page = people.page()
    page.context.set_extra_http_headers(sign_identity(secret.encode(), identity, int(time.time())))
    page.goto(console.url("/console/inbox"))
    expect(page.get_by_text("李四")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=BASE_NAME)
    expect(row.get_by_role("link", name="初审推荐")).to_be_visible()
    forged = sign_identity(secret.encode(), identity, int(time.time()))
    altered = {**identity, "district": "呈贡区"}
    forged["X-Kmbase-Identity"] = sign_identity(b"x" * 32, altered, 0)["X-Kmbase-Identity"]
    page.context.set_extra_http_headers(forged)
    answer = page.goto(console.url(f"/console/cases/{case_id}"))
    assert answer is not None
    assert answer.status == 401
    expect(page.get_by_text(BASE_NAME)).to_have_count(0)
