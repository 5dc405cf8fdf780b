"""Excel and CSV: the official forms as spreadsheets, and rosters read back from them.

Exports (``.xlsx``, with ``openpyxl``: the ``excel`` extra):

- `export_recommendation_table`: 附件2 推荐汇总表, a district's judged cases of a round;
- `export_application_tables`: the forms of 附件1 for one application, one sheet each
  (申请表, then the four tables: 管理和专职服务人员情况表, 入驻企业（项目）名录表,
  开展服务活动情况表, 入驻小微企业服务满意度评价表);
- `export_roster` and `export_staff`: one table as ``.xlsx`` or ``.csv``.

Imports (``.xlsx`` or ``.csv``): `read_roster` and `read_staff` read the rows of
入驻企业（项目）名录表 and 管理和专职服务人员情况表 under their official Chinese headers (or
the records' English field names); `import_roster` and `import_staff` put them
into an application. Reading is as strict as `kmbase_workflow.serialization`: a bad file
raises one `ApplicationFormatError` listing every bad cell with
its sheet, row and column::

    入驻企业（项目）名录表 row 5, column D (从业人员数（人）): expected an integer, got "十二"

Documents (the papers officials sign, computed once from the record as a `Document`, then
written as ``.docx`` in the GB/T 9704-2012 layout with ``python-docx``, the ``documents``
extra, as escaped HTML, plain text, or PDF through LibreOffice):

- `public_notice`: the 公示 of a round (第十三条), its period as the cases' stored notice;
- `certification_notice`: the 认定 notice (第十四条) with each base's validity (第十五条);
- `application_form`: 附件1 as the form to sign (承诺书, 申请表 and its four tables);
- `recommendation_document`: 附件2 as a document;
- `write_document`: any of them to ``.docx``, ``.html``, ``.txt`` or ``.pdf``.

What the records do not hold (the issuing office, where to object) is the host's
`DocumentSettings` (`load_document_settings`), never invented. docs/how-to/documents.md.

CSV needs no extra package; the library imports without ``openpyxl`` and only asks for it when
an ``.xlsx`` file is written or read. docs/how-to/exports.md describes every column.

No cell from data is ever a formula, and CSV text that starts like one is guarded
(docs/how-to/exports.md, "Data is never code").

Inside the package: ``_forms`` holds the forms' words (tables, headers, labels), ``_excel``
writes the workbooks and CSV files, ``_application_form`` writes 申请表, ``_sheet`` lays a
sheet out, ``_import`` reads, and
``_cells`` is the one place that turns a value into a cell (text is never a formula);
``_document_model`` is the shape of a document; ``_notices`` computes the 公示 and the 认定
notice from the record, ``_form_documents`` 附件1 and 附件2 as documents (``_documents``
names them all), ``_document_settings`` reads the host's settings, and ``_render`` writes
the formats.
"""

from ._document_model import Document
from ._documents import (
    CertificationNotice,
    DocumentSettings,
    NoticeEntry,
    ObjectionContact,
    PublicNotice,
    application_form,
    certification_notice,
    load_document_settings,
    public_notice,
    recommendation_document,
)
from ._excel import (
    RecommendationRow,
    export_application_tables,
    export_recommendation_table,
    export_roster,
    export_staff,
    recommendation_rows,
)
from ._import import import_roster, import_staff, read_roster, read_staff
from ._render import render_docx, render_html, render_text, write_document

__all__ = [
    "CertificationNotice",
    "Document",
    "DocumentSettings",
    "NoticeEntry",
    "ObjectionContact",
    "PublicNotice",
    "RecommendationRow",
    "application_form",
    "certification_notice",
    "export_application_tables",
    "export_recommendation_table",
    "export_roster",
    "export_staff",
    "import_roster",
    "import_staff",
    "load_document_settings",
    "public_notice",
    "read_roster",
    "read_staff",
    "recommendation_document",
    "recommendation_rows",
    "render_docx",
    "render_html",
    "render_text",
    "write_document",
]
