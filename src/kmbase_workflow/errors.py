"""Every error the library raises, under one root.

Each error says what was wrong, where, and what to do, in Chinese and English::

    KmbaseError
    ├── InvalidInputError (ValueError)          bad data from a user or a file      CLI exit 2
    │   ├── FieldValueError                     one record field out of range or malformed
    │   ├── ApplicationFormatError              an application file, every problem with its path
    │   └── PolicyFormatError                   a policy file that does not describe a policy
    ├── PolicyNotFoundError (LookupError)       no policy in force on the date asked
    ├── CalendarError
    │   ├── CalendarDataMissingError            no official holiday notice for a year  CLI exit 3
    │   └── CalendarDataConflictError           a loaded notice contradicts known data
    ├── TransitionRefusedError                  guards failed; lists each with its article  exit 1
    ├── ConcurrencyConflictError                a stale version was written               exit 4
    │   └── IdempotencyKeyReusedError           a key already ran a different command
    ├── CaseNotFoundError (LookupError)         no case with that id
    └── StoreError                              the store cannot do what was asked
        └── SchemaVersionError                  the database has a newer schema than this library
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._i18n import Lang, Text

if TYPE_CHECKING:
    from .lifecycle import GuardFailure

__all__ = [
    "ApplicationFormatError",
    "CalendarDataConflictError",
    "CalendarDataMissingError",
    "CalendarError",
    "CaseNotFoundError",
    "ConcurrencyConflictError",
    "FieldValueError",
    "IdempotencyKeyReusedError",
    "InvalidInputError",
    "KmbaseError",
    "PolicyFormatError",
    "PolicyNotFoundError",
    "SchemaVersionError",
    "StoreError",
    "TransitionRefusedError",
]


class KmbaseError(Exception):
    """Root of every error raised by kmbase_workflow.

    ``message`` says what was wrong (and where); ``hint`` says what to do. Both are
    bilingual `Text`; ``str(error)`` shows both languages.
    """

    exit_code: int = 1

    def __init__(self, message: Text, *, hint: Text | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.describe("zh") + "\n" + self.describe("en"))

    def describe(self, lang: Lang) -> str:
        """The whole error (message and hint) in one language."""
        text = self.message.in_(lang)
        if self.hint is not None:
            # A multi-line message (a list of problems) takes its hint on a line of its own.
            joiner = "\n" if "\n" in text else ("；" if lang == "zh" else "; ")
            text += joiner + self.hint.in_(lang)
        return text


class InvalidInputError(KmbaseError, ValueError):
    """Input that does not have the expected form."""

    exit_code = 2


class FieldValueError(InvalidInputError):
    """A record field got a value it cannot hold (negative count, bad credit code …).

    Raised by record constructors; ``field`` names the field so that readers of files can
    report the full path.
    """

    def __init__(self, field: str, problem: Text) -> None:
        self.field = field
        self.problem = problem
        super().__init__(Text(zh=f"{field}：{problem.zh}", en=f"{field}: {problem.en}"))


def _problem_list(source: Text, problems: Sequence[Text]) -> Text:
    zh_lines = "\n".join(f"  - {p.zh}" for p in problems)
    en_lines = "\n".join(f"  - {p.en}" for p in problems)
    count = len(problems)
    return Text(
        zh=f"{source.zh} 有 {count} 处错误：\n{zh_lines}",
        en=f"{source.en} has {count} problem(s):\n{en_lines}",
    )


class ApplicationFormatError(InvalidInputError):
    """An application (or other record) could not be read.

    ``problems`` lists every problem, each as ``path: what is wrong``
    (``services.training.person_times: expected an integer, got "abc"``).
    """

    def __init__(self, source: str, problems: Sequence[Text]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(
            _problem_list(Text(zh=source, en=source), self.problems),
            hint=Text(
                zh="请按 docs/application-format.md 修改后重试",
                en="correct them as described in docs/application-format.md and try again",
            ),
        )


class PolicyFormatError(InvalidInputError):
    """A policy file that does not describe a policy; ``problems`` lists each with its path."""

    def __init__(
        self, message: Text, *, hint: Text | None = None, problems: Sequence[Text] = ()
    ) -> None:
        self.problems = tuple(problems)
        super().__init__(message, hint=hint)

    @classmethod
    def from_problems(cls, source: str, problems: Sequence[Text]) -> PolicyFormatError:
        """One error listing every problem found in the policy file ``source``."""
        return cls(
            _problem_list(Text(zh=f"政策文件 {source}", en=f"policy file {source}"), problems),
            hint=Text(zh="格式见 docs/policy.md", en="the format is described in docs/policy.md"),
            problems=problems,
        )


class PolicyNotFoundError(KmbaseError, LookupError):
    """No policy in force on the requested date."""

    exit_code = 2


class CalendarError(KmbaseError):
    """The working-day calendar cannot answer."""

    exit_code = 3


class CalendarDataMissingError(CalendarError):
    """A date falls in a year for which no official holiday notice is loaded."""

    def __init__(self, message: Text, *, hint: Text | None = None, year: int = 0) -> None:
        self.year = year
        super().__init__(message, hint=hint)


class CalendarDataConflictError(CalendarError):
    """Loaded holiday data contradicts data the calendar already holds."""

    exit_code = 2


class TransitionRefusedError(KmbaseError):
    """A trigger was refused: one or more guards failed. Nothing was changed.

    ``failures`` holds every failed guard (`GuardFailure`:
    guard name, article, bilingual message).
    """

    exit_code = 1

    def __init__(
        self, message: Text, *, hint: Text | None = None, failures: Sequence[GuardFailure] = ()
    ) -> None:
        self.failures = tuple(failures)
        super().__init__(message, hint=hint)


class ConcurrencyConflictError(KmbaseError):
    """The case changed since it was loaded (stale version). Nothing was written."""

    exit_code = 4


class CaseNotFoundError(KmbaseError, LookupError):
    """No case with the given id in the store."""

    exit_code = 2


class StoreError(KmbaseError):
    """The store cannot do what was asked."""


class SchemaVersionError(StoreError):
    """The database was created by a newer version of this library."""

    exit_code = 2


class IdempotencyKeyReusedError(ConcurrencyConflictError):
    """An idempotency key already ran a different command (another case, step or payload).

    Nothing was written: a retried script never silently skips a command it did not run.
    """


def unknown_choice(kind: type[enum.Enum], value: object) -> InvalidInputError:
    """The library error for a value that names no member of ``kind`` (the enums raise it
    from ``_missing_``: an `InvalidInputError`, so still a ``ValueError``, listing the
    choices in both languages)."""
    names = ", ".join(str(member.value) for member in kind)
    return InvalidInputError(
        Text(
            zh=f"{value!r} 不是有效的 {kind.__name__}",
            en=f"{value!r} is not a valid {kind.__name__}",
        ),
        hint=Text(zh=f"可选：{names}", en=f"choose one of: {names}"),
    )
