"""Type-checked usage of the public API (mypy --strict reads this file; pytest does not run it).

If a change to the library breaks how a host application is expected to call it, mypy fails
here before any user notices.
"""

from __future__ import annotations

import datetime as dt

import kmbase_workflow as kb


def judge(path: str) -> tuple[bool, list[str]]:
    application: kb.Application = kb.load_application(path)
    verdict: kb.Verdict = kb.evaluate(application)
    failed: list[str] = [finding.rule for finding in verdict.failed()]
    return verdict.eligible, failed


def policy_numbers() -> tuple[float | bool, int]:
    policy: kb.Policy = kb.load_policy(dt.date(2025, 1, 1))
    return policy.rule("resident_enterprises").required, policy.periods.notice.working_days


def messages(error: kb.KmbaseError) -> tuple[str, str]:
    return error.describe("zh"), error.describe("en")


def spot_check_size(residents: int) -> int:
    return kb.spot_check_sample_size(residents)


def population(apps: list[kb.Application]) -> float:
    result: kb.PopulationVerdict = kb.evaluate_population(kb.application_columns(apps))
    return float(result.eligible.mean())


def clocked(clock: kb.Clock) -> dt.date:
    return kb.today(clock)


def host_recommends(
    workflow: kb.Workflow, case_id: str, actor: kb.Actor, recommendation: kb.Recommendation
) -> kb.Outcome:
    # Every option of a named step is spelt out, so mypy catches a misspelling; the ignore
    # below is needed (mypy --strict reports an unused one), which proves it.
    workflow.recommend(case_id, actor, recommendation, idempotency_kye="k")  # type: ignore[call-arg]
    return workflow.recommend(case_id, actor, recommendation, idempotency_key="k")


def host_actor(application: kb.Application) -> tuple[kb.Actor, kb.Actor]:
    operator = kb.Actor.for_operator(application.operator)
    official = kb.Actor(kb.Role.DISTRICT_AUTHORITY, "u-1024", district="五华区", name="张三")
    return operator, official


def morning_inbox(workflow: kb.Workflow, official: kb.Actor) -> list[tuple[str, bool]]:
    from kmbase_workflow.queues import QueuePage, work_queue

    cursor: str | None = None
    late: list[tuple[str, bool]] = []
    while True:
        page: QueuePage = work_queue(workflow, official, limit=100, cursor=cursor)
        late.extend((entry.case_id, entry.overdue) for entry in page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return late


def known_when_certified(workflow: kb.Workflow, case_id: str) -> kb.State | None:
    from kmbase_workflow.as_of import Knowledge, known_at

    knowledge: Knowledge = known_at(workflow, case_id, "certify")
    case = knowledge.before.case
    return case.state if case is not None else None
