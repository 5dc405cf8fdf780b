"""Judging an application against the policy in force: a verdict made of findings.

One finding per rule: the rule id, its article, the required and actual values, a status
(``pass``, ``fail``, ``not_assessable`` — missing data is never a pass) and a message in Chinese
and English. The pass/fail logic is declared once per policy (``_checks.plan``) and runs two
ways: over one application's plain values (`evaluate`: a portal, a recommendation) and
column-wise over numpy arrays (`evaluate_population`: a simulation of millions). A verdict's
findings and their messages are rendered when first read; its decision is made at once:

>>> from kmbase_workflow.eligibility import evaluate
>>> from kmbase_workflow.serialization import load_application
>>> verdict = evaluate(load_application("docs/examples/eligible.json"))
>>> verdict.eligible, verdict.policy_id
(True, 'kunming-2022')

The package's rooms: ``_verdict`` (the verdict model), ``_checks`` (the pass/fail logic of
every rule, declared once per policy), ``_measures`` (第六条's measures of one application and
the columns of a population), ``_population`` (`evaluate_population`), ``_evaluate``
(`evaluate`), ``_findings`` (the bilingual findings, rule group by rule group),
``_spot_check`` (第十条) and ``_step_guards`` (what the lifecycle's guards check at later
steps: 第四条, 第十一条, 第十三条).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._evaluate import evaluate
from ._measures import application_measures, claimed_satisfaction_rate
from ._spot_check import judge_spot_check, spot_check_population, spot_check_sample_size
from ._step_guards import (
    declaration_date_problems,
    district_problems,
    district_problems_in_any,
    expert_score_problems,
    notice_problems,
    selection_key,
)
from ._verdict import Finding, Status, Verdict

# Importable from here as before the package, outside __all__ (the simulation and tests read them).
from ._measures import DISTRICT as DISTRICT  # isort: skip
from ._measures import DISTRICT_COLUMN as DISTRICT_COLUMN  # isort: skip
from ._measures import FIGURES_YEAR as FIGURES_YEAR  # isort: skip
from ._measures import SERVICES_YEAR as SERVICES_YEAR  # isort: skip
from ._measures import UNKNOWN_KEYS as UNKNOWN_KEYS  # isort: skip
from ._measures import JudgedOn as JudgedOn  # isort: skip
from ._measures import unknown_keys as unknown_keys  # isort: skip
from ._verdict import Basis as Basis  # isort: skip
from ._verdict import MeasureValue as MeasureValue  # isort: skip

__all__ = [
    "Finding",
    "PopulationVerdict",
    "Status",
    "Verdict",
    "application_columns",
    "application_measures",
    "claimed_satisfaction_rate",
    "declaration_date_problems",
    "district_problems",
    "district_problems_in_any",
    "evaluate",
    "evaluate_population",
    "expert_score_problems",
    "judge_spot_check",
    "notice_problems",
    "selection_key",
    "spot_check_population",
    "spot_check_sample_size",
]


if TYPE_CHECKING:
    from ._population import PopulationVerdict, application_columns, evaluate_population

_POPULATION = ("PopulationVerdict", "application_columns", "evaluate_population")
"""Names of ``_population``, imported on first use: judging one application (``kmbase check``,
a portal, the recommendation guard) needs no numpy, whose import costs ~0.1 s of CPU."""


def __getattr__(name: str) -> Any:
    """A name of ``_population`` imported on first use, then kept (PEP 562)."""
    if name not in _POPULATION:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("._population", __name__), name)
    globals()[name] = value
    return value
