"""`Command`: the one helper every ``kmbase`` command body starts with. It owns what each
command used to repeat: the message language of ``--lang``, opening the store and the workflow
over it (a reading command refuses a database that does not exist), reporting a library error
with its exit code, and the tail: the result as one JSON document with ``--json``, as text or
tables otherwise, and the command's exit code.

A command body reads::

    command = Command(lang)
    workflow = command.workflow(db, today=today)
    rounds = command.run(workflow.store.rounds)
    command.finish([...], text="...")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from .._i18n import Text
from ..errors import InvalidInputError, KmbaseError
from ._options import parse_date
from ._output import emit, fail, json_mode, language, run

if TYPE_CHECKING:
    from .._i18n import Lang
    from ..stores import CaseStore
    from ..workflow import Workflow

__all__ = ["Command"]

T = TypeVar("T")


class Command:
    """One run of one command, in the language of ``--lang`` (an unknown one: exit 2)."""

    def __init__(self, lang: str) -> None:
        self.lang: Lang = language(lang)

    @property
    def zh(self) -> bool:
        """Whether the command speaks Chinese."""
        return self.lang == "zh"

    def say(self, zh: str, en: str) -> str:
        """``zh`` or ``en``, in the command's language."""
        return zh if self.zh else en

    def run(self, action: Callable[[], T]) -> T:
        """``action()``; a library error becomes its message (or error object) and its exit code."""
        return run(self.lang, action)

    def fail(self, error: KmbaseError, *, exit_code: int | None = None) -> NoReturn:
        """Report ``error`` as the command line asked and exit with its code (or ``exit_code``)."""
        fail(error, self.lang, exit_code=exit_code)

    def refuse(self, message: Text, hint: Text) -> NoReturn:
        """Bad input found by the command itself: exit 2 with ``message`` and ``hint``."""
        self.fail(InvalidInputError(message, hint=hint))

    def store(self, db: str | None, *, create: bool = False) -> CaseStore:
        """The store of ``--db`` (else ``$KMBASE_DB``, else ``sqlite:///kmbase.db``), opened
        the one way every command opens it. A database that does not exist is refused (exit 2)
        and nothing is created, unless ``create``: only the commands that begin a store's life
        (``kmbase db init``, ``kmbase round open`` and ``kmbase demo`` for its own) create one,
        so that a mistyped path never becomes an empty database that a read reports on or an
        audit vouches for (docs/reference/cli.md, "The database must exist")."""
        from ..stores import open_store  # noqa: PLC0415 - imported when a command opens a store

        return self.run(lambda: open_store(db, create=create))

    def workflow(
        self,
        db: str | None,
        *,
        today: str | None = None,
        allow_provisional: bool = False,
        holidays: Sequence[Path] = (),
        policy: Path | None = None,
        create: bool = False,
    ) -> Workflow:
        """The workflow a command acts with: the store of ``--db`` (`store`: a missing
        database is refused unless ``create``), the day of ``--today``, the holiday files of
        ``--holidays``, the policy file of ``--policy`` and ``--allow-provisional``: the same
        for every command that fires a step, one or many."""
        from ..calendar import WorkingDayCalendar  # noqa: PLC0415 - imported when a command runs
        from ..clock import FixedClock, SystemClock  # noqa: PLC0415
        from ..policy import load_policy_file  # noqa: PLC0415
        from ..workflow import Workflow  # noqa: PLC0415

        def build() -> Workflow:
            clock = None
            if today is not None:
                day = parse_date(today, "--today")
                clock = FixedClock(dt.datetime(day.year, day.month, day.day, 9, 0))
            calendar = WorkingDayCalendar(notices=holidays) if holidays else None
            policies = (load_policy_file(policy),) if policy is not None else None
            store = self.store(db, create=create)
            # A claimed day (--today) is back-dating: each entry also records the real time.
            return Workflow(
                store,
                clock=clock or SystemClock(),
                policies=policies,
                calendar=calendar,
                allow_provisional=allow_provisional,
                entry_clock=SystemClock() if clock is not None else None,
            )

        return self.run(build)

    def with_store(self, db: str | None, use: Callable[[CaseStore], T]) -> T:
        """``use(store)`` on the store of ``--db`` (`store`), closed after whatever happens;
        a library error is reported as by `run`."""

        def action() -> T:
            with self.store(db) as store:
                return use(store)

        return self.run(action)

    def with_workflow(self, db: str | None, use: Callable[[Workflow], T]) -> T:
        """``use(workflow)`` on the workflow of ``--db`` (`workflow`), its store closed after
        whatever happens; a library error is reported as by `run`."""

        def action() -> T:
            with self.workflow(db) as workflow:
                return use(workflow)

        return self.run(action)

    @property
    def json(self) -> bool:
        """Whether the command was asked for JSON (``--json`` or ``--format json``)."""
        return json_mode()

    def finish(
        self,
        data: object,
        text: str | Callable[[], object] | None = None,
        *,
        exit_code: int = 0,
    ) -> None:
        """The command's tail: with ``--json`` ``data`` as one JSON document on stdout, else
        ``text`` (a line printed as it is, or a function that prints tables); then, unless 0,
        exit with ``exit_code`` (typer ends the others with 0)."""
        if self.json:
            emit(data)
        elif isinstance(text, str):
            typer.echo(text)
        elif text is not None:
            text()
        if exit_code:
            raise typer.Exit(exit_code)
