"""Type-checked usage of the public API (mypy --strict reads this file; pytest does not run it).

If a change to the library breaks how a host application is expected to call it, mypy fails
here before any user notices.
"""

from __future__ import annotations

import datetime as dt

import kmbase_workflow as kb
from kmbase_workflow import clock, eligibility, policy
from kmbase_workflow.bridges import RelayReport, open_sink, relay
from kmbase_workflow.events import event_document, event_from_document


def judge(path: str) -> tuple[bool, list[str]]:
    application: kb.Application = kb.load_application(path)
    verdict: kb.Verdict = kb.evaluate(application)
    failed: list[str] = [finding.rule for finding in verdict.failed()]
    return verdict.eligible, failed


def policy_numbers() -> tuple[float | bool, int]:
    in_force: policy.Policy = policy.load_policy(dt.date(2025, 1, 1))
    return (
        in_force.rule("resident_enterprises").required,
        in_force.periods.notice.working_days,
    )


def messages(error: kb.KmbaseError) -> tuple[str, str]:
    return error.describe("zh"), error.describe("en")


def spot_check_size(residents: int) -> int:
    return eligibility.spot_check_sample_size(residents)


def population(apps: list[kb.Application]) -> float:
    result: eligibility.PopulationVerdict = eligibility.evaluate_population(
        eligibility.application_columns(apps)
    )
    return float(result.eligible.mean())


def clocked(now: kb.Clock) -> dt.date:
    return clock.today(now)


def host_recommends(
    workflow: kb.Workflow, case_id: str, actor: kb.Actor, recommendation: kb.Recommendation
) -> kb.Outcome:
    # Every option of a named step is typed (`StepOptions`), so mypy catches a misspelling
    # and a reason given to a step that takes none; the ignores below are needed (mypy
    # --strict reports an unused one), which proves it.
    workflow.recommend(case_id, actor, recommendation, idempotency_kye="k")  # type: ignore[call-arg]
    workflow.verify_objection(case_id, actor, "查无实据", sustained=False, reason="r")  # type: ignore[call-arg]
    workflow.decline(case_id, actor, "材料不实", evidence=["scan.pdf"], expected_version=1)
    return workflow.recommend(case_id, actor, recommendation, idempotency_key="k")


def host_actor(application: kb.Application) -> tuple[kb.Actor, kb.Actor]:
    operator = kb.Actor.for_operator(application.operator)
    official = kb.Actor(kb.Role.DISTRICT_AUTHORITY, "u-1024", district="五华区", name="张三")
    return operator, official


def deliver(workflow: kb.Workflow, url: str, secret: str) -> None:
    from kmbase_workflow.delivery import Backoff, Consumer, Webhook, Worker
    from kmbase_workflow.stores import OutboxRecord

    def archive(record: OutboxRecord) -> None:
        print(record.position, record.event.type)

    worker = Worker(
        workflow,
        webhooks=[Webhook("portal", url, secret, types=frozenset({"certified"}))],
        consumers=[Consumer("archive", archive)],
        backoff=Backoff(base=1.0, max_attempts=5),
    )
    lags: list[int] = [consumer.lag for consumer in worker.queue.status().consumers]
    print(lags)
    worker.run(until=lambda: True)


def event_consumer(document: dict[str, object]) -> tuple[int, str | None, dt.date | None]:
    # a consumer of the event document: who acted, the states, the version
    event: kb.Event = event_from_document(document)
    again: dict[str, object] = event_document(event)
    assert again["id"] == event.id
    return event.schema_version, event.to_state, event.deadlines.notice_end


def relay_to_broker(store: kb.CaseStore, url: str) -> int:
    with open_sink(url, stream="KMBASE_EVENTS") as sink:
        report: RelayReport = relay(store, sink, consumer="nats", until_caught_up=True)
    return report.position


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


def publish_notice(workflow: kb.Workflow, settings_file: str) -> tuple[str, int, str]:
    from pathlib import Path

    from kmbase_workflow.exports import (
        Document,
        PublicNotice,
        load_document_settings,
        public_notice,
        render_html,
        write_document,
    )

    notice: PublicNotice = public_notice(workflow, 2025, load_document_settings(settings_file))
    document: Document = notice.document()
    written: Path = write_document(document, "公示.docx")
    return notice.period, notice.working_days, render_html(document) + str(written)
