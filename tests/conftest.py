"""Shared fixtures: the bundled policy and the two example applications of docs/examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmbase_workflow.policy import Policy, load_policy
from kmbase_workflow.records import Application
from kmbase_workflow.serialization import load_application

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
TEST_POLICIES = Path(__file__).resolve().parent / "policies"


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The bundled policy in force (昆工信规〔2022〕1号)."""
    return load_policy()


@pytest.fixture(scope="session")
def eligible() -> Application:
    """docs/examples/eligible.json: meets every rule of the bundled policy."""
    return load_application(EXAMPLES / "eligible.json")


@pytest.fixture(scope="session")
def ineligible() -> Application:
    """docs/examples/ineligible.json: fails several articles."""
    return load_application(EXAMPLES / "ineligible.json")
