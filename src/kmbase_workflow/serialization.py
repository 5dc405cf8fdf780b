"""The project's one cattrs converter: records to and from JSON (and TOML).

Reading is strict: an integer field takes an integer, not ``"12"`` nor ``12.5``; unknown keys
are refused (they are usually typos). A file with problems raises one
`ApplicationFormatError` listing every problem with its path::

    services.training.person_times: expected an integer, got "abc"

Before any field is read, the whole document is checked for what no store, terminal or
report can take, and each occurrence is reported with its path the same way:

- a NUL character (U+0000) or a lone surrogate (U+D800 to U+DFFF, which JSON's ``\\ud800``
  can write but UTF-8 cannot) in any string or key;
- an integer outside the 64-bit range the stores keep (|n| < 2⁶³; a JSON integer of
  thousands of digits included);
- nesting deeper than `MAX_DEPTH` levels of lists and tables (an application needs three).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
import orjson
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    is_mapping,
    is_sequence,
    mapping_structure_factory,
)
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn

from ._i18n import Text
from .errors import ApplicationFormatError, FieldValueError, InvalidInputError
from .records import Application

__all__ = [
    "MAX_DEPTH",
    "MAX_INTEGER",
    "converter",
    "dump_json",
    "dumps_json",
    "load_application",
    "loads_application",
    "structure",
    "unstructure",
]

T = TypeVar("T")

MAX_DEPTH = 32
"""The deepest nesting of lists and tables a document may have (an application needs three)."""

MAX_INTEGER = 2**63 - 1
"""The largest magnitude of an integer in a document: what SQLite and PostgreSQL keep."""


class _WrongTypeError(TypeError):
    """A scalar of the wrong kind; carries the bilingual expectation."""

    def __init__(self, expected: Text, value: object) -> None:
        self.expected = expected
        self.value = value
        super().__init__(expected.en)


_INTEGER = Text(zh="应为整数", en="expected an integer")
_NUMBER = Text(zh="应为有限的数字", en="expected a finite number")
_NUMBER_OR_BOOLEAN = Text(zh="应为数字或 true/false", en="expected a number or true/false")
_BOOLEAN = Text(zh="应为 true 或 false", en="expected true or false")
_STRING = Text(zh="应为文本", en="expected a string")
_DATE = Text(zh="应为日期（YYYY-MM-DD）", en="expected a date (YYYY-MM-DD)")
_DATETIME = Text(
    zh="应为带时区的时间（ISO 8601，如 2025-09-26T09:00:00+08:00）",
    en="expected an aware date and time (ISO 8601, e.g. 2025-09-26T09:00:00+08:00)",
)
_LIST = Text(zh="应为列表", en="expected a list")
_OBJECT = Text(zh="应为对象（键值表）", en="expected an object (a table of keys)")


def _structure_int(value: object, _type: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _WrongTypeError(_INTEGER, value)
    return value


def _structure_float(value: object, _type: type) -> float:
    # JSON's Infinity/NaN and TOML's inf/nan are not data: a NaN would silently become
    # "not assessable" and an infinite area would pass every threshold.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _WrongTypeError(_NUMBER, value)
    return float(value)


def _structure_number_or_bool(value: object, _type: object) -> float | bool:
    # A policy's required value: a count, a share, or true for "is_true" rules.
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise _WrongTypeError(_NUMBER_OR_BOOLEAN, value)
    return value


def _structure_bool(value: object, _type: type) -> bool:
    if not isinstance(value, bool):
        raise _WrongTypeError(_BOOLEAN, value)
    return value


def _structure_str(value: object, _type: type) -> str:
    if not isinstance(value, str):
        raise _WrongTypeError(_STRING, value)
    return value


def date_value(value: object) -> dt.date | None:
    """``value`` as a date if it is one or an ISO date text (``None`` otherwise: a time is
    not a date)."""
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _structure_date(value: object, _type: type) -> dt.date:
    day = date_value(value)
    if day is None:
        raise _WrongTypeError(_DATE, value)
    return day


def _structure_datetime(value: object, _type: type) -> dt.datetime:
    # Every instant in the library is aware; a naive one would be ambiguous in an audit.
    # pendulum (and the clock) load with the first instant read: an application has none,
    # and ``kmbase check`` starts without them (issue 23).
    import pendulum  # noqa: PLC0415

    from .clock import TIMEZONE  # noqa: PLC0415

    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return pendulum.instance(value).in_timezone(TIMEZONE)
    if isinstance(value, str):
        try:
            parsed = pendulum.parse(value)
        except (ValueError, pendulum.parsing.exceptions.ParserError):
            raise _WrongTypeError(_DATETIME, value) from None
        if isinstance(parsed, pendulum.DateTime) and parsed.tzinfo is not None and "T" in value:
            return parsed.in_timezone(TIMEZONE)
    raise _WrongTypeError(_DATETIME, value)


def _structure_enum(value: object, type_: type[enum.Enum]) -> enum.Enum:
    try:
        return type_(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in type_)
        raise _WrongTypeError(
            Text(zh=f"应为以下之一：{allowed}", en=f"expected one of: {allowed}"), value
        ) from None


def _shape_guard(
    expected: Text, kinds: tuple[type, ...], inner: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any]:
    # cattrs would happily iterate a string as a list of characters: refuse the wrong shape.
    def hook(value: object, type_: Any) -> Any:
        if not isinstance(value, kinds):
            raise _WrongTypeError(expected, value)
        return inner(value, type_)

    return hook


_READ_ONCE: set[type] = set()


def read_once(cls: type[T]) -> type[T]:
    """Mark an attrs class that a process reads once (the shape of a policy file): the
    converter reads it field by field rather than generating and compiling a hook for it,
    which costs more than the one read (issue 23). The errors are the same, in the same
    order."""
    _READ_ONCE.add(cls)
    return cls


def _field_by_field(cl: type[Any], conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """The hook cattrs would generate for ``cl`` (detailed validation, unknown keys
    refused), as a loop over its fields."""
    attrs.resolve_types(cl)
    fields = [
        (field.name, field.alias, field.default is not attrs.NOTHING, field.type)
        for field in attrs.fields(cl)
        if field.init
    ]
    hooks = [conv.get_structure_hook(type_) for *_, type_ in fields]
    known = {name for name, *_ in fields}

    def hook(data: Any, _type: Any) -> Any:
        values: dict[str, Any] = {}
        errors: list[Exception] = []
        for (name, alias, optional, type_), structure_field in zip(fields, hooks, strict=True):
            if optional and name not in data:
                continue
            try:
                values[alias] = structure_field(data[name], type_)
            except Exception as exc:  # every problem is reported with its path, as cattrs does
                note = f"Structuring class {cl.__qualname__} @ attribute {name}"
                exc.__notes__ = [
                    *getattr(exc, "__notes__", []),
                    AttributeValidationNote(note, name, type_),
                ]
                errors.append(exc)
        unknown = set(data) - known
        if unknown:
            errors.append(ForbiddenExtraKeysError("", cl, unknown))
        if errors:
            raise ClassValidationError(f"While structuring {cl.__name__}", errors, cl)
        try:
            return cl(**values)
        except Exception as exc:
            raise ClassValidationError(f"While structuring {cl.__name__}", [exc], cl) from exc

    return hook


def _is_optional(type_: Any) -> bool:
    """``X | None`` of one ``X``."""
    arguments = typing.get_args(type_)
    return (
        typing.get_origin(type_) in (typing.Union, types.UnionType)
        and len(arguments) == 2
        and type(None) in arguments
    )


def _optional_hook(type_: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """``X | None`` as cattrs reads it (``None``, or an ``X``), with ``X``'s hook found once:
    cattrs looks it up for every value (a tenth of reading an application)."""
    [inner] = [argument for argument in typing.get_args(type_) if argument is not type(None)]
    structure = conv.get_structure_hook(inner)

    def hook(value: Any, _type: Any) -> Any:
        return None if value is None else structure(value, inner)

    return hook


def _attrs_hook(cl: type, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    make = _field_by_field if cl in _READ_ONCE else make_dict_structure_fn
    return _shape_guard(_OBJECT, (dict,), make(cl, conv))


def _make_converter(*, orjson_numbers: bool = False) -> cattrs.Converter:
    """The converter; with ``orjson_numbers``, the one that reads orjson's parse of JSON
    (`_read_with_orjson`): the standard reading makes 2.0 the integer 2, orjson keeps it a
    float, so its number hooks take what the standard reading would have made and refuse
    the rest, and it gives no detail of a refusal (the standard reading then says it all)."""
    conv = cattrs.Converter(detailed_validation=not orjson_numbers, forbid_extra_keys=True)
    if orjson_numbers:
        conv.register_structure_hook(int, _structure_orjson_int)
        conv.register_structure_hook(float, _structure_orjson_float)
        conv.register_structure_hook(float | bool, _structure_orjson_number_or_bool)
    else:
        conv.register_structure_hook(int, _structure_int)
        conv.register_structure_hook(float, _structure_float)
        conv.register_structure_hook(float | bool, _structure_number_or_bool)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_unstructure_hook(dt.date, dt.date.isoformat)
    for scalar in (str, int, float, bool):
        # an optional scalar is written as it is (None too): as cattrs' own hook would, but
        # without a call per field, which every write pays on a ~25 KB application
        conv.register_unstructure_hook(scalar | None, identity)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
    )
    conv.register_structure_hook_factory(_is_optional, lambda t: _optional_hook(t, conv))
    conv.register_structure_hook_factory(attrs.has, lambda t: _attrs_hook(t, conv))
    conv.register_structure_hook_factory(
        is_sequence,
        lambda t: _shape_guard(_LIST, (list, tuple), homogenous_tuple_structure_factory(t, conv)),
    )
    conv.register_structure_hook_factory(
        is_mapping,
        lambda t: _shape_guard(_OBJECT, (dict,), mapping_structure_factory(t, conv)),
    )
    return conv


converter: cattrs.Converter = _make_converter()
"""The converter every record goes through (strict scalars, extra keys refused)."""


class _NotAsReadError(ValueError):
    """A number orjson read otherwise than the standard reading would have."""


def _as_read(value: object) -> int | float:
    """A number of orjson's parse as `_parse` would have made it (an integral float an
    integer, negative zero a float: `_parse_json_float`), or `_NotAsReadError` for what
    `_parse` reads otherwise or the walk refuses: an integer past `MAX_INTEGER`, and an
    integral float past it (orjson makes an integer of more than 64 bits such a float)."""
    if type(value) is int and -MAX_INTEGER <= value <= MAX_INTEGER:
        return value
    if type(value) is float:
        if not value.is_integer() or (value == 0 and math.copysign(1.0, value) < 0):
            return value
        if abs(value) <= MAX_INTEGER:
            return int(value)
    raise _NotAsReadError


def _structure_orjson_int(value: object, type_: type) -> int:
    if type(value) is int and -MAX_INTEGER <= value <= MAX_INTEGER:
        return value  # most numbers of an application: what the two calls below would give
    return _structure_int(_as_read(value), type_)


def _structure_orjson_float(value: object, type_: type) -> float:
    kind = type(value)
    # an integer or a float in range (NaN compares false): what the calls below would give
    if (kind is float or kind is int) and -MAX_INTEGER <= value <= MAX_INTEGER:  # type: ignore[operator]
        return float(value)  # type: ignore[arg-type]
    return _structure_float(_as_read(value), type_)


def _structure_orjson_number_or_bool(value: object, type_: object) -> float | bool:
    return _structure_number_or_bool(value if type(value) is bool else _as_read(value), type_)


_orjson_converter = _make_converter(orjson_numbers=True)
"""The same, over orjson's parse of an application (`_read_with_orjson`)."""


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_SHOWN = 80  # characters of a value quoted in a message


def _printable(text: str) -> str:
    """``text`` with control characters and lone surrogates as ``\\uXXXX`` escapes, so that a
    message quoting it can always be written (UTF-8, a terminal, a log)."""
    return _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _describe_value(value: object) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "…"
        return _printable(json.dumps(shown, ensure_ascii=False))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    shown = repr(value)
    return _printable(shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "…")


class _HugeInteger:
    """A JSON integer with more digits than any field holds, kept unconverted (Python refuses
    to convert integers of thousands of digits, and no field could hold one)."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


_SAFE_DIGITS = len(str(MAX_INTEGER)) - 1
"""An integer of this many digits (a sign included) is within `MAX_INTEGER`."""


def _parse_json_int(digits: str) -> int | _HugeInteger:
    return int(digits) if len(digits) <= len(str(MAX_INTEGER)) + 1 else _HugeInteger(digits)


def _parse_json_float(text: str) -> float | int:
    # JSON Schema's integer is any number without a fraction: 2.0 and 1e3 are integers, as
    # the published schemas say, so an integer field takes them; a number field reads any
    # integer as a float all the same. Negative zero and integers past 64 bits stay floats.
    value = float(text)
    negative_zero = value == 0 and math.copysign(1.0, value) < 0
    if value.is_integer() and abs(value) <= MAX_INTEGER and not negative_zero:
        return int(value)
    return value


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{_printable(key)}" if path else _printable(key)


_NUL = Text(zh="含有 NUL 字符（U+0000）", en="contains a NUL character (U+0000)")
_SURROGATE = Text(
    zh="含有不成对的代理码位（U+D800 至 U+DFFF），不是有效的 Unicode 字符",
    en="contains a lone surrogate (U+D800 to U+DFFF), which is not a Unicode character",
)
_TOO_DEEP = Text(zh=f"嵌套超过 {MAX_DEPTH} 层", en=f"nested more than {MAX_DEPTH} levels deep")
_INTEGER_RANGE = Text(
    zh=f"整数超出范围（绝对值应小于 2⁶³，即不超过 {MAX_INTEGER}）",
    en=f"integer out of range (its magnitude must not exceed 2⁶³ − 1 = {MAX_INTEGER})",
)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _string_problem(text: str) -> Text | None:
    # both searches in C: an application holds thousands of strings (issue 24)
    if "\x00" in text:
        return _NUL
    if _SURROGATES.search(text) is not None:
        return _SURROGATE
    return None


def value_problem(value: object) -> Text | None:
    """What the format refuses in one value wherever it stands (a NUL or a lone surrogate in
    a string, an integer beyond `MAX_INTEGER`), or ``None``: the check of every document,
    for readers of other formats (the roster import) to refuse the same values."""
    if isinstance(value, str):
        return _string_problem(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        return _INTEGER_RANGE
    return None


def _problem(where: str, what: Text) -> Text:
    where = where or "(root)"
    return Text(zh=f"{where}：{what.zh}", en=f"{where}: {what.en}")


_Where = tuple[Any, str | int] | None
"""Where a value stands: its parent's place and its key (the path is spelled out only for a
value with a problem: most documents have none)."""


def _path(where: _Where) -> str:
    keys: list[str | int] = []
    while where is not None:
        where, key = where
        keys.append(key)
    path = ""
    for key in reversed(keys):
        path = _join(path, key)
    return path


def _unreadable_values(data: object) -> list[Text]:
    """Every NUL, lone surrogate, out-of-range integer and too deep nesting in plain data,
    each with its path. Iterative, so any depth is safe to walk."""
    problems: list[Text] = []
    stack: list[tuple[object, _Where, int]] = [(data, None, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if (problem := _string_problem(value)) is not None:
                problems.append(_problem(_path(where), problem))
            continue
        if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
            problems.append(_problem(_path(where), _TOO_DEEP))
            continue
        if isinstance(value, dict):
            children: list[tuple[object, _Where, int]] = []
            for key, child in value.items():
                place = (where, key if isinstance(key, str) else str(key))
                if isinstance(key, str) and (problem := _string_problem(key)) is not None:
                    key_problem = Text(zh="字段名" + problem.zh, en="the key " + problem.en)
                    problems.append(_problem(_path(place), key_problem))
                    continue
                children.append((child, place, depth + 1))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
            stack.extend(((child, (where, index), depth + 1) for index, child in reversed(items)))
        elif isinstance(value, _HugeInteger):
            digits = len(value.digits.lstrip("-"))
            what = Text(
                zh=f"{_INTEGER_RANGE.zh}（{digits} 位）",
                en=f"{_INTEGER_RANGE.en} ({digits} digits)",
            )
            problems.append(_problem(_path(where), what))
        elif (problem := value_problem(value)) is not None:
            problems.append(_problem(_path(where), problem))
    return problems


def _leaf_problems(exc: BaseException, path: str) -> Iterator[Text]:
    """Walk cattrs' exception groups down to the leaves, tracking the path."""
    where = path or "(root)"
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without_notes = exc.group_exceptions()
        for child, note in with_notes:
            if isinstance(note, AttributeValidationNote):
                child_path = f"{path}.{note.name}" if path else note.name
            elif isinstance(note.index, str):  # a mapping key: services.training
                child_path = f"{path}.{note.index}"
            else:
                child_path = f"{path}[{note.index}]"
            yield from _leaf_problems(child, child_path)
        for child in without_notes:
            yield from _leaf_problems(child, path)
    elif isinstance(exc, ForbiddenExtraKeysError):
        keys = ", ".join(sorted(exc.extra_fields))
        yield Text(
            zh=f"{where}：未知字段 {keys}（拼写错误？）",
            en=f"{where}: unknown field(s) {keys} (a typo?)",
        )
    elif isinstance(exc, _WrongTypeError):
        got = _describe_value(exc.value)
        yield Text(
            zh=f"{where}：{exc.expected.zh}，实际为 {got}",
            en=f"{where}: {exc.expected.en}, got {got}",
        )
    elif isinstance(exc, FieldValueError):
        field_path = f"{path}.{exc.field}" if path else exc.field
        yield Text(zh=f"{field_path}：{exc.problem.zh}", en=f"{field_path}: {exc.problem.en}")
    elif isinstance(exc, KeyError):
        yield Text(zh=f"{where}：缺少必填字段", en=f"{where}: required field missing")
    elif isinstance(exc, TypeError | AttributeError) and path:
        # Containers given the wrong shape (a string where a list belongs, …).
        yield Text(zh=f"{where}：结构不对（{exc}）", en=f"{where}: wrong structure ({exc})")
    else:
        yield Text(zh=f"{where}：{exc}", en=f"{where}: {exc}")


def structure(data: object, type_: type[T], *, source: str = "input") -> T:
    """Build a record of ``type_`` from plain data (as parsed from JSON or TOML).

    Raises `ApplicationFormatError` listing every problem with its path: first what no
    record can hold anywhere in ``data`` (NUL characters, lone surrogates, integers beyond
    `MAX_INTEGER`, nesting beyond `MAX_DEPTH`), else every field that does not fit.
    """
    source = _printable(source)
    if not isinstance(data, dict):
        raise ApplicationFormatError(
            source, [Text(zh=f"(root)：{_OBJECT.zh}", en=f"(root): {_OBJECT.en}")]
        )
    unreadable = _unreadable_values(data)
    if unreadable:
        raise ApplicationFormatError(source, unreadable)
    try:
        return converter.structure(data, type_)
    except (ClassValidationError, IterableValidationError) as exc:
        raise ApplicationFormatError(source, list(_leaf_problems(exc, ""))) from None
    except (FieldValueError, _WrongTypeError) as exc:
        raise ApplicationFormatError(source, list(_leaf_problems(exc, ""))) from None


def unstructure(record: object) -> dict[str, Any]:
    """Plain data (JSON- and TOML-ready) for a record."""
    data = converter.unstructure(record)
    if not isinstance(data, dict):  # pragma: no cover - records are attrs classes
        msg = f"{type(record).__name__} is not a record"
        raise TypeError(msg)
    return data


def dumps_json(record: object, *, indent: int | None = 2) -> str:
    """A record as JSON text (UTF-8, Chinese kept readable)."""
    return json.dumps(unstructure(record), ensure_ascii=False, indent=indent)


def dump_json(record: object, path: str | Path) -> None:
    """Write a record to a JSON file."""
    Path(path).write_text(dumps_json(record) + "\n", encoding="utf-8")


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[][{},:]')


def _too_deep_json(text: str) -> str:
    """The path at which ``text`` nests deeper than `MAX_DEPTH` (for a document too deep for
    the parser itself: it is never parsed)."""
    path: list[str | int] = []
    kinds: list[str] = []
    expecting_key = False
    for token in _JSON_TOKEN.finditer(text):
        lexeme = token.group()
        if lexeme in "{[":
            if len(kinds) >= MAX_DEPTH:
                break
            kinds.append(lexeme)
            path.append("" if lexeme == "{" else 0)
            expecting_key = lexeme == "{"
        elif lexeme in "}]":
            if kinds:
                kinds.pop()
                path.pop()
            expecting_key = False
        elif lexeme == ",":
            if kinds and kinds[-1] == "[":
                path[-1] = int(path[-1]) + 1
            expecting_key = bool(kinds) and kinds[-1] == "{"
        elif lexeme == ":":
            expecting_key = False
        elif expecting_key:
            try:
                path[-1] = str(json.loads(lexeme))
            except ValueError:  # a bad escape: the key as written
                path[-1] = lexeme[1:-1]
    where = ""
    for key in path:  # where the level too many opens
        where = _join(where, key)
    return where


def _parse(text: str, fmt: str, source: str, long_integers: list[str] | None = None) -> object:
    """``text`` parsed; ``long_integers``: a list each JSON integer of more than 18 digits
    is appended to (one that may be beyond `MAX_INTEGER`)."""
    parse_int = _parse_json_int
    if long_integers is not None:

        def parse_int(digits: str) -> int | _HugeInteger:
            if len(digits) > _SAFE_DIGITS:
                long_integers.append(digits)
            return _parse_json_int(digits)

    try:
        if fmt == "json":
            return json.loads(text, parse_int=parse_int, parse_float=_parse_json_float)
        return tomllib.loads(text)
    except RecursionError:
        where = _too_deep_json(text) if fmt == "json" else ""
        raise ApplicationFormatError(source, [_problem(where, _TOO_DEEP)]) from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(
            Text(
                zh=f"{source} 不是有效的 {fmt.upper()}：{_printable(str(exc))}",
                en=f"{source} is not valid {fmt.upper()}: {_printable(str(exc))}",
            ),
            hint=Text(zh="请检查文件语法", en="check the file's syntax"),
        ) from None
    except ValueError:
        # tomllib converts every integer, and Python refuses those of thousands of digits.
        raise ApplicationFormatError(
            source, [_problem("", Text(zh=f"有{_INTEGER_RANGE.zh}", en=f"an {_INTEGER_RANGE.en}"))]
        ) from None


def loads_application(text: str, *, fmt: str = "json", source: str = "input") -> Application:
    """Read an application from JSON (``fmt="json"``) or TOML (``fmt="toml"``) text.

    Raises `InvalidInputError` for text that is not JSON (or TOML), and
    `ApplicationFormatError` listing every problem with its path otherwise (see the module's
    description for what is refused wherever it appears).
    """
    source = _printable(source)
    if fmt not in ("json", "toml"):
        raise InvalidInputError(
            Text(zh=f"不支持的格式 {fmt}", en=f"unsupported format {fmt}"),
            hint=Text(zh="请使用 json 或 toml", en="use json or toml"),
        )
    if fmt == "json":
        # orjson refuses a lone surrogate, raw or escaped; a NUL it reads from its escape
        if "\\u0000" not in text and (application := _read_with_orjson(text)) is not None:
            return application
        long_integers: list[str] = []
        data = _parse(text, fmt, source, long_integers)
        if not long_integers and isinstance(data, dict) and _no_unreadable_text(text):
            # nothing in the text can be what the walk refuses (a long integer, a NUL or a
            # lone surrogate; nesting deeper than MAX_DEPTH fits no field of an application,
            # so the converter refuses it): the walk, most of a read, runs only on a refusal,
            # which is then reported as ever (issue 24)
            with contextlib.suppress(
                ClassValidationError, IterableValidationError, FieldValueError, _WrongTypeError
            ):
                return converter.structure(data, Application)
        return structure(data, Application, source=source)
    return structure(_parse(text, fmt, source), Application, source=source)


def _read_with_orjson(text: str) -> Application | None:
    """An application parsed by orjson (four times the standard library's speed on a 30 KB
    text) and structured, when it reads as `_parse` would have read it and nothing in it is
    refused; else ``None``, and the standard reading reads it and says what is wrong. Only
    numbers are read otherwise (`_as_read`); what orjson refuses (NaN, a lone surrogate) the
    standard reading reads or refuses."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    try:
        application: Application = _orjson_converter.structure(data, Application)
    except Exception:  # any refusal: the standard reading names every problem
        return None
    return application


def _no_unreadable_text(text: str) -> bool:
    """Whether JSON ``text`` can hold no NUL and no lone surrogate: JSON writes a NUL only
    escaped (a raw one is a syntax error), and a surrogate escaped or raw (which UTF-8 cannot
    encode). A false alarm (an escaped backslash before ``u0000``) only takes the walk."""
    if "\\u0000" in text or "\\ud" in text or "\\uD" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def load_application(path: str | Path) -> Application:
    """Read an application from a ``.json`` or ``.toml`` file."""
    file = Path(path)
    shown = _printable(str(file))
    fmt = "toml" if file.suffix.lower() == ".toml" else "json"
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(
            Text(zh=f"无法读取 {shown}：{exc.strerror}", en=f"cannot read {shown}: {exc.strerror}"),
            hint=Text(zh="请检查路径", en="check the path"),
        ) from None
    except UnicodeDecodeError:
        raise InvalidInputError(
            Text(zh=f"{shown} 不是 UTF-8 文本", en=f"{shown} is not UTF-8 text"),
            hint=Text(zh="请以 UTF-8 保存文件", en="save the file as UTF-8"),
        ) from None
    return loads_application(text, fmt=fmt, source=shown)
