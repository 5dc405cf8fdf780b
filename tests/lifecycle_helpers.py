"""Shared builders for the lifecycle tests: a Workflow on a MemoryStore with a FixedClock,
an actor for every role (right and wrong district, right and wrong operator), and a helper
that walks a case along the measures to a given state.

The walk uses the dates of the worked example in docs: declared 2025-06-20, publicized
Friday 2025-09-26 (the notice runs across National Day to 2025-10-15), certified 2025-10-16
(the first working day after the notice), valid through 2028-10-15.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs

from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.case import (
    Case,
    CollectiveDecision,
    Correction,
    Evaluation,
    Recommendation,
    Revocation,
    RevocationGround,
    State,
)
from kmbase_workflow.clock import FixedClock
from kmbase_workflow.events import Event
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.lifecycle import Trigger
from kmbase_workflow.records import Application, SpotCheck
from kmbase_workflow.stores import MemoryStore
from kmbase_workflow.workflow import Outcome, Workflow

DECLARED_ON = dt.date(2025, 6, 20)
ROUND_OPENS = dt.date(2025, 6, 1)
ROUND_CLOSES = dt.date(2025, 7, 31)
PUBLISHED_ON = dt.date(2025, 9, 26)
NOTICE_DUE = dt.date(2025, 10, 15)
CERTIFIED_ON = dt.date(2025, 10, 16)
VALID_UNTIL = dt.date(2028, 10, 15)

APPLICATION = eligible_application()
HOME = APPLICATION.base.district  # 五华区
AWAY = "呈贡区"

BUREAU = Actor(Role.CITY_BUREAU, "市工业和信息化局")
OPERATOR = Actor.for_operator(APPLICATION.operator)
OTHER_OPERATOR = Actor(Role.OPERATOR, "昆明另一家园区运营有限公司")
DISTRICT = Actor(Role.DISTRICT_AUTHORITY, "五华区工信局", district=HOME)
OTHER_DISTRICT = Actor(Role.DISTRICT_AUTHORITY, "呈贡区工信局", district=AWAY)
EXPERT = Actor(Role.EXPERT, "专家甲")
PUBLIC = Actor(Role.PUBLIC, "匿名群众")
SYSTEM = Actor.system()

ACTORS: dict[str, Actor] = {
    "operator": OPERATOR,
    "other_operator": OTHER_OPERATOR,
    "district": DISTRICT,
    "other_district": OTHER_DISTRICT,
    "city_bureau": BUREAU,
    "expert": EXPERT,
    "public": PUBLIC,
    "system": SYSTEM,
}
"""One actor of each role; the operator and the district authority also in a wrong variant."""

GOOD_RECOMMENDATION = Recommendation("同意推荐", True, SpotCheck(60, 6, 6))
DECISION = CollectiveDecision("局党组会议纪要〔2025〕12号", CERTIFIED_ON)
VIOLATION = Revocation(RevocationGround.VIOLATION, dt.date(2026, 3, 5), "虚报入驻企业数量")
CORRECTION = Correction(("缺少上一年度财务审计报告",), dt.date(2025, 7, 10), DECLARED_ON)
ANNOUNCED_ON = dt.date(2025, 9, 22)
"""The day the bureau announces the notice that starts on PUBLISHED_ON."""
FAILED_EVALUATION = Evaluation("第三方测评机构", passed=False, report="服务能力不达标")
EVALUATED_ON = dt.date(2026, 3, 2)


def complete_but_ineligible() -> Application:
    """The ineligible example with every material supplied: declarable, not recommendable.

    It stays in 呈贡区, so the district authority that may act on it is :data:`OTHER_DISTRICT`.
    """
    return attrs.evolve(ineligible_application(), materials=dict(APPLICATION.materials))


def other_base(name: str = "盘龙小微企业创业园", district: str = HOME) -> Application:
    """An eligible application of a different base (own operator and credit code)."""
    return attrs.evolve(
        APPLICATION,
        base=attrs.evolve(APPLICATION.base, name=name, district=district),
        operator=attrs.evolve(APPLICATION.operator, name=f"{name}运营有限公司"),
    )


@attrs.define
class Harness:
    """A workflow, its clock, and every event its bus delivered (in order)."""

    workflow: Workflow
    clock: FixedClock
    store: MemoryStore
    seen: list[Event] = attrs.field(factory=list)

    def types(self) -> list[str]:
        """The types of the events delivered so far."""
        return [event.type for event in self.seen]

    def set(self, day: dt.date) -> None:
        """Move the clock."""
        self.clock.set(day)

    def snapshot(self, case_id: str) -> tuple[Case, int, int, int]:
        """What a refused step must leave alone: case, history length, outbox length, events."""
        return (
            self.workflow.case(case_id),
            len(self.workflow.history(case_id)),
            len(self.store.read_outbox(0, 10_000)),
            len(self.seen),
        )


def harness(
    start: dt.date = DECLARED_ON, *, allow_provisional: bool = False, open_round: bool = True
) -> Harness:
    """A fresh Workflow on a MemoryStore at ``start``, with the 2025 round open."""
    clock = FixedClock(start)
    store = MemoryStore()
    workflow = Workflow(store, clock=clock, allow_provisional=allow_provisional)
    h = Harness(workflow, clock, store)
    workflow.bus.subscribe(h.seen.append)
    if open_round:
        workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    return h


# The happy path, and the side roads, in the order of the measures.
_PATH: dict[State, tuple[State | None, str]] = {
    State.DECLARED: (None, "declare"),
    State.RETURNED_FOR_CORRECTION: (State.DECLARED, "return_for_correction"),
    State.NOTICE_ANNOUNCED: (State.SITE_INSPECTED, "announce_notice"),
    State.REVOCATION_PENDING: (State.CERTIFIED, "fail_evaluation"),
    State.DISTRICT_RECOMMENDED: (State.DECLARED, "recommend"),
    State.NOT_RECOMMENDED: (State.DECLARED, "decline"),
    State.EXPERT_REVIEWED: (State.DISTRICT_RECOMMENDED, "pass_review"),
    State.REJECTED: (State.DISTRICT_RECOMMENDED, "fail_review"),
    State.SITE_INSPECTED: (State.EXPERT_REVIEWED, "pass_inspection"),
    State.PUBLICIZED: (State.SITE_INSPECTED, "publicize"),
    State.OBJECTED: (State.PUBLICIZED, "object"),
    State.VERIFIED: (State.OBJECTED, "verify"),
    State.CERTIFIED: (State.PUBLICIZED, "certify"),
    State.EXPIRED: (State.CERTIFIED, "expire"),
    State.REVOKED: (State.CERTIFIED, "revoke"),
    State.WITHDRAWN: (State.DECLARED, "withdraw"),
}


def step_case(h: Harness, case_id: str, action: str, application: Application) -> Outcome:
    """Take one step of the walk (see :func:`walk_to`) on an existing case."""
    wf = h.workflow
    district = DISTRICT if application.base.district == HOME else OTHER_DISTRICT
    operator = Actor.for_operator(application.operator)
    clock_for = {
        "publicize": max(PUBLISHED_ON, wf.today()),
        "object": dt.date(2025, 10, 9),
        "certify": CERTIFIED_ON,
        "expire": VALID_UNTIL + dt.timedelta(days=1),
        "revoke": VIOLATION.decided_on,
        "announce_notice": ANNOUNCED_ON,
        "fail_evaluation": EVALUATED_ON,
    }
    if action in clock_for:
        h.set(clock_for[action])
    if action == "pass_review":
        wf.record_expert_opinion(case_id, EXPERT, 88, "服务功能完善")
    steps: dict[str, Callable[[], Outcome]] = {
        "declare": lambda: wf.declare(application, operator, case_id=case_id),
        "recommend": lambda: wf.recommend(case_id, district, GOOD_RECOMMENDATION),
        "decline": lambda: wf.decline(case_id, district, "材料与实际不符"),
        "pass_review": lambda: wf.pass_review(case_id, BUREAU),
        "fail_review": lambda: wf.fail_review(case_id, BUREAU, "评分未进入前列"),
        "pass_inspection": lambda: wf.pass_inspection(case_id, BUREAU, "现场核查情况属实"),
        "publicize": lambda: wf.publicize(case_id, BUREAU),
        "object": lambda: wf.raise_objection(case_id, PUBLIC, "入驻企业数量不实"),
        "verify": lambda: wf.verify_objection(case_id, BUREAU, "经核实属实", sustained=False),
        "certify": lambda: wf.certify(case_id, BUREAU, DECISION),
        "expire": lambda: wf.fire(case_id, Trigger.EXPIRE, SYSTEM, reason="有效期满"),
        "revoke": lambda: wf.revoke(case_id, BUREAU, VIOLATION),
        "withdraw": lambda: wf.withdraw(case_id, operator, "主动撤回"),
        "return_for_correction": lambda: wf.return_for_correction(
            case_id, district, CORRECTION.deficiencies, CORRECTION.due
        ),
        "announce_notice": lambda: wf.publicize(case_id, BUREAU, PUBLISHED_ON),
        "fail_evaluation": lambda: wf.record_evaluation(
            case_id, BUREAU, passed=False, evaluator=FAILED_EVALUATION.evaluator
        ),
    }
    return steps[action]()


def walk_to(
    h: Harness,
    state: State,
    case_id: str = "c1",
    application: Application = APPLICATION,
) -> Case:
    """Take a new case along the measures to ``state`` (moving the clock as the walk needs).

    WITHDRAWN is reached from DECLARED; REJECTED by failing the expert review.
    """
    actions: list[str] = []
    target: State | None = state
    while target is not None:
        source, action = _PATH[target]
        actions.append(action)
        target = source
    for action in reversed(actions):
        step_case(h, case_id, action, application)
    case = h.workflow.case(case_id)
    assert case.state is state
    return case


OPEN_STATES = tuple(state for state in State if state.is_open)


def sample_database(path: str) -> str:
    """The URL of a new SQLite file at ``path`` with a certified case (c1), a declared one
    (c2) and one returned for correction (c3): the store the command-line tests read."""
    h = harness()
    h.workflow = Workflow(f"sqlite:///{path}", clock=h.clock)
    h.workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
    walk_to(h, State.VERIFIED)
    h.set(dt.date(2025, 10, 16))
    h.workflow.certify("c1", BUREAU, DECISION)
    h.set(dt.date(2025, 6, 20))
    walk_to(h, State.DECLARED, "c2", other_base("新基地"))
    walk_to(h, State.RETURNED_FOR_CORRECTION, "c3", other_base("退回基地"))
    h.workflow.close()
    return f"sqlite:///{path}"
