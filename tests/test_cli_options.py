"""One name per option across ``kmbase``'s commands, the old names as hidden aliases, and
the JSON convention fuzzed: whatever the words, ``--json`` gives one JSON document on stdout
and nothing on stderr."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kmbase_workflow.cli import app

runner = CliRunner()
ROOT = typer.main.get_command(app)

# Options whose placeholder differs by command, on purpose.
DIFFERENT_ON_PURPOSE = {
    "--format": "the formats a command offers (table|json, mermaid|dot)",
}


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if hasattr(sub, "commands"):
            yield from _leaves(sub, (*path, name))
        else:
            yield (*path, name), sub


LEAVES = dict(_leaves(ROOT))


def test_an_option_has_one_placeholder_on_every_command() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for command in LEAVES.values():
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden and param.metavar:
                for name in param.opts:
                    seen[name].add(param.metavar)
    mixed = {
        name: sorted(metavars)
        for name, metavars in seen.items()
        if len(metavars) > 1 and name not in DIFFERENT_ON_PURPOSE
    }
    assert not mixed
    assert seen["--today"] == {"DATE"}
    assert seen["--holidays"] == {"FILE"}


def test_one_name_for_the_day_and_the_holiday_files() -> None:
    visible: dict[str, list[str]] = defaultdict(list)
    for path, command in LEAVES.items():
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                for name in param.opts:
                    visible[name].append(" ".join(path))
    assert "--now" not in visible  # --today everywhere
    assert "--notice" not in visible  # --holidays for files, --reference for round open
    for command in ("fire", "bulk", "declare", "sweep"):
        for option in ("--today", "--holidays", "--policy", "--allow-provisional"):
            assert command in visible[option], f"kmbase {command} lacks {option}"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    assert runner.invoke(app, ["db", "init", "--db", url]).exit_code == 0
    return url


@pytest.mark.parametrize("option", ["--today", "--now"])
def test_sweep_takes_today_and_its_old_name(db: str, option: str) -> None:
    result = runner.invoke(app, ["sweep", "--db", db, option, "2025-06-21", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["as_of"] == "2025-06-21"


@pytest.mark.parametrize("option", ["--reference", "--notice"])
def test_round_open_takes_reference_and_its_old_name(db: str, option: str) -> None:
    args = ["round", "open", "2025", "2025-06-01", "2025-07-31", option, "昆工信〔2025〕1号"]
    result = runner.invoke(app, [*args, "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reference"] == "昆工信〔2025〕1号"
    listed = runner.invoke(app, ["round", "list", "--db", db, "--json"])
    assert json.loads(listed.stdout)[0]["notice"] == "昆工信〔2025〕1号"


_word = st.one_of(
    st.sampled_from(["2025-09-26", "2031-01-02", "--", "-3", "10", "--allow-provisional"]),
    st.sampled_from(["--explain", "--lang", "en", "zh", "--policy", "--holidays", "x.toml"]),
    st.text(max_size=12),
    st.dates().map(str),
    st.integers(-400, 400).map(str),
)
_commands = st.sampled_from(
    [
        ["calendar", "is-working-day"],
        ["calendar", "add"],
        ["calendar", "count"],
        ["deadline", "notice"],
        ["deadline", "change-filing"],
    ]
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(command=_commands, words=st.lists(_word, max_size=5))
def test_fuzz_json_is_one_document_on_stdout(
    command: list[str], words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*command, "--json", *words])
    if {"--help", "-h"} & set(words[: words.index("--")] if "--" in words else words):
        return  # help is text
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert result.exit_code in {0, 2, 3}
    if result.exit_code:
        assert document["error"]["exit_code"] == result.exit_code
        assert document["error"]["message"]["zh"]
        assert document["error"]["message"]["en"]
    else:
        assert "error" not in document
