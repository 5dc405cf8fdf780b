"""``transitions`` holds the graph and does not validate it (lifecycle.MACHINE's docstring):
this test does, so the dictionary read back from it is the graph of `STEPS`."""

from __future__ import annotations

from kmbase_workflow.lifecycle import MACHINE, NEW, STEPS, next_state


def test_each_edge_of_the_machine_is_one_step_s_edge() -> None:
    declared = {
        (NEW if source is None else source.value, step.trigger.value): step.destination.value
        for step in STEPS
        if step.destination is not None
        for source in step.sources
    }
    held: dict[tuple[str, str], list[str]] = {}
    for trigger, event in MACHINE.events.items():
        for source, transitions in event.transitions.items():
            held.setdefault((source, trigger), []).extend(t.dest for t in transitions)
    assert {edge: dests for edge, dests in held.items() if dests} == {
        edge: [dest] for edge, dest in declared.items()
    }
    for step in STEPS:
        for source in step.sources:
            assert next_state(source, step.trigger) is step.destination
