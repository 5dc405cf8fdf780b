"""A whole round through the console, in Chromium, across the roles: the operator declares,
the district recommends, the expert scores, the bureau selects, inspects and announces the
公示, the public objects and the bureau verifies, the bureau certifies. Refusals are shown
with their articles next to the fields concerned; a double click, a resubmitted form and a
reload do nothing twice; no page logs an error or has an axe-core violation. On SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import gc
import re

import pytest

from browser.browser_helpers import (
    BASE_NAME,
    STORES,
    Console,
    People,
    assert_accessible,
    expect,
    open_action,
    posted_twice,
    refusal,
    sign_in,
    submit,
)
from kmbase_workflow.case import State
from lifecycle_helpers import (
    ANNOUNCED_ON,
    CERTIFIED_ON,
    NOTICE_DUE,
    PUBLISHED_ON,
    VALID_UNTIL,
)
from service_helpers import EXAMPLE


@pytest.mark.parametrize("console", STORES, indirect=True)
def test_a_round_from_declaration_to_certification(console: Console, people: People) -> None:
    workflow = console.workflow
    bureau = people.page()
    sign_in(bureau, console, "city_bureau")

    # the bureau opens the 2025 round (第九条)
    bureau.get_by_role("link", name="申报年度").click()
    bureau.get_by_label("年度").fill("2025")
    bureau.get_by_label("开始日期").fill("2025-06-01")
    bureau.get_by_label("截止日期").fill("2025-07-31")
    bureau.get_by_role("button", name="开启申报年度（第九条）").click()
    expect(bureau.get_by_role("heading", level=1, name="年度概览 2025")).to_be_visible()
    assert [r.year for r in workflow.store.rounds()] == [2025]

    # the operator sees the verdict before declaring, must pledge, declares once
    operator = people.page()
    sign_in(operator, console, "operator")
    operator.get_by_role("link", name="申报", exact=True).click()
    operator.get_by_label("上传申请材料文件（JSON 或 TOML）").set_input_files(EXAMPLE)
    operator.get_by_role("button", name="查看审查结果").click()
    expect(operator.get_by_text("符合申报条件", exact=True)).to_be_visible()
    assert_accessible(operator, "the declaration's verdict")
    assert list(workflow.cases()) == []  # a preview writes nothing
    # the verdict's page holds the application read from the file: no second upload
    expect(operator.get_by_label("或粘贴申请材料（JSON）")).to_contain_text(BASE_NAME)
    operator.get_by_role("button", name="提交申报").click()
    assert "请勾选承诺书后再提交" in refusal(operator)
    assert list(workflow.cases()) == []
    operator.get_by_label(re.compile("承诺书")).check()
    with posted_twice(operator) as first:
        operator.get_by_role("button", name="提交申报").click()
        expect(operator.get_by_role("heading", level=1, name=BASE_NAME)).to_be_visible()
        expect(operator.get_by_role("status").first).to_have_text("该操作此前已提交，未重复办理。")
    assert first == [303]  # the first sending declared
    expect(operator.get_by_role("heading", level=1, name=BASE_NAME)).to_be_visible()
    operator.reload()
    (case,) = workflow.cases()
    case_id = case.id
    assert case.state is State.DECLARED
    assert [e.action for e in workflow.history(case_id)].count("declare") == 1
    assert_accessible(operator, "the operator's case page")

    # the district's inbox: the case, its working-day deadline and article
    district = people.page()
    sign_in(district, console, "district")
    row = district.get_by_role("row").filter(has_text=BASE_NAME)
    expect(row).to_contain_text("第十条")
    assert_accessible(district, "the district's inbox")
    open_action(district, console, case_id, "初审推荐")
    district.get_by_label("意见").fill("同意推荐")
    district.get_by_label("已对申报材料真实性、完整性进行初审").check()
    district.get_by_label("入驻小微企业数").fill("60")
    district.get_by_label("抽查企业数").fill("1")  # below 10% of 60 (第十条)
    district.get_by_label("满意企业数").fill("1")
    submit(district)
    assert "应至少抽查 6 家" in refusal(district)  # every failed condition, with its article
    sampled = district.get_by_label("抽查企业数")  # next to the field concerned
    expect(sampled).to_have_attribute("aria-invalid", "true")
    spot_check = district.get_by_role("group", name="满意度随机抽查（第十条）")
    expect(spot_check.locator("[aria-invalid=true]")).to_have_count(1)
    expect(spot_check.locator(".errors")).to_contain_text("第十条")
    assert_accessible(district, "a refused recommendation")
    assert workflow.case(case_id).state is State.DECLARED
    open_action(district, console, case_id, "初审推荐")  # a fresh form: a new idempotency key
    district.get_by_label("意见").fill("同意推荐")
    district.get_by_label("已对申报材料真实性、完整性进行初审").check()
    district.get_by_label("入驻小微企业数").fill("60")
    district.get_by_label("抽查企业数").fill("6")
    district.get_by_label("满意企业数").fill("6")
    with posted_twice(district) as first:
        submit(district)
        expect(district.get_by_role("status").first).to_have_text("该操作此前已提交，未重复办理。")
    assert first == [303]
    district.reload()
    assert [e.action for e in workflow.history(case_id)].count("recommend") == 1
    assert workflow.case(case_id).state is State.DISTRICT_RECOMMENDED

    # the expert scores inside the policy's scale
    expert = people.page()
    sign_in(expert, console, "expert")
    open_action(expert, console, case_id, "记录专家评审意见")
    expect(expert.get_by_label("专家")).to_have_value("专家甲")  # the signed-in expert
    score = expert.get_by_label("评分")
    expect(score).to_have_attribute("max", re.compile(r"^100(\.0)?$"))  # the policy's scale
    score.fill("150")
    expert.get_by_label("意见").fill("服务功能完善")
    expert.get_by_role("button", name="预览（不提交）").click()  # past the browser's own check
    assert "专家评分应在 0 至 100 之间（第十一条），实际为 150" in refusal(expert)
    expect(score).to_have_attribute("aria-invalid", "true")
    assert_accessible(expert, "a score outside the scale, refused")
    assert workflow.case(case_id).expert_score is None
    score.fill("88")
    submit(expert)
    expect(expert.get_by_role("status").first).to_contain_text("已办理")
    assert workflow.case(case_id).expert_score == 88.0

    # the bureau ranks the round, passes review and inspection
    bureau.goto(console.url("/console/rounds/2025"))
    bureau.get_by_label("择优名额").fill("1")
    bureau.get_by_role("button", name="择优").click()
    ranked = bureau.get_by_role("row").filter(has_text=BASE_NAME)
    expect(ranked).to_contain_text("88.00")
    expect(ranked.get_by_role("cell", name="是", exact=True)).to_be_visible()
    assert_accessible(bureau, "the round dashboard")
    open_action(bureau, console, case_id, "专家评审通过")
    submit(bureau)
    open_action(bureau, console, case_id, "现场核查通过")
    bureau.get_by_label("意见").fill("现场核查情况属实")
    submit(bureau)
    assert workflow.case(case_id).state is State.SITE_INSPECTED

    # the 公示: its end worked out on the calendar before it is confirmed (第十三条)
    console.set_day(ANNOUNCED_ON)
    open_action(bureau, console, case_id, "发布公示公告")
    bureau.get_by_label("公示开始日期").fill(PUBLISHED_ON.isoformat())
    bureau.get_by_role("button", name="预览（不提交）").click()
    expect(bureau.get_by_role("status").first).to_contain_text(NOTICE_DUE.isoformat())
    assert_accessible(bureau, "the notice's preview")
    assert workflow.case(case_id).state is State.SITE_INSPECTED
    submit(bureau)
    expect(bureau.get_by_role("status").first).to_contain_text("已办理")

    # the public reads the notice and objects inside the period
    console.set_day(dt.date(2025, 10, 9))
    public = people.page()
    public.goto(console.url("/console/notices"))
    row = public.get_by_role("row").filter(has_text=BASE_NAME)
    expect(row).to_contain_text(f"{PUBLISHED_ON} – {NOTICE_DUE}")
    assert_accessible(public, "the public notices")
    row.get_by_role("link", name=re.compile("提出异议")).click()
    public.get_by_label("异议内容").fill("入驻企业数量不实")
    public.get_by_label("异议人（姓名及联系方式）").fill("王先生 13800000000")
    public.get_by_role("button", name="提出异议").click()
    expect(public.get_by_text("异议已收到")).to_be_visible()
    assert_accessible(public, "the objection's acknowledgement")
    assert workflow.case(case_id).state is State.OBJECTED

    # the bureau investigates, then certifies with the collective decision (第十四条)
    open_action(bureau, console, case_id, "核实无问题")
    bureau.get_by_label("理由").fill("经核实入驻企业数量属实")
    submit(bureau)
    console.set_day(CERTIFIED_ON)
    open_action(bureau, console, case_id, "认定授牌")
    bureau.get_by_label("文号或会议纪要编号").fill("局党组会议纪要〔2025〕12号")
    bureau.get_by_label("决定日期").fill(CERTIFIED_ON.isoformat())
    submit(bureau)
    expect(bureau.get_by_role("status").first).to_contain_text("已办理")
    bureau.reload()
    assert workflow.case(case_id).state is State.CERTIFIED

    # the operator sees its title and validity; the history verifies
    operator.goto(console.url(f"/console/cases/{case_id}"))
    expect(operator.get_by_text("已认定授牌").first).to_be_visible()
    expect(operator.get_by_text(VALID_UNTIL.isoformat()).first).to_be_visible()
    expect(operator.get_by_text("办理记录完整，未被篡改")).to_be_visible()
    assert_accessible(operator, "a certified case")


def test_the_console_closes_what_a_form_uploads(console: Console, people: People) -> None:
    operator = people.page()
    sign_in(operator, console, "operator")
    operator.goto(console.url("/console/declare"))
    operator.get_by_label("上传申请材料文件（JSON 或 TOML）").set_input_files(EXAMPLE)
    operator.get_by_role("button", name="查看审查结果").click()
    expect(operator.get_by_text("符合申报条件", exact=True)).to_be_visible()
    gc.collect()  # a file left open warns now, in this test, not in a later one
