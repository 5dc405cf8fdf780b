"""The one encoding of the library's records: each record's plain form, the JSON a store
keeps, the canonical JSON the audit hashes, and an event's wire format.

Every writer and every reader goes through these functions, so a record is hashed from the
very data that is stored and read back (第二十条):

- `application_data`, `case_data_without_application`, `event_document`: a record as
  plain, JSON-ready data (an event with its ``type``: what the outbox stores, what
  ``kmbase follow`` prints and what a broker bridge sends, docs/schemas/events.schema.json);
- `dumps`: the compact JSON a store keeps (Chinese kept readable);
- `canonical_json` and `canonical_number`: the canonical text a digest is taken of (the
  formats, and which fields each hashes, are the chain's: `kmbase_workflow.history`), and
  `canonical_utf8`, that text's UTF-8 as it is hashed;
- `check_text`, `storable_text`, `storable_key`: the text no store can keep (NUL, lone
  surrogates, indexed text over `INDEXED_TEXT_LIMIT` bytes), refused the same everywhere;
- `event_from_data` and `event_from_document`: an event read back, from a store (trusted)
  or from outside (checked, unknown keys of a later minor version ignored).
"""

from __future__ import annotations

import contextlib
import decimal
import json
import math
import re
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import orjson
from cattrs.gen import make_dict_unstructure_fn, override

from ._i18n import Text
from .case import Case
from .errors import FieldValueError, InvalidInputError
from .events import _ADDED_IN_2, EVENT_TYPES, Event, TransitionEvent
from .records import Application
from .serialization import converter, structure

if TYPE_CHECKING:
    from .history import HistoryEntry
    from .stores import Change

__all__ = [
    "CANONICAL_FORMAT",
    "INDEXED_TEXT_LIMIT",
    "UNSTORABLE",
    "ChangeData",
    "application_data",
    "canonical_json",
    "canonical_number",
    "canonical_utf8",
    "case_data_without_application",
    "check_text",
    "dumps",
    "encoded_with",
    "event_document",
    "event_from_data",
    "event_from_document",
    "storable_key",
    "storable_text",
]

# -- text a store can keep ------------------------------------------------------------------------

INDEXED_TEXT_LIMIT = 1024
"""The longest text (in UTF-8 bytes) a store keeps in an indexed column: case ids, base ids,
districts, idempotency keys, event ids and consumer names. PostgreSQL cannot index a row of
more than about 2,700 bytes; every store refuses the same, longer, values."""

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""What no store can keep in text: NUL (PostgreSQL refuses it in text and JSON) and lone
surrogates (not Unicode text: they cannot be encoded as UTF-8)."""


def _char_problem(value: str) -> Text | None:
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    code = f"U+{ord(found.group()):04X}"
    if found.group() == "\x00":
        return Text(
            zh=f"含有空字符（{code}），数据库无法保存",
            en=f"contains a NUL character ({code}), which no store can keep",
        )
    return Text(
        zh=f"含有孤立的代理字符（{code}），不是有效的 Unicode 文本",
        en=f"contains a lone surrogate ({code}), which is not valid Unicode text",
    )


def check_text(field: str, value: str, *, indexed: bool = False) -> None:
    """Refuse (`FieldValueError` naming ``field``) text that some store cannot keep: NUL,
    lone surrogates and, in an indexed column, more than `INDEXED_TEXT_LIMIT` bytes."""
    problem = _char_problem(value)
    if problem is None and indexed:
        size = len(value.encode("utf-8"))
        if size > INDEXED_TEXT_LIMIT:
            problem = Text(
                zh=f"长 {size} 字节（UTF-8），索引列最多 {INDEXED_TEXT_LIMIT} 字节",
                en=f"is {size:,} bytes long (UTF-8); an indexed column holds at most "
                f"{INDEXED_TEXT_LIMIT:,}",
            )
    if problem is not None:
        raise FieldValueError(field, problem)


def storable_text(value: str) -> bool:
    """Whether ``value`` could be stored text at all (no NUL, no lone surrogate)."""
    return UNSTORABLE.search(value) is None


def storable_key(value: str) -> bool:
    """Whether ``value`` could be a stored key (a read with any other finds nothing)."""
    return storable_text(value) and len(value.encode("utf-8")) <= INDEXED_TEXT_LIMIT


# -- JSON -------------------------------------------------------------------------------------------

# Built once; the data are plain trees (no cycles to check), as the converter produces them.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def dumps(data: object, *, numbers_checked: bool = False) -> str:
    """Compact JSON with Chinese kept readable: what a store keeps (the audit hashes
    `canonical_json`).

    ``numbers_checked``: every number in ``data`` is known to be finite (it was written in
    the canonical form, which refuses NaN and the infinities, as every step's records are):
    orjson then writes it, a tenth of the standard library's time on a ~25 KB application
    (it would write a NaN as ``null``, hence the flag). Both read back as the same data;
    only a float's exponent may be spelled otherwise (``1e-7`` for ``1e-07``). What orjson
    refuses (an integer past 64 bits, a lone surrogate, a subclass of a built-in type) the
    standard library writes, as without the flag."""
    if numbers_checked:
        try:
            return orjson.dumps(data, option=_ORJSON_STORED).decode()
        except orjson.JSONEncodeError:
            pass
    return _ENCODER.encode(data)


def canonical_number(value: float) -> int | float:
    """A float as the canonical form (format 3) writes it: an integral one as the integer its
    shortest decimal form names (``1e16`` → ``10000000000000000``, ``1.2345e20`` →
    ``123450000000000000000``, ``-0.0`` → ``0``), any other as itself (written in its
    shortest round-trip form). This is what a JSON number reads back as from every store:
    PostgreSQL's JSONB keeps the decimal value of the text it was given and returns an
    integral one without a fraction. NaN and the infinities have no JSON form and are
    refused (`InvalidInputError`)."""
    if not math.isfinite(value):
        raise InvalidInputError(
            Text(
                zh=f"数值 {value} 不是有限数，无法记录（JSON 不能表示 NaN 或无穷大）",
                en=f"the number {value} is not finite and cannot be recorded (JSON has no "
                "NaN or infinity)",
            ),
            hint=Text(zh="请给出有限的数值", en="give a finite number"),
        )
    if not value.is_integer():
        return value
    if abs(value) < 2**53:
        return int(value)  # exact: the float and its decimal form name the same integer
    return int(decimal.Decimal(repr(value)))


_EXACT = 2.0**53
"""Below it in size, an integral float and its integer name the same number exactly."""


def _pruned(value: Any, numbers: bool = False, spelled: bool = False) -> Any:  # noqa: PLR0912 - one walk, inlined
    """``value`` without null or empty members; integral floats as integers: below 2**53
    (format 2) or, with ``numbers``, every float in `canonical_number`'s form (format 3).
    With ``spelled``, every other float is an `orjson.Fragment` of the text the standard
    library's encoder writes for it (orjson spells some floats otherwise: ``1e-7`` for
    ``1e-07``). Every write prunes its records (a declaration, an application of some 25 KB),
    so the common members (text, integers) take the shortest path."""
    kind = type(value)
    if kind is dict:
        pruned = {}
        for key, member in value.items():
            member_kind = type(member)
            if member_kind is str or member_kind is int or member_kind is bool:
                pass  # the most common members first
            elif member is None:
                continue
            elif member_kind is dict or member_kind is list or member_kind is tuple:
                if not member:
                    continue
                member = _pruned(member, numbers, spelled)  # noqa: PLW2901 - its pruned form
                if not member:
                    continue
            elif member_kind is float:
                if member.is_integer() and -_EXACT < member < _EXACT:  # false for NaN, inf
                    member = int(member)  # noqa: PLW2901
                else:
                    member = _other_float(member, numbers, spelled)  # noqa: PLW2901
            pruned[key if type(key) is str else str(key)] = member
        return pruned
    if kind is list or kind is tuple:
        return [
            _pruned(item, numbers, spelled) if type(item) in _CONTAINERS else item for item in value
        ]
    if kind is float:
        if value.is_integer() and -_EXACT < value < _EXACT:
            return int(value)
        return _other_float(value, numbers, spelled)
    if isinstance(value, Mapping):
        return _pruned(dict(value), numbers, spelled)
    return value


def _other_float(value: float, numbers: bool, spelled: bool) -> Any:
    """A float that is not a small integer, as `_pruned` writes it."""
    number = canonical_number(value) if numbers else value
    if spelled and type(number) is float:
        return orjson.Fragment(_float_text(number))
    return number


def _float_text(value: float) -> str:
    """How the standard library's JSON encoder writes a float (``json.encoder``'s
    ``floatstr``): its repr, and NaN and the infinities as JavaScript spells them."""
    if value != value:  # noqa: PLR0124 - NaN is the one float unequal to itself
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return float.__repr__(value)


_CONTAINERS = frozenset({dict, list, tuple, float})


CANONICAL_FORMAT = 3
"""The newest canonical form: what new history entries are hashed in
(`kmbase_workflow.history.HISTORY_FORMAT`, whose doc says what each format changed)."""


def canonical_json(data: Any, format: int = CANONICAL_FORMAT) -> str:
    """The canonical JSON of plain data in ``format``: the text the audit hashes (keys
    sorted, compact, UTF-8; from format 2 without null or empty members; from format 3 with
    numbers in `canonical_number`'s form, NaN and infinities refused)."""
    utf8 = _orjson_canonical(data, format)
    if utf8 is not None:
        return utf8.decode()
    return _standard_canonical(data, format)


def canonical_utf8(data: Any, format: int = CANONICAL_FORMAT) -> bytes:
    """`canonical_json` in UTF-8, the bytes a digest is taken of (made as such: a 25 KB
    application is not decoded and encoded again to be hashed). `UnicodeEncodeError` for
    text with a lone surrogate, which has no UTF-8 form."""
    utf8 = _orjson_canonical(data, format)
    if utf8 is not None:
        return utf8
    return _standard_canonical(data, format).encode("utf-8")


def _orjson_canonical(data: Any, format: int) -> bytes | None:
    """The canonical text in UTF-8 by orjson, ten times faster than the standard library
    (a declaration's application is ~25 KB), or ``None`` for what orjson writes otherwise or
    refuses (an integer past 64 bits, a lone surrogate, a subclass, a value of no JSON form)
    and for format 1 (its text is not pruned)."""
    if format < 2:
        return None
    try:
        pruned = _pruned(data, numbers=format >= 3, spelled=True)
        return orjson.dumps(pruned, option=_ORJSON_CANONICAL)
    except orjson.JSONEncodeError:
        return None


def _standard_canonical(data: Any, format: int) -> str:
    """The canonical text as defined: the standard library's encoder over the pruned data."""
    if format >= 2:
        data = _pruned(data, numbers=format >= 3)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_ORJSON_CANONICAL = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
"""Keys sorted (by UTF-8 bytes: by code point, as Python sorts text); dataclasses, dates
and subclasses of the built-in types are refused, as the standard library refuses or
writes them otherwise, so they take its path."""


_ORJSON_STORED = (
    orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
"""What the standard library refuses or writes otherwise is refused, so it takes its path."""


_SLOT = "\x00encoded\x00"
"""Where a member's own text goes in `encoded_with` (NUL: no stored text holds it)."""


def encoded_with(encode: Callable[[Any], str], data: Mapping[str, Any], key: str, text: str) -> str:
    """``encode(data)`` when ``data[key]``, a non-empty record, is already encoded as
    ``text`` by the same ``encode`` (`dumps`, or `canonical_json` in one format): the text is
    put in its place instead of encoded again. Both encodings write a member as they write
    it alone, so the result is the same text."""
    marker = encode(_SLOT)
    whole = encode({**data, key: _SLOT})
    if whole.count(marker) != 1:  # the marker is also some text's: encode it all
        return encode(data)
    return whole.replace(marker, text)


# -- records as plain data ------------------------------------------------------------------------


def application_data(application: Application) -> dict[str, Any]:
    """An application as plain data: as stored once per case, and as its digest is taken."""
    data: dict[str, Any] = converter.unstructure(application)
    return data


# Generated once: the case's fields but the application (unstructuring the application only
# to drop it would be most of the cost of a write).
case_data_without_application: Callable[[Case], dict[str, Any]] = make_dict_unstructure_fn(
    Case, converter, _application=override(omit=True)
)
case_data_without_application.__doc__ = """A case as plain data without its application (what a
case row's ``data`` holds, and what a history entry's ``case_hash`` digests)."""


@attrs.frozen(eq=False)
class ChangeData:
    """A change's records as plain data, unstructured once per step: the history entry's
    digests and a store's rows are computed from the same dicts, which nobody changes. It belongs to the very records it was made from (``case``, ``history``,
    ``events``, compared by identity): a change rebuilt with other records is unstructured
    afresh."""

    case: Case
    history: HistoryEntry
    events: tuple[Event, ...]
    case_data: Mapping[str, Any]
    """`case_data_without_application` of ``case``."""
    history_data: Mapping[str, Any]
    """``converter.unstructure`` of ``history``."""
    event_data: tuple[Mapping[str, Any], ...]
    """`event_document` of each event."""
    canonical: tuple[str, ...] = ()
    """The canonical texts the step hashed (case, entry, events), when it made them: every
    string of the records, escaped as JSON escapes them, so a store that writes no JSON
    checks what it keeps on them (``refuse_unstorable``) instead of encoding them again."""
    application_data: Mapping[str, Any] | None = None
    """With a new or amended application: `application_data` of it, as its digest was
    taken (a store writes it as it is)."""
    application_text: str | None = None
    """With a new or amended application: its canonical text, which its digest is of (every
    string of it, escaped as JSON escapes them: what ``refuse_unstorable`` checks)."""

    def describes(self, change: Change) -> bool:
        """Whether this is the plain form of ``change``'s very records."""
        return (
            self.case is change.case
            and self.history is change.history
            and self.events is change.events
        )


# -- an event's wire format -----------------------------------------------------------------------


def event_document(event: Event) -> dict[str, Any]:
    """The event as plain JSON-ready data, with its ``type``: what the outbox stores, what
    ``kmbase follow`` prints and what a broker bridge sends (docs/schemas/events.schema.json).
    """
    data: dict[str, Any] = converter.unstructure(event)
    return data


def event_from_data(data: str | Mapping[str, Any]) -> Event:
    """An event as a store wrote it (`event_document`, or its JSON): trusted, read as is."""
    raw = json.loads(data) if isinstance(data, str) else dict(data)
    cls = EVENT_TYPES[raw.pop("type")]
    return converter.structure(raw, cls)


def event_from_document(data: Mapping[str, Any]) -> Event:
    """The event of a document (any schema version this library knows); unknown keys, added
    by a later minor change, are ignored. `InvalidInputError` for data that is no event."""
    kind = data.get("type") if isinstance(data, Mapping) else None
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        names = ", ".join(sorted(EVENT_TYPES))
        raise InvalidInputError(
            Text(zh=f"未知的事件类型：{kind!r}", en=f"unknown event type: {kind!r}"),
            hint=Text(zh=f"可用：{names}", en=f"one of: {names}"),
        )
    return structure(_known(data, cls), cls, source="event")


def _known(data: Mapping[str, Any], cls: type) -> dict[str, Any]:
    """``data`` without the keys ``cls`` (an attrs class) does not know, in nested records too
    (the actor, the article, the deadlines): what a later minor version may have added."""
    fields = attrs.fields_dict(attrs.resolve_types(cls))
    kept: dict[str, Any] = {}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            continue
        nested = [kind for kind in (field.type, *typing.get_args(field.type)) if attrs.has(kind)]
        kept[key] = _known(value, nested[0]) if nested and isinstance(value, Mapping) else value
    return kept


def _reader(cls: type[Event]) -> Callable[[Any, Any], Event]:
    with _converter_default(cls):
        inner = converter.get_structure_hook(cls, cache_result=False)

    def read(data: Any, type_: Any) -> Event:
        if isinstance(data, Mapping) and "schema_version" not in data:
            data = {**data, "schema_version": 1}  # an outbox row older than versioning
        return inner(data, type_)  # type: ignore[no-any-return]

    return read


def _writer(cls: type[Event]) -> Callable[[Event], dict[str, Any]]:
    with _converter_default(cls):
        inner = converter.get_unstructure_hook(cls, cache_result=False)
    version_1 = _ADDED_IN_2 - (
        {"trigger", "from_state", "to_state", "reason"}
        if issubclass(cls, TransitionEvent)
        else set()
    )

    def write(event: Event) -> dict[str, Any]:
        data: dict[str, Any] = inner(event)
        if event.schema_version == 1:  # written back exactly as stored (its digest holds)
            data = {key: value for key, value in data.items() if key not in version_1}
        return {"type": event.type, **data}  # the type first: what a reader looks at first

    return write


_EVENT_CLASSES = frozenset(EVENT_TYPES.values())
_WRAPPING: set[type] = set()


def _is_event_class(kind: Any) -> bool:
    return kind in _EVENT_CLASSES and kind not in _WRAPPING


@contextlib.contextmanager
def _converter_default(cls: type) -> Iterator[None]:
    """While the reader or writer of ``cls`` is built, the hook it wraps is the converter's own."""
    _WRAPPING.add(cls)
    try:
        yield
    finally:
        _WRAPPING.discard(cls)


# Each event class's hooks are built on first use, not here: generating all 64 at import cost
# every command that opens a store 0.3-0.6 s of CPU before it did anything (issue 23).
converter.register_structure_hook_factory(_is_event_class, _reader)
converter.register_unstructure_hook_factory(_is_event_class, _writer)
