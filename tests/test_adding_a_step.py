"""Adding a step touches the lifecycle package and the events module; every other piece a
step needs either derives from its declaration or is checked here, by a failure that names
what is missing and where it goes (docs/explanation/adding-a-step.md walks through it).

Each piece has one check, ``(step) -> problems``; the walk over every declared step asserts
none, and ``test_each_check_names_what_is_missing`` breaks each piece on purpose to show the
message a newcomer would read.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from typer.testing import CliRunner

from kmbase_workflow import Workflow
from kmbase_workflow.case import State
from kmbase_workflow.cli import app
from kmbase_workflow.diagrams import dot
from kmbase_workflow.event_schema import json_schema
from kmbase_workflow.events import EVENT_TYPES, Event, TransitionEvent
from kmbase_workflow.lifecycle import RECORDS, STEPS, Step, Trigger, step_for
from kmbase_workflow.queues import QUEUE_RULES
from kmbase_workflow.service import command_schema, create_app, iter_trigger_routes

ROOT = Path(__file__).resolve().parents[1]
WALK_THROUGH = ROOT / "docs" / "explanation" / "adding-a-step.md"
LIFECYCLE = ROOT / "src" / "kmbase_workflow" / "lifecycle"

NO_QUEUE: Mapping[Trigger, str] = {
    Trigger.DECLARE: "a declaration creates the case: nothing awaits it before",
    Trigger.START_NOTICE: "the sweep fires it on the announced day",
    Trigger.OBJECT: "anyone may object while the notice runs; no one is waited for",
    Trigger.EXPIRE: "the sweep fires it when the validity ends",
    Trigger.PROVINCIAL_RECOMMENDATION: "第二十一条 lets the bureau recommend; nothing is due",
    Trigger.NOTIFY: "the sweep sends its notices",
}
"""The steps no work queue offers, and why (every other step is in a queue rule)."""

Problems = Iterator[str]


def _home(thing: Any) -> str:
    """The file, from the checkout's root, where ``thing`` is written."""
    return Path(inspect.getsourcefile(thing) or "").resolve().relative_to(ROOT).as_posix()


METHODS_HOME = _home(Workflow.certify)
"""Where the named methods are written (they move with the workflow's modules)."""
QUEUE_RULES_HOME = _home(type(QUEUE_RULES[0]))
EVENTS_HOME = _home(TransitionEvent)


def _declared() -> list[Step]:
    return [*STEPS, *RECORDS]


# -- the checks, one per piece ------------------------------------------------------------


def _source(name: str, depth: int = 3) -> str:
    """The source of ``Workflow.<name>`` and of the ``self.<method>`` calls it makes."""
    method = getattr(Workflow, name, None)
    if not callable(method):
        return ""
    source = inspect.getsource(method)
    if depth:
        called = set(re.findall(r"self\.(\w+)\(", source)) - {name}
        source += "".join(_source(other, depth - 1) for other in sorted(called))
    return source


def named_method(step: Step) -> Problems:
    """`Step.method` is a method of `Workflow` that fires the step's trigger (itself or
    through the workflow's own helpers)."""
    if not callable(getattr(Workflow, step.method, None)):
        yield (
            f"{step.trigger.value}: Workflow.{step.method} does not exist; add the named "
            f"method to {METHODS_HOME} (or fix Step.method in lifecycle/_steps.py)"
        )
        return
    source = _source(step.method)
    today = dt.date(2025, 9, 26)
    chosen = {Trigger.of_notice(None, today), Trigger.of_notice(today.replace(day=29), today)}
    if f"Trigger.{step.trigger.name}" not in source and not (
        "Trigger.of_notice(" in source and step.trigger in chosen
    ):
        yield f"{step.trigger.value}: Workflow.{step.method} does not fire Trigger.{step.trigger.name}"


def queue_rule(step: Step, rules: Collection[Any] = QUEUE_RULES) -> Problems:
    """A work-queue rule offers the step (or names it as its cause), or NO_QUEUE says why not."""
    queued = any(step.trigger in rule.triggers or step.trigger is rule.cause for rule in rules)
    if not queued and step.trigger not in NO_QUEUE:
        yield (
            f"{step.trigger.value}: no work-queue rule offers it; add a QueueRule to "
            f"{QUEUE_RULES_HOME}, or say why none in NO_QUEUE of "
            "tests/test_adding_a_step.py"
        )
    if queued and step.trigger in NO_QUEUE:
        yield f"{step.trigger.value}: a queue rule offers it, so remove it from NO_QUEUE"


def cli_command(step: Step, database: str) -> Problems:
    """``kmbase declare`` creates a case; ``kmbase fire CASE TRIGGER`` fires every other step
    (its --payload is read by `Step.parse_payload`): asked of a case that does not exist, it
    gets as far as looking the case up."""
    runner = CliRunner()
    if step.trigger is Trigger.DECLARE:
        result = runner.invoke(app, ["declare", "--help"])
        if result.exit_code != 0:
            yield f"declare: `kmbase declare` is missing ({result.output.strip()})"
        return
    actor = ("--actor-role", "city_bureau", "--actor-id", "x")
    arguments = ["fire", "NO-SUCH-CASE", step.trigger.value, *actor, "--json"]
    result = runner.invoke(app, [*arguments, "--db", database])
    code = json.loads(result.stdout or "{}").get("error", {}).get("code")
    if code != "case_not_found":
        yield (
            f"{step.trigger.value}: `kmbase fire CASE {step.trigger.value}` does not reach "
            f"the case ({result.stdout.strip() or result.output.strip()})"
        )


@functools.cache
def _openapi() -> dict[str, Any]:
    return create_app(Workflow("memory://")).openapi()


def http_route(step: Step, routes: Mapping[Trigger, str] | None = None) -> Problems:
    """The service has a POST route for the step (``POST /cases`` for declare)."""
    path = (dict(iter_trigger_routes()) if routes is None else routes).get(step.trigger)
    if path is None:
        yield (
            f"{step.trigger.value}: no HTTP route; iter_trigger_routes (service/_triggers.py) "
            "derives them from STEPS and RECORDS"
        )
    elif "post" not in _openapi()["paths"].get(path, {}):
        yield f"{step.trigger.value}: POST {path} is not in the OpenAPI document"


def payload_schema(step: Step) -> Problems:
    """The body of the step's route takes its payload, whose schema the service publishes."""
    if step.trigger is not Trigger.DECLARE:
        body = command_schema(step)
        if ("payload" in body["properties"]) is not (step.payload is not None):
            yield f"{step.trigger.value}: the route's body and Step.payload disagree"
    if step.payload in (None, str, dict):
        return
    name = step.payload.__name__
    if name not in _openapi()["components"]["schemas"]:
        yield (
            f"{step.trigger.value}: the OpenAPI components have no schema for {name}; "
            "register the record with the service's schemas (component_schemas, service/_openapi.py)"
        )


def diagram_edges(step: Step, text: str | None = None) -> Problems:
    """A state change draws one edge per source in the diagrams; a record draws none."""
    drawn = dot() if text is None else text
    if step.destination is None:
        if f'--{step.trigger.value}"' in drawn:
            yield f"{step.trigger.value}: a record is drawn as an edge"
        return
    for source in step.sources:
        edge = f'id="{"__new__" if source is None else source.value}--{step.trigger.value}"'
        if edge not in drawn:
            yield f"{step.trigger.value}: the diagram lacks the edge {edge}"


@functools.cache
def _event_definitions() -> frozenset[str]:
    return frozenset(json_schema()["$defs"])


def event_class(step: Step, registered: Mapping[str, type[Event]] = EVENT_TYPES) -> Problems:
    """The step's event is registered in the events module, is a transition event exactly
    when the step changes state, has its JSON Schema and its row in the events reference."""
    event = step.event
    if registered.get(event.type) is not event:
        yield (
            f"{step.trigger.value}: its event {event.__name__} is not in EVENT_TYPES; "
            f"register it in {EVENTS_HOME}"
        )
        return
    if issubclass(event, TransitionEvent) is not (step.destination is not None):
        kind = "a TransitionEvent" if step.destination is not None else "no TransitionEvent"
        yield f"{step.trigger.value}: its event {event.__name__} must be {kind}"
    if event.type not in _event_definitions():
        yield f"{step.trigger.value}: docs/schemas/events.schema.json lacks {event.type}"
    reference = (ROOT / "docs" / "reference" / "events.md").read_text(encoding="utf-8")
    if f"| `{event.type}` |" not in reference:
        yield f"{step.trigger.value}: docs/reference/events.md has no row for {event.type}"


def explained(step: Step) -> Problems:
    """A table row of docs/explanation/lifecycle.md names the step (or its event) with its
    guards, what it records and the call `Step.method` that fires it."""
    text = (ROOT / "docs" / "explanation" / "lifecycle.md").read_text(encoding="utf-8")
    names = (f"`{step.trigger.value}`", f"`{step.event.type}`")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    if not any(f"`{step.method}(" in row and any(n in row for n in names) for row in rows):
        yield (
            f"{step.trigger.value}: docs/explanation/lifecycle.md has no row naming its "
            f"guards and `{step.method}(…)`"
        )


# -- the walk over every declared step ----------------------------------------------------

STATIC_CHECKS: dict[str, Callable[[Step], Problems]] = {
    "named method": named_method,
    "queue rule": queue_rule,
    "HTTP route": http_route,
    "payload schema": payload_schema,
    "diagram edges": diagram_edges,
    "event class": event_class,
    "explanation": explained,
}
"""Every piece checked without a database; the command line is checked apart (it needs one)."""

PIECES = (*STATIC_CHECKS, "CLI command")


@pytest.mark.parametrize("step", _declared(), ids=lambda step: step.trigger.value)
def test_every_declared_step_has_every_piece(step: Step) -> None:
    problems = [problem for check in STATIC_CHECKS.values() for problem in check(step)]
    assert not problems, "\n".join(problems)


def test_every_step_has_its_cli_command(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/cases.db"
    assert CliRunner().invoke(app, ["db", "init", "--db", database]).exit_code == 0
    problems = [problem for step in _declared() for problem in cli_command(step, database)]
    assert not problems, "\n".join(problems)


def test_no_queue_names_declared_steps_only() -> None:
    assert set(NO_QUEUE) <= {step.trigger for step in _declared()}
    assert all(reason.strip() for reason in NO_QUEUE.values())


class _Unregistered(TransitionEvent):
    type: ClassVar[str] = "not_registered"


@attrs.frozen
class _UnknownRecord:
    note: str


def test_each_check_names_what_is_missing() -> None:
    """Break each piece of a real step and read the message: it names the piece and where
    it goes, so a failing walk tells a newcomer what to add."""
    recommend = step_for(Trigger.RECOMMEND)
    broken: list[tuple[Problems, str]] = [
        (
            named_method(attrs.evolve(recommend, method="recommend_twice")),
            "Workflow.recommend_twice",
        ),
        (
            named_method(attrs.evolve(recommend, method="decline")),
            "does not fire Trigger.RECOMMEND",
        ),
        (queue_rule(recommend, rules=()), QUEUE_RULES_HOME),
        (http_route(recommend, routes={}), "no HTTP route"),
        (payload_schema(attrs.evolve(recommend, payload=_UnknownRecord)), "_UnknownRecord"),
        (diagram_edges(attrs.evolve(recommend, sources=(State.EXPIRED,))), "expired--recommend"),
        (event_class(attrs.evolve(recommend, event=_Unregistered)), "EVENT_TYPES"),
        (explained(attrs.evolve(recommend, method="recommend_twice")), "recommend_twice(…)"),
    ]
    for problems, expected in broken:
        messages = list(problems)
        assert messages, expected
        assert any(expected in message for message in messages), messages
    assert {check.__name__ for check in STATIC_CHECKS.values()} == {
        "named_method", "queue_rule", "http_route", "payload_schema", "diagram_edges",
        "event_class", "explained",
    }  # fmt: skip


# -- the walk-through stays true ----------------------------------------------------------


def _walk_through() -> str:
    return WALK_THROUGH.read_text(encoding="utf-8")


def _listed_files() -> list[str]:
    block = re.search(r"<!-- files -->\n(.*?)\n<!-- /files -->", _walk_through(), re.S)
    assert block is not None, "docs/explanation/adding-a-step.md: keep the files markers"
    return re.findall(r"^\| `([^`]+)` \|", block.group(1), re.M)


def test_the_walk_through_lists_files_that_exist() -> None:
    missing = [path for path in _listed_files() if not (ROOT / path).exists()]
    assert not missing, (
        f"docs/explanation/adding-a-step.md lists files that do not exist: {missing}"
    )


def test_the_walk_through_lists_where_the_checked_pieces_are_written() -> None:
    """The named methods, queue rules and events move with their modules: the list follows."""
    homes = {METHODS_HOME, QUEUE_RULES_HOME, EVENTS_HOME}
    missing = sorted(homes - set(_listed_files()))
    assert not missing, f"docs/explanation/adding-a-step.md: list {missing} (files moved?)"


def test_the_walk_through_lists_every_module_of_the_lifecycle() -> None:
    listed = set(_listed_files())
    modules = {
        str(path.relative_to(ROOT)) for path in LIFECYCLE.glob("*.py") if path.name != "__init__.py"
    }
    assert not modules - listed, (
        f"docs/explanation/adding-a-step.md: list {sorted(modules - listed)} and what a step "
        "needs there"
    )


def test_the_walk_through_names_every_checked_piece() -> None:
    text = _walk_through()
    missing = [piece for piece in PIECES if f"**{piece}**" not in text]
    assert not missing, f"docs/explanation/adding-a-step.md: describe the pieces {missing}"
