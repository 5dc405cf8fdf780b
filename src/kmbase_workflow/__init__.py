"""kmbase_workflow: the certification workflow of Kunming's small and micro enterprise
entrepreneurship and innovation demonstration bases (昆工信规〔2022〕1号).

The public API is flat: import everything from ``kmbase_workflow``.
"""

from __future__ import annotations

from ._i18n import Lang, Text
from .errors import (
    ApplicationFormatError,
    CalendarDataConflictError,
    CalendarDataMissingError,
    CalendarError,
    CaseNotFoundError,
    ConcurrencyConflictError,
    FieldValueError,
    InvalidInputError,
    KmbaseError,
    PolicyFormatError,
    PolicyNotFoundError,
    SchemaVersionError,
    StoreError,
    TransitionRefusedError,
)

__all__ = [
    "ApplicationFormatError",
    "CalendarDataConflictError",
    "CalendarDataMissingError",
    "CalendarError",
    "CaseNotFoundError",
    "ConcurrencyConflictError",
    "FieldValueError",
    "InvalidInputError",
    "KmbaseError",
    "Lang",
    "PolicyFormatError",
    "PolicyNotFoundError",
    "SchemaVersionError",
    "StoreError",
    "Text",
    "TransitionRefusedError",
]
