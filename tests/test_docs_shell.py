"""The shell examples of the docs run, as the Python ones do.

Every ```console block of README.md and docs/*.md is a session: a line ``$ kmbase …`` is
a command, the lines after it (to the next ``$`` line or the end of the block) are what it
prints, stdout and stderr as a terminal shows them. A line ``...`` (indented or not) stands for any number of
lines, and a line ending in ``...`` any line that begins with what comes before. ``# exit N`` at the end of a command says it exits with N (default 0); any other
``#`` comment is ignored. A command runs in-process (typer's CliRunner) in a fresh folder
where ``docs/`` is the repository's, so ``docs/examples/…`` paths work and nothing is
written into the repository; the commands of one block share that folder, in order.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from typer.testing import CliRunner

from kmbase_workflow.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```console\s*\n(.*?)^```", re.MULTILINE | re.DOTALL)
ELLIPSIS = "..."


@attrs.frozen
class Command:
    """One ``$`` line of a console block and the output the docs show for it."""

    line: int
    words: tuple[str, ...]
    exit_code: int
    expected: tuple[str, ...]


def parse_block(text: str, first_line: int) -> list[Command]:
    """The commands of one console block (``first_line``: its first line in the page)."""
    commands: list[Command] = []
    current: tuple[int, str] | None = None
    output: list[str] = []

    def close() -> None:
        if current is None:
            return
        line, source = current
        comment = source.partition(" #")[2]
        words = tuple(shlex.split(source, comments=True))
        code = re.search(r"\bexit (\d+)", comment)
        commands.append(Command(line, words, int(code.group(1)) if code else 0, tuple(output)))

    for offset, raw in enumerate(text.splitlines()):
        if raw.startswith("$ "):
            close()
            current, output = (first_line + offset, raw[2:]), []
        elif current is not None:
            output.append(raw.rstrip())
    close()
    return commands


def blocks() -> Iterator[tuple[str, int, list[Command]]]:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            first_line = text.count("\n", 0, match.start(1)) + 1
            commands = parse_block(match.group(1), first_line)
            if commands:
                yield page.relative_to(ROOT).as_posix(), first_line, commands


BLOCKS = list(blocks())


def matches(expected: tuple[str, ...], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` line by line, ``...`` matching any lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == ELLIPSIS:
        return any(matches(rest, actual[skip:]) for skip in range(len(actual) + 1))
    if not actual:
        return False
    same = actual[0].startswith(head[:-3]) if head.endswith(ELLIPSIS) else actual[0] == head
    return same and matches(rest, actual[1:])


def test_the_runner_reads_sessions() -> None:
    block = "$ kmbase calendar add 2025-09-26 3   # a comment\n2025-09-30\n$ kmbase x  # exit 3\n"
    first, second = parse_block(block, 1)
    assert first.words == ("kmbase", "calendar", "add", "2025-09-26", "3")
    assert first.expected == ("2025-09-30",)
    assert (second.line, second.exit_code, second.expected) == (3, 3, ())
    assert matches(("a", "...", "d"), ["a", "b", "c", "d"])
    assert matches(("a", "..."), ["a"])
    assert not matches(("a", "d"), ["a", "b", "d"])
    assert matches(("ab...",), ["abc"])
    assert not matches(("ab...",), ["ba"])
    assert {page for page, _, _ in BLOCKS} >= {
        "docs/reference/cli.md",
        "docs/explanation/calendar.md",
        "README.md",
    }


@pytest.mark.parametrize(
    ("page", "line", "commands"), BLOCKS, ids=[f"{page}:{line}" for page, line, _ in BLOCKS]
)
def test_shell_example(
    page: str, line: int, commands: list[Command], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KMBASE_DB", raising=False)
    runner = CliRunner()
    for command in commands:
        where = f"{page}:{command.line}: $ {' '.join(command.words)}"
        assert command.words[0] == "kmbase", f"{where}: only kmbase commands run here"
        result = runner.invoke(app, list(command.words[1:]), env={"COLUMNS": "100"})
        actual = [text.rstrip() for text in result.output.splitlines()]
        assert result.exit_code == command.exit_code, f"{where}\n{result.output}"
        assert matches(command.expected, actual), (
            f"{where}: the docs show\n" + "\n".join(command.expected) + "\nbut it prints\n"
            + "\n".join(actual)
        )  # fmt: skip
