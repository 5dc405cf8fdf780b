"""The canonical text is the standard library's, byte for byte, whichever encoder writes it
(issue 24): `canonical_json` writes with orjson when it can, and every digest the audit ever
took, or a verifier outside the library takes, is of ``json.dumps(pruned, sort_keys=True,
ensure_ascii=False, separators=(",", ":"))``. A value orjson would write otherwise (a float
it spells differently, an integer past 64 bits, a lone surrogate, a subclass, a value with no
JSON form) must come out as the standard library writes it, or fail as it fails."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmbase_workflow import encoding
from kmbase_workflow.encoding import application_data, canonical_json, canonical_utf8
from kmbase_workflow.examples import eligible_application, ineligible_application


def standard_library(data: Any, format: int) -> str:
    """The canonical form as the docs define it: the standard library's encoder over the
    pruned data."""
    if format >= 2:
        data = encoding._pruned(data, numbers=format >= 3)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def outcome(write: Any, data: Any, format: int) -> tuple[str, str]:
    """What ``write`` gives: ("text", its text) or ("error", the exception's type)."""
    try:
        return "text", write(data, format)
    except (TypeError, ValueError) as error:  # InvalidInputError is a ValueError
        return "error", type(error).__name__


class Colour(enum.StrEnum):
    RED = "红"


class Size(enum.IntEnum):
    BIG = 7


class Text(str):
    """A subclass of str (orjson refuses it under its passthrough option)."""


floats = st.floats() | st.sampled_from(
    [1e-7, 1e-5, 1e-4, 0.1, 1e15 + 0.5, 1e16, 1.5e16, 1e22, 2.0**53 + 2, 5e-324, -0.0]
)
integers = st.integers() | st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64])
texts = st.text() | st.sampled_from(["\x00", "\ud800", "\x7f", "\u2028", "\U0001f600", "\x1f"])
leaves = (
    st.none()
    | st.booleans()
    | integers
    | floats
    | texts
    | st.sampled_from([Colour.RED, Size.BIG, Text("子类"), ()])
)
keys = texts | st.integers(-3, 3) | st.sampled_from([Colour.RED, True, None, 1.5])
documents = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=24,
)


@settings(max_examples=600, deadline=None)
@given(data=documents, format=st.sampled_from([1, 2, 3]))
def test_generated_documents_are_written_as_the_standard_library_writes_them(
    data: Any, format: int
) -> None:
    assert outcome(canonical_json, data, format) == outcome(standard_library, data, format)


@pytest.mark.parametrize("application", [eligible_application(), ineligible_application()])
@pytest.mark.parametrize("format", [1, 2, 3])
def test_an_application_is_written_as_the_standard_library_writes_it(
    application: Any, format: int
) -> None:
    data = application_data(application)
    assert canonical_json(data, format) == standard_library(data, format)


@pytest.mark.parametrize(
    "number", [1e-7, 1e-05, 2.5e-300, 5e-324, 0.1, 1e15 + 0.5, 1.5e16, 1e22, -1e-7]
)
def test_floats_orjson_spells_otherwise_keep_the_standard_spelling(number: float) -> None:
    # orjson writes 1e-07 as 1e-7 and 1e-05 as 0.00001
    assert canonical_json([number], 2) == "[" + json.dumps(number) + "]"
    for format in (2, 3):
        assert canonical_json({"x": number}, format) == standard_library({"x": number}, format)


def test_a_number_past_64_bits_and_a_lone_surrogate_fall_back_to_the_standard_library() -> None:
    assert canonical_json({"n": 2**64}, 3) == '{"n":18446744073709551616}'
    assert canonical_json({"t": "\ud800"}, 3) == '{"t":"\ud800"}'


def test_format_2_keeps_nan_as_the_standard_library_spells_it() -> None:
    # format 2 entries were hashed before NaN was refused (format 3 refuses it at input)
    assert canonical_json({"x": math.nan, "y": -math.inf}, 2) == '{"x":NaN,"y":-Infinity}'


@settings(max_examples=200, deadline=None)
@given(data=documents, format=st.sampled_from([1, 2, 3]))
def test_the_utf8_form_is_the_text_encoded(data: Any, format: int) -> None:
    def utf8(data: Any, format: int) -> str:
        return canonical_utf8(data, format).decode("utf-8")

    def encoded(data: Any, format: int) -> str:
        return canonical_json(data, format).encode("utf-8").decode("utf-8")

    assert outcome(utf8, data, format) == outcome(encoded, data, format)


# -- the stored form (`dumps`): orjson writes what the canonical form checked ----------------

finite_documents = st.recursive(
    leaves.filter(lambda leaf: not (isinstance(leaf, float) and not math.isfinite(leaf))),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=24,
)


def stored(data: Any, numbers_checked: bool) -> tuple[str, Any]:
    """What a store would read back of ``dumps(data)``: ("data", it) or ("error", why)."""
    try:
        return "data", json.loads(encoding.dumps(data, numbers_checked=numbers_checked))
    except (TypeError, ValueError) as error:
        return "error", type(error).__name__


@settings(max_examples=600, deadline=None)
@given(data=finite_documents)
def test_numbers_checked_data_is_stored_as_the_standard_library_stores_it(data: Any) -> None:
    # the same data read back (only a float's exponent may be spelled otherwise), the same
    # refusals (a subclass or a non-text key takes the standard library's path)
    assert stored(data, True) == stored(data, False)


def test_what_orjson_refuses_is_stored_by_the_standard_library() -> None:
    assert encoding.dumps({"n": 2**64, "t": "\ud800", "c": Colour.RED}, numbers_checked=True) == (
        '{"n":18446744073709551616,"t":"\ud800","c":"红"}'
    )


def test_unchecked_data_keeps_nan_for_the_store_to_refuse() -> None:
    # orjson would write NaN as null: data not known finite never takes its path
    assert encoding.dumps({"x": math.nan}) == '{"x":NaN}'
