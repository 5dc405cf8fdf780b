"""The console's words, in Chinese and English: the pages' strings, the payload fields' labels
and which form field a failed guard concerns. Regulation terms follow the glossary."""

from __future__ import annotations

from .._i18n import Lang, Text

__all__ = ["FIELD_LABELS", "GUARD_FIELDS", "UI", "t"]


def _t(zh: str, en: str) -> Text:
    return Text(zh=zh, en=en)


FIELD_LABELS: dict[str, Text] = {
    # every step
    "reason": _t("理由", "Reason"),
    "evidence": _t("证明材料（每行一项）", "Evidence (one reference a line)"),
    "application": _t("申请材料（附件1）", "Application (Annex 1)"),
    "payload": _t("附带数据（JSON）", "Payload (JSON)"),
    "value": _t("内容", "Text"),
    # return for correction (第十条)
    "deficiencies": _t("需补正事项（每行一项）", "Deficiencies (one a line)"),
    "due": _t("补正截止日期", "Correct by"),
    # recommendation (第十条)
    "opinion": _t("意见", "Opinion"),
    "authenticity_checked": _t(
        "已对申报材料真实性、完整性进行初审", "Materials checked for authenticity and completeness"
    ),
    "spot_check": _t("满意度随机抽查", "Satisfaction spot check"),  # its article: the policy's
    "spot_check.resident_small_micro_enterprises": _t(
        "入驻小微企业数", "Resident small and micro enterprises"
    ),
    "spot_check.sampled": _t("抽查企业数", "Enterprises sampled"),
    "spot_check.satisfied": _t("满意企业数", "Enterprises satisfied"),
    # notice (第十三条)
    "starts_on": _t("公示开始日期", "Notice starts on"),
    "working_days": _t("公示工作日数", "Working days of notice"),
    "ends_on": _t("公示结束日期", "Notice ends on"),
    # objection (第十三条)
    "raised_on": _t("提出日期", "Raised on"),
    "raised_by": _t("异议人（姓名及联系方式）", "Objector (name and contact)"),
    "content": _t("异议内容", "Objection"),
    # certification (第十四条)
    "reference": _t("文号或会议纪要编号", "Reference (document or minutes number)"),
    "decided_on": _t("决定日期", "Decided on"),
    # evaluation (第十八条)
    "evaluator": _t("测评机构或专家", "Evaluator"),
    "passed": _t("测评合格", "Passed"),
    "report": _t("测评报告", "Report"),
    # revocation (第十五条、第十八条)
    "ground": _t("撤销依据", "Ground"),
    "details": _t("具体情况", "Details"),
    "plaque_returned_on": _t("牌匾收回日期", "Plaque returned on"),
    "RevocationGround.violation": _t("违法违规行为（第十五条）", "violation (Art. 15)"),
    "RevocationGround.failed_evaluation": _t(
        "测评不合格（第十八条）", "failed evaluation (Art. 18)"
    ),
    # expert opinion (第十一条)
    "expert": _t("专家", "Expert"),
    "score": _t("评分", "Score"),
    "entered_by": _t("代为录入人", "Entered on the expert's behalf by"),
    # selection (第十一条)
    "rank": _t("排名", "Rank"),
    "of": _t("参评总数", "Out of"),
    "selected": _t("入选", "Selected"),
    # annual report (第十六条、第十七条)
    "year": _t("年度", "Year"),
    "by_district": _t("县区向市局报送（第十七条）", "District's report to the city (Art. 17)"),
    "correction": _t("更正此前报送的报告", "Corrects a report filed before"),
    # change filing (第十九条)
    "change": _t("变更事项", "Change"),
    "completed_on": _t("变更完成日期", "Completed on"),
    "kind": _t("变更类型", "Kind of change"),
    "ChangeKind.name": _t("变更名称", "name"),
    "ChangeKind.operator": _t("变更运营主体", "operator"),
    "ChangeKind.legal_representative": _t("变更法定代表人", "legal representative"),
    "ChangeKind.address": _t("变更地址", "address"),
    "ChangeKind.other": _t("其他重大变更", "other"),
    "operator": _t("变更后的运营主体", "The operator after the change"),
    "operator.name": _t("运营主体名称", "Operator's name"),
    "operator.unified_social_credit_code": _t("统一社会信用代码", "Unified social credit code"),
    "operator.registered_on": _t("注册日期", "Registered on"),
    "operator.independent_legal_person": _t("具有独立法人资格", "Independent legal person"),
    "operator.legal_representative": _t("法定代表人", "Legal representative"),
    "operator.nature": _t("企业性质", "Nature"),
    "operator.registered_address": _t("注册地址", "Registered address"),
    "base_name": _t("变更后的基地名称", "The base's name after the change"),
    # provincial recommendation (第二十一条), plaque return (第十八条)
    "recommended_on": _t("推荐日期", "Recommended on"),
    "programme": _t("省级项目", "Provincial programme"),
    "returned_on": _t("牌匾收回日期", "Returned on"),
}
"""Each payload field's label (by dotted path, else by name; an enum's members as
``Enum.value``). tests/test_console_forms.py names any field of any step missing here."""

GUARD_FIELDS: dict[str, str] = {
    "correction_due": "due",
    "notice_start": "starts_on",
    "notice_length": "working_days",
    "new_name": "base_name",
    "new_operator": "operator.unified_social_credit_code",
    "inspection_opinion": "opinion",
    "report_year": "year",
    "evaluation_result": "passed",
    "plaque_returned_on": "plaque_returned_on",
    "plaque_return": "returned_on",
    "own_opinion": "expert",
    "one_opinion_per_expert": "expert",
    "objection": "content",
    "spot_check": "spot_check.sampled",
    "spot_check.sample_size": "spot_check.sampled",
    "spot_check.satisfaction_rate": "spot_check.satisfied",
    "spot_check.population": "spot_check.resident_small_micro_enterprises",
    "authenticity_checked": "authenticity_checked",
}
"""A failed guard's name → the form field it concerns, where the guard's name is not the
field's own (the refusal is also listed above the form with every other failure)."""

UI: dict[str, Text] = {
    "title": _t("昆明市小微企业创业创新示范基地认定", "Kunming demonstration base certification"),
    "console": _t("办理平台", "Console"),
    "skip": _t("跳到正文", "Skip to content"),
    "inbox": _t("待办", "Inbox"),
    "cases": _t("案件", "Cases"),
    "rounds": _t("申报年度", "Rounds"),
    "declare": _t("申报", "Declare"),
    "notices": _t("公示", "Public notices"),
    "sign_in": _t("登录", "Sign in"),
    "sign_out": _t("退出", "Sign out"),
    "token": _t("访问令牌", "Access token"),
    "token_hint": _t(
        "由管理员以 kmbase token issue 签发的令牌（kmb_ 开头）",
        "The token your administrator issued with kmbase token issue (starts with kmb_)",
    ),
    "signed_in_as": _t("当前身份", "Signed in as"),
    "other_language": _t("English", "中文"),
    "nothing_waiting": _t("暂无待办事项。", "Nothing awaits you."),
    "case": _t("案件", "Case"),
    "base": _t("基地", "Base"),
    "district": _t("县区", "District"),
    "round": _t("年度", "Round"),
    "state": _t("状态", "State"),
    "what": _t("待办事项", "What awaits"),
    "due": _t("期限", "Due"),
    "article": _t("依据", "Article"),
    "actions": _t("可办理", "Actions"),
    "overdue": _t("已逾期", "overdue"),
    "not_before": _t("不早于", "not before"),
    "verdict": _t("条件审查（第六条、第七条）", "Eligibility (Art. 6, 7)"),
    "rule": _t("条件", "Condition"),
    "required": _t("要求", "Required"),
    "actual": _t("实际", "Actual"),
    "result": _t("结果", "Result"),
    "deadlines": _t("期限", "Deadlines"),
    "history": _t("办理记录", "History"),
    "verification": _t("记录校验（第二十条）", "Record verification (Art. 20)"),
    "chain_ok": _t("办理记录完整，未被篡改", "The history is complete and untampered"),
    "chain_bad": _t("办理记录校验未通过", "The history does not verify"),
    "as_of": _t("查看某日的案件状态", "The case as it stood on a day"),
    "as_of_day": _t("日期", "Day"),
    "show": _t("查看", "Show"),
    "as_of_result": _t("{day} 时的状态：{state}", "On {day}: {state}"),
    "not_declared_then": _t("当日尚未申报", "not declared yet on that day"),
    "when": _t("时间", "When"),
    "who": _t("办理人", "Who"),
    "step": _t("事项", "Step"),
    "to_state": _t("办理后状态", "State after"),
    "submit": _t("提交", "Submit"),
    "preview": _t("预览（不提交）", "Preview (nothing is saved)"),
    "preview_ok": _t(
        "预览：可以办理，办理后状态为「{state}」。确认无误后请点击「提交」。",
        "Preview: this may be done; the case would be {state}. Press Submit to do it.",
    ),
    "refused": _t("未能办理，原因如下：", "Not done, for these reasons:"),
    "fix_fields": _t("请更正以下各项：", "Please correct these fields:"),
    "done": _t("已办理：{step}。", "Done: {step}."),
    "replayed": _t(
        "该操作此前已提交，未重复办理。", "This was submitted before; nothing was done twice."
    ),
    "required_mark": _t("（必填）", "(required)"),
    "upload": _t("上传申请材料文件（JSON 或 TOML）", "Upload the application file (JSON or TOML)"),
    "paste": _t("或粘贴申请材料（JSON）", "Or paste the application (JSON)"),
    "roster": _t(
        "入驻企业（项目）名录表（可选，.xlsx 或 .csv）",
        "Roster of resident enterprises (optional, .xlsx or .csv)",
    ),
    "staff": _t(
        "管理和专职服务人员情况表（可选，.xlsx 或 .csv）",
        "Management and full-time service staff table (optional, .xlsx or .csv)",
    ),
    "pledge": _t(
        "本单位承诺所报材料真实、准确、完整，如有不实，愿承担相应责任（承诺书）",
        "We pledge that the materials are true, accurate and complete, and accept the "
        "consequences if they are not (the pledge)",
    ),
    "pledge_missing": _t("请勾选承诺书后再提交", "tick the pledge before submitting"),
    "declare_preview": _t("查看审查结果", "See the verdict"),
    "declare_submit": _t("提交申报", "Submit the declaration"),
    "eligible": _t("符合申报条件", "Eligible"),
    "not_eligible": _t("不符合申报条件", "Not eligible"),
    "open_round": _t("开启申报年度（第九条）", "Open a declaration round (Art. 9)"),
    "opens_on": _t("开始日期", "Opens on"),
    "closes_on": _t("截止日期", "Closes on"),
    "notice_ref": _t("申报通知文号", "Declaration notice reference"),
    "dashboard": _t("年度概览", "Round dashboard"),
    "by_state": _t("按状态", "By state"),
    "by_district": _t("按县区", "By district"),
    "count": _t("数量", "Count"),
    "notices_running": _t("公示中", "Notices running"),
    "notice_due": _t("公示截止", "Notice ends"),
    "due_soon": _t("近期到期", "Deadlines soon"),
    "selection": _t("择优排序（第十一条）", "Ranking and selection (Art. 11)"),
    "quota": _t("择优名额", "Quota"),
    "select": _t("择优", "Select"),
    "ranking": _t("排名", "Ranking"),
    "score": _t("专家平均分", "Mean expert score"),
    "selected": _t("入选", "Selected"),
    "exports": _t("导出", "Exports"),
    "annex2": _t("附件2 推荐汇总表（.xlsx）", "Annex 2 recommendation table (.xlsx)"),
    "annex1": _t("附件1 申请表（.xlsx）", "Annex 1 application tables (.xlsx)"),
    "documents": _t("公文", "Documents"),
    "public_notice_doc": _t("公示（.docx）", "Public notice (.docx)"),
    "certification_doc": _t("认定通知（.docx）", "Certification notice (.docx)"),
    "no_notices": _t("目前没有正在公示的基地。", "No base is under public notice now."),
    "notice_period": _t("公示期", "Notice period"),
    "how_to_object": _t(
        "对公示的基地有异议的，可在公示期内（第十三条）提交书面异议，写明理由并留下联系方式。",
        "Anyone may object to a publicized base within the notice period (Art. 13): give your "
        "reasons and a way to contact you.",
    ),
    "object": _t("提出异议", "Object"),
    "objection_received": _t(
        "异议已收到，将由市工业和信息化局调查核实。",
        "The objection is received; the city bureau will investigate it.",
    ),
    "validity": _t("有效期", "Validity"),
    "title_held": _t("称号", "Title"),
    "title_valid": _t("示范基地称号有效，至 {until}", "Demonstration base, valid until {until}"),
    "title_not_held": _t("称号已不再有效", "The title is no longer held"),
    "error": _t("出错了", "Something went wrong"),
    "back": _t("返回", "Back"),
    "filter": _t("筛选", "Filter"),
    "all": _t("全部", "all"),
    "earliest_certification": _t("最早可认定日期", "Earliest certification"),
    "provisional": _t(
        "（暂定：该年度节假日安排尚未公布）", "(provisional: no holiday notice yet for that year)"
    ),
    "yes": _t("是", "yes"),
    "no": _t("否", "no"),
    "pass": _t("符合", "pass"),
    "fail": _t("不符合", "fail"),
    "not_assessable": _t("无法判断", "not assessable"),
    "csrf": _t(
        "表单已过期或来源不明，请刷新页面后重试",
        "the form expired or did not come from this site; reload the page and try again",
    ),
    "sign_in_first": _t("请先登录", "Please sign in"),
    "round_opened": _t("{year} 年度申报已开启。", "The {year} round is open."),
    "selected_done": _t("已完成 {year} 年度择优排序。", "The {year} round is ranked."),
    "summary": _t("基本情况", "Summary"),
    "declared_on": _t("申报日期", "Declared on"),
    "operator": _t("运营主体", "Operator"),
    "notice": _t("公示", "Public notice"),
    "correction_due": _t("补正截止", "Correct by"),
    "language": _t("语言", "Language"),
    "reason": _t("理由", "Reason"),
    "none": _t("无", "none"),
    "verdict_counts": _t(
        "（共 {total} 项，未符合或无法判断 {failed} 项）",
        "({total} conditions, {failed} not passed)",
    ),
    "verdict_details": _t("逐条查看", "Condition by condition"),
}
"""The pages' strings (``t(key, lang)`` in the templates)."""


def t(key: str, lang: Lang, **values: object) -> str:
    """The page string ``key`` in ``lang``, its ``{placeholders}`` filled."""
    text = UI[key].in_(lang)
    return text.format(**values) if values else text
