"""The documents officials sign, computed from the record (`Document`), before any format:

- `public_notice`: the 公示 of a round's bases going into public notice (第十三条), with the
  period as the cases' stored notice holds it (first and last day, counted on the calendar
  when it was announced: never recomputed here);
- `certification_notice`: the 认定 notice (第十四条) of a round's certified bases, citing the
  collective decision, with each base's validity as stored (第十五条);
- `application_form`: 附件1 as the form (承诺书, 申请表 and its four tables) of a case;
- `recommendation_document`: 附件2 推荐汇总表 as a document (the rows of the workbook).

What the records do not hold (the issuing office, where to object) comes from the host's
`DocumentSettings`: never invented; a document that needs a missing one is refused.

Each has its module: ``_notices`` (the 公示 and the 认定 notice), ``_form_documents`` (附件1
and 附件2) and ``_document_settings`` (the host's settings); this one names them all.
"""

from __future__ import annotations

from ._document_settings import DocumentSettings, ObjectionContact, load_document_settings
from ._form_documents import application_form, recommendation_document
from ._notices import (
    BASE_TITLE,
    CertificationNotice,
    NoticeEntry,
    PublicNotice,
    certification_notice,
    public_notice,
)

__all__ = [
    "BASE_TITLE",
    "CertificationNotice",
    "DocumentSettings",
    "NoticeEntry",
    "ObjectionContact",
    "PublicNotice",
    "application_form",
    "certification_notice",
    "load_document_settings",
    "public_notice",
    "recommendation_document",
]
