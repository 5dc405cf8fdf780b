"""Work queues: who is awaited, with which actions, by when; pages; dashboards; rebuilds."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmbase_workflow import Actor, Role, Workflow
from kmbase_workflow.case import State
from kmbase_workflow.errors import InvalidInputError, KmbaseError, StoreError
from kmbase_workflow.lifecycle import RECORDS, STEPS, Trigger
from kmbase_workflow.queues import (
    QUEUE_RULES,
    QueueKind,
    check_work_queue,
    dashboard,
    rebuild_work_queue,
    work_items_for,
    work_queue,
    work_queue_rules_table,
)
from kmbase_workflow.stores import CaseQuery, open_store
from kmbase_workflow.stores._work_queue import WorkItemQuery, WorkQueueStore
from lifecycle_helpers import (
    AWAY,
    BUREAU,
    CERTIFIED_ON,
    DISTRICT,
    EXPERT,
    HOME,
    NOTICE_DUE,
    OPERATOR,
    OTHER_DISTRICT,
    OTHER_OPERATOR,
    Harness,
    harness,
    other_base,
    walk_to,
)
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name

DOCS = Path(__file__).parent.parent / "docs"


def kinds(h: Harness, actor: Actor, **options: object) -> list[tuple[str, str]]:
    page = work_queue(h.workflow, actor, **options)  # type: ignore[arg-type]
    return [(entry.case_id, entry.kind.value) for entry in page.entries]


# -- the rules follow the lifecycle's declarations -----------------------------------------------


def test_every_rule_trigger_leaves_one_of_its_states_and_every_open_step_is_queued() -> None:
    for rule in QUEUE_RULES:
        for state in rule.states:
            assert rule.roles_in(state), (rule.kind, state)
            for role in rule.roles_in(state):
                for trigger in rule.actions_for(role, state):
                    step = next(s for s in (*STEPS, *RECORDS) if s.trigger is trigger)
                    assert state in step.sources
                    assert role in step.roles
    # Every step an official or operator must take on an open case is some rule's action,
    # but withdraw (possible anywhere) and the steps the system fires on a date.
    for state in (s for s in State if s.is_open):
        for step in (*STEPS, *RECORDS):
            humans = step.roles - {Role.SYSTEM, Role.PUBLIC}
            if (
                state not in step.sources
                or Role.SYSTEM in step.roles
                or not step.on_own_behalf
                or step.trigger is Trigger.WITHDRAW
            ):
                continue
            queued = {
                role
                for rule in QUEUE_RULES
                if state in rule.states
                for role in rule.roles_in(state)
                if step.trigger in rule.actions_for(role, state)
            }
            assert queued == humans, (state, step.trigger)


def test_the_docs_show_the_rules_as_declared() -> None:
    text = (DOCS / "how-to" / "work-queues.md").read_text(encoding="utf-8")
    assert work_queue_rules_table("en") in text
    assert work_queue_rules_table("zh") in text


# -- who sees what --------------------------------------------------------------------------------


def test_a_declaration_awaits_its_own_district_only() -> None:
    h = harness()
    walk_to(h, State.DECLARED)
    page = work_queue(h.workflow, DISTRICT)
    [entry] = page.entries
    assert entry.kind is QueueKind.DECLARATION_REVIEW
    assert entry.actions == (Trigger.RETURN_FOR_CORRECTION, Trigger.RECOMMEND, Trigger.DECLINE)
    assert entry.article.zh == "第十条"
    assert (entry.due_on, entry.overdue, entry.ready) == (None, False, True)
    assert kinds(h, OTHER_DISTRICT) == []
    assert kinds(h, BUREAU) == []
    assert kinds(h, OPERATOR) == []
    with pytest.raises(InvalidInputError, match="sees its own district only"):
        work_queue(h.workflow, DISTRICT, district=AWAY)


def test_a_returned_application_awaits_its_operator_until_its_deadline_then_is_overdue() -> None:
    h = harness()
    walk_to(h, State.RETURNED_FOR_CORRECTION)
    [entry] = work_queue(h.workflow, OPERATOR).entries
    assert entry.kind is QueueKind.CORRECTION
    assert entry.actions == (Trigger.RESUBMIT, Trigger.WITHDRAW)
    assert entry.due_on == dt.date(2025, 7, 10)
    assert not entry.overdue
    assert kinds(h, OTHER_OPERATOR) == []
    [late] = work_queue(h.workflow, OPERATOR, as_of=dt.date(2025, 7, 11)).entries
    assert late.overdue


def test_the_bureau_sees_each_stage_with_its_article() -> None:
    h = harness()
    expected = {
        State.DISTRICT_RECOMMENDED: ("expert_review", "第十一条"),
        State.EXPERT_REVIEWED: ("site_inspection", "第十二条"),
        State.SITE_INSPECTED: ("notice", "第十三条"),
        State.OBJECTED: ("objection", "第十三条"),
    }
    for number, (state, (kind, article)) in enumerate(expected.items()):
        case_id = f"c{number}"
        walk_to(h, state, case_id, other_base(f"基地{number}"))
        entry = next(e for e in work_queue(h.workflow, BUREAU).entries if e.case_id == case_id)
        assert (entry.kind.value, entry.article.zh) == (kind, article)
    experts = work_queue(h.workflow, EXPERT).entries
    assert [(e.case_id, e.actions) for e in experts] == [("c0", (Trigger.EXPERT_OPINION,))]


def test_certification_is_queued_when_the_notice_starts_and_ready_when_it_ends() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    [entry] = work_queue(h.workflow, BUREAU, as_of=NOTICE_DUE).entries
    assert entry.kind is QueueKind.CERTIFICATION
    assert entry.actions == (Trigger.CERTIFY,)
    assert entry.ready_on == CERTIFIED_ON
    assert not entry.ready
    [entry] = work_queue(h.workflow, BUREAU, as_of=CERTIFIED_ON).entries
    assert entry.ready


def test_annual_reports_open_in_their_year_fall_overdue_and_leave_when_filed() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    assert kinds(h, OPERATOR, as_of=dt.date(2025, 12, 31)) == []
    january = dt.date(2026, 1, 5)
    [base] = work_queue(h.workflow, OPERATOR, as_of=january).entries
    [district] = work_queue(h.workflow, DISTRICT, as_of=january).entries
    assert (base.obligation, base.article.zh) == ("annual_report:2026:base", "第十六条")
    assert (district.obligation, district.article.zh) == ("annual_report:2026:district", "第十七条")
    assert base.due_on == dt.date(2026, 2, 2)  # 31 January 2026 is a Saturday
    assert district.due_on == dt.date(2026, 2, 28)  # a Saturday made a working day (调休)
    assert work_queue(h.workflow, OPERATOR, as_of=dt.date(2026, 2, 10)).entries[0].overdue
    h.set(dt.date(2026, 2, 10))
    h.workflow.file_annual_report("c1", OPERATOR, 2026)
    assert kinds(h, OPERATOR, as_of=dt.date(2026, 2, 10)) == []
    assert kinds(h, DISTRICT, as_of=dt.date(2026, 2, 10)) == [("c1", "annual_report")]


def test_a_change_filing_awaits_the_bureau_until_it_evaluates_the_base() -> None:
    h = harness()
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 3, 2))
    h.workflow.file_change("c1", OPERATOR, "法定代表人变更", dt.date(2026, 2, 27))
    [entry] = work_queue(h.workflow, BUREAU).entries
    assert (entry.kind, entry.article.zh) == (QueueKind.CHANGE_FILING, "第十九条")
    assert Trigger.EVALUATION in entry.actions
    h.workflow.record_evaluation("c1", BUREAU, passed=True, evaluator="第三方测评机构")
    assert kinds(h, BUREAU) == []


def test_a_failed_evaluation_awaits_the_withdrawal_of_the_title() -> None:
    h = harness()
    walk_to(h, State.REVOCATION_PENDING)
    [entry] = list(work_queue(h.workflow, BUREAU).entries)
    assert entry.kind is QueueKind.TITLE_WITHDRAWAL
    assert entry.actions == (Trigger.REVOKE,)


def test_public_and_system_have_nothing_awaiting_them() -> None:
    h = harness()
    walk_to(h, State.PUBLICIZED)
    for actor in (Actor(Role.PUBLIC, "p"), Actor.system()):
        assert work_queue(h.workflow, actor).entries == ()


# -- order, filters and pages ----------------------------------------------------------------------


def _many(h: Harness, count: int) -> None:
    for number in range(count):
        h.set(dt.date(2025, 6, 20) + dt.timedelta(days=number % 5))
        application = other_base(f"基地{number:02d}", HOME if number % 3 else AWAY)
        h.workflow.declare(
            application, Actor.for_operator(application.operator), case_id=f"c{number:02d}"
        )


def test_pages_walk_the_whole_queue_once_in_urgency_order() -> None:
    h = harness()
    _many(h, 11)
    walk_to(h, State.RETURNED_FOR_CORRECTION, "late")
    everything = work_queue(h.workflow, BUREAU).entries  # nothing awaits the bureau
    assert everything == ()
    full = work_queue(h.workflow, DISTRICT, limit=100, as_of=dt.date(2025, 7, 20)).entries
    seen, cursor = [], None
    while True:
        page = work_queue(h.workflow, DISTRICT, limit=3, cursor=cursor, as_of=dt.date(2025, 7, 20))
        seen.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(full)
    assert [e.since for e in seen] == sorted(e.since for e in seen)
    operator = work_queue(h.workflow, OPERATOR, as_of=dt.date(2025, 7, 20)).entries
    assert [(e.case_id, e.overdue) for e in operator] == [("late", True)]


def test_filters_narrow_and_a_cursor_belongs_to_its_query() -> None:
    h = harness()
    _many(h, 6)
    bureau_view = Actor(Role.DISTRICT_AUTHORITY, "d", district=AWAY)
    assert {e.district for e in work_queue(h.workflow, bureau_view).entries} == {AWAY}
    assert work_queue(h.workflow, DISTRICT, round_year=2024).entries == ()
    assert work_queue(h.workflow, DISTRICT, state="returned_for_correction").entries == ()
    page = work_queue(h.workflow, DISTRICT, limit=1)
    assert page.next_cursor is not None
    with pytest.raises(InvalidInputError, match="cursor"):
        work_queue(h.workflow, DISTRICT, limit=1, cursor=page.next_cursor, state="declared")
    with pytest.raises(InvalidInputError, match="cursor"):
        work_queue(h.workflow, OTHER_DISTRICT, cursor=page.next_cursor)


# -- the projection never disagrees with the cases --------------------------------------------------


def _projected(workflow: Workflow) -> set[object]:
    store = workflow.store
    assert isinstance(store, WorkQueueStore)
    items = store.work_items(WorkItemQuery(as_of=dt.date(2100, 1, 1), limit=None))
    return set(items)


def _derived(workflow: Workflow) -> set[object]:
    return {
        item
        for case in workflow.store.find(CaseQuery())
        for item in work_items_for(
            case, policy=workflow.policy_for(case), calendar=workflow.calendar
        )
    }


def test_the_projection_is_the_derivation_of_every_stored_case() -> None:
    h = harness()
    assert check_work_queue(h.workflow).ok
    for number, state in enumerate(
        (State.DECLARED, State.OBJECTED, State.CERTIFIED, State.REJECTED)
    ):
        h.set(dt.date(2025, 6, 20))
        walk_to(h, state, f"c{number}", other_base(f"基地{number}"))
    assert _projected(h.workflow) == _derived(h.workflow) != set()
    check = check_work_queue(h.workflow)
    assert (check.ok, check.cases) == (True, 4)
    h.store._work_items["c0"] = ()  # a row lost
    h.store._work_items["ghost"] = tuple(  # rows of no case
        attrs.evolve(item, case_id="ghost") for item in h.store._work_items["c1"]
    )
    found = dict(check_work_queue(h.workflow).findings)
    assert set(found) == {"c0", "ghost"}
    assert "1 row(s) missing" in found["c0"].en
    assert "缺 1 行" in found["c0"].zh


def test_a_database_from_before_the_work_queue_is_rebuilt_by_command(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    h = harness()
    workflow = Workflow(url, clock=h.clock)
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    application = other_base("老基地")
    workflow.declare(application, Actor.for_operator(application.operator), case_id="old")
    workflow.close()
    with sqlite3.connect(path) as raw:  # as a database of the previous schema
        raw.executescript(
            "DROP TABLE work_queue; DROP TABLE work_queue_status; "
            "DROP INDEX cases_round_district_state; DROP INDEX cases_state_notice; "
            "DELETE FROM _sqlite_migrations WHERE name = 'm004_work_queue';"
        )
    raw.close()
    workflow = Workflow(url, clock=h.clock)
    with pytest.raises(StoreError, match="rebuild"):
        work_queue(workflow, DISTRICT)
    report = rebuild_work_queue(workflow)
    assert (report.cases, report.replaced, report.overtaken) == (1, 1, 0)
    assert [e.case_id for e in work_queue(workflow, DISTRICT).entries] == ["old"]
    assert _projected(workflow) == _derived(workflow)
    workflow.close()


# -- dashboards ---------------------------------------------------------------------------------------


def test_the_dashboard_counts_states_notices_deadlines_and_overdue_obligations() -> None:
    h = harness()
    walk_to(h, State.RETURNED_FOR_CORRECTION, "returned", other_base("退回基地", AWAY))
    walk_to(h, State.DECLARED, "declared", other_base("新基地"))
    board = dashboard(h.workflow, as_of=dt.date(2025, 7, 3), round_year=2025)
    assert board.by_state() == {"declared": 1, "returned_for_correction": 1}
    assert board.by_district() == {HOME: {"declared": 1}, AWAY: {"returned_for_correction": 1}}
    assert board.notices_running == ()
    assert [e.case_id for e in board.due_soon] == ["returned"]  # due 2025-07-10
    assert board.overdue == ()
    assert board.overdue_count == 0
    assert dashboard(h.workflow, as_of=dt.date(2025, 7, 3), working_days=4).due_soon == ()
    h.set(dt.date(2025, 6, 20))
    walk_to(h, State.PUBLICIZED, "notice", other_base("公示基地"))
    later = dashboard(h.workflow, as_of=dt.date(2025, 10, 9))
    assert later.by_state()["publicized"] == 1
    assert [n.case_id for n in later.notices_running] == ["notice"]
    assert [e.case_id for e in later.overdue] == ["returned"]
    assert later.overdue_count == 1
    assert dashboard(h.workflow, as_of=dt.date(2025, 10, 9), district=HOME).overdue_count == 0
    assert later.to_dict()["overdue"][0]["article"] == {"zh": "第十条", "en": "Art. 10"}
    assert dashboard(h.workflow, as_of=NOTICE_DUE + dt.timedelta(days=1)).notices_running == ()


# -- every store ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_queues_read_the_same_on_the_sql_stores(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'q.db'}"
    else:
        schema = request.getfixturevalue("schema")
        url = f"{URL}?schema={schema}"
    h = harness()
    memory = h.workflow
    sql = Workflow(open_store(url), clock=h.clock)
    for workflow in (memory, sql):
        h.workflow = workflow
        h.set(dt.date(2025, 6, 20))
        if workflow is sql:
            workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
        walk_to(h, State.OBJECTED, "o", other_base("异议基地"))
        h.set(dt.date(2025, 6, 20))
        walk_to(h, State.RETURNED_FOR_CORRECTION, "r", other_base("退回基地"))
        _many(h, 4)
    for actor in (
        BUREAU,
        DISTRICT,
        OTHER_DISTRICT,
        Actor.for_operator(other_base("退回基地").operator),
    ):
        for day in (dt.date(2025, 7, 1), dt.date(2025, 7, 20)):
            assert work_queue(memory, actor, as_of=day) == work_queue(sql, actor, as_of=day)
    assert dashboard(memory, as_of=dt.date(2025, 10, 9)) == dashboard(
        sql, as_of=dt.date(2025, 10, 9)
    )
    sql.close()


# -- bad input never ends in a traceback ---------------------------------------------------------------


_FUZZ = harness()
_many(_FUZZ, 4)


_INPUTS = st.fixed_dictionaries(
    {
        "role": st.sampled_from(list(Role)),
        "actor_id": st.text(min_size=1, max_size=8).filter(str.strip),
        "actor_district": st.one_of(
            st.none(), st.sampled_from([HOME, AWAY, "火星区", ""]), st.text(max_size=4)
        ),
        "district": st.one_of(st.none(), st.sampled_from([HOME, "火星区"]), st.text(max_size=3)),
        "as_of": st.one_of(
            st.none(), st.dates(), st.datetimes(), st.text(max_size=5), st.integers()
        ),
        "round_year": st.one_of(
            st.none(), st.integers(-5, 3000), st.text(max_size=3), st.booleans()
        ),
        "state": st.one_of(
            st.none(), st.sampled_from([s.value for s in State]), st.text(max_size=6)
        ),
        "limit": st.one_of(st.integers(-3, 600), st.text(max_size=2), st.none()),
        "cursor": st.one_of(st.none(), st.text(max_size=40), st.binary(max_size=10)),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(inputs=_INPUTS)
def test_any_input_gives_a_page_or_a_library_error(inputs: dict[str, Any]) -> None:
    role, actor_id, actor_district = (inputs.pop(k) for k in ("role", "actor_id", "actor_district"))
    try:
        actor = Actor(role, actor_id, district=actor_district)
        work_queue(_FUZZ.workflow, actor, **inputs)
        board = {key: inputs[key] for key in ("as_of", "round_year", "district")}
        dashboard(_FUZZ.workflow, **board)
    except KmbaseError as error:  # a library error says what was wrong in both languages
        error.describe("zh")
        error.describe("en")


def test_a_tampered_cursor_is_bad_input() -> None:
    h = harness()
    _many(h, 3)
    cursor = work_queue(h.workflow, DISTRICT, limit=1).next_cursor
    assert cursor is not None
    flipped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    for bad in (cursor[:-2], cursor + "x", "!!!", "", flipped):
        with pytest.raises(InvalidInputError):
            work_queue(h.workflow, DISTRICT, limit=1, cursor=bad)
