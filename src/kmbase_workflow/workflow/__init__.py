"""The workflow service: load a case, fire a step, save state + history + events in one
transaction, then publish.

Every change goes through one path: `Workflow.prepare` checks a step's guards and builds the
change (new case, sealed history entry, events) without writing; `Workflow.commit` writes a
list of changes in one transaction and publishes their events. `declare`, `fire`, the named
steps, the records, `select_round` (one transaction for the whole ranking), bulk runs and the
sweep are all that path.

>>> import datetime as dt
>>> from kmbase_workflow import Actor, FixedClock, Role, Workflow
>>> from kmbase_workflow.examples import eligible_application
>>> workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
>>> bureau = Actor(Role.CITY_BUREAU, "bureau-01", name="市工业和信息化局")
>>> workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau).year
2025
>>> application = eligible_application()
>>> outcome = workflow.declare(application, Actor.for_operator(application.operator))
>>> outcome.case.state.value, outcome.case.version
('declared', 1)
"""

from __future__ import annotations

from ._outcomes import Outcome, Prepared, SweepReport
from ._rounds import Rounds
from ._steps import FireOptions, NamedSteps, StepOptions
from ._sweep import Sweep

__all__ = ["FireOptions", "Outcome", "Prepared", "StepOptions", "SweepReport", "Workflow"]


class Workflow(NamedSteps, Rounds, Sweep):
    """The service every face (Python API, CLI, bulk runner, simulation) goes through.

    ``store`` is a `CaseStore` or a URL (default:
    ``$KMBASE_DB``, else the SQLite file ``kmbase.db``); ``clock`` tells the
    time (never the system clock inside the library, unless you pass ``SystemClock()``, the
    default); ``policies`` are the versions of the measures to choose from by declaration
    date (default: the bundled ones); ``calendar`` counts working days; ``bus`` delivers
    events after each commit; ``allow_provisional`` lets deadlines fall in years without an
    official holiday notice (marked provisional) instead of refusing; ``authorization`` says
    who may fire a step (default `regulation_roles`; add a host's own rules with
    `all_of <kmbase_workflow.lifecycle.all_of>`). ``entry_clock`` is the real time when
    ``clock`` claims another day (entering last year's paper records): each entry then
    records when it was really entered (``HistoryEntry.entered_at``), and a day after the
    real one is refused.

    Each named step (`recommend`, `certify`, …) takes its record and ``**options``: the
    keywords of `StepOptions` (``reason``, ``evidence``, ``expected_version``,
    ``idempotency_key``), or of `FireOptions` where the step requires or derives the reason.

    One workflow may be shared by the threads of a web server: it keeps no per-request
    state, and the stores serialise their own connections. ``close()`` (or ``with``)
    releases the store.
    """
