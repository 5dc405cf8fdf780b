"""The lifecycle as the Markdown table docs/explanation/lifecycle.md shows."""

from __future__ import annotations

from .._i18n import Lang
from ..case import State
from ._model import ANYONE, OPEN_STATES
from ._steps import RECORDS, STEPS


def lifecycle_table(lang: Lang = "en") -> str:
    """The lifecycle as a Markdown table, drawn from `STEPS` and `RECORDS` (docs/explanation/lifecycle.md
    shows it; a test keeps the two equal)."""
    header = (
        "| trigger | from → to | who | article | payload |",
        "|---|---|---|---|---|",
    )
    rows = []
    for step in (*STEPS, *RECORDS):
        sources = ", ".join("(new)" if s is None else s.value for s in step.sources)
        if len(step.sources) == len(State):
            sources = "any"
        elif step.sources == OPEN_STATES:
            sources = "any open state"
        to = step.destination.value if step.destination is not None else "(unchanged)"
        roles = ", ".join(sorted(role.label.in_(lang) for role in step.roles))
        if step.roles == ANYONE:
            roles = "anyone" if lang == "en" else "任何人"
        payload = f"`{step.payload.__name__}`" if step.payload is not None else "—"
        rows.append(
            f"| `{step.trigger.value}` | {sources} → {to} | {roles} | "
            f"{step.article.in_(lang)} | {payload} |"
        )
    return "\n".join((*header, *rows))
