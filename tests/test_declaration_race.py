"""第九条 under concurrency: two declarations of one base checked at once (each sees no open
case of the base) cannot both be written, whatever the store; nothing of the refused one is
written, and declaring it again is checked against the base as it is now."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow.errors import ConcurrencyConflictError, TransitionRefusedError
from kmbase_workflow.lifecycle import Trigger
from kmbase_workflow.service import create_app
from kmbase_workflow.stores.tokens import token_store
from lifecycle_helpers import APPLICATION, BUREAU, DECLARED_ON, OPERATOR, ROUND_CLOSES, ROUND_OPENS
from service_helpers import APPLICATION_JSON


def _workflow(url: str) -> Workflow:
    workflow = Workflow(url, clock=FixedClock(DECLARED_ON))
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    return workflow


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_two_declarations_of_one_base_checked_at_once_write_one(kind: str, tmp_path: Path) -> None:
    workflow = _workflow("memory://" if kind == "memory" else f"sqlite:///{tmp_path / 'c.db'}")
    first = workflow.prepare("c1", Trigger.DECLARE, OPERATOR, payload=APPLICATION)
    second = workflow.prepare("c2", Trigger.DECLARE, OPERATOR, payload=APPLICATION)
    workflow.commit([first])
    with pytest.raises(ConcurrencyConflictError):
        workflow.commit([second])
    assert [case.id for case in workflow.cases()] == ["c1"]
    # declared again, it is checked against the open case: the rule refuses it (第九条)
    with pytest.raises(TransitionRefusedError):
        workflow.declare(APPLICATION, OPERATOR, case_id="c2")
    workflow.close()


def test_threads_declaring_one_base_at_once_leave_one_open_case(tmp_path: Path) -> None:
    workflow = _workflow(f"sqlite:///{tmp_path / 'c.db'}")
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def declare(n: int) -> None:
        start.wait()
        try:
            workflow.declare(APPLICATION, OPERATOR, case_id=f"c{n}")
            outcomes.append("declared")
        except (ConcurrencyConflictError, TransitionRefusedError) as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=declare, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("declared") == 1, outcomes
    assert len(list(workflow.cases())) == 1
    workflow.close()


def test_over_http_the_second_declaration_of_a_base_worked_on_at_once_is_a_409(
    tmp_path: Path,
) -> None:
    """The service works on two requests at once over a SQLite file: while one declaration of
    a base holds at its commit, another of the same base is checked (it sees no open case),
    then refused at its write (409), nothing of it written (docs/how-to/service.md)."""
    workflow = _workflow(f"sqlite:///{tmp_path / 'c.db'}")
    token = token_store(workflow.store).issue(OPERATOR, now=dt.datetime.now(dt.UTC))[1]
    headers = {"Authorization": f"Bearer {token}"}
    holding, release = threading.Event(), threading.Event()
    answers: dict[str, int] = {}

    def seam(point: str) -> None:
        if point == "before_commit" and not holding.is_set():
            holding.set()  # the first commit holds until the second has been tried
            release.wait(60)

    workflow.store.on_checkpoint = seam  # type: ignore[attr-defined]
    with TestClient(create_app(workflow)) as http:

        def declare(case_id: str) -> None:
            answer = http.post(
                "/cases", content=APPLICATION_JSON, params={"case_id": case_id}, headers=headers
            )
            answers[case_id] = answer.status_code

        first = threading.Thread(target=declare, args=("c1",))
        first.start()
        assert holding.wait(60)
        second = threading.Thread(target=declare, args=("c2",))
        second.start()
        second.join(1)  # checked beside the first, then waits for the writer
        release.set()
        first.join(60)
        second.join(60)
    assert answers == {"c1": 201, "c2": 409}, answers
    assert [case.id for case in workflow.cases()] == ["c1"]
    workflow.close()
