"""The graph of `STEPS` held by one ``transitions`` machine, read back into the dictionary
`next_state` looks up."""

from __future__ import annotations

from transitions import Machine

from ..case import State
from ._model import NEW, Trigger, step_for
from ._steps import STEPS

MACHINE = Machine(
    model=None,
    states=[NEW, *(state.value for state in State)],
    transitions=[
        {
            "trigger": step.trigger.value,
            "source": [NEW if source is None else source.value for source in step.sources],
            "dest": step.destination.value,
        }
        for step in STEPS
        if step.destination is not None
    ],
    initial=NEW,
    auto_transitions=False,
    send_event=False,
)
"""The one ``transitions`` machine that declares the graph of `STEPS`; it holds no cases.

What ``transitions`` does here, and what it does not: it holds the graph as declared (its
states, and each trigger's edges), and that graph is read back once into a plain dictionary,
``(state, trigger) -> next state``, which `next_state` looks up. Nothing fires through the
machine: no model, no callbacks, no per-case state (a case is frozen data; a ``Machine`` per
case would cost more than the case, see ``benchmarks/bench_lifecycle.py``). Guards, effects
and events are the steps' own (`Step`), run by the workflow; the diagrams are drawn from
`STEPS` (`kmbase_workflow.diagrams`), not by ``transitions``' graph extension. The machine
does not validate the graph (it accepts an unknown destination, or two edges for one trigger
from one state): ``tests/test_trigger_spec.py`` checks it against `STEPS`."""

# Here the graph is read back from the machine (once, at import) into a dictionary: firing
# a trigger is a look-up in it, never a call into ``transitions``.
_NEXT: dict[tuple[str, str], State] = {
    (transition.source, trigger): State(transition.dest)
    for trigger, event in MACHINE.events.items()
    for transitions in event.transitions.values()
    for transition in transitions
}


def next_state(state: State | None, trigger: Trigger) -> State | None:
    """Where ``trigger`` takes a case in ``state`` (``None``: not allowed from there; a record
    leaves the case where it is)."""
    step = step_for(trigger)
    if step.destination is None:
        return state if state in step.sources else None
    return _NEXT.get((NEW if state is None else state.value, trigger.value))
