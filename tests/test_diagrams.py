"""The lifecycle diagrams: drawn from ``lifecycle.STEPS``, complete, well-formed, bilingual,
the same through ``kmbase diagram``, and the copy in docs/explanation/lifecycle.md never stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kmbase_workflow import diagrams
from kmbase_workflow._i18n import Lang
from kmbase_workflow.case import State
from kmbase_workflow.cli import app
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.events import EVENT_TYPES
from kmbase_workflow.lifecycle import STEPS, Trigger

DOCS = Path(__file__).resolve().parents[1] / "docs"
LANGS: tuple[Lang, ...] = ("zh", "en")
runner = CliRunner()

# (source or None, trigger, destination) for every edge of the graph
EDGES = {
    (None if source is None else source.value, step.trigger.value, step.destination.value)
    for step in STEPS
    for source in step.sources
}
EDGE_COUNT = sum(len(step.sources) for step in STEPS)

DOT_NODE = re.compile(r'^\s*"(?P<id>[^"]+)" \[(?P<attrs>.*)\];$')
DOT_EDGE = re.compile(
    r'^\s*"(?P<source>[^"]+)" -> "(?P<dest>[^"]+)" '
    r'\[label="(?P<label>[^"]*)", id="(?P<edge_source>[^"]+)--(?P<trigger>[^"]+)"\];$'
)
MERMAID_STATE = re.compile(r'^    state "(?P<label>[^"]+)" as (?P<id>\w+)$')
MERMAID_EDGE = re.compile(
    r"^    (?P<source>\[\*\]|\w+) --> (?P<dest>\[\*\]|\w+)(?:: (?P<label>.+))?$"
)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("render", [diagrams.mermaid, diagrams.dot])
def test_every_state_and_trigger_is_labelled(render: object, lang: Lang) -> None:
    text = render(lang=lang)  # type: ignore[operator]
    missing_states = [s.value for s in State if s.label.in_(lang) not in text]
    # records change no state: they are not edges of the graph
    missing_triggers = [
        t.value for t in Trigger if t.changes_state and t.label.in_(lang) not in text
    ]
    assert not missing_states, missing_states
    assert not missing_triggers, missing_triggers
    articles = {step.article.in_(lang) for step in STEPS} - {"—"}
    assert all(article in text for article in articles)


@pytest.mark.parametrize("render", [diagrams.mermaid, diagrams.dot])
def test_languages_differ_and_articles_can_be_left_off(render: object) -> None:
    zh = render(lang="zh")  # type: ignore[operator]
    en = render(lang="en")  # type: ignore[operator]
    assert "已认定授牌" in zh
    assert "已认定授牌" not in en
    assert "under public notice" in en
    assert "under public notice" not in zh
    bare = render(lang="zh", articles=False)  # type: ignore[operator]
    assert "第十四条" in zh
    assert "第十四条" not in bare
    assert bare != zh
    assert bare.count("\n") == zh.count("\n")


@pytest.mark.parametrize("lang", LANGS)
def test_dot_is_well_formed_with_one_edge_per_source_and_trigger(lang: Lang) -> None:
    text = diagrams.dot(lang=lang)
    lines = text.splitlines()
    assert lines[0] == "digraph lifecycle {"
    assert lines[-1] == "}"
    assert text.endswith("}\n")
    # balanced braces and brackets, outside quoted strings
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert unquoted.count("{") == unquoted.count("}") == 1
    assert unquoted.count("[") == unquoted.count("]")
    assert unquoted.count('"') % 2 == 0

    edges = [m for line in lines if (m := DOT_EDGE.match(line))]
    assert len(edges) == EDGE_COUNT
    keys = [(m["edge_source"], m["trigger"]) for m in edges]
    assert len(set(keys)) == len(keys), "one edge per (source, trigger)"
    seen = set()
    for m in edges:
        assert m["source"] == m["edge_source"]
        source = None if m["source"] == "__new__" else m["source"]
        seen.add((source, m["trigger"], m["dest"]))
    assert seen == EDGES

    nodes = {m["id"]: m["attrs"] for line in lines if (m := DOT_NODE.match(line))}
    assert set(nodes) == {"__new__", *(s.value for s in State)}
    for state in State:
        assert f'label="{state.label.in_(lang)}"' in nodes[state.value]
        assert ("peripheries=2" in nodes[state.value]) == state.is_final
    used = {m["source"] for m in edges} | {m["dest"] for m in edges}
    assert used <= set(nodes)


@pytest.mark.parametrize("lang", LANGS)
def test_mermaid_has_every_state_and_edge(lang: Lang) -> None:
    lines = diagrams.mermaid(lang=lang).splitlines()
    assert lines[0] == "stateDiagram-v2"
    states = {m["id"]: m["label"] for line in lines if (m := MERMAID_STATE.match(line))}
    assert states == {s.value: s.label.in_(lang) for s in State}
    edges = [m for line in lines if (m := MERMAID_EDGE.match(line))]
    assert len(states) + len(edges) == len(lines) - 1, "every line is a state or an edge"
    labels = {step.trigger.value: step.label.in_(lang) for step in STEPS}
    steps = []
    for m in edges:
        if m["dest"] == "[*]":
            assert State(m["source"]).is_final
            assert m["label"] is None
            continue
        source = None if m["source"] == "[*]" else m["source"]
        candidates = [t for (s, t, d) in EDGES if s == source and d == m["dest"]]
        assert any(m["label"].startswith(labels[t]) for t in candidates), m.group(0)
        steps.append((source, m["dest"], m["label"]))
    assert len(steps) == EDGE_COUNT
    assert len(set(steps)) == len(steps)
    finals = [m["source"] for m in edges if m["dest"] == "[*]"]
    assert sorted(finals) == sorted(s.value for s in State if s.is_final)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="fr"):
        diagrams.mermaid(lang="fr")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        diagrams.dot(lang="")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], diagrams.mermaid()),
        (["--format", "mermaid", "--lang", "en"], diagrams.mermaid(lang="en")),
        (["--format", "dot"], diagrams.dot()),
        (["--format", "dot", "--lang", "en", "--no-articles"], diagrams.dot("en", False)),
        (["--no-articles"], diagrams.mermaid(articles=False)),
    ],
)
def test_cli_prints_what_the_function_returns(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["diagram", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout == expected


@pytest.mark.parametrize("args", [["--format", "svg"], ["--lang", "fr"]])
def test_cli_bad_option_exits_2_with_nothing_on_stdout(args: list[str]) -> None:
    result = runner.invoke(app, ["diagram", *args])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_the_lifecycle_page_embeds_the_current_diagram() -> None:
    text = (DOCS / "explanation" / "lifecycle.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    assert blocks, "docs/explanation/lifecycle.md: embed the ```mermaid block of diagrams.mermaid()"
    assert blocks[0] == diagrams.mermaid(), (
        "docs/explanation/lifecycle.md is stale: paste the output of `kmbase diagram` into its mermaid block"
    )


def test_the_lifecycle_page_names_every_state_and_trigger() -> None:
    text = (DOCS / "explanation" / "lifecycle.md").read_text(encoding="utf-8")
    missing = [f"`{s.value}`" for s in State if f"| `{s.value}` | {s.label.zh} |" not in text]
    missing += [f"`{t.value}`" for t in Trigger if f"| `{t.value}` |" not in text]
    assert not missing, f"docs/explanation/lifecycle.md: add rows for {missing}"


def test_the_events_page_lists_every_event_type() -> None:
    text = (DOCS / "reference" / "events.md").read_text(encoding="utf-8")
    missing = [
        name
        for name, cls in EVENT_TYPES.items()
        if f"| `{name}` | `{cls.__name__}` | {cls.description.zh} |" not in text
    ]
    assert not missing, f"docs/reference/events.md: add the event types {missing}"
