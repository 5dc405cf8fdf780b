"""Reading an application takes a shortcut when its text can hold nothing the walk for
unreadable values refuses (issue 24: the walk was half of a read); the shortcut must give
what the walk-first path gives, the application or every problem in the same words and
order, for any text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmbase_workflow.errors import KmbaseError
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.records import Application
from kmbase_workflow.serialization import _parse, loads_application, structure, unstructure

BASE = unstructure(eligible_application())


def walk_first(text: str) -> Application:
    """The read as it was: every value walked, then structured."""
    return structure(_parse(text, "json", "application"), Application, source="application")


def shortcut(text: str) -> Application:
    return loads_application(text, source="application")


def outcome(read: Any, text: str) -> object:
    try:
        return read(text)
    except KmbaseError as error:
        return type(error).__name__, error.describe("en"), error.describe("zh")


def deep(depth: int) -> object:
    value: object = "底"
    for _ in range(depth):
        value = [value]
    return value


replacements = st.sampled_from(
    [
        "含\x00字",
        "\ud800",
        "\ud83d\ude00",
        10**25,
        -(10**19),
        2**63 - 1,
        2**63,
        1e300,
        -0.0,
        deep(40),
        deep(3),
        # what orjson reads otherwise than the standard reading (issue 24: orjson reads first)
        2.0,
        0.5,
        1e19,
        1e25,
        2**64 - 1,
        -(2**63),
        -(2**63) - 1,
        5e-324,
        float("nan"),
        float("inf"),
        {"未知": 1},
        None,
        True,
        "",
        "\\u0000 written out",
        [],
    ]
)


def paths(data: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data[:2]):
            found.extend(paths(value, (*prefix, index)))
    return found


PATHS = paths(BASE)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.lists(st.tuples(st.sampled_from(PATHS), replacements), max_size=3),
    ascii_only=st.booleans(),
)
def test_a_changed_application_reads_as_the_walk_first_read_reads_it(
    changes: list[tuple[tuple[Any, ...], object]], ascii_only: bool
) -> None:
    document: dict[str, Any] = json.loads(json.dumps(BASE))
    for path, value in changes:
        try:
            document = _apply(document, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the path
    text = json.dumps(document, ensure_ascii=ascii_only)
    assert outcome(shortcut, text) == outcome(walk_first, text)


def _apply(document: dict[str, Any], path: tuple[Any, ...], value: object) -> dict[str, Any]:
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(unstructure(eligible_application()), ensure_ascii=False),
        json.dumps(unstructure(ineligible_application())),
        '{"base": {"name": "\\u0000"}}',
        '{"base": {"name": "\\ud800"}}',
        '{"operator": {"registered_capital_yuan": 99999999999999999999999}}',
        "[]",
        '{"base": ' + "[" * 40 + "]" * 40 + "}",
    ],
)
def test_known_texts_read_as_the_walk_first_read_reads_them(text: str) -> None:
    assert outcome(shortcut, text) == outcome(walk_first, text)


def test_a_python_string_with_a_raw_lone_surrogate_takes_the_walk() -> None:
    text = json.dumps(unstructure(eligible_application()), ensure_ascii=False).replace(
        "昆明", "\ud800", 1
    )
    assert outcome(shortcut, text) == outcome(walk_first, text)
    assert "surrogate" in str(outcome(shortcut, text))


NUMBER_SPELLINGS = [
    "7", "7.0", "7E0", "7e+0", "70e-1", "-0", "-0.0", "0.0", "1E2", "2.5", "1e19", "1e400",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "18446744073709551615", "18446744073709551616", "123456789012345678901234567890",
    "NaN", "-Infinity", "true", "null", '"7"',
]  # fmt: skip


@pytest.mark.parametrize("spelling", NUMBER_SPELLINGS)
@pytest.mark.parametrize("field", ["employees", "site_area_m2"])
def test_every_spelling_of_a_number_reads_as_the_walk_first_read_reads_it(
    spelling: str, field: str
) -> None:
    # an integer field and a number field, each number as JSON may spell it: orjson reads
    # 7.0 as a float and an integer past 64 bits as a float, the standard reading neither
    text = json.dumps(BASE, ensure_ascii=False)
    marker = f'"{field}": '
    start = text.index(marker) + len(marker)
    end = min(text.index(",", start), text.index("}", start))
    changed = text[:start] + spelling + text[end:]
    assert outcome(shortcut, changed) == outcome(walk_first, changed)
