"""The lifecycle drawn as text: Mermaid ``stateDiagram-v2`` and Graphviz DOT.

Both are generated from `STEPS`, the one declaration of
the graph, so a diagram cannot drift from the code. Labels come from
`State.label <kmbase_workflow.case.State.label>` (states) and
`Step.label <kmbase_workflow.lifecycle.Step.label>` (triggers), in Chinese or English;
with ``articles=True`` each edge also names the article of its step.

Nothing is rendered here and no dependency is needed: paste the Mermaid text into a Markdown
page (MkDocs Material, GitHub and GitLab draw it), or pipe the DOT text to Graphviz
(``kmbase diagram --format dot | dot -Tsvg > lifecycle.svg``).

``transitions`` has a diagram extension too, but it needs a ``graphviz`` or ``pygraphviz``
install for DOT, and its Mermaid output draws a model's *current* state with the states'
code names; a case here is plain data with no machine of its own, and the labels must be
bilingual, so the text is written directly.

>>> text = mermaid(lang="en")
>>> text.splitlines()[0]
'stateDiagram-v2'
>>> "    declared --> district_recommended: recommend (Art. 10)" in text
True
>>> print(dot(lang="zh", articles=False).splitlines()[0])
digraph lifecycle {
"""

from __future__ import annotations

from collections.abc import Iterator

from ._i18n import LANGS, Lang, Text
from .case import State
from .errors import InvalidInputError
from .lifecycle import STEPS, Step

__all__ = ["dot", "mermaid"]

_START = "[*]"
_DOT_START = "__new__"
_NO_ARTICLE = "—"


def _check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise InvalidInputError(
            Text(zh=f"不支持的语言 {lang}", en=f"unsupported language {lang}"),
            hint=Text(zh="请用 zh 或 en", en="use zh or en"),
        )
    return "zh" if lang == "zh" else "en"


def _edge_label(step: Step, lang: Lang, articles: bool) -> str:
    label = step.label.in_(lang)
    article = step.article.in_(lang)
    if not articles or article == _NO_ARTICLE:
        return label
    return f"{label}（{article}）" if lang == "zh" else f"{label} ({article})"


def _edges() -> Iterator[tuple[State | None, Step, State]]:
    """Every (source, step, destination) of the graph, in the order of the measures."""
    for step in STEPS:
        if step.destination is None:  # pragma: no cover - STEPS change state by definition
            continue
        for source in step.sources:
            yield source, step, step.destination


def _mermaid_text(text: str) -> str:
    # Mermaid has no escape for a double quote inside a state description; #quot; is its
    # entity code. Labels never hold newlines, but keep the output one line per item.
    return text.replace('"', "#quot;").replace("\n", " ")


def mermaid(lang: Lang = "zh", articles: bool = True) -> str:
    """The lifecycle as a Mermaid ``stateDiagram-v2`` (text ending with a newline).

    ``[*]`` stands for a case not yet declared (the arrow into ``declared``) and, on the
    other side, for the end of a case (arrows out of the final states).

    >>> print(mermaid(lang="en").splitlines()[-1])
        withdrawn --> [*]
    """
    language = _check_lang(lang)
    lines = ["stateDiagram-v2"]
    for state in State:
        lines.append(f'    state "{_mermaid_text(state.label.in_(language))}" as {state.value}')
    for source, step, destination in _edges():
        start = _START if source is None else source.value
        label = _mermaid_text(_edge_label(step, language, articles))
        lines.append(f"    {start} --> {destination.value}: {label}")
    lines.extend(f"    {state.value} --> {_START}" for state in State if state.is_final)
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def dot(lang: Lang = "zh", articles: bool = True) -> str:
    """The lifecycle as a Graphviz ``digraph`` (DOT text ending with a newline).

    Each edge carries ``id="<source>--<trigger>"`` (``__new__`` for a case not yet
    declared), so tools can find an edge by what fires it. Final states are drawn with a
    double border; the point ``__new__`` is the start.

    >>> '"__new__" -> "declared"' in dot()
    True
    """
    language = _check_lang(lang)
    title = Text(zh="示范基地认定生命周期", en="demonstration base certification lifecycle")
    lines = [
        "digraph lifecycle {",
        f"    label={_dot_quote(title.in_(language))};",
        "    labelloc=t;",
        "    rankdir=TB;",
        '    node [shape=box, style=rounded, fontname="Noto Sans CJK SC, sans-serif"];',
        '    edge [fontname="Noto Sans CJK SC, sans-serif", fontsize=10];',
        f'    {_dot_quote(_DOT_START)} [shape=point, label=""];',
    ]
    for state in State:
        extra = ", peripheries=2" if state.is_final else ""
        lines.append(
            f"    {_dot_quote(state.value)} [label={_dot_quote(state.label.in_(language))}{extra}];"
        )
    for source, step, destination in _edges():
        start = _DOT_START if source is None else source.value
        edge_id = f"{start}--{step.trigger.value}"
        label = _edge_label(step, language, articles)
        lines.append(
            f"    {_dot_quote(start)} -> {_dot_quote(destination.value)}"
            f" [label={_dot_quote(label)}, id={_dot_quote(edge_id)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"
