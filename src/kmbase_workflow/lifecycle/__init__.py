"""The certification lifecycle: every step, declared once.

A `Step` says all that one trigger means: the states it leaves and the one it reaches (none
for a *record*, which changes no state), who may fire it, its article and label, the type of
its payload, its guards, its effect on the case and the event it emits. `STEPS` (the state
changes) and `RECORDS` (expert opinions, selection, reports, filings …) hold them all;
everything else derives from them: the ``transitions`` graph (`MACHINE`), the bulk runner's
and the command line's payloads, the diagrams, the table of `lifecycle_table` that
docs/explanation/lifecycle.md shows, and the workflow's one write path.

A case is plain data (`Case`), never a ``Machine`` of its own: ``transitions`` holds the
graph once (`MACHINE`), and the graph is then read back into a dictionary, so
firing a trigger is a look-up; ``transitions`` runs no guard, effect or callback (see
`MACHINE`).
Guards are plain functions of a `GuardContext`; all of a step's guards run, so a refusal
names every failed guard with its article, in Chinese and English. Who may act is the
`Authorization` the workflow is given (default: `regulation_roles`, the roles of 第四条).

The package's rooms (private modules; import from ``kmbase_workflow.lifecycle``):

- ``_model.py``: what a step is: `Trigger`, `GuardContext`, `GuardFailure`, `Step`, `step_for`;
- ``_steps.py``: every step declared, its guards, effect and event beside it (`STEPS`,
  `RECORDS`);
- ``_authorization.py``: who may fire a step (`regulation_roles`, `all_of`);
- ``_guards_common.py``: the guards every step runs; ``_guards_declaration.py``,
  ``_guards_review.py``, ``_guards_notice.py``, ``_guards_title.py``: those of each stage;
- ``_effects.py``: what a step records on the case;
- ``_event_details.py``: what its event tells (`event_details`, `event_deadlines`);
- ``_machine.py``: the graph (`MACHINE`, `next_state`);
- ``_firing.py``: firing a step (`check_guards`, `completed`, `apply_trigger`, `refusal`);
- ``_table.py``: the table of the docs (`lifecycle_table`).

docs/explanation/adding-a-step.md walks through adding a step.
"""

from ._authorization import all_of, regulation_roles
from ._event_details import event_deadlines, event_details
from ._firing import apply_trigger, check_guards, check_payload_type, completed, refusal
from ._guards_title import AnnualReportDue as AnnualReportDue
from ._guards_title import annual_reports_due as annual_reports_due
from ._machine import MACHINE, next_state
from ._model import AWAITING_CERTIFICATION as AWAITING_CERTIFICATION
from ._model import NEW as NEW
from ._model import TITLE_HELD as TITLE_HELD
from ._model import Authorization, GuardContext, GuardFailure, Step, Trigger, step_for
from ._steps import RECORDS, STEPS
from ._table import lifecycle_table

__all__ = [
    "MACHINE",
    "RECORDS",
    "STEPS",
    "Authorization",
    "GuardContext",
    "GuardFailure",
    "Step",
    "Trigger",
    "all_of",
    "apply_trigger",
    "check_guards",
    "check_payload_type",
    "completed",
    "event_deadlines",
    "event_details",
    "lifecycle_table",
    "next_state",
    "refusal",
    "regulation_roles",
    "step_for",
]
