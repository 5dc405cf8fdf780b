"""Bulk runs: fire one trigger at many cases, with dry runs, chunked transactions, idempotent
re-runs after a crash, and a report of what happened to each case and why.

>>> import datetime as dt
>>> from kmbase_workflow import Actor, FixedClock, Role, Workflow
>>> from kmbase_workflow.bulk import CaseSelection, run_bulk
>>> workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 9, 26)))
>>> bureau = Actor(Role.CITY_BUREAU, "市工业和信息化局")
>>> report = run_bulk(workflow, "publicize", CaseSelection(ids=("nobody",)), bureau, run_id="r1")
>>> report.not_found, report.exit_code
(('nobody',), 2)

A run is a sequence of chunks. Each chunk's changes are prepared (every guard checked, nothing
written) and then committed in one transaction by `Workflow.commit
<kmbase_workflow.workflow.Workflow.commit>`. Each case's change carries the idempotency key
``{run_id}:{trigger}:{case_id}``, so a second run with the same ``run_id`` reports the cases
the first one finished as ``skipped`` and finishes the others: no transition is applied twice.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from ._collector import heap_set_aside
from ._i18n import Lang, Text
from .actors import Actor
from .case import Revocation, State
from .errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    InvalidInputError,
    TransitionRefusedError,
)
from .events import DeliveryFailure
from .lifecycle import RECORDS, STEPS, GuardFailure, Trigger, step_for
from .stores import CaseQuery, Change
from .workflow import Prepared, Workflow

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_CHUNK_SIZE",
    "PAYLOAD_KINDS",
    "BulkItem",
    "BulkReport",
    "CaseSelection",
    "ItemStatus",
    "Progress",
    "bulk_trigger",
    "idempotency_key",
    "new_run_id",
    "parse_payload",
    "read_csv_column",
    "read_ids_file",
    "run_bulk",
]

DEFAULT_CHUNK_SIZE = 100
"""Cases per transaction when no chunk size is given."""


class ItemStatus(enum.Enum):
    """What a bulk run did with one case."""

    SUCCEEDED = "succeeded"
    """The transition was committed by this run."""
    WOULD_SUCCEED = "would_succeed"
    """Dry run: every guard passes; the transition would be committed."""
    REFUSED = "refused"
    """A guard failed (the failures name their articles); nothing was written."""
    CONFLICTED = "conflicted"
    """The case changed while the run was writing it; nothing was written. Re-run."""
    SKIPPED = "skipped"
    """An earlier run with the same run id already committed this case's transition."""
    NOT_FOUND = "not_found"
    """No case with this id."""
    NOT_ATTEMPTED = "not_attempted"
    """Not looked at: the run stopped at an earlier refusal (``stop_on_refusal``)."""

    @property
    def label(self) -> Text:
        """The status in both languages."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    ItemStatus.SUCCEEDED: Text(zh="成功", en="succeeded"),
    ItemStatus.WOULD_SUCCEED: Text(zh="可执行（试运行）", en="would succeed (dry run)"),
    ItemStatus.REFUSED: Text(zh="被拒绝", en="refused"),
    ItemStatus.CONFLICTED: Text(zh="并发冲突", en="conflicted"),
    ItemStatus.SKIPPED: Text(zh="已完成（跳过）", en="skipped (already done)"),
    ItemStatus.NOT_FOUND: Text(zh="案件不存在", en="not found"),
    ItemStatus.NOT_ATTEMPTED: Text(zh="未执行", en="not attempted"),
}


PAYLOAD_KINDS: dict[Trigger, type | None] = {
    step.trigger: step.payload for step in (*STEPS, *RECORDS) if step.trigger is not Trigger.DECLARE
}
"""The payload each trigger takes in a bulk run (``None``: none, the reason says it all),
read from each step's declaration (`Step.payload <kmbase_workflow.lifecycle.Step.payload>`).

``str`` is the site-inspection opinion and `NoticeAnnouncement` the announced public
notice; the others are the records of `kmbase_workflow.case`. ``declare`` is not a bulk
trigger (it creates cases; use `Workflow.declare <kmbase_workflow.workflow.Workflow.declare>`).
"""


def new_run_id() -> str:
    """A fresh run id: ``bulk-`` and 12 hex digits."""
    return f"bulk-{uuid.uuid4().hex[:12]}"


def idempotency_key(run_id: str, trigger: Trigger, case_id: str) -> str:
    """The idempotency key of one case's command in a run: ``{run_id}:{trigger}:{case_id}``.

    >>> idempotency_key("r1", Trigger.PUBLICIZE, "c7")
    'r1:publicize:c7'
    """
    return f"{run_id}:{trigger.value}:{case_id}"


def _bad_input(zh: str, en: str, hint: Text | None = None) -> InvalidInputError:
    return InvalidInputError(Text(zh=zh, en=en), hint=hint)


def bulk_trigger(trigger: Trigger | str) -> Trigger:
    """The trigger of a bulk run (``InvalidInputError`` for an unknown one or ``declare``)."""
    try:
        chosen = Trigger(trigger)
    except ValueError:
        names = ", ".join(t.value for t in PAYLOAD_KINDS)
        raise _bad_input(
            f"未知的操作 {trigger}",
            f"unknown trigger {trigger}",
            Text(zh=f"可用：{names}", en=f"use one of: {names}"),
        ) from None
    if chosen not in PAYLOAD_KINDS:
        raise _bad_input(
            "申报不能批量执行（它新建案件）",
            "declare cannot run in bulk (it creates cases)",
            Text(zh="请逐个调用 Workflow.declare", en="call Workflow.declare for each application"),
        )
    return chosen


def parse_payload(trigger: Trigger | str, text: str | None) -> object:
    """The payload of ``trigger`` from its JSON text (``None``/empty: no payload).

    - ``recommend``: a `Recommendation` object
      (``opinion``, ``authenticity_checked``, ``spot_check``);
    - ``pass_review``: an `ExpertOpinion` (optional);
    - ``pass_inspection``: the opinion, ``{"opinion": "..."}`` or a JSON string;
    - ``publicize`` / ``announce_notice``: a `NoticeAnnouncement` (``starts_on``, and
      ``working_days`` or ``ends_on``), or the first day as a JSON string (optional: today
      and the policy's minimum);
    - ``object``: an `Objection`;
    - ``certify``: a `CollectiveDecision`
      (``reference``, ``decided_on``);
    - ``revoke``: a `Revocation` (``ground``, ``decided_on``,
      ``details``);
    - every other trigger takes no payload (``InvalidInputError`` if one is given).

    >>> parse_payload("publicize", '{"starts_on": "2025-09-26", "working_days": 15}')
    NoticeAnnouncement(starts_on=datetime.date(2025, 9, 26), working_days=15, ends_on=None)
    >>> parse_payload("certify", '{"reference": "纪要〔2025〕12号", "decided_on": "2025-10-16"}')
    CollectiveDecision(reference='纪要〔2025〕12号', decided_on=datetime.date(2025, 10, 16))
    """
    chosen = bulk_trigger(trigger)
    if text is None or not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _bad_input(
            f"--payload 不是有效的 JSON：{error.msg}（第 {error.pos + 1} 个字符）",
            f"--payload is not valid JSON: {error.msg} (character {error.pos + 1})",
        ) from None
    return step_for(chosen).parse_payload(data)


@attrs.frozen(kw_only=True)
class CaseSelection:
    """Which cases a bulk run takes: explicit ``ids`` or a query, not both.

    The query fields filter like `CaseQuery`; with none of them
    and no ids the selection is refused (a bulk run never means "every case").
    """

    ids: Sequence[str] | None = None
    state: State | None = None
    round_year: int | None = None
    district: str | None = None
    base_id: str | None = None

    @property
    def is_query(self) -> bool:
        """Whether cases are chosen by a query rather than by ids."""
        return any(
            value is not None
            for value in (self.state, self.round_year, self.district, self.base_id)
        )

    def resolve(self, workflow: Workflow, trigger: Trigger, run_id: str) -> list[str]:
        """The case ids, in order, each once.

        A query with a ``state`` also takes the cases already moved to the trigger's
        destination *by this run* (their key has a result), so a re-run reports them as
        skipped although they no longer match the state.
        """
        if self.ids is not None and self.is_query:
            raise _bad_input(
                "请只用一种方式选择案件：编号或查询条件",
                "choose cases either by ids or by a query, not both",
            )
        if self.ids is not None:
            return list(dict.fromkeys(case_id.strip() for case_id in self.ids if case_id.strip()))
        if not self.is_query:
            raise _bad_input(
                "没有选择任何案件",
                "no cases chosen",
                Text(
                    zh="请给出案件编号，或 --state/--round/--district/--base 条件",
                    en="give case ids, or --state/--round/--district/--base",
                ),
            )
        destination = step_for(trigger).destination
        states = None
        if self.state is not None:
            states = (self.state,) if destination is None else (self.state, destination)
        query = CaseQuery(
            states=states, round_year=self.round_year, district=self.district, base_id=self.base_id
        )
        store = workflow.store
        found = [
            (case_id, self.state is None or state is self.state)  # (id, matches the state)
            for case_id, state in store.find_states(query)
        ]
        keys = [
            idempotency_key(run_id, trigger, case_id) for case_id, matches in found if not matches
        ]
        done = store.command_results(keys) if keys else {}
        return [
            case_id
            for case_id, matches in found
            if matches or idempotency_key(run_id, trigger, case_id) in done
        ]


def read_ids_file(path: str | Path) -> list[str]:
    """Case ids from a text file, one a line; blank lines and ``#`` comments are ignored.
    The file is UTF-8, else GB18030 (as `read_csv_column` and the roster import read)."""
    from .exports._cells import local_text  # noqa: PLC0415 - one reader of people's files

    try:
        text = local_text(Path(path).read_bytes(), path)
    except OSError as error:
        raise _bad_input(
            f"无法读取编号文件 {path}：{error.strerror}",
            f"cannot read the ids file {path}: {error.strerror}",
        ) from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def read_csv_column(path: str | Path, column: str) -> list[str]:
    """Case ids from one column (by header name) of a CSV file; empty cells are ignored.
    The file is UTF-8, else GB18030 (Excel's CSV on Chinese Windows), as the roster import
    reads it."""
    from .exports._cells import local_text  # noqa: PLC0415 - one reader of people's files

    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise _bad_input(
            f"无法读取 CSV 文件 {path}：{error.strerror}",
            f"cannot read the CSV file {path}: {error.strerror}",
        ) from None
    reader = csv.DictReader(io.StringIO(local_text(raw, path), newline=""))
    if reader.fieldnames is None or column not in reader.fieldnames:
        found = ", ".join(reader.fieldnames or [])
        raise _bad_input(
            f"CSV 文件 {path} 没有列 {column}（有：{found}）",
            f"the CSV file {path} has no column {column} (it has: {found})",
        )
    return [row[column].strip() for row in reader if (row.get(column) or "").strip()]


@attrs.frozen
class BulkItem:
    """What happened to one case: its status, the states before and after, and why."""

    case_id: str
    status: ItemStatus
    from_state: State | None = None
    to_state: State | None = None
    failures: tuple[GuardFailure, ...] = ()
    """The failed guards of a refusal, each with its article."""
    message: Text | None = None
    """The error's message (refusal, conflict, not found)."""

    def to_dict(self, lang: Lang) -> dict[str, Any]:
        """JSON-ready data in one language (the ``items`` of `BulkReport.to_dict`)."""
        return {
            "case_id": self.case_id,
            "status": self.status.value,
            "from_state": self.from_state.value if self.from_state else None,
            "to_state": self.to_state.value if self.to_state else None,
            "failures": [
                {
                    "guard": failure.guard,
                    "article": attrs.asdict(failure.article),
                    "message": failure.message.in_(lang),
                }
                for failure in self.failures
            ],
            "message": self.message.in_(lang) if self.message else None,
        }


CSV_COLUMNS = ("case_id", "status", "from_state", "to_state", "guards", "articles", "message")
"""The columns of a report written as CSV, one row per case."""


@attrs.frozen
class BulkReport:
    """The result of a bulk run: one `BulkItem` per selected case, in order."""

    run_id: str
    trigger: Trigger
    dry_run: bool
    items: tuple[BulkItem, ...]
    transactions: int = 0
    """How many transactions wrote to the store (chunks, plus one per case in a fallback)."""
    delivery_failures: tuple[DeliveryFailure, ...] = ()
    """Subscribers that raised after a commit (the changes stay committed)."""

    def _ids(self, status: ItemStatus) -> tuple[str, ...]:
        return tuple(item.case_id for item in self.items if item.status is status)

    @property
    def succeeded(self) -> tuple[str, ...]:
        """Cases this run transitioned (dry run: none)."""
        return self._ids(ItemStatus.SUCCEEDED)

    @property
    def would_succeed(self) -> tuple[str, ...]:
        """Dry run: cases whose guards all pass."""
        return self._ids(ItemStatus.WOULD_SUCCEED)

    @property
    def refused(self) -> tuple[str, ...]:
        """Cases a guard refused."""
        return self._ids(ItemStatus.REFUSED)

    @property
    def conflicted(self) -> tuple[str, ...]:
        """Cases that changed while this run wrote them."""
        return self._ids(ItemStatus.CONFLICTED)

    @property
    def skipped(self) -> tuple[str, ...]:
        """Cases an earlier run with this run id already transitioned."""
        return self._ids(ItemStatus.SKIPPED)

    @property
    def not_found(self) -> tuple[str, ...]:
        """Ids with no case."""
        return self._ids(ItemStatus.NOT_FOUND)

    @property
    def not_attempted(self) -> tuple[str, ...]:
        """Cases left alone after a refusal stopped the run."""
        return self._ids(ItemStatus.NOT_ATTEMPTED)

    def counts(self) -> dict[str, int]:
        """The number of cases of each status (every status, zeros included)."""
        counts = {status.value: 0 for status in ItemStatus}
        for item in self.items:
            counts[item.status.value] += 1
        return counts

    @property
    def exit_code(self) -> int:
        """The command line's exit code: 1 if any case was refused; else 2 if any id was not
        found; else 4 if any case conflicted; else 0. A re-run with the same run id is worth
        trying exactly when the code is 4."""
        if self.refused:
            return 1
        if self.not_found:
            return 2
        if self.conflicted:
            return 4
        return 0

    def summary(self) -> Text:
        """One line: the trigger, the run id and the counts."""
        counts = {status: len(self._ids(status)) for status in ItemStatus}
        shown = [status for status in ItemStatus if counts[status]]
        zh = "，".join(f"{status.label.zh} {counts[status]}" for status in shown) or "无案件"
        en = ", ".join(f"{status.label.en} {counts[status]}" for status in shown) or "no cases"
        dry = (
            Text(zh="（试运行，未写入）", en=" (dry run, nothing written)")
            if self.dry_run
            else Text(zh="", en="")
        )
        label = self.trigger.label
        return Text(
            zh=f"批量{label.zh} {self.run_id}{dry.zh}：{zh}",
            en=f"bulk {label.en} {self.run_id}{dry.en}: {en}",
        )

    def to_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        """JSON-ready data: ``run_id``, ``trigger``, ``dry_run``, ``exit_code``, ``counts``,
        ``transactions``, ``delivery_failures``, the ids by status (``succeeded``,
        ``would_succeed``, ``refused``, ``conflicted``, ``skipped``, ``not_found``,
        ``not_attempted``) and ``items`` (see `BulkItem.to_dict`)."""
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "trigger": self.trigger.value,
            "dry_run": self.dry_run,
            "exit_code": self.exit_code,
            "summary": self.summary().in_(lang),
            "counts": self.counts(),
            "transactions": self.transactions,
            "delivery_failures": len(self.delivery_failures),
        }
        for status in ItemStatus:
            data[status.value] = list(self._ids(status))
        data["items"] = [item.to_dict(lang) for item in self.items]
        return data

    def csv_rows(self, lang: Lang = "zh") -> Iterator[dict[str, str]]:
        """One row per case with the `CSV_COLUMNS`; several failed guards are joined
        with `` | `` in ``guards``, ``articles`` and ``message``."""
        for item in self.items:
            failures = item.failures
            if failures:
                message = " | ".join(f.message.in_(lang) for f in failures)
            else:
                message = item.message.in_(lang) if item.message else ""
            yield {
                "case_id": item.case_id,
                "status": item.status.value,
                "from_state": item.from_state.value if item.from_state else "",
                "to_state": item.to_state.value if item.to_state else "",
                "guards": " | ".join(f.guard for f in failures),
                "articles": " | ".join(f.article.in_(lang) for f in failures),
                "message": message,
            }

    def write_csv(self, target: str | Path | IO[str], lang: Lang = "zh") -> None:
        """Write `csv_rows` with a header to a path (UTF-8 with BOM, so spreadsheet
        programs read the Chinese) or to an open text file. A value that starts with
        ``= + - @``, a tab or a carriage return gets a leading apostrophe, so that no
        spreadsheet program runs it as a formula."""
        if isinstance(target, str | Path):
            with Path(target).open("w", encoding="utf-8-sig", newline="") as handle:
                self.write_csv(handle, lang)
            return
        from .exports._cells import csv_safe  # noqa: PLC0415 - one CSV guard, kept with the exports

        writer = csv.DictWriter(target, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        # Data is never code: a case id such as "=HYPERLINK(...)" is neutralised (OWASP).
        writer.writerows(
            {column: csv_safe(value) for column, value in row.items()}
            for row in self.csv_rows(lang)
        )

    def to_csv(self, lang: Lang = "zh") -> str:
        """The CSV text of `write_csv`."""
        buffer = io.StringIO()
        self.write_csv(buffer, lang)
        return buffer.getvalue()


Progress = Callable[[BulkItem], None]
"""Called once per case as soon as its outcome is known (after its chunk's commit)."""


def _chunks(ids: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@attrs.define
class _Run:
    workflow: Workflow
    trigger: Trigger
    actor: Actor
    reason: str
    evidence: tuple[str, ...]
    payload: object
    run_id: str
    dry_run: bool
    stop_on_refusal: bool
    progress: Progress | None
    items: list[BulkItem] = attrs.field(factory=list)
    transactions: int = 0
    delivery_failures: list[DeliveryFailure] = attrs.field(factory=list)
    stopped: bool = False

    def key(self, case_id: str) -> str:
        return idempotency_key(self.run_id, self.trigger, case_id)

    def emit(self, item: BulkItem) -> None:
        self.items.append(item)
        if self.progress is not None:
            self.progress(item)

    def prepare(self, ids: Sequence[str], *, stop: bool = False) -> list[BulkItem | Change]:
        """Each case's finished item (skipped, not found, refused, conflicted) or its change
        to commit, by the workflow's own batch preparation (`Workflow.prepare_batch
        <kmbase_workflow.workflow.Workflow.prepare_batch>`); with ``stop``, the cases after
        the first refusal are not attempted (nor prepared)."""
        batch = self.workflow.prepare_batch(
            ids,
            self.trigger,
            self.actor,
            idempotency_keys=[self.key(case_id) for case_id in ids],
            reason=self.reason,
            evidence=self.evidence,
            payload=self.payload,
            until=_refused if stop else None,
        )
        items = [_item(prepared) for prepared in batch]
        rest = [BulkItem(case_id, ItemStatus.NOT_ATTEMPTED) for case_id in ids[len(items) :]]
        return [*items, *rest]

    def chunk(self, ids: Sequence[str]) -> None:
        if self.stopped:  # an earlier chunk's refusal stopped the run
            for case_id in ids:
                self.emit(BulkItem(case_id, ItemStatus.NOT_ATTEMPTED))
            return
        pending = list(zip(ids, self.prepare(ids, stop=self.stop_on_refusal), strict=True))
        self.stopped = self.stop_on_refusal and any(
            isinstance(item, BulkItem) and item.status is ItemStatus.REFUSED for _, item in pending
        )
        changes = [outcome for _, outcome in pending if isinstance(outcome, Change)]
        committed = self.dry_run or not changes
        if changes and not self.dry_run:
            try:
                self.delivery_failures.extend(self.workflow.commit(changes))
                self.transactions += 1
                committed = True
            except ConcurrencyConflictError:
                committed = False
        status = ItemStatus.WOULD_SUCCEED if self.dry_run else ItemStatus.SUCCEEDED
        for case_id, outcome in pending:
            if isinstance(outcome, BulkItem):
                self.emit(outcome)
            elif committed:
                before = _before_state(outcome)
                self.emit(BulkItem(case_id, status, from_state=before, to_state=outcome.case.state))
            else:
                self.emit(self.one_by_one(case_id))

    def one_by_one(self, case_id: str) -> BulkItem:
        """The chunk conflicted: prepare this case again from the store and commit it alone."""
        [outcome] = self.prepare([case_id])
        if isinstance(outcome, BulkItem):
            return outcome
        try:
            self.delivery_failures.extend(self.workflow.commit([outcome]))
        except ConcurrencyConflictError as error:
            return BulkItem(
                case_id,
                ItemStatus.CONFLICTED,
                from_state=_before_state(outcome),
                message=error.message,
            )
        self.transactions += 1
        return BulkItem(
            case_id,
            ItemStatus.SUCCEEDED,
            from_state=_before_state(outcome),
            to_state=outcome.case.state,
        )


def _refused(prepared: Prepared) -> bool:
    return isinstance(prepared.refused, TransitionRefusedError)


def _item(prepared: Prepared) -> BulkItem | Change:
    """A prepared case as a bulk run reports it, or its change to commit."""
    case_id, refused = prepared.case_id, prepared.refused
    if prepared.replayed is not None:
        return BulkItem(case_id, ItemStatus.SKIPPED, to_state=prepared.replayed.case.state)
    if isinstance(refused, CaseNotFoundError):
        return BulkItem(case_id, ItemStatus.NOT_FOUND, message=refused.message)
    if isinstance(refused, TransitionRefusedError):
        return BulkItem(
            case_id,
            ItemStatus.REFUSED,
            from_state=prepared.state,
            failures=refused.failures,
            message=refused.message,
        )
    if refused is not None:
        return BulkItem(case_id, ItemStatus.CONFLICTED, message=refused.message)
    assert prepared.change is not None  # exactly one of the three is set
    return prepared.change


def _before_state(change: Change) -> State | None:
    return State(change.history.from_state) if change.history.from_state else None


def run_bulk(
    workflow: Workflow,
    trigger: Trigger | str,
    selection: CaseSelection | Iterable[str],
    actor: Actor,
    *,
    reason: str = "",
    evidence: Sequence[str] = (),
    payload: object = None,
    run_id: str | None = None,
    dry_run: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    stop_on_refusal: bool = False,
    progress: Progress | None = None,
    on_selected: Callable[[int], None] | None = None,
) -> BulkReport:
    """Fire ``trigger`` at every selected case, as ``actor``, with one ``reason``, ``evidence``
    and ``payload`` (the typed record of `PAYLOAD_KINDS`; see `parse_payload`).

    ``selection`` is a `CaseSelection` or an iterable of case ids. Cases are taken
    ``chunk_size`` at a time: each is prepared (guards checked, nothing written), then the
    chunk's changes are committed in one transaction. If that transaction conflicts, the
    chunk's cases are prepared again from the store and committed one by one, so only the
    truly conflicting ones are reported ``conflicted``.

    - ``run_id`` (default: `new_run_id`) makes the run idempotent: each case's key is
      ``{run_id}:{trigger}:{case_id}``; a case whose key already has a result is ``skipped``.
      A case that reached the destination otherwise (another run, another id) is ``refused``
      by the state guard: this run did not transition it.
    - ``dry_run``: prepare every case, commit nothing; passing cases are ``would_succeed``.
    - ``stop_on_refusal``: after the first refusal, leave the remaining cases alone
      (``not_attempted``); the cases prepared before it in its chunk are still committed.
    - ``revoke`` without a ``reason`` takes the revocation's ``details`` as its reason, as
      `Workflow.revoke <kmbase_workflow.workflow.Workflow.revoke>` does.
    - ``progress`` is called with each case's `BulkItem` as soon as it is known;
      ``on_selected`` with the number of selected cases before the first chunk.

    ``InvalidInputError`` for a bad trigger, selection or chunk size;
    ``CalendarDataMissingError`` stops the run (chunks committed before stay committed: re-run
    with the same ``run_id`` once the calendar data is loaded).
    """
    chosen = bulk_trigger(trigger)
    if chunk_size < 1:
        raise _bad_input(
            f"每批数量应至少为 1，实际为 {chunk_size}",
            f"the chunk size must be at least 1, got {chunk_size}",
        )
    run_id = run_id or new_run_id()
    if chosen is Trigger.REVOKE and not reason.strip() and isinstance(payload, Revocation):
        reason = payload.details  # as Workflow.revoke does
    if not isinstance(selection, CaseSelection):
        selection = CaseSelection(ids=tuple(selection))
    ids = selection.resolve(workflow, chosen, run_id)
    if on_selected is not None:
        on_selected(len(ids))
    run = _Run(
        workflow=workflow,
        trigger=chosen,
        actor=actor,
        reason=reason,
        evidence=tuple(evidence),
        payload=payload,
        run_id=run_id,
        dry_run=dry_run,
        stop_on_refusal=stop_on_refusal,
        progress=progress,
    )
    with heap_set_aside():  # the process's long-lived objects are not rescanned each pass
        for chunk in _chunks(ids, chunk_size):
            run.chunk(chunk)
    return BulkReport(
        run_id=run_id,
        trigger=chosen,
        dry_run=dry_run,
        items=tuple(run.items),
        transactions=run.transactions,
        delivery_failures=tuple(run.delivery_failures),
    )
