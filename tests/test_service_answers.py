"""The service's answers are encoded in one pass (issue 24) and say exactly what the records
unstructured by the library's converter say: what Starlette's `JSONResponse` of the records'
plain data says, member for member in the same order (only a float may be spelled otherwise,
``1e-7`` for ``1e-07``), for the answers the load meets (a declaration, a step, the inbox)
and for plain data holding records, dates, tuples and numbers past 64 bits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs
from starlette.responses import JSONResponse

from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.case import DeferredApplication, kept_applications
from kmbase_workflow.lifecycle import Trigger
from kmbase_workflow.queues import work_queue
from kmbase_workflow.serialization import converter
from kmbase_workflow.service._routing import json_response, outcome_data
from lifecycle_helpers import (
    APPLICATION,
    BUREAU,
    DECLARED_ON,
    DISTRICT,
    GOOD_RECOMMENDATION,
    OPERATOR,
    PUBLIC,
    ROUND_CLOSES,
    ROUND_OPENS,
)


def _reference(data: object) -> Any:
    """Plain data as the converter writes each record, walked apart from records."""
    if attrs.has(type(data)):
        return converter.unstructure(data)
    if isinstance(data, list | tuple):
        return [_reference(item) for item in data]
    if isinstance(data, dict):
        return {key: _reference(value) for key, value in data.items()}
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


def _members(body: bytes | memoryview) -> Any:
    """The JSON of ``body`` with each object as its list of members, in order."""
    return json.loads(bytes(body), object_pairs_hook=list)


def _same_answer(data: object) -> None:
    answered = json_response(data, status=201, headers={"Location": "/cases/c1"})
    expected = JSONResponse(_reference(data), status_code=201, headers={"Location": "/cases/c1"})
    assert _members(answered.body) == _members(expected.body)
    assert bytes(answered.body).decode("utf-8")  # UTF-8, Chinese as it is
    assert answered.status_code == 201
    assert answered.headers["content-type"] == expected.headers["content-type"]
    assert answered.headers["location"] == "/cases/c1"


def _workflow() -> Workflow:
    workflow = Workflow("memory://", clock=FixedClock(DECLARED_ON))
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    return workflow


def test_a_declaration_s_answer_is_its_records_as_the_converter_writes_them() -> None:
    workflow = _workflow()
    outcome = workflow.declare(APPLICATION, OPERATOR, case_id="c1")
    # the entry's payload is the application as plain data, the case's a record
    _same_answer(outcome_data(outcome, OPERATOR))
    _same_answer(outcome_data(outcome, PUBLIC))  # an acknowledgement: dates, tuples
    data = json.loads(json_response(outcome_data(outcome, OPERATOR)).body)
    assert data["case"]["application"] == data["entry"]["payload"]


def test_a_step_s_answer_and_the_inbox_are_the_converter_s() -> None:
    workflow = _workflow()
    workflow.declare(APPLICATION, OPERATOR, case_id="c1")
    workflow.declare(attrs.evolve(APPLICATION, base=attrs.evolve(APPLICATION.base, name="另一基地")),
                     OPERATOR, case_id="c2")  # fmt: skip
    outcome = workflow.fire("c1", Trigger.RECOMMEND, DISTRICT, payload=GOOD_RECOMMENDATION)
    _same_answer(outcome_data(outcome, DISTRICT))
    _same_answer(work_queue(workflow, DISTRICT).to_dict())


def test_plain_data_holding_records_dates_and_tuples_is_answered_as_before() -> None:
    workflow = _workflow()
    outcome = workflow.declare(APPLICATION, OPERATOR, case_id="c1")
    _same_answer(
        {
            "cases": (outcome.case, outcome.case),
            "history": workflow.history("c1"),
            "day": DECLARED_ON,
            "at": outcome.entry.at,
            "nested": [{"entry": outcome.entry, "none": None, "n": 1.5, "yes": True}],
            "floats": [1e-07, 1e16, 0.1, -0.0, 123456.789],
        }
    )
    _same_answer({"big": 2**70, "negative": -(2**64), "text": "名称\u2028\x00"})
    _same_answer([outcome.entry])
    _same_answer(None)


def test_a_step_over_sqlite_answers_its_application_in_the_stored_text(tmp_path: Path) -> None:
    """A recommendation judges the application it read as text: the answer puts that text in
    place (not parsed again), and says what the converter says, kept or not, and in the
    standard library's pass too (a number past 64 bits elsewhere in the answer)."""
    for kept in (True, False):
        kept_applications.clear()
        workflow = Workflow(
            f"sqlite:///{tmp_path / f'cases-{kept}.db'}", clock=FixedClock(DECLARED_ON)
        )
        workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
        workflow.declare(APPLICATION, OPERATOR, case_id="c1")
        if not kept:
            kept_applications.clear()
        outcome = workflow.fire("c1", Trigger.RECOMMEND, DISTRICT, payload=GOOD_RECOMMENDATION)
        source = outcome.case._application
        assert isinstance(source, DeferredApplication)
        assert source.read_text() is not None  # structured from its text, not parsed since
        _same_answer(outcome_data(outcome, DISTRICT))
        _same_answer({"big": 2**70, "case": outcome.case})
        _same_answer(workflow.case("c1"))  # read, not structured: answered from its data
        workflow.close()
    kept_applications.clear()
