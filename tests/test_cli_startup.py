"""The command line starts fast because it imports what a command needs when it runs (issue 23):
``kmbase --version`` and ``kmbase check`` load no store, workflow, calendar nor event codec,
``check`` no pendulum and, for ``--json``, no rich; and typer builds only the command named.
Behaviour, not timing: the modules a fresh interpreter holds after the command are asserted
(benchmarks/bench_startup.py prints the CPU time)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kmbase_workflow
from kmbase_workflow.audit import AUDIT_KEY_ENVIRONMENT_VARIABLE
from kmbase_workflow.bulk import DEFAULT_CHUNK_SIZE
from kmbase_workflow.cli import _app_for, app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "eligible.json"
INELIGIBLE = ROOT / "docs" / "examples" / "ineligible.json"

HEAVY = (
    "kmbase_workflow.workflow",
    "kmbase_workflow.stores",
    "kmbase_workflow.lifecycle",
    "kmbase_workflow.events",
    "kmbase_workflow.calendar",
    "kmbase_workflow.delivery",
    "kmbase_workflow.bulk",
    "kmbase_workflow.audit",
    "kmbase_workflow.exports",
    "holidays",
)
"""What neither ``--version`` nor ``check`` needs: the write path, the stores, the calendar."""

NOT_FOR_CHECK = (
    *HEAVY,
    "kmbase_workflow.clock",
    "kmbase_workflow._html",
    "pendulum",
    "numpy",
)
"""What ``check`` does without: an application has no instant to read, a verdict is not shown
as HTML, one application is judged without numpy."""

NOT_FOR_VERSION = (
    *HEAVY,
    "kmbase_workflow.eligibility",
    "kmbase_workflow.policy",
    "kmbase_workflow.records",
    "kmbase_workflow.serialization",
    "numpy",
    "cattrs",
    "rich",
)


def _modules_after(*args: str) -> tuple[set[str], str]:
    """The modules a fresh interpreter has imported once ``kmbase ARGS`` is done, and its
    stdout."""
    code = (
        "import json, sys\n"
        "sys.argv = ['kmbase', *sys.argv[1:]]\n"
        "from kmbase_workflow.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    *output, modules = done.stdout.rstrip("\n").split("\n")
    return set(json.loads(modules)), "\n".join(output)


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_version_imports_none_of_the_library() -> None:
    modules, output = _modules_after("--version")
    assert output == f"kmbase {kmbase_workflow.__version__}"
    assert not _loaded(modules, NOT_FOR_VERSION)


def test_check_imports_no_store_workflow_nor_calendar() -> None:
    modules, output = _modules_after("check", str(EXAMPLE), "--json")
    assert json.loads(output)["eligible"] is True
    assert "kmbase_workflow.eligibility" in modules
    assert not _loaded(modules, (*NOT_FOR_CHECK, "rich"))


def test_check_s_table_imports_rich_and_nothing_else_the_json_does_without() -> None:
    modules, output = _modules_after("check", str(EXAMPLE))
    assert "政策：kunming-2022" in output
    assert "rich.table" in modules
    assert not _loaded(modules, NOT_FOR_CHECK)


def test_main_builds_only_the_command_named_first() -> None:
    """typer builds every command's parameters before it runs one: `main` gives it the
    command or group that the command line names first, else the whole app."""
    named = _app_for(["check", str(EXAMPLE), "--json"])
    assert [info.name for info in named.registered_commands] == ["check"]
    assert not named.registered_groups
    assert named.registered_callback is app.registered_callback
    group = _app_for(["calendar", "--help"])
    assert [info.name for info in group.registered_groups] == ["calendar"]
    assert not group.registered_commands
    for args in ([], ["--help"], ["--version"], ["no-such-command"], ["--lang", "en", "check"]):
        assert _app_for(args) is app
    assert len(app.registered_commands) > 1  # the whole app is left as it was


def _run(code: str, args: list[str]) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.argv[0] = 'kmbase'; {code}", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["check", str(EXAMPLE)],
        ["check", str(INELIGIBLE), "--json", "--lang", "en"],
        ["check", str(EXAMPLE), "--no-such-option", "--json"],
        ["check", "--help"],
        ["calendar", "--help"],
    ],
    ids=["table", "json", "usage_error", "help", "group"],
)
def test_a_command_line_gets_from_main_what_the_whole_app_gives(args: list[str]) -> None:
    whole = _run("from kmbase_workflow.cli import app; app()", args)
    assert _run("from kmbase_workflow.cli import main; main()", args) == whole
    assert whole[1] or whole[2]


def test_importing_the_package_imports_a_name_s_home_only_when_asked() -> None:
    code = (
        "import sys, kmbase_workflow\n"
        "before = 'kmbase_workflow.workflow' in sys.modules\n"
        "kmbase_workflow.Workflow\n"
        "print(before, 'kmbase_workflow.workflow' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


def _imports(body: list[ast.stmt]) -> dict[str, set[str]]:
    return {
        "." * node.level + str(node.module): {alias.name for alias in node.names}
        for node in body
        if isinstance(node, ast.ImportFrom)
    }


def _package_imports() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """What the package's ``__init__`` imports at once, and under ``TYPE_CHECKING``."""
    tree = ast.parse(Path(kmbase_workflow.__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    return _imports(tree.body), _imports(block.body)


def test_each_lazy_top_level_name_has_one_home_that_mypy_sees_too() -> None:
    """The names imported on first use are those the ``TYPE_CHECKING`` block imports (what mypy
    and the reference see), from the same module, and with the eager ones make ``__all__``."""
    at_once, for_mypy = _package_imports()
    homes = {home: set(names) for home, names in kmbase_workflow._HOMES.items()}
    assert homes == for_mypy
    public = set(kmbase_workflow.__all__)
    eager = {name for names in at_once.values() for name in names} & public
    lazy = {name for names in homes.values() for name in names}
    assert not eager & lazy
    assert eager | lazy == public


def test_an_unknown_top_level_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        kmbase_workflow.no_such_name  # noqa: B018


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["bulk", "--help"], f"[default: {DEFAULT_CHUNK_SIZE};"),
        (["audit", "verify", "--help"], f"${AUDIT_KEY_ENVIRONMENT_VARIABLE}"),
    ],
)
def test_help_states_the_library_s_default(command: list[str], expected: str) -> None:
    """A default the help names without importing its module is the library's own."""
    result = CliRunner().invoke(app, command, terminal_width=200)
    assert result.exit_code == 0
    assert expected in " ".join(result.output.split())
