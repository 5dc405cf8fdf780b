"""Library errors as HTTP responses: the error's code (its class), both languages, the hint,
the failed rules and the problems, under one status per kind of error."""

from __future__ import annotations

from typing import Any

from .._i18n import Text
from ..errors import (
    ApplicationFormatError,
    CalendarError,
    CaseNotFoundError,
    ConcurrencyConflictError,
    InvalidInputError,
    KmbaseError,
    PolicyFormatError,
    PolicyNotFoundError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
    TransitionRefusedError,
)

__all__ = ["RETRY_AFTER_SECONDS", "STATUSES", "ServiceError", "error_body", "status_of"]

RETRY_AFTER_SECONDS = 2
"""The ``Retry-After`` of a 503 (the store was busy or unreachable)."""


class ServiceError(KmbaseError):
    """An error of the HTTP face itself (authentication, a request too large, no such
    route), answered with ``status``."""

    def __init__(self, status: int, message: Text, *, hint: Text | None = None) -> None:
        self.status = status
        super().__init__(message, hint=hint)


STATUSES: tuple[tuple[type[KmbaseError], int], ...] = (
    (CaseNotFoundError, 404),
    (InvalidInputError, 422),
    (PolicyNotFoundError, 422),
    (CalendarError, 422),
    (TransitionRefusedError, 409),
    (ConcurrencyConflictError, 409),
    (StoreBusyError, 503),
    (StoreUnavailableError, 503),
    # the store cannot serve until an operator acts (a work queue to rebuild, a database
    # newer than the library): unavailable, but not retryable (no Retry-After)
    (StoreError, 503),
)
"""Each kind of library error and its HTTP status, first match wins (any other: 500)."""


def status_of(error: KmbaseError) -> int:
    """The HTTP status of a library error."""
    if isinstance(error, ServiceError):
        return error.status
    return next((status for kind, status in STATUSES if isinstance(error, kind)), 500)


def _text(text: Text) -> dict[str, str]:
    return {"zh": text.zh, "en": text.en}


def error_body(error: KmbaseError) -> dict[str, Any]:
    """The JSON of an error response (``ErrorResponse`` in the OpenAPI document)."""
    failures = [
        {"guard": f.guard, "article": _text(f.article), "message": _text(f.message)}
        for f in getattr(error, "failures", ())
    ]
    problems = (
        [_text(p) for p in error.problems]
        if isinstance(error, ApplicationFormatError | PolicyFormatError)
        else []
    )
    return {
        "error": {
            "code": "ServiceError" if isinstance(error, ServiceError) else type(error).__name__,
            "status": status_of(error),
            "message": _text(error.message),
            "hint": _text(error.hint) if error.hint is not None else None,
            "zh": error.describe("zh"),
            "en": error.describe("en"),
            "retryable": error.retryable,
            "failures": failures,
            "problems": problems,
        }
    }


ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorResponse",
    "description": "A refused or failed request: the library's error, in both languages.",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "status", "message", "zh", "en", "retryable"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "The library's error class (TransitionRefusedError, "
                    "ApplicationFormatError, CaseNotFoundError, StoreUnavailableError …) or "
                    "ServiceError for the HTTP face's own (authentication …).",
                },
                "status": {"type": "integer"},
                "message": {"$ref": "#/components/schemas/Text"},
                "hint": {"anyOf": [{"$ref": "#/components/schemas/Text"}, {"type": "null"}]},
                "zh": {"type": "string", "description": "The whole error in Chinese."},
                "en": {"type": "string", "description": "The whole error in English."},
                "retryable": {
                    "type": "boolean",
                    "description": "The same request may succeed later (503: see Retry-After).",
                },
                "failures": {
                    "type": "array",
                    "description": "Every failed rule of a refusal, with its article.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "guard": {"type": "string"},
                            "article": {"$ref": "#/components/schemas/Text"},
                            "message": {"$ref": "#/components/schemas/Text"},
                        },
                    },
                },
                "problems": {
                    "type": "array",
                    "description": "Every problem of a document, each with its path.",
                    "items": {"$ref": "#/components/schemas/Text"},
                },
            },
        }
    },
}
