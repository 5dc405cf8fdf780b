"""Bad input never ends in a traceback: mutated applications through every entry point.

Each document starts as ``docs/examples/eligible.json`` and takes up to four mutations:
keys deleted, renamed or duplicated; values replaced by the wrong type, integers of
thousands of digits, ``1e999``/``NaN``/``Infinity``, nesting thousands of levels deep, lone
surrogates, NUL characters, very long strings; bytes that are not UTF-8, truncation. Each
goes through the same entry points a host and a script use: `loads_application`,
`load_application` (the loader of ``kmbase check`` and ``kmbase declare``), and the two
commands themselves on a SQLite file. Only the documented outcomes are accepted: a record,
or `ApplicationFormatError` / `InvalidInputError` whose message can be written in UTF-8;
for the commands, the exit codes of docs/reference/cli.md with no exception.

``KMBASE_FUZZ_EXAMPLES`` sets how many documents each command test tries (default 50, and
three and two times as many through the two loaders: 350 documents, about 20 s on a shared
two-core machine); ``KMBASE_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py`` runs long.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kmbase_workflow import (
    Actor,
    Application,
    ApplicationFormatError,
    InvalidInputError,
    Role,
    Workflow,
    evaluate,
    load_application,
    loads_application,
    open_store,
)
from kmbase_workflow.cli import app, check, declare
from kmbase_workflow.serialization import dumps_json
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name

EXAMPLE_FILE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "eligible.json"
EXAMPLE: dict[str, Any] = json.loads(EXAMPLE_FILE.read_text(encoding="utf-8"))
EXAMPLES = int(os.environ.get("KMBASE_FUZZ_EXAMPLES", "50"))


def _fuzz(weight: int = 1) -> Any:
    """``weight`` times ``EXAMPLES`` documents: the library entry points cost a tenth of a
    command, and try more."""
    return settings(
        max_examples=EXAMPLES * weight,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


Path_ = tuple[str | int, ...]

# Raw JSON spliced in where a placeholder string stands (json.dumps cannot write them).
RAW_VALUES = [
    "9" * 5000,  # more digits than Python converts by default (ValueError in json.loads)
    "-" + "7" * 4000,
    "1" + "0" * 400,  # fits int conversion, not any field
    "9223372036854775808",  # 2**63: one past SQLite's INTEGER
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e308",
    "4.9e-324",
    "-0.0",
    "[" * 3000 + "]" * 3000,  # deeper than the parser's recursion limit
    "[" * 200 + "]" * 200,  # parses, deeper than any application
    '{"a":' * 2000 + "{}" + "}" * 2000,
    '"\\ud800"',  # a lone surrogate (high)
    '"abc\\udfff"',  # a lone surrogate (low)
    '"\\u0000"',  # NUL
    '"名称\\u0000后缀"',
    '"\\ud83d\\ude00"',  # a valid surrogate pair: an emoji, which is fine
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.just(""),
    st.just("x" * 100_000),
    st.just("2025-13-45"),
    st.just("2025-06-20T09:00:00"),
    st.sampled_from(["bachelor", "production_services", "91530102MA6K5YQ1XF"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: object, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, (*prefix, index))


def _parent(data: Any, path: Path_) -> Any:
    for step in path[:-1]:
        data = data[step]
    return data


class Document(bytes):
    """A file's bytes, shown short (Hypothesis prints every falsifying example)."""

    def __repr__(self) -> str:
        head = bytes(self[:300]).decode("utf-8", errors="backslashreplace")
        return f"Document({len(self)} bytes: {head!r}…)"


MUTATIONS = ["delete", "replace", "raw", "rename", "duplicate", "wrap", "string"]
RENAMED = ["", "\x00", "\ud800", "x" * 5000, "名称"]
APPENDED = ["\x00", "\ud800", "\udfff", "\u200b", "\ufeff", "\n" * 3, "x" * 5000]


def _mutate(draw: st.DrawFn, data: Any, raws: list[str]) -> None:
    """One mutation of ``data`` in place; raw JSON text goes to ``raws``, marked."""
    paths = [p for p in _paths(data) if p]
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    parent, last = _parent(data, path), path[-1]
    action = draw(st.sampled_from(MUTATIONS))
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = draw(VALUES)
    elif action == "raw":
        raws.append(draw(st.sampled_from(RAW_VALUES)))
        parent[last] = f"@@RAW{len(raws) - 1}@@"
    elif action == "rename" and isinstance(parent, dict):
        parent[draw(st.sampled_from([*RENAMED, f"{last}_"]))] = parent.pop(last)
    elif action == "duplicate" and isinstance(parent, dict):
        # json.dumps cannot write a duplicate key: a marked key loses its mark below.
        parent[f"@@DUP{len(parent)}@@{last}"] = draw(VALUES)
    elif action == "wrap":
        parent[last] = draw(st.sampled_from([[parent[last]], {"value": parent[last]}]))
    elif action == "string" and isinstance(parent[last], str):
        parent[last] += draw(st.sampled_from(APPENDED))


@st.composite
def mutated_documents(draw: st.DrawFn) -> Document:
    """The example, up to four mutations later, as the bytes of a file."""
    data: Any = json.loads(json.dumps(EXAMPLE))
    # A base of its own, so that a readable document is declared rather than refused as a
    # second declaration of the example's base.
    data["base"]["name"] += draw(st.text("0123456789", min_size=6, max_size=6))
    raws: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        _mutate(draw, data, raws)
    text = json.dumps(data, ensure_ascii=draw(st.booleans()), allow_nan=True)
    for index, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{index}@@"', raw)
    text = re.sub(r'"@@DUP\d+@@([^"]*)"', r'"\1"', text)
    encoded = text.encode("utf-8", errors="surrogatepass")
    edit = draw(st.sampled_from(["none", "none", "none", "bad_bytes", "truncate", "bom"]))
    if edit == "bad_bytes":
        at = draw(st.integers(0, len(encoded)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]))
        encoded = encoded[:at] + bad + encoded[at:]
    elif edit == "truncate":
        encoded = encoded[: draw(st.integers(0, len(encoded)))]
    elif edit == "bom":
        encoded = b"\xef\xbb\xbf" + encoded
    return Document(encoded)


def _read_or_explain(read: Callable[[], Application]) -> None:
    """``read()`` returns a clean application or raises a documented, writable error."""
    try:
        application = read()
    except InvalidInputError as error:
        explained: InvalidInputError | None = error
    else:
        explained = None
    if explained is None:
        # Nothing a store or a terminal cannot take, and a verdict can be given.
        text = dumps_json(application)
        text.encode("utf-8")
        assert "\\u0000" not in text
        assert "\x00" not in text
        evaluate(application)
        return
    if isinstance(explained, ApplicationFormatError):
        assert explained.problems
    for lang in ("zh", "en"):  # the message a command prints: valid UTF-8, no NUL
        message = explained.describe(lang)
        message.encode("utf-8")
        assert "\x00" not in message


@_fuzz(weight=3)
@given(document=mutated_documents())
def test_loads_application_reads_or_explains(document: Document) -> None:
    # A host may hand over any str, lone surrogates included (undecodable bytes escaped).
    text = document.decode("utf-8", errors="surrogateescape")
    _read_or_explain(lambda: loads_application(text))


@_fuzz(weight=2)
@given(document=mutated_documents())
def test_load_application_reads_or_explains(tmp_path: Path, document: Document) -> None:
    path = tmp_path / "application.json"
    path.write_bytes(document)
    _read_or_explain(lambda: load_application(path))


runner = CliRunner()
# The two commands as ``kmbase`` registers them, in a group of their own: typer rebuilds the
# whole command tree on every call, which would cost more than the commands themselves.
commands = typer.Typer()
commands.command("check")(check)
commands.command("declare")(declare)


def _assert_documented(result: Any, allowed: set[int]) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}"
    )
    assert result.exit_code in allowed, result.output
    if result.exit_code == 2:
        assert result.stdout == ""
        assert result.stderr.strip()


@_fuzz()
@given(document=mutated_documents(), lang=st.sampled_from(["zh", "en"]))
def test_kmbase_check_exits_with_a_documented_code(
    tmp_path: Path, document: Document, lang: str
) -> None:
    path = tmp_path / "application.json"
    path.write_bytes(document)
    fmt = "json" if len(document) % 2 else "table"
    result = runner.invoke(commands, ["check", str(path), "--lang", lang, "--format", fmt])
    # 0 eligible, 1 not eligible, 2 bad input.
    _assert_documented(result, {0, 1, 2})


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/cases.db"
    opened = runner.invoke(app, ["round", "open", "2025", "2025-06-01", "2025-07-31", "--db", url])
    assert opened.exit_code == 0, opened.output
    return url


@_fuzz()
@given(document=mutated_documents(), lang=st.sampled_from(["zh", "en"]))
def test_kmbase_declare_exits_with_a_documented_code(
    sqlite_db: str, tmp_path: Path, document: Document, lang: str
) -> None:
    path = tmp_path / "application.json"
    path.write_bytes(document)
    result = runner.invoke(
        commands,
        ["declare", str(path), "--db", sqlite_db, "--today", "2025-06-20", "--lang", lang],
    )
    # 0 declared, 1 refused (a second declaration of the same base, …), 2 bad input.
    _assert_documented(result, {0, 1, 2})


# -- the inputs that once ended in a traceback, each through both commands ---------------------

CRASHES = {
    "deep nesting": ("base.leading_industries", "[" * 5000 + "]" * 5000),
    "thousands of digits": ("yearly[0].resident_enterprises", "9" * 5000),
    "a lone surrogate": ("base.name", '"\\ud800"'),
    "a NUL character": ("base.name", '"春城\\u0000园"'),
}


def _crash_document(tmp_path: Path, where: str, raw: str) -> Path:
    data: Any = json.loads(json.dumps(EXAMPLE))
    node = data
    steps = [int(s) if s.isdigit() else s for s in re.split(r"\.|\[|\]\.?", where) if s]
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = "@@RAW@@"
    path = tmp_path / "application.json"
    path.write_text(json.dumps(data).replace('"@@RAW@@"', raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["check", "declare"])
@pytest.mark.parametrize("crash", sorted(CRASHES))
def test_what_crashed_the_commands_is_bad_input(
    sqlite_db: str, tmp_path: Path, command: str, crash: str
) -> None:
    where, raw = CRASHES[crash]
    path = _crash_document(tmp_path, where, raw)
    extra = ["--db", sqlite_db, "--today", "2025-06-20"] if command == "declare" else []
    result = runner.invoke(commands, [command, str(path), "--lang", "en", *extra])
    _assert_documented(result, {2})
    assert f"  - {where}" in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("crash", ["a NUL character", "a lone surrogate", "thousands of digits"])
def test_postgresql_gets_the_same_refusal(schema: str, tmp_path: Path, crash: str) -> None:  # noqa: F811
    """PostgreSQL refuses U+0000 in text and jsonb with a driver error, where SQLite stores it:
    the document is refused before any store sees it, the same for both."""
    url = f"{URL}?schema={schema}"
    store = open_store(url)  # the command does not close its store: open the round here
    bureau = Actor(Role.CITY_BUREAU, "市工业和信息化局")
    Workflow(store).open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau)
    store.close()
    where, raw = CRASHES[crash]
    path = _crash_document(tmp_path, where, raw)
    result = runner.invoke(
        commands, ["declare", str(path), "--db", url, "--today", "2025-06-20", "--lang", "en"]
    )
    _assert_documented(result, {2})
    assert f"  - {where}" in result.stderr
