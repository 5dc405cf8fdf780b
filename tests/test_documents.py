"""The documents officials sign (issue 26), read back: the .docx with python-docx, the HTML and
the text as written, every computed value checked against the record (the notice's period
across National Day, the list in order, the counts, the validity)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import attrs
import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt

from kmbase_workflow.actors import Actor
from kmbase_workflow.case import Case, State
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.exports import (
    DocumentSettings,
    ObjectionContact,
    application_form,
    certification_notice,
    load_document_settings,
    public_notice,
    recommendation_document,
    recommendation_rows,
    render_html,
    render_text,
    write_document,
)
from kmbase_workflow.exports._forms import roster_in_form_order
from kmbase_workflow.exports._render import soffice
from kmbase_workflow.policy import load_policy
from lifecycle_helpers import (
    APPLICATION,
    BUREAU,
    CERTIFIED_ON,
    DECISION,
    EXPERT,
    NOTICE_DUE,
    PUBLIC,
    PUBLISHED_ON,
    Harness,
    harness,
    other_base,
    step_case,
)

SETTINGS = DocumentSettings(
    office="昆明市工业和信息化局",
    objections=ObjectionContact(
        receiver="昆明市工业和信息化局中小企业处",
        phone="0871-12345678",
        email="zxqc@example.org",
    ),
)
HOSTILE = '<script>alert("x")</script> & { MERGEFIELD 名称 } =HYPERLINK("http://x")'
"""A base name that is markup in HTML, a field code in Word and a formula in a spreadsheet:
it must stay the text it is."""

BASES = {
    "c1": (APPLICATION, 80.0),
    "c2": (other_base("呈贡信息产业孵化园"), 95.0),
    "c3": (other_base("官渡区双创示范园"), 88.0),
    "c4": (other_base(HOSTILE), 70.0),
}
"""Four bases of the 2025 round; the experts' scores rank them c2, c3, c1, c4."""
RANKED = ["c2", "c3", "c1", "c4"]


def noticed_round(h: Harness) -> Harness:
    """The four bases recommended, scored, selected, reviewed, inspected and put into public
    notice on Friday 2025-09-26 (the notice runs across National Day to 2025-10-15)."""
    for action in ("declare", "recommend"):
        for case_id, (application, _score) in BASES.items():
            step_case(h, case_id, action, application)
    for case_id, (_application, score) in BASES.items():
        h.workflow.record_expert_opinion(case_id, EXPERT, score, "服务功能完善")
    h.workflow.select_round(2025, BUREAU, quota=len(BASES))
    for case_id in BASES:
        h.workflow.pass_review(case_id, BUREAU)
        h.workflow.pass_inspection(case_id, BUREAU, "现场核查情况属实")
    h.set(PUBLISHED_ON)
    for case_id in BASES:
        h.workflow.publicize(case_id, BUREAU)
    return h


@pytest.fixture
def noticed() -> Harness:
    return noticed_round(harness())


@pytest.fixture
def certified(noticed: Harness) -> Harness:
    noticed.set(CERTIFIED_ON)
    for case_id in BASES:
        noticed.workflow.certify(case_id, BUREAU, DECISION)
    return noticed


def read_docx(path: Path) -> docx.document.Document:
    return docx.Document(str(path))


def texts(document: docx.document.Document) -> list[str]:
    return [paragraph.text for paragraph in document.paragraphs]


def table_rows(table: docx.table.Table) -> list[list[str]]:
    """The table's text, row by row; a cell merged across columns counted once."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:  # python-docx repeats a merged cell for each column it covers
            if cell._tc is not previous:
                cells.append(cell.text)
            previous = cell._tc
        rows.append(cells)
    return rows


def case(h: Harness, case_id: str) -> Case:
    return h.workflow.case(case_id)


def chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# -- the 公示 (第十三条) ------------------------------------------------------------------------


def test_notice_reads_back_the_stored_period_across_national_day(
    noticed: Harness, tmp_path: Path
) -> None:
    stored = case(noticed, "c1").notice
    assert stored is not None
    assert (stored.start, stored.due) == (PUBLISHED_ON, NOTICE_DUE)
    notice = public_notice(noticed.workflow, 2025, SETTINGS)
    path = write_document(notice.document(), tmp_path / "公示.docx")
    word = read_docx(path)
    paragraphs = texts(word)
    assert paragraphs[0] == (
        "昆明市工业和信息化局关于2025年度\n昆明市小型微型企业创业创新示范基地\n拟认定名单的公示"
    )
    body = "\n".join(paragraphs)
    assert "公示期为2025年9月26日至2025年10月15日（10个工作日）" in body
    assert f"公示期为{chinese(stored.start)}至{chinese(stored.due)}" in body
    assert "（共4家）" in body
    assert "第十三条" in body
    assert "推荐（第十条）、专家评审（第十一条）和现场核查（第十二条）" in body
    assert "请向昆明市工业和信息化局中小企业处反映" in body
    assert "联系电话：0871-12345678" in paragraphs
    assert "电子邮箱：zxqc@example.org" in paragraphs
    assert not any(line.startswith("通信地址") for line in paragraphs)  # not given: not printed
    assert paragraphs[-2:] == ["昆明市工业和信息化局", "2025年9月26日"]
    (table,) = word.tables
    rows = table_rows(table)
    assert rows[0] == ["序号", "基地名称", "运营主体", "所在县区"]
    expected = [
        [str(number), case(noticed, cid).base_name, case(noticed, cid).operator.name, "五华区"]
        for number, cid in enumerate(RANKED, start=1)
    ]
    assert rows[1:] == expected
    assert notice.summary() == {
        "document": "notice",
        "round": 2025,
        "bases": 4,
        "cases": RANKED,
        "starts_on": "2025-09-26",
        "ends_on": "2025-10-15",
        "working_days": 10,
        "provisional": False,
        "dated": "2025-09-26",
    }


def test_notice_lists_every_base_as_published_whatever_came_after(noticed: Harness) -> None:
    noticed.set(dt.date(2025, 10, 9))
    noticed.workflow.raise_objection("c3", PUBLIC, "入驻企业数量不实")
    noticed.workflow.verify_objection("c3", BUREAU, "经核实属实", sustained=True)
    assert case(noticed, "c3").state is State.REJECTED
    notice = public_notice(noticed.workflow, 2025, SETTINGS)
    assert [entry.case_id for entry in notice.entries] == RANKED


def test_notice_follows_a_filed_change_of_name(certified: Harness) -> None:
    from kmbase_workflow.case import ChangeKind

    certified.set(dt.date(2025, 11, 3))
    operator = Actor.for_operator(BASES["c2"][0].operator)
    certified.workflow.file_change(
        "c2",
        operator,
        "更名",
        dt.date(2025, 11, 3),
        kind=ChangeKind.NAME,
        base_name="呈贡数字产业孵化园",
    )
    decision = certification_notice(certified.workflow, 2025, SETTINGS)
    assert decision.entries[0].base_name == "呈贡数字产业孵化园"


def test_the_html_and_the_text_say_what_the_word_file_says(
    noticed: Harness, tmp_path: Path
) -> None:
    document = public_notice(noticed.workflow, 2025, SETTINGS).document()
    page = render_html(document)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; { MERGEFIELD" in page
    assert "公示期为2025年9月26日至2025年10月15日（10个工作日）" in page
    text = render_text(document)
    assert HOSTILE in text
    lines = text.splitlines()
    assert (
        lines[0]
        == "昆明市工业和信息化局关于2025年度昆明市小型微型企业创业创新示范基地拟认定名单的公示"
    )
    start = lines.index("序号\t基地名称\t运营主体\t所在县区")
    names = [line.split("\t")[1] for line in lines[start + 1 : start + 5]]
    assert names == [case(noticed, cid).base_name for cid in RANKED]
    assert lines[-2:] == ["昆明市工业和信息化局", "2025年9月26日"]
    written = write_document(document, tmp_path / "公示.html")
    assert written.read_text(encoding="utf-8") == page


def test_a_name_is_text_in_word_never_a_field_or_markup(noticed: Harness, tmp_path: Path) -> None:
    document = public_notice(noticed.workflow, 2025, SETTINGS).document()
    path = write_document(document, tmp_path / "公示.docx")
    xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
    assert "fldSimple" not in xml
    assert "instrText" not in xml
    assert "fldChar" not in xml
    assert "<script>" not in xml
    assert HOSTILE in [row[1] for row in table_rows(read_docx(path).tables[0])]


def test_a_control_character_becomes_a_replacement_character(tmp_path: Path) -> None:
    application = attrs.evolve(
        APPLICATION, base=attrs.evolve(APPLICATION.base, facilities="电梯\x0b会议室")
    )
    path = write_document(application_form(application), tmp_path / "附件1.docx")
    assert "电梯\ufffd会议室" in zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")


def test_the_word_file_has_the_layout_of_gb_t_9704(noticed: Harness, tmp_path: Path) -> None:
    document = public_notice(noticed.workflow, 2025, SETTINGS).document()
    word = read_docx(write_document(document, tmp_path / "公示.docx"))
    (section,) = word.sections

    def mm(length: Any) -> float:  # Word keeps twips: a millimetre rounds to 1/20 pt
        return round(float(length.mm), 1)

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [mm(margin) for margin in margins] == [37, 35, 28, 26]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"  # 28.95 pt: 22 lines in 225 mm
    title, first = word.paragraphs[0], word.paragraphs[1]
    title_run = title.runs[0]
    assert title_run.font.size == Pt(22)
    assert title_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    body_run = first.runs[0]
    assert body_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert word.styles["Normal"].font.size == Pt(16)
    assert first.paragraph_format.line_spacing == Pt(28.95)
    assert first.paragraph_format.first_line_indent == Pt(32)  # two characters
    date = word.paragraphs[-1]
    assert date.paragraph_format.right_indent == Pt(64)  # four characters in from the right
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    for footer in (odd, even):  # the PAGE field's text is its placeholder, 1
        assert "".join(text.text for text in footer._p.iter(qn("w:t"))) == "— 1 —"
    assert (odd.alignment, even.alignment) == (2, 0)  # odd pages right, even pages left
    assert word.settings.odd_and_even_pages_header_footer
    assert odd.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    assert odd.runs[0].font.size == Pt(14)
    fields = odd._p.findall(qn("w:fldSimple"))
    assert [field.get(qn("w:instr")) for field in fields] == ["PAGE"]
    rows = word.tables[0].rows  # the header repeats on each page, no row is split by one
    assert [row._tr.trPr.find(qn("w:tblHeader")) is not None for row in rows] == [True] + [
        False
    ] * len(BASES)
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in rows)


def test_the_notice_refuses_without_the_hosts_settings(noticed: Harness) -> None:
    with pytest.raises(InvalidInputError, match="office") as raised:
        public_notice(noticed.workflow, 2025, DocumentSettings())
    assert "不会编造" in str(raised.value)
    no_way = DocumentSettings(
        office="昆明市工业和信息化局", objections=ObjectionContact("中小企业处")
    )
    with pytest.raises(InvalidInputError, match="phone, email or address"):
        public_notice(noticed.workflow, 2025, no_way)
    with pytest.raises(InvalidInputError, match="receiver"):
        public_notice(noticed.workflow, 2025, attrs.evolve(SETTINGS, objections=None))


def test_a_round_without_a_notice_is_refused() -> None:
    h = harness()
    step_case(h, "c1", "declare", APPLICATION)
    with pytest.raises(InvalidInputError, match="no base of the 2025 round"):
        public_notice(h.workflow, 2025, SETTINGS)


def test_two_notice_periods_are_a_choice(noticed: Harness) -> None:
    later = other_base("西山小微企业创业园")
    h = noticed
    h.set(dt.date(2025, 7, 1))
    h.workflow.declare(later, Actor.for_operator(later.operator), case_id="c5")
    h.set(PUBLISHED_ON)
    step_case(h, "c5", "recommend", later)
    h.workflow.record_expert_opinion("c5", EXPERT, 90, "好")
    h.workflow.select_round(2025, BUREAU, quota=5)
    h.workflow.pass_review("c5", BUREAU)
    h.workflow.pass_inspection("c5", BUREAU, "属实")
    h.set(dt.date(2025, 10, 20))
    h.workflow.publicize("c5", BUREAU)
    with pytest.raises(InvalidInputError, match="several notice periods") as raised:
        public_notice(h.workflow, 2025, SETTINGS)
    assert "2025-09-26" in str(raised.value)
    assert "--starts-on" in str(raised.value)
    second = public_notice(h.workflow, 2025, SETTINGS, starts_on=dt.date(2025, 10, 20))
    assert [entry.case_id for entry in second.entries] == ["c5"]
    stored = case(h, "c5").notice
    assert stored is not None
    assert (second.starts_on, second.ends_on) == (stored.start, stored.due)
    assert second.working_days == 10


# -- the 认定 notice (第十四条, 第十五条) ----------------------------------------------------------


def test_the_decision_lists_each_base_with_its_stored_validity(
    certified: Harness, tmp_path: Path
) -> None:
    notice = certification_notice(certified.workflow, 2025, SETTINGS)
    word = read_docx(write_document(notice.document(), tmp_path / "认定通知.docx"))
    paragraphs = texts(word)
    assert (
        paragraphs[0]
        == "昆明市工业和信息化局关于认定2025年度\n昆明市小型微型企业创业创新示范基地的通知"
    )
    body = "\n".join(paragraphs)
    assert "集体决策（局党组会议纪要〔2025〕12号，2025年10月16日）" in body
    assert "认定以下4家基地" in body
    assert "社会公示（2025年9月26日至2025年10月15日）" in body
    assert "有效期为三年，在有效期满当年可再次申报（第十五条）" in body
    assert paragraphs[-2:] == ["昆明市工业和信息化局", chinese(CERTIFIED_ON)]
    rows = table_rows(word.tables[0])
    assert rows[0] == ["序号", "基地名称", "运营主体", "所在县区", "有效期"]
    for number, (row, cid) in enumerate(zip(rows[1:], RANKED, strict=True), start=1):
        validity = case(certified, cid).validity
        assert validity is not None
        assert row == [
            str(number),
            case(certified, cid).base_name,
            case(certified, cid).operator.name,
            "五华区",
            f"{chinese(validity.start)}至{chinese(validity.due)}",
        ]
    assert rows[1][4] == "2025年10月16日至2028年10月15日"
    assert notice.summary()["validity"] == [["2025-10-16", "2028-10-15"]] * 4


def test_the_decision_refuses_without_a_certified_base_or_an_office(noticed: Harness) -> None:
    with pytest.raises(InvalidInputError, match="no base of the 2025 round has been certified"):
        certification_notice(noticed.workflow, 2025, SETTINGS)
    with pytest.raises(InvalidInputError, match="issuing office"):
        certification_notice(noticed.workflow, 2025, DocumentSettings())


# -- 附件1 as the form, 附件2 ---------------------------------------------------------------------


def test_the_application_form_is_the_annex_filled_in(certified: Harness, tmp_path: Path) -> None:
    record = case(certified, "c1")
    application = record.application
    word = read_docx(write_document(application_form(record), tmp_path / "附件1.docx"))
    paragraphs = texts(word)
    assert paragraphs[0] == "承诺书"
    assert any(text.startswith("一、按照规定组织申报材料") for text in paragraphs)
    assert f"申报单位（公章）：{application.operator.name}" in paragraphs
    for title in (
        "昆明市小型微型企业创业创新示范基地申请表",
        "管理和专职服务人员情况表",
        "入驻企业（项目）名录表",
        "开展服务活动情况表",
        "入驻小微企业服务满意度评价表",
    ):
        assert title in paragraphs
    form, staff, roster, activities, survey = word.tables
    form_rows = table_rows(form)
    assert form_rows[1][:4] == ["基地名称", application.base.name, "所属县区", "五华区"]
    assert ["县（市）区、开发（度假）区中小企业主管部门审查推荐意见："] in form_rows
    assert ["同意推荐"] in form_rows  # the district's opinion fills the blank
    assert len(staff.rows) == 2 + len(application.staff)
    assert table_rows(staff)[0][:4] == ["序号", "姓名", "岗位", "教育情况"]
    residents = roster_in_form_order(application.residents)
    roster_rows = table_rows(roster)
    assert [row[1] for row in roster_rows[1:-1]] == [resident.name for resident in residents]
    assert roster_rows[-1][0] == "合计"
    assert roster_rows[-1][3] == str(sum(resident.employees for resident in residents))
    functions = load_policy(application.declared_on).service_functions.functions
    assert len(activities.rows) == 1 + len(functions)
    answers = application.satisfaction_survey
    survey_rows = table_rows(survey)
    satisfied = sum(answer.satisfied for answer in answers)
    assert survey_rows[-1][-2:] == [str(satisfied), str(len(answers) - satisfied)]
    assert [section.orientation for section in word.sections][2:] == [1, 1, 1, 1]  # landscape


def test_a_pledge_the_applicant_cannot_make_is_noted() -> None:
    pledges = dict(APPLICATION.pledges)
    pledges["no_wage_arrears"] = False
    application = attrs.evolve(APPLICATION, pledges=pledges)
    text = render_text(application_form(application))
    assert "注：申请单位申明不能承诺：附件1 承诺书第二项：上年度未发生拖欠职工工资行为。" in text
    assert "不能承诺" not in render_text(application_form(APPLICATION))


def test_the_recommendation_document_has_the_workbooks_rows(
    noticed: Harness, tmp_path: Path
) -> None:
    document = recommendation_document(
        noticed.workflow, "五华区", 2025, filled_by="张三", phone="0871-63000000"
    )
    word = read_docx(write_document(document, tmp_path / "附件2.docx"))
    rows = table_rows(word.tables[0])
    expected = recommendation_rows(noticed.workflow, "五华区", 2025)
    assert len(rows) == 1 + len(expected) == 5
    for number, (row, entry) in enumerate(zip(rows[1:], expected, strict=True), start=1):
        assert row == ["" if cell is None else str(cell) for cell in entry.cells(number)]
    assert "填表人：张三" in texts(word)[-1]
    assert word.sections[0].orientation == 1


# -- settings ------------------------------------------------------------------------------------


def test_settings_load_from_toml_and_a_bad_file_says_what_is_wrong(tmp_path: Path) -> None:
    good = tmp_path / "documents.toml"
    good.write_text(
        'office = "昆明市工业和信息化局"\n[objections]\nreceiver = "中小企业处"\nphone = "0871-1"\n',
        encoding="utf-8",
    )
    settings = load_document_settings(good)
    assert settings == DocumentSettings(
        office="昆明市工业和信息化局", objections=ObjectionContact("中小企业处", phone="0871-1")
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('office = 3\nphone = "x"\n[objections]\nreceiver = []\n', encoding="utf-8")
    with pytest.raises(InvalidInputError) as raised:
        load_document_settings(bad)
    message = str(raised.value)
    assert "office must be text" in message
    assert "objections.receiver must be text" in message
    assert "unknown keys: phone" in message
    broken = tmp_path / "broken.toml"
    broken.write_text("office = ", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not valid TOML"):
        load_document_settings(broken)
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_document_settings(tmp_path / "missing.toml")


def test_without_python_docx_word_asks_for_the_extra_and_html_works(
    noticed: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    document = public_notice(noticed.workflow, 2025, SETTINGS).document()
    monkeypatch.setitem(sys.modules, "docx", None)
    with pytest.raises(InvalidInputError, match=r"documents extra") as caught:
        write_document(document, tmp_path / "公示.docx")
    assert "python-docx" in caught.value.describe("zh")
    assert not (tmp_path / "公示.docx").exists()
    assert "2025年9月26日" in write_document(document, tmp_path / "公示.html").read_text("utf-8")


def test_an_unknown_format_is_refused(noticed: Harness, tmp_path: Path) -> None:
    document = public_notice(noticed.workflow, 2025, SETTINGS).document()
    with pytest.raises(InvalidInputError, match="document"):
        write_document(document, tmp_path / "公示.odt")


# -- PDF through LibreOffice ---------------------------------------------------------------------


def test_pdf_without_libreoffice_is_refused_with_a_hint(
    noticed: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    document = public_notice(noticed.workflow, 2025, SETTINGS).document()
    with pytest.raises(InvalidInputError, match="needs LibreOffice") as raised:
        write_document(document, tmp_path / "公示.pdf")
    assert raised.value.hint is not None
    assert "libreoffice-writer" in raised.value.hint.en
    assert not (tmp_path / "公示.pdf").exists()


def test_a_libreoffice_that_fails_or_hangs_is_a_refusal_not_a_traceback(
    noticed: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kmbase_workflow.exports import _render

    document = public_notice(noticed.workflow, 2025, SETTINGS).document()
    monkeypatch.setattr(_render, "soffice", lambda: shutil.which("false"))
    with pytest.raises(InvalidInputError, match="could not write the PDF"):
        write_document(document, tmp_path / "公示.pdf")
    hanging = tmp_path / "soffice"
    hanging.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    hanging.chmod(0o755)
    monkeypatch.setattr(_render, "soffice", lambda: str(hanging))
    monkeypatch.setattr(_render, "CONVERSION_TIMEOUT", 0.2)
    with pytest.raises(InvalidInputError, match="timed out"):
        write_document(document, tmp_path / "公示.pdf")
    assert not (tmp_path / "公示.pdf").exists()


def _need_libreoffice() -> None:
    missing = [tool for tool in ("pdftotext",) if shutil.which(tool) is None]
    if soffice() is None or missing:
        reason = "LibreOffice (soffice) and poppler-utils (pdftotext) are not installed"
        if os.environ.get("KMBASE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"KMBASE_REQUIRE_SERVICES=1: {reason}")
        pytest.skip(reason)


def test_the_pdf_holds_the_notices_text(noticed: Harness, tmp_path: Path) -> None:
    _need_libreoffice()
    document = public_notice(noticed.workflow, 2025, SETTINGS).document()
    path = write_document(document, tmp_path / "公示.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "公示期为2025年9月26日至2025年10月15日（10个工作日）" in flat
    assert "呈贡信息产业孵化园" in flat
    assert "昆明市工业和信息化局2025年9月26日" in flat
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "CJK" in fonts  # Chinese glyphs from a CJK font, not boxes


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> str:
    from kmbase_workflow.workflow import Workflow
    from lifecycle_helpers import ROUND_CLOSES, ROUND_OPENS

    h = harness()
    url = f"sqlite:///{tmp_path}/kmbase.db"
    workflow = Workflow(url, clock=h.clock)
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    noticed_round(Harness(workflow, h.clock, h.store))
    workflow.store.close()
    return url


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "documents.toml"
    path.write_text(
        'office = "昆明市工业和信息化局"\n\n[objections]\n'
        'receiver = "昆明市工业和信息化局中小企业处"\nphone = "0871-12345678"\n',
        encoding="utf-8",
    )
    return path


def kmbase(*args: str) -> object:
    import typer
    from typer.testing import CliRunner

    from kmbase_workflow.cli._export import export_app

    app = typer.Typer()
    app.add_typer(export_app, name="export")
    return CliRunner().invoke(app, ["export", *args])


def test_cli_writes_the_notice_in_each_format(db: str, settings_file: Path, tmp_path: Path) -> None:
    import json

    for form in ("docx", "html", "txt"):
        output = tmp_path / f"公示.{form}"
        common = ["notice", "--round", "2025", "--output", str(output), "--db", db]
        result = kmbase(*common, "--settings", str(settings_file), "--json")
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        summary = json.loads(result.stdout)  # type: ignore[attr-defined]
        assert summary["written"] == str(output)
        assert summary["cases"] == RANKED
        assert (summary["starts_on"], summary["ends_on"]) == ("2025-09-26", "2025-10-15")
    assert "公示期为2025年9月26日至2025年10月15日" in (tmp_path / "公示.txt").read_text("utf-8")
    text = read_docx(tmp_path / "公示.docx").paragraphs[1].text
    assert "（共4家）" in text
    forced = tmp_path / "公示.out"
    args = ["notice", "--round", "2025", "-o", str(forced), "--format", "html", "--db", db]
    result = kmbase(*args, "--settings", str(settings_file), "--date", "2025-09-25")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "2025年9月25日" in forced.read_text("utf-8")


def test_cli_refuses_the_notice_without_settings_and_exits_2(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KMBASE_DOCUMENTS", raising=False)
    output = tmp_path / "公示.docx"
    result = kmbase("notice", "--round", "2025", "-o", str(output), "--db", db, "--lang", "en")
    assert result.exit_code == 2
    assert "never invented" in result.stderr  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert not output.exists()
    bad = ["notice", "--round", "2025", "-o", str(output), "--db", db, "--format", "odt"]
    monkeypatch.setenv("KMBASE_DOCUMENTS", str(tmp_path / "missing.toml"))
    assert kmbase(*bad).exit_code == 2  # type: ignore[attr-defined]


def test_cli_writes_the_decision_the_form_and_the_recommendations(
    db: str, settings_file: Path, tmp_path: Path
) -> None:
    decision = tmp_path / "认定.docx"
    result = kmbase(
        "decision", "--round", "2025", "-o", str(decision), "--db", db,
        "--settings", str(settings_file),
    )  # fmt: skip
    assert result.exit_code == 2  # nothing certified yet
    assert "certify" in result.stderr or "认定" in result.stderr  # type: ignore[attr-defined]
    form = tmp_path / "附件1.docx"
    result = kmbase("application-form", "c1", "-o", str(form), "--db", db)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert read_docx(form).paragraphs[0].text == "承诺书"
    assert kmbase("application-form", "nope", "-o", str(form), "--db", db).exit_code == 2  # type: ignore[attr-defined]
    table = tmp_path / "附件2.docx"
    result = kmbase(
        "recommendations", "--district", "五华区", "--round", "2025", "-o", str(table),
        "--format", "docx", "--db", db, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert '"rows": 4' in result.stdout  # type: ignore[attr-defined]
    assert len(read_docx(table).tables[0].rows) == 5


# -- over HTTP -----------------------------------------------------------------------------------


def test_the_service_answers_each_document_under_the_records_reading_rights() -> None:
    from service_helpers import service, walk_to_certification

    for svc in service("memory://"):
        walk_to_certification(svc)
        svc.client.http.app.state.documents = SETTINGS  # type: ignore[attr-defined]
        bureau = svc.as_("city_bureau")
        page = bureau.notice_document(year="2025", form="html")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "2025年9月26日至2025年10月15日" in page.text
        word = bureau.decision_document(year="2025", form="docx")
        assert word.status_code == 200
        import io

        decision = docx.Document(io.BytesIO(word.content))
        assert "2025年10月16日至2028年10月15日" in table_rows(decision.tables[0])[1]
        # the district reads its own district's cases: all of this notice's
        assert svc.as_("district").notice_document(year="2025", form="txt").status_code == 200
        assert svc.as_("other_district").notice_document(year="2025", form="txt").status_code == 403
        assert svc.as_("public").notice_document(year="2025", form="txt").status_code == 403
        own = svc.client.application_form_document(case_id="c1", form="txt")
        assert own.status_code == 200
        assert own.text.startswith("承诺书")
        other = svc.as_("other_operator").application_form_document(case_id="c1", form="txt")
        assert other.status_code == 403
        table = svc.as_("district").recommendation_document_route(
            year="2025", district="五华区", form="txt"
        )
        assert table.status_code == 200
        assert "春城数字经济创业创新园" in table.text
        refused = svc.as_("other_district").recommendation_document_route(
            year="2025", district="五华区", form="txt"
        )
        assert refused.status_code == 403
        svc.client.http.app.state.documents = DocumentSettings()  # type: ignore[attr-defined]
        missing = bureau.notice_document(year="2025", form="txt")
        assert missing.status_code == 422
        assert "never invented" in missing.text


def test_the_service_reads_the_settings_file_once_per_app(
    settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service_helpers import service, walk_to_notice

    monkeypatch.setenv("KMBASE_DOCUMENTS", str(settings_file))
    for svc in service("memory://"):
        walk_to_notice(svc)
        bureau = svc.as_("city_bureau")
        first = bureau.notice_document(year="2025", form="txt")
        assert first.status_code == 200, first.text
        assert "昆明市工业和信息化局中小企业处" in first.text
        # a file read on each request would now be refused: the app keeps what it read
        settings_file.unlink()
        again = bureau.notice_document(year="2025", form="txt")
        assert again.status_code == 200, again.text
        assert again.text == first.text
        # another file named is read, not the old one's settings returned
        other = settings_file.with_name("other.toml")
        other.write_text('office = "五华区工业和信息化局"\n', encoding="utf-8")
        monkeypatch.setenv("KMBASE_DOCUMENTS", str(other))
        moved = bureau.notice_document(year="2025", form="txt")
        assert moved.status_code == 422
        assert "never invented" in moved.text
