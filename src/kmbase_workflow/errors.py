"""Every error the library raises, under one root.

Each error says what was wrong, where, and what to do, in Chinese and English::

    KmbaseError
    ├── InvalidInputError (ValueError)          bad data from a user or a file      CLI exit 2
    │   ├── FieldValueError                     one record field out of range or malformed
    │   ├── ApplicationFormatError              an application file, every problem with its path
    │   │   └── PayloadFormatError              a step's payload, every problem with its path
    │   └── PolicyFormatError                   a policy file that does not describe a policy
    ├── PolicyNotFoundError (LookupError)       no policy in force on the date asked
    ├── CalendarError
    │   ├── CalendarDataMissingError            no official holiday notice for a year  CLI exit 3
    │   └── CalendarDataConflictError           a loaded notice contradicts known data
    ├── TransitionRefusedError                  guards failed; lists each with its article  exit 1
    ├── ConcurrencyConflictError                a stale version was written, a deadlock     exit 4
    │   │                                       that persisted
    │   └── IdempotencyKeyReusedError           a key already ran a different command
    ├── CaseNotFoundError (LookupError)         no case with that id                      exit 2
    ├── StoreError                              the store failed; a retry will not help   exit 6
    │   ├── StoreBusyError                      locked or busy beyond the timeout; retryable  exit 5
    │   ├── StoreUnavailableError               the database cannot be reached; retryable     exit 5
    │   └── SchemaVersionError                  the database has a newer schema than this   exit 2
    │                                           library; not retryable
    └── BrokerError                             a message broker refused a message (a bridge) exit 6
        └── BrokerUnavailableError              the broker cannot be reached or did not
                                                confirm in time; retryable                 exit 5

``error.retryable`` says whether the same call may succeed if tried again later (true only
for `StoreBusyError`, `StoreUnavailableError` and `BrokerUnavailableError`). Driver errors (``sqlite3``, ``psycopg``)
never leave a store: each is translated into one of the classes above.

Exit codes of the command line (``kmbase``), one table for every command:

====  ==========================================================
0     success; for ``check``: eligible
1     refused, or not eligible
2     bad input
3     working-day calendar data missing for a year
4     conflict: the case changed meanwhile (or a key was reused)
5     the database is unreachable, locked or busy: try again later
6     the store failed in a way a retry will not mend (a corrupt or read-only file …)
====  ==========================================================
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
    "BrokerError",
    "BrokerUnavailableError",
    "CalendarDataConflictError",
    "CalendarDataMissingError",
    "CalendarError",
    "CaseNotFoundError",
    "ConcurrencyConflictError",
    "FieldValueError",
    "IdempotencyKeyReusedError",
    "InvalidInputError",
    "KmbaseError",
    "PayloadFormatError",
    "PolicyFormatError",
    "PolicyNotFoundError",
    "SchemaVersionError",
    "StoreBusyError",
    "StoreError",
    "StoreUnavailableError",
    "TransitionRefusedError",
]


class KmbaseError(Exception):
    """Root of every error raised by kmbase_workflow.

    ``message`` says what was wrong (and where); ``hint`` says what to do. Both are
    bilingual `Text`; ``str(error)`` shows both languages.
    """

    exit_code: int = 1
    retryable: bool = False
    """Whether the same call may succeed if tried again later, unchanged."""

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
                zh="请按 docs/reference/application-format.md 修改后重试",
                en="correct them as described in docs/reference/application-format.md and try again",
            ),
        )


class PayloadFormatError(ApplicationFormatError):
    """The payload of a step (``recommend``'s `Recommendation` …) could not be read;
    ``trigger`` names the step and ``problems`` lists every problem with its path. An
    `ApplicationFormatError` for whoever catches those, reported as the step's."""

    def __init__(self, trigger: str, problems: Sequence[Text]) -> None:
        self.trigger = trigger
        self.source = "payload"
        self.problems = tuple(problems)
        InvalidInputError.__init__(
            self,
            _problem_list(
                Text(zh=f"{trigger} 的附带数据", en=f"the payload of {trigger}"), self.problems
            ),
            hint=Text(
                zh=f"{trigger} 的附带数据格式见 docs/how-to/bulk.md（“Payloads”一节）",
                en=f"the payload of {trigger} is described in docs/how-to/bulk.md (Payloads)",
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
            hint=Text(
                zh="格式见 docs/reference/policy.md",
                en="the format is described in docs/reference/policy.md",
            ),
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

    @classmethod
    def stale_version(cls, case_id: str, expected: int, actual: int) -> ConcurrencyConflictError:
        """The error every store raises for a stale write."""
        return cls(
            Text(
                zh=f"案件 {case_id} 已被他人修改（当前版本 {actual}，你持有的版本 {expected}），"
                "未写入任何内容",
                en=f"case {case_id} changed meanwhile (now version {actual}, you held {expected}); "
                "nothing was written",
            ),
            hint=Text(zh="请重新读取案件后再操作", en="reload the case and try again"),
        )

    @classmethod
    def key_taken(cls, key: str) -> ConcurrencyConflictError:
        """The error every store raises when an idempotency key was already used."""
        return cls(
            Text(
                zh=f"幂等键 {key} 已被另一次执行使用，未写入任何内容",
                en=f"idempotency key {key} was used by another run; nothing was written",
            ),
            hint=Text(zh="重新执行会返回首次结果", en="run again to get the first result"),
        )

    @classmethod
    def base_changed(cls, base_id: str) -> ConcurrencyConflictError:
        """A declaration was checked against a base's cases (第九条: one open case a base; 第十五条)
        that changed before it was written: another declaration of the base came first."""
        return cls(
            Text(
                zh=f"基地 {base_id} 的案件在本次申报核对后发生了变化（另一申报已先写入），未写入任何内容",
                en=f"the cases of base {base_id} changed after this declaration was checked "
                "against them (another declaration came first); nothing was written",
            ),
            hint=Text(
                zh="请重新申报，将按现有案件重新核对",
                en="declare again: it is checked against the cases as they are now",
            ),
        )

    @classmethod
    def lock_cycle(cls, attempts: int) -> ConcurrencyConflictError:
        """Concurrent writers kept blocking each other (deadlock or serialization failure)."""
        return cls(
            Text(
                zh=f"与其他写入者的锁冲突（死锁或串行化失败），已尝试 {attempts} 次，未写入任何内容",
                en=f"concurrent writers kept blocking each other (deadlock or serialization "
                f"failure) over {attempts} attempt(s); nothing was written",
            ),
            hint=Text(zh="请重新读取案件后再操作", en="reload the case and try again"),
        )


class CaseNotFoundError(KmbaseError, LookupError):
    """No case with the given id in the store."""

    exit_code = 2

    @classmethod
    def no_case(cls, case_id: str) -> CaseNotFoundError:
        """The error every store raises for an unknown case id."""
        return cls(
            Text(zh=f"没有编号为 {case_id} 的案件", en=f"no case with id {case_id}"),
            hint=Text(zh="请检查案件编号", en="check the case id"),
        )


class StoreError(KmbaseError):
    """The store cannot do what was asked, and trying again will not change that
    (a corrupt, read-only or full database; a driver error the library did not expect)."""

    exit_code = 6


class StoreBusyError(StoreError):
    """The database stayed locked or busy beyond the store's timeout. Nothing was written;
    the same call may succeed later."""

    exit_code = 5
    retryable = True


class StoreUnavailableError(StoreError):
    """The database cannot be reached (server down, connection lost, file cannot be opened).
    Nothing was written, unless the connection was lost during a commit; the same call may
    succeed later (an idempotency key makes retrying a write safe)."""

    exit_code = 5
    retryable = True


class BrokerError(KmbaseError):
    """A message broker refused what a bridge published (nacked, unroutable, a stream that
    cannot take it). The outbox cursor did not move: nothing is lost, and the bridge sends the
    same events again once the cause is mended."""

    exit_code = 6


class BrokerUnavailableError(BrokerError):
    """The broker cannot be reached, or did not confirm in time. The cursor did not move; the
    same call may succeed later (consumers deduplicate what was sent twice by event id)."""

    exit_code = 5
    retryable = True


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


def install_hint(extra: str, *, otherwise: Text | None = None) -> Text:
    """What to do when the optional ``extra`` is not installed, the one hint every message
    about a missing extra gives. kmbase-workflow is on no public package index, so no
    message installs it by its bare name (that fails, or, where a public index is
    reachable, installs whatever someone registered under the name): the library is
    installed again, with the extra, from where it came from (docs/tutorials/getting-started.md).
    ``otherwise``: another way out (``use a .csv file``).

    >>> hint = install_hint("excel")
    >>> 'pip install "<checkout or .whl>[excel]"' in hint.en
    True
    """
    hint = Text(
        zh=f"请连同 {extra} 扩展重新安装本库（从源码目录、构建的 wheel 或代码仓库）："
        f'pip install "<源码目录或 .whl 文件>[{extra}]"（本库不在公共软件包索引上）',
        en=f"install the library again with its {extra} extra, from its checkout, a built wheel "
        f'or its repository: pip install "<checkout or .whl>[{extra}]" (it is on no public '
        "package index)",
    )
    if otherwise is None:
        return hint
    return Text(zh=f"{hint.zh}；或{otherwise.zh}", en=f"{hint.en}; or {otherwise.en}")
