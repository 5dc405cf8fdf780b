"""The audit trail (第二十条): an append-only, hash-chained history per case.

Each entry holds the SHA-256 of the entry before it, and its own hash covers every field
but itself, so altering, removing or reordering any entry breaks the chain from that point:
`verify_history` reports the first entry where it breaks.

The hashed form is versioned (``format``, `HISTORY_FORMAT` for new entries). Each format
names the fields it hashes, so an entry written by an older version keeps its hash when a
later version adds fields:

- format 1 (entries written before formats were numbered; their JSON has no ``format``):
  every field of that version in canonical JSON (keys sorted, compact, UTF-8), nulls kept;
- format 2: format 1's fields plus ``format``, ``case_hash`` (the digest of the case after
  the step, see `kmbase_workflow.audit.case_digest`), ``application_hash`` (on the
  declaration: the digest of the application, which never changes after) and
  ``event_digests`` (one per event the step emitted), in canonical JSON without null or empty values (so a record that later
  gains an optional field keeps its hash) and with integral floats written as integers
  (``85.0`` and ``85`` are one number, whichever way a database returns it) below 2**53;
- format 3: format 2's fields and rules, with every number in `canonical_number`'s form:
  an integral float of any size is written as the integer its shortest decimal form names
  (PostgreSQL's JSONB returns ``1e+16`` as ``10000000000000000``: format 2 hashed the one and
  read back the other), and NaN or an infinity, which JSON cannot hold, is refused.

The canonical form is `kmbase_workflow.encoding`'s `canonical_json` (re-exported here), and
its number form `canonical_number`: every writer (the digests below, the history's hashes)
and every verifier (the audit) calls them. It is not RFC 8785 (JCS); docs/explanation/audit.md says how it differs.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from cattrs.gen import make_dict_unstructure_fn, override

from ._i18n import Text
from .actors import Actor
from .case import Case, DeclarationRound
from .encoding import (
    CANONICAL_FORMAT,
    application_data,
    canonical_json,
    canonical_number,
    case_data_without_application,
    encoded_with,
    event_document,
)
from .events import Event
from .records import Application
from .serialization import converter

__all__ = [
    "GENESIS_HASH",
    "HISTORY_FORMAT",
    "ChainReport",
    "HistoryEntry",
    "canonical_json",
    "canonical_number",
    "verify_history",
]

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of a case's first entry."""

HISTORY_FORMAT = CANONICAL_FORMAT
"""The canonical form this version hashes new entries in (see the module doc)."""

_FORMAT_1_FIELDS = (
    "case_id",
    "sequence",
    "action",
    "from_state",
    "to_state",
    "actor",
    "at",
    "reason",
    "evidence",
    "payload",
    "event_ids",
    "previous_hash",
)
_FORMAT_1_ACTOR_FIELDS = ("role", "name", "district")
_FORMAT_FIELDS: dict[int, tuple[str, ...]] = {
    1: _FORMAT_1_FIELDS,
    # entered_at joined format 2 later: absent (null) it is pruned, so older hashes hold
    2: (
        *_FORMAT_1_FIELDS,
        "format",
        "case_hash",
        "application_hash",
        "event_digests",
        "entered_at",
    ),
}
_FORMAT_FIELDS[3] = _FORMAT_FIELDS[2]  # format 3 changed how numbers are written, not fields
"""Which fields each format hashes: a later format lists more, never fewer."""


def sha256(text: str) -> str:
    """The hex SHA-256 of ``text`` in UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256_holding(text: str, part: str, part_utf8: bytes) -> str:
    """`sha256` of ``text``, which holds ``part`` (whose UTF-8 is ``part_utf8``): the part
    is hashed from the bytes the caller has, not encoded again (a declaration's entry holds
    its ~25 KB application). The same digest: the bytes hashed are the same."""
    # found by its first characters and checked whole: a search for the whole 25 KB part
    # cost as much as encoding it
    start = text.find(part[:64])
    if start < 0 or not text.startswith(part, start):
        return sha256(text)
    digest = hashlib.sha256(text[:start].encode("utf-8"))
    digest.update(part_utf8)
    digest.update(text[start + len(part) :].encode("utf-8"))
    return digest.hexdigest()


# -- the digests an entry binds -------------------------------------------------------------------


def data_digest(data: Any, format: int = HISTORY_FORMAT) -> str:
    """SHA-256 of plain data's canonical JSON in ``format``: every digest below is one."""
    return sha256(canonical_json(data, format))


def application_digest(application: Application, format: int = HISTORY_FORMAT) -> str:
    """SHA-256 of an application's canonical JSON: what the declaration's
    ``application_hash`` holds (the application never changes after)."""
    return data_digest(application_data(application), format)


def case_canonical(case_data: Mapping[str, Any], format: int = HISTORY_FORMAT) -> str:
    """The canonical text a case's digest is the SHA-256 of, from its plain form
    (`case_data_without_application <kmbase_workflow.encoding.case_data_without_application>`;
    an ``application`` key is left out)."""
    return canonical_json(
        {key: value for key, value in case_data.items() if key != "application"}, format
    )


def case_digest(
    case: Case, format: int = HISTORY_FORMAT, *, data: Mapping[str, Any] | None = None
) -> str:
    """SHA-256 of the case in canonical JSON without its application (bound once, by the
    declaration's ``application_hash``): what a history entry's ``case_hash`` holds.
    ``data``: the case as ``case_data_without_application`` made it, if the caller has it."""
    return sha256(
        case_canonical(case_data_without_application(case) if data is None else data, format)
    )


def event_canonical(data: Mapping[str, Any], format: int = HISTORY_FORMAT) -> str:
    """The canonical text an event's digest is the SHA-256 of, from its wire format
    (`event_document <kmbase_workflow.encoding.event_document>`)."""
    return canonical_json(data, format)


def event_digest(
    event: Event, format: int = HISTORY_FORMAT, *, data: Mapping[str, Any] | None = None
) -> str:
    """SHA-256 of an event as the outbox stores it (with its ``type``). ``data``: the
    event as ``event_document`` made it, if the caller has it."""
    return sha256(event_canonical(event_document(event) if data is None else data, format))


def round_digest(declaration_round: DeclarationRound, format: int = HISTORY_FORMAT) -> str:
    """SHA-256 of a declaration round (its year, window and notice) in canonical JSON: what
    the ``case_hash`` of an entry of the round's chain (`DeclarationRound.chain_id
    <kmbase_workflow.case.DeclarationRound.chain_id>`) holds."""
    return data_digest(converter.unstructure(declaration_round), format)


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One step of a case: who did what, when, why, on what evidence.

    ``sequence`` is the case's version after the step (1 for the declaration).
    ``action`` is the trigger (``certify``) or the record (``annual_report``) that was made.
    ``case_hash`` binds the case as it stood after the step (its state, validity, decisions),
    ``application_hash`` (on the declaration) the application, and ``event_digests`` the
    events the step emitted, so what the library later acts on is under the chain. ``format`` says which canonical form is hashed.
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
    format: int = HISTORY_FORMAT
    case_hash: str = ""
    """SHA-256 of the case after this step, without its application
    (``kmbase_workflow.audit.case_digest``)."""
    application_hash: str = ""
    """On the declaration and on a resubmission (退回补正): SHA-256 of the application as
    declared or amended (``kmbase_workflow.audit.application_digest``)."""
    event_digests: tuple[str, ...] = ()
    """SHA-256 of each event in ``event_ids``, in the same order."""
    entered_at: dt.datetime | None = None
    """When the step was really entered, if that was not on the day ``at`` claims (a paper
    record entered later: back-dating is recorded, never silent). ``None``: entered at ``at``."""
    previous_hash: str = GENESIS_HASH
    hash: str = ""

    def canonical(self) -> str:
        """The text ``hash`` is the SHA-256 of: this entry's fields in its ``format``."""
        return self._canonical_of(converter.unstructure(self))

    def _canonical_of(self, data: Mapping[str, Any], payload_text: str | None = None) -> str:
        """The canonical text of this entry's unstructured ``data`` in its ``format``;
        ``payload_text``: the canonical text of its payload, if the caller made it."""
        fields = _FORMAT_FIELDS.get(self.format)
        if fields is None:
            raise ValueError(f"unknown history format {self.format}")
        hashed = {name: data[name] for name in fields}
        if self.format == 1:
            # Format 1 knew an actor by its name alone: that name is now the actor's id.
            actor = {**hashed["actor"], "name": hashed["actor"].get("id")}
            hashed["actor"] = {name: actor.get(name) for name in _FORMAT_1_ACTOR_FIELDS}
        elif payload_text is not None and payload_text != "{}":
            # the payload's own canonical text is the same inside the entry's: put in place,
            # not encoded a second time (an empty one is pruned, so it has no place)
            return encoded_with(
                functools.partial(canonical_json, format=self.format),
                hashed,
                "payload",
                payload_text,
            )
        return canonical_json(hashed, self.format)

    def content_hash(self) -> str:
        """SHA-256 over every field but ``hash``, in this entry's canonical form."""
        return sha256(self.canonical())

    def sealed(self, previous_hash: str) -> HistoryEntry:
        """This entry chained to ``previous_hash``, with its own hash filled in."""
        return self.sealed_with_data(previous_hash)[0]

    def sealed_with_data(
        self,
        previous_hash: str,
        *,
        payload_text: str | None = None,
        payload_utf8: bytes | None = None,
    ) -> tuple[HistoryEntry, dict[str, Any], str]:
        """`sealed`, the sealed entry as plain data (``converter.unstructure`` of it) and the
        canonical text its hash is of: unstructured once, for its hash and for the row a
        store writes. ``payload_text``: the canonical text (`canonical_json`, this entry's
        format) of ``payload``, which is then plain data already (a declaration's
        application, whose digest the caller took of that very text): it is neither
        unstructured nor encoded again; ``payload_utf8``: that text in UTF-8
        (`canonical_utf8`), hashed as it is."""
        if payload_text is None:
            data: dict[str, Any] = converter.unstructure(self)
        else:
            data = _unstructure_with_plain_payload(self)
        data["previous_hash"] = previous_hash
        text = self._canonical_of(data, payload_text)  # ``hash`` is not among the hashed fields
        if payload_text is not None and payload_utf8 is not None:
            digest = _sha256_holding(text, payload_text, payload_utf8)
        else:
            digest = sha256(text)
        data["hash"] = digest
        return attrs.evolve(self, previous_hash=previous_hash, hash=digest), data, text


def _as_it_is(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    return payload


_unstructure_with_plain_payload = make_dict_unstructure_fn(
    HistoryEntry, converter, payload=override(unstruct_hook=_as_it_is)
)
"""An entry as plain data whose payload is plain data already (shared, never changed)."""


_structure_actor = converter.get_structure_hook(Actor)


def _structure_actor_of_any_format(data: Any, _type: type) -> Actor:
    # Entries and events written before actors had ids named them only: the name is the id.
    if isinstance(data, Mapping) and "id" not in data and "name" in data:
        data = {key: value for key, value in data.items() if key != "name"} | {"id": data["name"]}
    actor: Actor = _structure_actor(data, Actor)
    return actor


converter.register_structure_hook(Actor, _structure_actor_of_any_format)

_structure_entry = converter.get_structure_hook(HistoryEntry)


def _structure_history_entry(data: Any, _type: type) -> HistoryEntry:
    # JSON written before formats were numbered has no "format": it is format 1.
    if isinstance(data, Mapping) and "format" not in data:
        data = {**data, "format": 1}
    entry: HistoryEntry = _structure_entry(data, HistoryEntry)
    return entry


converter.register_structure_hook(HistoryEntry, _structure_history_entry)


@attrs.frozen
class ChainReport:
    """The result of `verify_history` and of the audit (`kmbase_workflow.audit`).

    ``problem`` is the first problem found; ``problems`` every one (the audit keeps looking
    after the first).
    """

    ok: bool
    entries: int
    first_bad_position: int | None = None
    """1-based position, in the order given, of the first entry that does not verify."""
    problem: Text | None = None
    problems: tuple[Text, ...] = ()


def _entry_problem(position: int, entry: HistoryEntry, previous: str) -> Text | None:
    if entry.sequence != position:
        return Text(
            zh=f"第 {position} 条记录的序号为 {entry.sequence}：有记录被删除或调换",
            en=f"entry {position} has sequence {entry.sequence}: an entry was removed or reordered",
        )
    if entry.previous_hash != previous:
        return Text(
            zh=f"第 {position} 条记录与前一条的链接不符：前一条被改动、删除或调换",
            en=f"entry {position} does not link to the one before: that one was altered, removed or reordered",
        )
    if entry.format not in _FORMAT_FIELDS:
        return Text(
            zh=f"第 {position} 条记录的格式 {entry.format} 未知：由更新版本写入或被改动",
            en=f"entry {position} has an unknown format {entry.format}: written by a newer "
            "version, or altered",
        )
    if entry.content_hash() != entry.hash:
        return Text(
            zh=f"第 {position} 条记录的内容与其哈希不符：记录被改动",
            en=f"entry {position} does not match its hash: it was altered",
        )
    return None


def verify_history(entries: Sequence[HistoryEntry]) -> ChainReport:
    """Check a case's history: sequence 1, 2, 3 …, each hash right, each link right, and no
    entry in an older format after one in a newer (a chain is never downgraded)."""
    previous = GENESIS_HASH
    newest_format = 1
    for position, entry in enumerate(entries, start=1):
        problem = _entry_problem(position, entry, previous)
        if problem is None and entry.format < newest_format:
            problem = Text(
                zh=f"第 {position} 条记录的格式 {entry.format} 旧于之前的记录：链被改写",
                en=f"entry {position} has format {entry.format}, older than the entries "
                "before it: the chain was rewritten",
            )
        if problem is not None:
            return ChainReport(False, len(entries), position, problem, (problem,))
        previous = entry.hash
        newest_format = max(newest_format, entry.format)
    return ChainReport(True, len(entries))
