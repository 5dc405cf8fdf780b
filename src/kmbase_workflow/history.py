"""The audit trail (第二十条): an append-only, hash-chained history per case.

Each entry holds the SHA-256 of the entry before it, and its own hash covers every field
but itself, so altering, removing or reordering any entry breaks the chain from that point:
`verify_history` reports the first entry where it breaks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._i18n import Text
from .actors import Actor
from .serialization import converter

__all__ = ["GENESIS_HASH", "ChainReport", "HistoryEntry", "verify_history"]

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of a case's first entry."""


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One step of a case: who did what, when, why, on what evidence.

    ``sequence`` is the case's version after the step (1 for the declaration).
    ``action`` is the trigger (``certify``) or the record (``annual_report``) that was made.
    """

    case_id: str
    sequence: int
    action: str
    from_state: str | None
    to_state: str
    actor: Actor
    at: dt.datetime
    reason: str = ""
    evidence: tuple[str, ...] = ()
    payload: Mapping[str, Any] = attrs.field(factory=dict)
    event_ids: tuple[str, ...] = ()
    previous_hash: str = GENESIS_HASH
    hash: str = ""

    def content_hash(self) -> str:
        """SHA-256 over every field but ``hash``, in canonical JSON."""
        data = converter.unstructure(self)
        data.pop("hash")
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def sealed(self, previous_hash: str) -> HistoryEntry:
        """This entry chained to ``previous_hash``, with its own hash filled in."""
        chained = attrs.evolve(self, previous_hash=previous_hash, hash="")
        return attrs.evolve(chained, hash=chained.content_hash())


@attrs.frozen
class ChainReport:
    """The result of `verify_history`."""

    ok: bool
    entries: int
    first_bad_position: int | None = None
    """1-based position, in the order given, of the first entry that does not verify."""
    problem: Text | None = None


def verify_history(entries: Sequence[HistoryEntry]) -> ChainReport:
    """Check a case's history: sequence 1, 2, 3 …, each hash right, each link right."""
    previous = GENESIS_HASH
    for position, entry in enumerate(entries, start=1):
        problem: Text | None = None
        if entry.sequence != position:
            problem = Text(
                zh=f"第 {position} 条记录的序号为 {entry.sequence}：有记录被删除或调换",
                en=f"entry {position} has sequence {entry.sequence}: an entry was removed or reordered",
            )
        elif entry.previous_hash != previous:
            problem = Text(
                zh=f"第 {position} 条记录与前一条的链接不符：前一条被改动、删除或调换",
                en=f"entry {position} does not link to the one before: that one was altered, removed or reordered",
            )
        elif entry.content_hash() != entry.hash:
            problem = Text(
                zh=f"第 {position} 条记录的内容与其哈希不符：记录被改动",
                en=f"entry {position} does not match its hash: it was altered",
            )
        if problem is not None:
            return ChainReport(False, len(entries), position, problem)
        previous = entry.hash
    return ChainReport(True, len(entries))
