"""What a store shows the audit: its rows as stored where it exposes them (`RawRowStore`),
else what the store protocol reads; and the checks of a row's columns against its data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from .._i18n import Text
from ..case import DeclarationRound
from ..encoding import event_document
from ..history import data_digest
from ..stores import OUTBOX_SUMMARY_COLUMNS, CaseQuery, CaseStore, RawRowStore
from ._report import AuditFinding


@attrs.frozen
class _Event:
    """An outbox row as the audit sees it."""

    position: int
    id: str
    case_id: str
    digest: str
    """`_event_digest` of ``data``: what a checkpoint digests the outbox by."""
    data: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    """The event's outbox form, as the store returned it."""

    def digest_in(self, format: int) -> str:
        """The event's digest in an entry's canonical ``format`` (what the entry recorded)."""
        return self.digest if format == _OUTBOX_FORMAT else data_digest(self.data, format)


@attrs.define
class _Source:
    """Reads a store for the audit: raw rows where the store shows them, else the protocol."""

    store: CaseStore

    @property
    def raw(self) -> RawRowStore | None:
        return self.store if isinstance(self.store, RawRowStore) else None

    def chain_ids(self) -> list[str]:
        """The id of every case and every round's chain (``round:2025``) the store holds."""
        raw = self.raw
        if raw is None:
            ids = [case.id for case in self.store.find(CaseQuery())]
        else:
            ids = [str(row["id"]) for row in raw.raw_rows("cases")]
            ids += [str(row["case_id"]) for row in raw.raw_rows("history")]
        ids += [declaration_round.chain_id for declaration_round in self.rounds([])]
        return list(dict.fromkeys(ids))

    def rounds(self, findings: list[AuditFinding]) -> list[DeclarationRound]:
        """The stored rounds (none, and a finding, if the rows cannot be read)."""
        try:
            return self.store.rounds()
        except ValueError:  # a date no longer a date
            findings.append(
                AuditFinding(
                    None,
                    "round",
                    Text(
                        zh="申报批次表无法读取：被改动",
                        en="the rounds cannot be read: they were altered",
                    ),
                )
            )
            return []

    def read_order(self, until: int | None = None) -> list[int]:
        """The outbox positions in the order `CaseStore.read_outbox` reads them (commit
        order: no event can ever come before one already read), up to the one at ``until``
        if given. Stops if the store reads a position twice (a row at a cursor was deleted,
        and the store read from the start again)."""
        order: list[int] = []
        seen: set[int] = set()
        after = 0
        while batch := self.store.read_outbox(after, 1000):
            for record in batch:
                if record.position in seen:
                    return order
                seen.add(record.position)
                order.append(record.position)
                if record.position == until:
                    return order
            after = batch[-1].position
        return order

    def events(self, case_id: str | None, findings: list[AuditFinding]) -> list[_Event]:
        raw = self.raw
        if raw is None:
            records = []
            after = 0
            while batch := self.store.read_outbox(after, 1000):
                records.extend(batch)
                after = batch[-1].position
            return [
                _Event(r.position, r.event.id, r.event.case_id, _event_digest(data), data)
                for r in records
                if case_id is None or r.event.case_id == case_id
                for data in (event_document(r.event),)
            ]
        events = []
        for row in raw.raw_rows("outbox", case_id):
            data = row["data"]
            events.append(
                _Event(
                    int(row["position"]),
                    str(row["id"]),
                    str(row["case_id"]),
                    _event_digest(data),
                    data,
                )
            )
            findings.extend(_outbox_column_findings(row))
        return events


_OUTBOX_FORMAT = 2
"""The canonical form a checkpoint digests the outbox in (fixed: a checkpoint written by an
earlier version must still verify)."""


def _event_digest(data: Mapping[str, Any]) -> str:
    return data_digest(data, _OUTBOX_FORMAT)


def _same(stored: object, expected: object) -> bool:
    """A column equals what the data says (times compared as instants)."""
    if stored is None or expected is None:
        return stored is None and expected is None
    if isinstance(expected, str) and "T" in expected and isinstance(stored, str):
        try:
            return dt.datetime.fromisoformat(stored) == dt.datetime.fromisoformat(expected)
        except ValueError:
            return stored == expected
    return str(stored) == str(expected)


def _column_problem(
    case_id: str, table: str, column: str, stored: object, data: object
) -> AuditFinding:
    return AuditFinding(
        case_id,
        "column",
        Text(
            zh=f"{table}.{column} 列为 {stored!r}，而数据为 {data!r}：该列被改动",
            en=f"{table}.{column} holds {stored!r} but the data says {data!r}: the column was altered",
        ),
    )


def _outbox_column_findings(row: Mapping[str, Any]) -> list[AuditFinding]:
    data = row["data"]
    found = []
    for column in OUTBOX_SUMMARY_COLUMNS:
        value = data.get(column) if isinstance(data, Mapping) else None
        if not _same(row[column], value):
            found.append(_column_problem(str(row["case_id"]), "outbox", column, row[column], value))
    return found
