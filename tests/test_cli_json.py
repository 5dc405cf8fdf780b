"""Every command of ``kmbase``, found by walking the typer app (so a command added later —
``serve``, ``token``, ``worker``, ``relay``, ``inbox`` — is covered the day it is
registered): its help works and shows its summary whole, it takes ``--json``, and with
``--json`` an error is one JSON error object on stdout and nothing on stderr.

Also: shell completion, the error object's contract, and Ctrl-C.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from kmbase_workflow.cli import app
from kmbase_workflow.cli._group import summary
from kmbase_workflow.cli._output import EXIT_INTERRUPTED

runner = CliRunner()
ROOT = typer.main.get_command(app)
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if getattr(sub, "hidden", False):
            continue
        yield (*path, name), sub, command
        yield from _walk(sub, (*path, name))


GROUPS = {path: (cmd, parent) for path, cmd, parent in _walk(ROOT, ()) if hasattr(cmd, "commands")}
LEAVES = {
    path: (cmd, parent) for path, cmd, parent in _walk(ROOT, ()) if not hasattr(cmd, "commands")
}
ALL = {**GROUPS, **LEAVES}


def _id(path: tuple[str, ...]) -> str:
    return " ".join(path)


def test_the_walk_finds_the_commands() -> None:
    assert {("check",), ("calendar", "add"), ("deadline", "notice"), ("bulk",)} <= set(LEAVES)
    assert len(LEAVES) >= 25


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", sorted(ALL), ids=_id)
def test_help_works_and_the_summary_is_whole(path: tuple[str, ...]) -> None:
    command, _parent = ALL[path]
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    first = summary(command.help)
    assert first, f"kmbase {_id(path)}: give it a help text"
    assert " / " in first, f"kmbase {_id(path)}: the summary is bilingual (中文 / English)"
    assert not first.endswith((",", "，", "、", " and", " or")), f"cut summary: {first!r}"
    listing = runner.invoke(app, [*path[:-1], "--help"], env={"COLUMNS": "80"}).stdout
    assert _flat(first) in _flat(listing), f"`kmbase {_id(path[:-1])} --help` cuts {first!r}"


@pytest.mark.parametrize("path", sorted(LEAVES), ids=_id)
def test_every_command_takes_json_and_shows_no_type_placeholders(path: tuple[str, ...]) -> None:
    command, _parent = LEAVES[path]
    options = {opt for param in command.params for opt in getattr(param, "opts", ())}
    assert "--json" in options, f"kmbase {_id(path)}: add JsonOption (see cli._options)"
    text = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).stdout
    for line in text.splitlines():
        assert "<" not in line.split("  ")[0], f"typer's placeholder in {line!r}: give a metavar"
        assert "{" not in line.split("  ")[0], f"typer's placeholder in {line!r}: give a metavar"


def _required_values(command: Any) -> list[str]:
    """A value for every required argument and option ("1" reads as text and as a number)."""
    words: list[str] = []
    for param in command.params:
        if param.required:
            option = getattr(param, "param_type_name", "") == "option"
            words += [param.opts[0], "1"] if option else ["1"]
    return words


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder, with ``$KMBASE_DB`` naming a database there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KMBASE_DB", f"sqlite:///{tmp_path / 'kmbase.db'}")
    return tmp_path


def _error(result: Any) -> dict[str, Any]:
    assert result.stderr == "", f"with --json nothing goes to stderr: {result.stderr!r}"
    document = json.loads(result.stdout)
    error = document["error"]
    assert isinstance(error["code"], str)
    assert error["exit_code"] == result.exit_code
    assert set(error["message"]) == {"zh", "en"}
    assert error["message"]["zh"]
    assert error["message"]["en"]
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", sorted(LEAVES), ids=_id)
def test_bad_input_with_json_is_an_error_object(path: tuple[str, ...], elsewhere: Path) -> None:
    command, _parent = LEAVES[path]
    # a library-level refusal: an unknown language
    result = runner.invoke(app, [*path, *_required_values(command), "--lang", "fr", "--json"])
    assert result.exit_code == 2, result.output
    error = _error(result)
    assert error["code"] in {"invalid_input", "usage"}
    # a usage error: an option the command does not have
    result = runner.invoke(app, [*path, "--no-such-option", "--json"])
    assert result.exit_code == 2
    assert _error(result)["code"] == "usage"
    assert not list(elsewhere.iterdir()), "a refused command created files"


def test_without_json_errors_stay_on_stderr(elsewhere: Path) -> None:
    result = runner.invoke(app, ["calendar", "add", "2025-13-01", "1", "--lang", "en"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "not a valid date" in result.stderr


def test_a_refusal_names_its_failed_rules_in_both_languages(elsewhere: Path) -> None:
    assert runner.invoke(app, ["db", "init"]).exit_code == 0  # declare creates no database
    args = ["declare", str(EXAMPLES / "eligible.json"), "--today", "2025-01-10", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    error = _error(result)
    assert error["code"] == "transition_refused"
    assert error["type"] == "TransitionRefusedError"
    assert error["retryable"] is False
    failure = error["failures"][0]
    assert set(failure) == {"guard", "article", "message"}
    assert failure["article"]["zh"].startswith("第")
    assert failure["message"]["en"]


def test_calendar_and_deadline_answer_in_json() -> None:
    result = runner.invoke(app, ["deadline", "notice", "2025-09-26", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["due"] == "2025-10-15"
    assert data["kind"] == "notice"
    assert data["provisional"] is False
    result = runner.invoke(app, ["calendar", "count", "2025-09-26", "2025-10-10", "--json"])
    assert json.loads(result.stdout) == {
        "start": "2025-09-26",
        "end": "2025-10-10",
        "working_days": 5,
        "provisional": False,
    }
    far = runner.invoke(app, ["calendar", "add", "2031-01-02", "1", "--json"])
    assert far.exit_code == 3
    assert _error(far)["code"] == "calendar_data_missing"


@pytest.mark.parametrize("as_json", [True, False])
def test_ctrl_c_is_reported_as_the_user_asked(
    as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kmbase_workflow.cli._calendar as cli_calendar

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_calendar, "WorkingDayCalendar", interrupted)
    args = ["calendar", "add", "2025-09-26", "3", "--lang", "en"]
    result = runner.invoke(app, [*args, "--json"] if as_json else args)
    assert result.exit_code == EXIT_INTERRUPTED
    if as_json:
        assert _error(result)["code"] == "interrupted_by_user"
    else:
        assert result.stdout == ""
        assert "interrupted (Ctrl-C)" in result.stderr


# -- shell completion ------------------------------------------------------------------------


def test_completion_can_be_shown_and_installed() -> None:
    options = {opt for param in ROOT.params for opt in getattr(param, "opts", ())}
    assert {"--show-completion", "--install-completion"} <= options
    result = runner.invoke(app, ["--show-completion", "bash"], prog_name="kmbase")
    assert result.exit_code == 0
    assert "_KMBASE_COMPLETE=complete_bash" in result.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("kmbase cal", ["calendar"]),
        ("kmbase deadline ", ["notice", "change-filing"]),
        ("kmbase check x.json --format ", ["table", "json"]),
        ("kmbase diagram --format ", ["mermaid", "dot"]),
        ("kmbase check x.json --lang ", ["zh", "en"]),
        ("kmbase fire c1 publ", ["publicize"]),
        ("kmbase bulk certify --actor-role city", ["city_bureau"]),
        ("kmbase bulk certify --state site_", ["site_inspected"]),
    ],
)
def test_completion_of_commands_and_choices(words: str, expected: list[str]) -> None:
    env = {
        "_KMBASE_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    result = runner.invoke(app, [], prog_name="kmbase", env=env)
    assert result.exit_code == 0
    assert result.stdout.split() == expected


def test_the_installed_script_completes_too(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {
        **os.environ,
        "_KMBASE_COMPLETE": "complete_bash",
        "COMP_WORDS": "kmbase deadline no",
        "COMP_CWORD": "2",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    code = "import sys; from kmbase_workflow.cli import main; sys.argv[0] = 'kmbase'; main()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.stdout.split() == ["notice"], done.stderr
