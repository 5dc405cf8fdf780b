"""One shape for an article in every JSON output of ``kmbase``: ``{"zh": …, "en": …}``,
whatever ``--lang`` says (docs/reference/cli.md, "For scripts"). It was a string in the
chosen language in ``check``, ``deadline`` and ``bulk`` and an object in ``inbox`` and the
error objects (issue 22); this walks every document those commands print, and the others
that name articles, and holds each ``article`` to the one shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kmbase_workflow.cli import app
from lifecycle_helpers import sample_database

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
BUREAU_ARGS = ["--actor-role", "city_bureau", "--actor-id", "bureau-01"]
DISTRICT_ARGS = [
    "--actor-role",
    "district_authority",
    "--actor-id",
    "d-1",
    "--actor-district",
    "五华区",
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A certified case (c1) and a declared one (c2)."""
    return sample_database(str(tmp_path_factory.mktemp("articles") / "cases.db"))


COMMANDS: dict[str, tuple[list[str], int, int]] = {
    # name: (arguments, exit code, at least this many articles in the output)
    "check": (["check", str(EXAMPLES / "ineligible.json")], 1, 10),
    "deadline notice": (["deadline", "notice", "2025-09-26"], 0, 1),
    "deadline change-filing": (["deadline", "change-filing", "2026-02-24"], 0, 1),
    "bulk": (["bulk", "publicize", "c2", *BUREAU_ARGS, "--today", "2025-09-26"], 1, 1),
    "bulk dry run": (
        ["bulk", "publicize", "c2", *BUREAU_ARGS, "--today", "2025-09-26", "--dry-run"],
        1,
        1,
    ),
    "inbox": (["inbox", *DISTRICT_ARGS, "--today", "2025-06-21"], 0, 1),
    "fire (refused)": (["fire", "c2", "publicize", *BUREAU_ARGS, "--today", "2025-09-26"], 1, 1),
    "show": (["show", "c1"], 0, 0),
    "history": (["history", "c1"], 0, 0),
    "as-of": (["as-of", "c1", "2025-10-20"], 0, 0),
    "dashboard": (["dashboard", "--today", "2025-06-21"], 0, 0),
    "round as-of": (["round", "as-of", "2025", "2025-10-01"], 0, 0),
    "follow": (["follow", "reader", "--limit", "100"], 0, 0),
}


def _articles(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "article":
                yield inner
            yield from _articles(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _articles(inner)


def _documents(stdout: str) -> list[Any]:
    """The JSON documents a command printed: one, or one a line (``follow``)."""
    try:
        return [json.loads(stdout)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_article_is_one_bilingual_object(db: str, name: str, lang: str) -> None:
    words, exit_code, at_least = COMMANDS[name]
    needs_db = name not in ("check", "deadline notice", "deadline change-filing")
    result = runner.invoke(
        app, [*words, *(["--db", db] if needs_db else []), "--json", "--lang", lang]
    )
    assert result.exit_code == exit_code, result.output
    found = [article for doc in _documents(result.stdout) for article in _articles(doc)]
    assert len(found) >= at_least, result.stdout
    for article in found:
        assert isinstance(article, dict), f"{name}: article {article!r} is not {{zh, en}}"
        assert set(article) == {"zh", "en"}
        assert all(isinstance(text, str) and text for text in article.values())
