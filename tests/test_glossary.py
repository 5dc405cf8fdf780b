"""The glossary (docs/reference/glossary.md) names every role, state and trigger, with the
Chinese the code itself gives them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmbase_workflow import Role, State, Trigger

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "reference" / "glossary.md"


@pytest.mark.parametrize("member", [*Role, *State, *Trigger], ids=str)
def test_the_glossary_names_each_role_state_and_trigger(member: Role | State | Trigger) -> None:
    text = GLOSSARY.read_text(encoding="utf-8")
    label = member.label
    row = (
        f"| {label.zh} | `{member.value}` |"
        if isinstance(member, Role)
        else f"| {label.zh} | {label.en} | `{member.value}` |"
    )
    assert row in text, f"docs/reference/glossary.md: add the row {row}"


def test_the_glossary_gives_the_naming_of_the_notice() -> None:
    """公示: the period is the notice, the act is the trigger publicize (state publicized)."""
    text = GLOSSARY.read_text(encoding="utf-8")
    for name in ("notice_deadline", "in_notice", "periods.notice", "kmbase deadline"):
        assert f"`{name}" in text
    assert "the act is the trigger `publicize`" in text
    assert "holiday notice" in text
    assert "节假日安排" in text
