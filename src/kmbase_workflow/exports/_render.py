"""The formats of a `Document`: Word (``.docx``, python-docx, in the GB/T 9704-2012 layout),
HTML (escaped, for a portal), plain text, and PDF (the ``.docx`` through LibreOffice).

Data is text in every format: in Word a value is the text of a run (never a field code or
markup; characters XML cannot hold become U+FFFD), in HTML it is escaped (`html.escape`).

GB/T 9704-2012: A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a type area
of 156 × 225 mm); the title in 方正小标宋简体 二号 (22 pt); the body in 仿宋_GB2312 三号
(16 pt), 22 lines of 28 characters (line pitch 225 mm / 22 ≈ 28.95 pt); the issuing office
centred above the date, the date four characters in from the right. Fonts are named as the
standard names them (``w:eastAsia``); a machine without them substitutes its own, and
`write_pdf` tells LibreOffice which (`FONT_FALLBACKS`).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._i18n import Text
from ..errors import InvalidInputError
from ._cells import optional_module, suffix_error, write_error
from ._document_model import Break, Cell, Document, Para, Style, Table

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import Table as DocxTable

__all__ = [
    "BODY_FONT",
    "FONT_FALLBACKS",
    "FORMATS",
    "TITLE_FONT",
    "render_docx",
    "render_html",
    "render_text",
    "write_document",
    "write_pdf",
]

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
PAGE_NUMBER_FONT = "宋体"
PAGE_NUMBER_SIZE = 14.0
LATIN_FONT = "Times New Roman"
FONT_FALLBACKS: Mapping[str, tuple[str, ...]] = {
    TITLE_FONT: ("Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN", "WenQuanYi Zen Hei"),
    BODY_FONT: (
        "FangSong",
        "Noto Serif CJK SC",
        "Source Han Serif SC",
        "AR PL UMing CN",
        "WenQuanYi Zen Hei",
    ),
    PAGE_NUMBER_FONT: ("SimSun", "Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN"),
}
"""The fonts a Linux machine has, in order, for each font the standard names (LibreOffice's
substitutes when it converts to PDF)."""

CONVERSION_TIMEOUT = 300
"""Seconds LibreOffice may take to convert one document before it is given up."""

FORMATS = ("docx", "html", "txt", "pdf")
"""The formats `write_document` writes, by the file's extension."""

TITLE_SIZE = 22.0
BODY_SIZE = 16.0
LINE_PITCH = 28.95
"""225 mm / 22 lines, in points (rounded as the standard's templates round it)."""
_CONDENSED = -5
"""The body's character spacing, in twentieths of a point: 28 characters of 16 pt are
448 pt, the type area is 156 mm (442 pt) wide, so each character gives up a quarter point
(as Word's character grid does; LibreOffice would give a character grid's narrower cell two
cells, so the grid here is of lines only)."""
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _docx() -> Any:
    """The ``docx`` module (python-docx), or a bilingual error naming the extra."""
    return optional_module(
        "docx",
        "python-docx",
        "documents",
        Text(zh="写 Word（.docx）文件", en="writing Word (.docx) files"),
        Text(zh="改用 .html、.txt", en="write .html or .txt"),
    )


def _xml_text(text: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", text)


# -- Word ---------------------------------------------------------------------------------------


def _fonts(run_or_style_element: Any, east_asia: str, size: float | None, bold: bool) -> None:
    from docx.oxml.ns import qn  # noqa: PLC0415
    from docx.shared import Pt  # noqa: PLC0415

    element = run_or_style_element
    rpr = element if element.tag == qn("w:rPr") else element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)
    if size is not None:
        rpr.get_or_add_sz().val = Pt(size)
    if bold:
        rpr.get_or_add_b()
    if east_asia == BODY_FONT and (size is None or size == BODY_SIZE):
        _child(rpr, "w:spacing", {"w:val": str(_CONDENSED)})


def _child(parent: Any, tag: str, attributes: Mapping[str, str]) -> None:
    """Set the child ``tag`` of a python-docx element (one it has no property for), in the
    place the schema gives it."""
    from docx.oxml import OxmlElement  # noqa: PLC0415
    from docx.oxml.ns import qn  # noqa: PLC0415

    existing = parent.find(qn(tag))
    if existing is not None:
        parent.remove(existing)
    element = OxmlElement(tag, {qn(name): value for name, value in attributes.items()})
    parent.insert_element_before(element, *_SUCCESSORS[tag])


_SUCCESSORS: Mapping[str, tuple[str, ...]] = {
    # the children that follow, in w:rPr and in w:pPr (ECMA-376 Part 1, 17.3.2.28 and 17.3.1.26)
    "w:spacing": ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u",
                  "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs",
                  "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath"),
    "w:snapToGrid": ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                     "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                     "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
                     "w:sectPr", "w:pPrChange"),
}  # fmt: skip


def _defaults(word: DocxDocument) -> None:
    """The document's defaults (``w:docDefaults``): the body's fonts and size, Chinese as
    the East Asian language (the character grid is counted in the default size)."""
    from docx.oxml.ns import qn  # noqa: PLC0415

    rpr = word.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if rpr is None:
        return
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        for theme in ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)
    _fonts(rpr, BODY_FONT, BODY_SIZE, bold=False)
    for size in rpr.findall(qn("w:szCs")):
        size.set(qn("w:val"), str(round(BODY_SIZE * 2)))
    language = rpr.find(qn("w:lang"))
    if language is not None:
        language.set(qn("w:eastAsia"), "zh-CN")


def _page(section: Any, *, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT  # noqa: PLC0415
    from docx.oxml.ns import qn  # noqa: PLC0415
    from docx.shared import Emu, Mm, Pt  # noqa: PLC0415

    short, long = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    # Portrait: the standard's margins; landscape: the same margins turned with the page.
    top, bottom, left, right = Mm(37), Mm(35), Mm(28), Mm(26)
    if landscape:
        top, right, bottom, left = left, top, right, bottom
    section.top_margin, section.bottom_margin = top, bottom
    section.left_margin, section.right_margin = left, right
    # the page number's line: 7 mm below the type area (GB/T 9704-2012 7.5)
    section.header_distance = Mm(15)
    section.footer_distance = Emu(bottom - Mm(7) - Pt(PAGE_NUMBER_SIZE))
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = section._sectPr.makeelement(qn("w:docGrid"), {})
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH * 20)))  # twentieths of a point


def _page_numbers(word: DocxDocument) -> None:
    """The page number in every section's footer as GB/T 9704-2012 7.5 has it: 4号 宋体
    Arabic numerals between two dashes (— 1 —), odd pages on the right and even pages on the
    left, one character in from the margin. The PAGE field is the only field of the file, and
    it holds no data."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: PLC0415
    from docx.oxml import OxmlElement  # noqa: PLC0415
    from docx.oxml.ns import qn  # noqa: PLC0415
    from docx.shared import Pt  # noqa: PLC0415

    word.settings.odd_and_even_pages_header_footer = True
    section = word.sections[0]  # the sections after it keep its footers
    for footer, odd in ((section.footer, True), (section.even_page_footer, False)):
        paragraph = footer.paragraphs[0]
        fmt = paragraph.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
        if odd:
            fmt.right_indent = Pt(PAGE_NUMBER_SIZE)
        else:
            fmt.left_indent = Pt(PAGE_NUMBER_SIZE)
        _fonts(paragraph.add_run("— ").element, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE, bold=False)
        field = OxmlElement("w:fldSimple", {qn("w:instr"): "PAGE"})
        number = paragraph.add_run("1")
        _fonts(number.element, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE, bold=False)
        field.append(number.element)
        paragraph._p.append(field)
        _fonts(paragraph.add_run(" —").element, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE, bold=False)


def _paragraph_format(paragraph: Any, style: Style) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING  # noqa: PLC0415
    from docx.shared import Pt  # noqa: PLC0415

    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PITCH)
    if style is Style.TITLE:  # 二号 on lines of its own size, off the body's grid
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.line_spacing = Pt(35)
        fmt.space_after = Pt(LINE_PITCH)
        _child(paragraph._p.get_or_add_pPr(), "w:snapToGrid", {"w:val": "0"})
    elif style is Style.BODY:
        fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        fmt.first_line_indent = Pt(2 * BODY_SIZE)
    elif style is Style.CENTERED:  # a table's title: on the table's page
        fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.space_before = Pt(LINE_PITCH / 2)
        fmt.keep_with_next = True
    elif style in (Style.SALUTATION, Style.PLAIN):
        fmt.alignment = WD_ALIGN_PARAGRAPH.LEFT
    elif style is Style.NOTE:
        fmt.alignment = WD_ALIGN_PARAGRAPH.LEFT
        fmt.line_spacing = Pt(LINE_PITCH * 0.8)


def _em(text: str) -> float:
    """The width of ``text`` in characters of the body (ASCII is half a character)."""
    return sum(0.5 if ord(char) < 0x2E80 else 1 for char in text)


def _signature(document: DocxDocument, office: str, date: str) -> None:
    """发文机关署名 centred above 成文日期, which ends four characters from the right
    (GB/T 9704-2012 7.3.5.1), two blank lines below the body."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: PLC0415
    from docx.shared import Pt  # noqa: PLC0415

    offset = 4 + max(0.0, (_em(date) - _em(office)) / 2)
    for text, indent, before in ((office, offset, 2), (date, 4.0, 0)):
        paragraph = document.add_paragraph()
        _paragraph_format(paragraph, Style.PLAIN)
        paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.right_indent = Pt(indent * BODY_SIZE)
        paragraph.paragraph_format.space_before = Pt(before * LINE_PITCH)
        _fonts(paragraph.add_run(_xml_text(text)).element, BODY_FONT, None, bold=False)


def _cell_style(document: DocxDocument, size: float) -> Any:
    """The paragraph style of a table's cells at ``size`` points (made once per document):
    仿宋, single spacing, off the line grid so that rows stay compact. Every cell then
    carries only its style, its alignment and its text (formatting each cell's paragraph and
    run one by one took most of a form's time)."""
    from docx.enum.style import WD_STYLE_TYPE  # noqa: PLC0415
    from docx.enum.text import WD_LINE_SPACING  # noqa: PLC0415
    from docx.shared import Pt  # noqa: PLC0415

    name = f"kmbase table {size:g}pt"
    styles = document.styles
    if name in [style.name for style in styles]:
        return styles[name]
    style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = styles["Normal"]
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.first_line_indent = Pt(0)
    _child(style.element.get_or_add_pPr(), "w:snapToGrid", {"w:val": "0"})
    _fonts(style.element, BODY_FONT, size, bold=False)
    return style


def _cell_paragraph(cell: Any, model: Cell, style: Any) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT  # noqa: PLC0415
    from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: PLC0415

    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    paragraph._p.get_or_add_pPr().style = (
        style.style_id
    )  # by id: python-docx looks a style up by scanning them all
    if model.header or len(model.text) <= 4:
        paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if model.text:
        run = paragraph.add_run(_xml_text(model.text))
        if model.header or model.strong:
            run.bold = True


def _table(document: DocxDocument, model: Table, landscape: bool) -> DocxTable:
    """The model's table: every cell's text written into its top-left grid cell, then the
    spans merged. Grid cells are reached through the rows' own lists, taken before any merge
    (python-docx's ``table.cell`` lays the whole grid out at each call: a roster of 60 rows
    took a minute and a half that way)."""
    from docx.oxml import OxmlElement  # noqa: PLC0415
    from docx.shared import Emu, Mm  # noqa: PLC0415
    from docx.table import _Cell  # noqa: PLC0415

    table: DocxTable = document.add_table(rows=len(model.rows), cols=model.width)
    table.style = "Table Grid"
    table.autofit = False
    area = Mm(225 if landscape else 156)
    total = sum(model.widths)
    widths = [Emu(int(area * width / total)) for width in model.widths]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    grid = [list(tr.tc_lst) for tr in table._tbl.tr_lst]
    for row_tcs in grid:
        for tc, width in zip(row_tcs, widths, strict=True):
            tc.width = width
    style = _cell_style(document, model.size)
    merges = []
    for index, cells in enumerate(model.rows):
        properties = table._tbl.tr_lst[index].get_or_add_trPr()  # no API for these
        properties.append(OxmlElement("w:cantSplit"))  # a row stays on one page
        if index < model.header_rows:  # repeated on every page
            properties.append(OxmlElement("w:tblHeader"))
        column = 0
        for model_cell in cells:
            if not model_cell.merged:
                first = _Cell(grid[index][column], table)
                _cell_paragraph(first, model_cell, style)
                last = (index + model_cell.down - 1, column + model_cell.span - 1)
                if last != (index, column):
                    merges.append((first, _Cell(grid[last[0]][last[1]], table)))
            column += model_cell.span
    for first, last_cell in merges:
        first.merge(last_cell)
    return table


def render_docx(document: Document) -> bytes:
    """The document as a Word file in the GB/T 9704-2012 layout (see the module)."""
    docx = _docx()
    from docx.enum.section import WD_SECTION  # noqa: PLC0415
    from docx.shared import Pt  # noqa: PLC0415

    word = docx.Document()
    word.core_properties.title = _xml_text(document.title)
    _defaults(word)
    normal = word.styles["Normal"]
    _fonts(normal.element, BODY_FONT, BODY_SIZE, bold=False)
    normal.paragraph_format.line_spacing = Pt(LINE_PITCH)
    landscape = False
    _page(word.sections[0], landscape=False)
    _page_numbers(word)
    blocks = list(document.blocks)
    while blocks and isinstance(blocks[0], Break):  # the first page is already there
        opening = blocks.pop(0)
        assert isinstance(opening, Break)
        landscape = opening.landscape
        _page(word.sections[0], landscape=landscape)
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if isinstance(block, Break):
            landscape = block.landscape
            _page(word.add_section(WD_SECTION.NEW_PAGE), landscape=landscape)
        elif isinstance(block, Table):
            _table(word, block, landscape)
        elif block.style is Style.SIGNATURE:
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            date = following.text if isinstance(following, Para) else ""
            _signature(word, block.text, date)
            index += 1
        else:
            paragraph = word.add_paragraph()
            _paragraph_format(paragraph, block.style)
            font, size, bold = BODY_FONT, None, False
            if block.style is Style.TITLE:
                font, size = TITLE_FONT, TITLE_SIZE
            elif block.style is Style.NOTE:
                size = 12
            _fonts(paragraph.add_run(_xml_text(block.text)).element, font, size, bold)
        index += 1
    with tempfile.TemporaryFile() as buffer:
        word.save(buffer)
        buffer.seek(0)
        return buffer.read()


# -- HTML and plain text ------------------------------------------------------------------------

_HTML_STYLE = """
body { font-family: "仿宋_GB2312", "FangSong", "Noto Serif CJK SC", serif; font-size: 16pt;
  line-height: 1.8; max-width: 46em; margin: 2em auto; }
h1 { font-family: "方正小标宋简体", "Noto Serif CJK SC", serif; font-size: 22pt;
  text-align: center; font-weight: normal; }
p.body { text-indent: 2em; } p.centered { text-align: center; }
p.signature, p.date { text-align: right; margin: 0 4em 0 0; } p.signature { margin-top: 2em; }
table { border-collapse: collapse; width: 100%; font-size: 12pt; margin: 1em 0; }
th, td { border: 1px solid #000; padding: 0.2em 0.4em; }
p.note { font-size: 12pt; }
"""


def _html_cell(cell: Cell) -> str:
    tag = "th" if cell.header else "td"
    attributes = ""
    if cell.span > 1:
        attributes += f' colspan="{cell.span}"'
    if cell.down > 1:
        attributes += f' rowspan="{cell.down}"'
    text = html.escape(cell.text).replace("\n", "<br>")
    if cell.strong:
        text = f"<strong>{text}</strong>"
    return f"<{tag}{attributes}>{text}</{tag}>"


def render_html(document: Document) -> str:
    """The document as one HTML page (every value escaped), for a portal."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(document.title)}</title>",
        f"<style>{_HTML_STYLE}</style>",
        "</head>",
        "<body>",
    ]
    for block in document.blocks:
        if isinstance(block, Break):
            parts.append('<hr class="page">')
        elif isinstance(block, Table):
            parts.append("<table>")
            for cells in block.rows:
                shown = "".join(_html_cell(cell) for cell in cells if not cell.merged)
                parts.append(f"<tr>{shown}</tr>")
            parts.append("</table>")
        elif block.style is Style.TITLE:
            parts.append(f"<h1>{html.escape(block.text).replace(chr(10), '<br>')}</h1>")
        else:
            parts.append(f'<p class="{block.style.value}">{html.escape(block.text)}</p>')
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def render_text(document: Document) -> str:
    """The document as plain text: paragraphs, and tables one row a line, cells separated by
    tabs (a line break inside a cell becomes ``；``)."""
    lines: list[str] = []
    for block in document.blocks:
        if isinstance(block, Break):
            lines.append("")
        elif isinstance(block, Table):
            for cells in block.rows:
                lines.append(
                    "\t".join(
                        "" if cell.merged else cell.text.replace("\n", "；") for cell in cells
                    ).rstrip("\t")
                )
        elif block.style is Style.BODY:
            lines.append("　　" + block.text)
        elif block.style is Style.TITLE:
            lines.append(block.text.replace("\n", ""))
        else:
            lines.append(block.text)
    return "\n".join(lines) + "\n"


# -- files --------------------------------------------------------------------------------------


def _profile(folder: Path) -> Path:
    """A fresh LibreOffice profile whose font replacement table maps the standard's fonts to
    the first of `FONT_FALLBACKS` that the machine has (LibreOffice does not ask fontconfig
    for a family it cannot find: it takes its own list, Japanese glyphs first)."""
    installed = _installed_families()
    pairs = []
    for family, fallbacks in FONT_FALLBACKS.items():
        chosen = next((name for name in fallbacks if name in installed), None)
        if chosen is not None:
            pairs.append((family, chosen))
    nodes = "".join(
        f'<item oor:path="/org.openoffice.Office.Common/Font/Substitution/FontPairs">'
        f'<node oor:name="_{index}" oor:op="replace">'
        '<prop oor:name="Always" oor:op="fuse"><value>true</value></prop>'
        '<prop oor:name="OnScreenOnly" oor:op="fuse"><value>false</value></prop>'
        f'<prop oor:name="ReplaceFont" oor:op="fuse"><value>{html.escape(family)}</value></prop>'
        f'<prop oor:name="SubstituteFont" oor:op="fuse"><value>{html.escape(chosen)}</value></prop>'
        "</node></item>"
        for index, (family, chosen) in enumerate(pairs)
    )
    user = folder / "profile" / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<item oor:path="/org.openoffice.Office.Common/Font/Substitution">'
        '<prop oor:name="Replacement" oor:op="fuse"><value>true</value></prop></item>'
        f"{nodes}</oor:items>\n",
        encoding="utf-8",
    )
    return folder / "profile"


def _installed_families() -> frozenset[str]:
    """The font families fontconfig knows (``fc-list``; none when it is missing)."""
    command = shutil.which("fc-list")
    if command is None:
        return frozenset()
    listed = subprocess.run(
        [command, ":", "family"], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    return frozenset(
        name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()
    )


def soffice() -> str | None:
    """LibreOffice's command (``soffice`` or ``libreoffice`` on the PATH), if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def write_pdf(document: Document, path: str | Path) -> Path:
    """The document as PDF: its ``.docx`` converted by LibreOffice (``soffice --headless
    --convert-to pdf``), with `FONT_FALLBACKS` for the fonts a machine lacks. Refused with a
    hint when LibreOffice is not installed."""
    target = Path(path)
    command = soffice()
    if command is None:
        raise InvalidInputError(
            Text(
                zh="生成 PDF 需要 LibreOffice（soffice），但未安装",
                en="writing PDF needs LibreOffice (soffice), which is not installed",
            ),
            hint=Text(
                zh="安装 LibreOffice（如 apt-get install libreoffice-writer-nogui fonts-noto-cjk），或改用 .docx",
                en="install LibreOffice (e.g. apt-get install libreoffice-writer-nogui fonts-noto-cjk), or write .docx",
            ),
        )
    with tempfile.TemporaryDirectory(prefix="kmbase-pdf-") as folder:
        work = Path(folder)
        source = work / "document.docx"
        source.write_bytes(render_docx(document))
        profile = _profile(work)  # a fresh profile, never the user's
        env = dict(os.environ)
        env["HOME"] = str(work)
        try:
            result = subprocess.run(
                [
                    command,
                    f"-env:UserInstallation={profile.as_uri()}",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(work),
                    str(source),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
                timeout=CONVERSION_TIMEOUT,
            )
            detail = (result.stderr or result.stdout).strip()[-500:]
            failed = result.returncode != 0
        except (OSError, subprocess.TimeoutExpired) as exc:
            detail, failed = str(exc), True
        produced = work / "document.pdf"
        if failed or not produced.exists():
            raise InvalidInputError(
                Text(
                    zh=f"LibreOffice 未能生成 PDF：{detail}",
                    en=f"LibreOffice could not write the PDF: {detail}",
                ),
                hint=Text(zh="请先导出 .docx 检查", en="write the .docx first and check it"),
            )
        try:
            shutil.copyfile(produced, target)
        except OSError as exc:
            raise write_error(target, exc) from None
    return target


def write_document(document: Document, path: str | Path, format: str | None = None) -> Path:
    """Write ``document`` to ``path`` as ``format`` (``docx``, ``html``, ``txt`` or ``pdf``;
    default: the file's extension). Returns the path written."""
    target = Path(path)
    chosen = (format or target.suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        raise suffix_error(target, tuple(f".{name}" for name in FORMATS), "文书 / document")
    if chosen == "pdf":
        return write_pdf(document, target)
    content: bytes
    if chosen == "docx":
        content = render_docx(document)
    elif chosen == "html":
        content = render_html(document).encode("utf-8")
    else:
        content = render_text(document).encode("utf-8")
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise write_error(target, exc) from None
    return target
