"""One declaration per trigger (issue 15): every trigger is a complete `Step`, and every face
derives from it. Adding a trigger takes one declaration, an example payload below and its
tests; this file fails until each part exists."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from pathlib import Path

import pytest

from kmbase_workflow import Actor, Role, Workflow
from kmbase_workflow.bulk import PAYLOAD_KINDS, bulk_trigger
from kmbase_workflow.case import (
    AnnualReport,
    ChangeFiling,
    CollectiveDecision,
    Correction,
    Evaluation,
    ExpertOpinion,
    NoticeAnnouncement,
    Objection,
    PlaqueReturn,
    ProvincialRecommendation,
    Recommendation,
    Revocation,
    RevocationGround,
    Selection,
)
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.events import EVENT_TYPES, TransitionEvent
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.lifecycle import (
    MACHINE,
    RECORDS,
    STEPS,
    Trigger,
    check_payload_type,
    lifecycle_table,
    step_for,
)
from kmbase_workflow.records import SpotCheck
from kmbase_workflow.serialization import unstructure
from kmbase_workflow.service import command_schema, create_app, iter_trigger_routes
from kmbase_workflow.workflow import FireOptions, StepOptions

DOCS = Path(__file__).resolve().parents[1] / "docs"
SERVICE = create_app(Workflow("memory://"))


def _http_route(trigger: Trigger) -> str:
    return dict(iter_trigger_routes())[trigger]


EXAMPLE_PAYLOADS: dict[Trigger, object] = {
    Trigger.DECLARE: eligible_application(),
    Trigger.RETURN_FOR_CORRECTION: Correction(
        ("缺审计报告",), dt.date(2025, 7, 1), dt.date(2025, 6, 20)
    ),
    Trigger.RESUBMIT: eligible_application(),
    Trigger.RECOMMEND: Recommendation("同意", True, SpotCheck(60, 6, 6)),
    Trigger.PASS_INSPECTION: "属实",
    Trigger.ANNOUNCE_NOTICE: NoticeAnnouncement(dt.date(2025, 9, 29), working_days=12),
    Trigger.PUBLICIZE: NoticeAnnouncement(ends_on=dt.date(2025, 10, 20)),
    Trigger.OBJECT: Objection(dt.date(2025, 10, 9), "p-1", "不实"),
    Trigger.CERTIFY: CollectiveDecision("纪要〔2025〕12号", dt.date(2025, 10, 16)),
    Trigger.FAIL_EVALUATION: Evaluation("第三方", passed=False),
    Trigger.REVOKE: Revocation(RevocationGround.VIOLATION, dt.date(2026, 3, 5), "虚报"),
    Trigger.EXPERT_OPINION: ExpertOpinion("e-1", 88.0, "好"),
    Trigger.SELECTION: Selection(1, 3, True, 88.0),
    Trigger.ANNUAL_REPORT: AnnualReport(2026),
    Trigger.EVALUATION: Evaluation("第三方", passed=True),
    Trigger.CHANGE_FILING: ChangeFiling("更名", dt.date(2026, 2, 9)),
    Trigger.PROVINCIAL_RECOMMENDATION: ProvincialRecommendation(dt.date(2026, 4, 1), "省级"),
    Trigger.PLAQUE_RETURN: PlaqueReturn(dt.date(2026, 3, 18)),
    Trigger.NOTIFY: {"key": "notice_ended", "event": "notice_period_ended"},
}
"""A payload of each trigger that takes one (a trigger missing here fails the test)."""

NAMED_METHODS: dict[Trigger, str] = {
    Trigger.DECLARE: "declare",
    Trigger.RETURN_FOR_CORRECTION: "return_for_correction",
    Trigger.RESUBMIT: "resubmit",
    Trigger.CONCLUDE_LAPSED_CORRECTION: "conclude_lapsed_correction",
    Trigger.RECOMMEND: "recommend",
    Trigger.DECLINE: "decline",
    Trigger.PASS_REVIEW: "pass_review",
    Trigger.FAIL_REVIEW: "fail_review",
    Trigger.PASS_INSPECTION: "pass_inspection",
    Trigger.FAIL_INSPECTION: "fail_inspection",
    Trigger.ANNOUNCE_NOTICE: "publicize",
    Trigger.START_NOTICE: "sweep",
    Trigger.PUBLICIZE: "publicize",
    Trigger.OBJECT: "raise_objection",
    Trigger.VERIFY: "verify_objection",
    Trigger.SUSTAIN_OBJECTION: "verify_objection",
    Trigger.CERTIFY: "certify",
    Trigger.EXPIRE: "sweep",
    Trigger.FAIL_EVALUATION: "record_evaluation",
    Trigger.REVOKE: "revoke",
    Trigger.WITHDRAW: "withdraw",
    Trigger.EXPERT_OPINION: "record_expert_opinion",
    Trigger.SELECTION: "select_round",
    Trigger.ANNUAL_REPORT: "file_annual_report",
    Trigger.EVALUATION: "record_evaluation",
    Trigger.CHANGE_FILING: "file_change",
    Trigger.PROVINCIAL_RECOMMENDATION: "recommend_to_province",
    Trigger.PLAQUE_RETURN: "record_plaque_return",
    Trigger.NOTIFY: "sweep",
}
"""The `Workflow` method that fires each trigger (``sweep`` for what the system does)."""


def test_every_trigger_is_declared_exactly_once() -> None:
    declared = [step.trigger for step in (*STEPS, *RECORDS)]
    assert sorted(t.value for t in declared) == sorted(t.value for t in Trigger)
    assert len(declared) == len(set(declared))
    assert all(step.destination is not None for step in STEPS)
    assert all(step.destination is None for step in RECORDS)


@pytest.mark.parametrize("trigger", list(Trigger), ids=lambda t: t.value)
def test_every_trigger_is_complete(trigger: Trigger) -> None:
    step = step_for(trigger)
    # labels and article in both languages
    assert all((step.label.zh, step.label.en, step.article.zh, step.article.en))
    assert step.roles
    # its event is a registered type; a state change's event says from where to where
    event = step.event_for(EXAMPLE_PAYLOADS.get(trigger))
    assert EVENT_TYPES[event.type] is event
    assert issubclass(event, TransitionEvent) is (step.destination is not None)
    # the graph has every edge of a state change, and no edge of a record
    edges = MACHINE.events.get(trigger.value)
    if step.destination is None:
        assert edges is None
    else:
        assert edges is not None
        sources = {source for source, transitions in edges.transitions.items() if transitions}
        assert sources == {"new" if s is None else s.value for s in step.sources}
    # its payload: an example exists, passes the type check and survives JSON both ways
    if step.payload is None:
        assert trigger not in EXAMPLE_PAYLOADS
    else:
        example = EXAMPLE_PAYLOADS[trigger]
        check_payload_type(trigger, example)
        if trigger is not Trigger.DECLARE:
            data = example if isinstance(example, (str, dict)) else unstructure(example)
            assert step.parse_payload(data) == example
    # a named method fires it, and a script can: bulk and `kmbase fire` take every trigger
    # but declare, with the payload type of its step
    assert callable(getattr(Workflow, NAMED_METHODS[trigger]))
    if trigger is not Trigger.DECLARE:
        assert bulk_trigger(trigger.value) is trigger
        assert PAYLOAD_KINDS[trigger] is step.payload
    # the HTTP service has its route, whose body takes the step's payload
    assert "post" in SERVICE.openapi()["paths"][_http_route(trigger)]
    if trigger is not Trigger.DECLARE:
        body = command_schema(step)
        assert ("payload" in body["properties"]) is (step.payload is not None)


def test_the_docs_table_is_the_declared_table() -> None:
    text = (DOCS / "explanation" / "lifecycle.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- lifecycle_table -->\n(.*?)\n<!-- /lifecycle_table -->", text, re.S)
    assert block is not None, "docs/explanation/lifecycle.md: keep the lifecycle_table markers"
    assert block.group(1) == lifecycle_table("en"), (
        "docs/explanation/lifecycle.md is stale: paste lifecycle_table() between its markers"
    )


@pytest.mark.parametrize("trigger", [t for t in Trigger if step_for(t).payload is not None])
def test_a_payload_of_the_wrong_type_is_a_programming_error(trigger: Trigger) -> None:
    with pytest.raises(InvalidInputError, match="programming error") as info:
        check_payload_type(trigger, {"reference": "x"} if trigger is not Trigger.NOTIFY else 1)
    assert "编程错误" in info.value.describe("zh")


def test_named_methods_spell_out_every_option() -> None:
    """No ``**options: Any``: a named method's options are a TypedDict (`StepOptions`,
    `FireOptions`) of keywords `Workflow.fire` takes by name, and ``fire`` takes no others,
    so a misspelt option is a type error (tests/typing_usage.py) and a TypeError at run time,
    never silently ignored."""
    fire = inspect.signature(Workflow.fire).parameters
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in fire.values())
    kinds = {"Unpack[StepOptions]": StepOptions, "Unpack[FireOptions]": FireOptions}
    for name in set(NAMED_METHODS.values()):
        parameters = inspect.signature(getattr(Workflow, name)).parameters.values()
        for parameter in parameters:
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                options = kinds.get(str(parameter.annotation))
                assert options is not None, (name, parameter.annotation)
                keys = options.__required_keys__ | options.__optional_keys__
                assert keys <= {p.name for p in fire.values() if p.kind is p.KEYWORD_ONLY}, name
    workflow = Workflow("memory://")
    with pytest.raises(TypeError, match="reasn"):
        workflow.withdraw("c1", Actor(Role.OPERATOR, "x"), "撤回", reasn="typo")  # type: ignore[call-arg]
