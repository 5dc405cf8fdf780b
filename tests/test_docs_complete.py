"""The guides keep up with the code: every record field, every id of the bundled policy and
every command of ``kmbase`` is documented.

Each test names what is missing, so a failure says which page to edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import typer.main

from kmbase_workflow import records
from kmbase_workflow.cli import app
from kmbase_workflow.policy import (
    APPLICATION_MEASURES,
    CATEGORICAL_MEASURES,
    SERVICE_MEASURES,
    load_policy,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "reference"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    """The part of a Markdown page under the heading that names ``title`` in backticks, up
    to the next heading of the same or a higher level."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        heading = re.match(r"(#+)\s", line)
        if heading and f"`{title}`" in line:
            level = len(heading.group(1))
            end = start + 1
            while end < len(lines):
                other = re.match(r"(#+)\s", lines[end])
                if other and len(other.group(1)) <= level:
                    break
                end += 1
            return "\n".join(lines[start:end])
    pytest.fail(f"no heading with `{title}`")


RECORDS = sorted(name for name in records.__all__ if attrs.has(getattr(records, name)))


@pytest.mark.parametrize("record", RECORDS)
def test_every_record_field_is_documented(record: str) -> None:
    section = _section(_page("application-format.md"), record)
    fields = [field.name for field in attrs.fields(getattr(records, record))]
    missing = [name for name in fields if f"`{name}`" not in section]
    assert not missing, (
        f"docs/reference/application-format.md, section {record}: document {missing}"
    )


def test_every_policy_id_is_mapped_to_its_article() -> None:
    policy = load_policy()
    ids = [rule.id for rule in policy.rules]
    ids += [policy.service_functions.id]
    ids += [function.id for function in policy.service_functions.functions]
    ids += [material.id for material in policy.materials]
    text = _page("articles.md")
    missing = [identifier for identifier in ids if f"`{identifier}`" not in text]
    assert not missing, f"docs/reference/articles.md: map {missing}"
    assert "spot_check" in text


def _article_number(n: int) -> str:
    """第n条 in Chinese numerals (1 to 99)."""
    digits = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"]
    tens, units = divmod(n, 10)
    if tens == 0:
        return f"第{digits[units]}条"
    return f"第{'' if tens == 1 else digits[tens]}十{digits[units]}条"


def test_every_article_is_in_the_articles_table() -> None:
    text = _page("articles.md")
    wanted = [_article_number(n) for n in range(1, 24)] + ["附件1", "附件2"]
    # Each article opens a table row or a heading of its own.
    missing = [name for name in wanted if not re.search(rf"^(\| |#+ ){name}", text, re.MULTILINE)]
    assert not missing, f"docs/reference/articles.md: add rows for {missing}"


def test_application_keys_are_documented() -> None:
    policy = load_policy()
    keys = [function.id for function in policy.service_functions.functions]
    keys += [material.id for material in policy.materials]
    keys += [rule.measure for rule in policy.rules if rule.declared]
    text = _page("application-format.md")
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing, f"docs/reference/application-format.md: document the keys {missing}"


def test_policy_page_lists_every_measure_and_rule() -> None:
    policy = load_policy()
    names = [*APPLICATION_MEASURES, *CATEGORICAL_MEASURES, *SERVICE_MEASURES]
    names += [rule.id for rule in policy.rules]
    text = _page("policy.md")
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, f"docs/reference/policy.md: document {missing}"


def _commands(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    # Duck-typed: recent typer vendors its own click, whose classes are not click's.
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _commands(sub, f"{path} {name}")


COMMANDS = dict(_commands(typer.main.get_command(app), "kmbase"))


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_is_documented(path: str) -> None:
    text = _page("cli.md")
    assert path in text, f"docs/reference/cli.md: document `{path}`"
    command = COMMANDS[path]
    options = [
        option
        for param in command.params
        if getattr(param, "param_type_name", None) == "option"
        for option in param.opts
    ]
    missing = [option for option in options if option != "--help" and f"`{option}" not in text]
    assert not missing, f"docs/reference/cli.md: document the options {missing} of `{path}`"


def test_the_command_walk_sees_subcommands() -> None:
    assert {"kmbase check", "kmbase demo"} <= set(COMMANDS)
