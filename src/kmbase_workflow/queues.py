"""Work queues: what awaits each actor, how urgent it is, and the round's dashboard.

A case awaits an actor when one of `QUEUE_RULES` holds for it. A rule names the states it
concerns and the triggers that discharge it; *who* is awaited, the actions they may take
and the article come from the lifecycle's one declaration per trigger
(`kmbase_workflow.lifecycle.STEPS` and ``RECORDS``: each trigger's roles, sources and
article), and the dates from `kmbase_workflow.deadlines` and the policy in force. A test
keeps the rules and the lifecycle in step (every open state's steps are some rule's; every
rule's trigger leaves the rule's states).

The queue is read from a projection the store keeps in the same transaction as each commit
(`kmbase_workflow.stores.WorkItem`, one row per case and pending obligation), so a queue is
answered from indexed columns without loading a case or its application:

>>> import datetime as dt
>>> from kmbase_workflow import Actor, FixedClock, Role, Workflow
>>> from kmbase_workflow.examples import eligible_application
>>> workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
>>> bureau = Actor(Role.CITY_BUREAU, "bureau-01")
>>> _ = workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau)
>>> application = eligible_application()
>>> _ = workflow.declare(application, Actor.for_operator(application.operator))
>>> district = Actor(Role.DISTRICT_AUTHORITY, "d-7", district=application.base.district)
>>> page = work_queue(workflow, district)
>>> [entry] = page.entries
>>> entry.kind.value, ", ".join(action.value for action in entry.actions)
('declaration_review', 'return_for_correction, recommend, decline')

Order: overdue obligations first (oldest deadline first), then by the nearest date (a
deadline, or the day the actions become possible), then the longest waiting. Pages are
keyset pages: `QueuePage.next_cursor` continues after the last entry shown, and is bound
to the filters and the day it was asked on.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

import attrs

from ._i18n import Text
from .actors import Actor, Role
from .case import State
from .eligibility import district_problems
from .errors import InvalidInputError, PolicyNotFoundError, StoreError
from .lifecycle import Trigger
from .policy import Policy, policy_in_force
from .queue_rules import (
    QUEUE_RULES,
    QueueKind,
    QueueRule,
    work_items_for,
    work_queue_rules_table,
)
from .stores import (
    CaseCount,
    CaseQuery,
    CaseStore,
    NoticeRunning,
    WorkItem,
    WorkItemQuery,
    WorkQueueStore,
)
from .workflow import Workflow

__all__ = [
    "QUEUE_RULES",
    "CaseCount",
    "Dashboard",
    "NoticeRunning",
    "QueueCheck",
    "QueueEntry",
    "QueueKind",
    "QueuePage",
    "QueueRule",
    "RebuildReport",
    "WorkItem",
    "check_work_queue",
    "dashboard",
    "rebuild_work_queue",
    "work_items_for",
    "work_queue",
    "work_queue_rules_table",
]

MAX_PAGE = 500
"""The largest page a queue returns."""


# -- reading a queue ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class QueueEntry:
    """One case awaiting an actor: what to do, by when, and whether it is late."""

    case_id: str
    base_name: str
    base_id: str
    district: str
    operator_id: str
    round_year: int
    state: State
    kind: QueueKind
    obligation: str
    role: Role
    actions: tuple[Trigger, ...]
    """What the actor may fire to discharge it (the lifecycle's roles for these triggers)."""
    article: Text
    since: dt.date
    due_on: dt.date | None
    """The deadline of the measures, if one applies."""
    ready_on: dt.date | None
    """The first day the actions are possible, if later than the step that led here."""
    overdue: bool
    """The deadline has passed (as of the day asked)."""
    ready: bool
    """The actions are possible today (``ready_on`` has come, or there is none)."""

    @property
    def label(self) -> Text:
        """What awaits, in both languages."""
        return self.kind.rule.label

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, every text in both languages."""
        label = self.label
        due_on, ready_on = self.due_on, self.ready_on
        return {
            "case_id": self.case_id,
            "base_name": self.base_name,
            "base_id": self.base_id,
            "district": self.district,
            "operator_id": self.operator_id,
            "round_year": self.round_year,
            "state": self.state.value,
            "kind": self.kind.value,
            "obligation": self.obligation,
            "label": {"zh": label.zh, "en": label.en},
            "role": self.role.value,
            "actions": [action.value for action in self.actions],
            "article": {"zh": self.article.zh, "en": self.article.en},
            "since": self.since.isoformat(),
            "due_on": due_on.isoformat() if due_on else None,
            "ready_on": ready_on.isoformat() if ready_on else None,
            "overdue": self.overdue,
            "ready": self.ready,
        }


E = TypeVar("E", bound=enum.Enum)


def _members(kind: type[E]) -> Callable[[str], E]:
    """``kind(value)`` by a table of its members: an inbox page converts six values an entry,
    and calling the enumeration takes a microsecond each; a value not in the table still
    calls it (and is refused as it refuses it)."""
    table: dict[object, E] = {member.value: member for member in kind}

    def member(value: str) -> E:
        found = table.get(value)
        return found if found is not None else kind(value)

    return member


_state, _kind, _role, _trigger = (
    _members(State),
    _members(QueueKind),
    _members(Role),
    _members(Trigger),
)


def _entry(item: WorkItem, as_of: dt.date) -> QueueEntry:
    return QueueEntry(
        case_id=item.case_id,
        base_name=item.base_name,
        base_id=item.base_id,
        district=item.district,
        operator_id=item.operator_id,
        round_year=item.round_year,
        state=_state(item.state),
        kind=_kind(item.kind),
        obligation=item.obligation,
        role=_role(item.role),
        actions=tuple(_trigger(action) for action in item.actions),
        article=Text(zh=item.article_zh, en=item.article_en),
        since=item.since,
        due_on=item.due_on,
        ready_on=item.ready_on,
        overdue=item.due_on is not None and item.due_on < as_of,
        ready=item.ready_on is None or item.ready_on <= as_of,
    )


@attrs.frozen
class QueuePage:
    """One page of an actor's queue. ``next_cursor``: pass it back for the next page
    (``None``: this was the last)."""

    actor: Actor
    as_of: dt.date
    entries: tuple[QueueEntry, ...]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "actor": {"role": self.actor.role.value, "id": self.actor.id,
                      "district": self.actor.district},
            "as_of": self.as_of.isoformat(),
            "entries": [entry.to_dict() for entry in self.entries],
            "next_cursor": self.next_cursor,
        }  # fmt: skip


def _bad(zh: str, en: str, hint_zh: str, hint_en: str) -> InvalidInputError:
    return InvalidInputError(Text(zh=zh, en=en), hint=Text(zh=hint_zh, en=hint_en))


_KEEPS_QUEUE: dict[type, bool] = {}
"""Whether a store class is a `WorkQueueStore` (a protocol check is slow to repeat)."""


def _projection(store: CaseStore, *, allow_stale: bool = False) -> WorkQueueStore:
    kind = type(store)
    if kind not in _KEEPS_QUEUE:
        _KEEPS_QUEUE[kind] = isinstance(store, WorkQueueStore)
    if not _KEEPS_QUEUE[kind]:
        raise StoreError(
            Text(
                zh=f"存储 {type(store).__name__} 不维护待办队列",
                en=f"the store {type(store).__name__} keeps no work queue",
            ),
            hint=Text(
                zh="使用内置的 memory、SQLite 或 PostgreSQL 存储",
                en="use a bundled store (memory, SQLite, PostgreSQL)",
            ),
        )
    queue = cast("WorkQueueStore", store)
    if not allow_stale and queue.work_queue_stale():
        raise StoreError(
            Text(
                zh="待办队列需要根据案件重建（数据库刚升级，或有案件写入时未附带待办）",
                en="the work queue must be rebuilt from the cases (the database was just "
                "upgraded, or a case was written without its obligations)",
            ),
            hint=Text(
                zh="运行 kmbase db rebuild-work-queue，或调用 rebuild_work_queue(workflow)",
                en="run kmbase db rebuild-work-queue, or call rebuild_work_queue(workflow)",
            ),
        )
    return queue


def _scope(actor: Actor, district: str | None, policy: Policy) -> dict[str, Any]:
    """The projection's filters for what ``actor`` may see (第四条: a district authority its
    own district, an operator its own bases)."""
    if not isinstance(actor, Actor):
        raise _bad("需要一个 Actor", "an Actor is needed", "例如 Actor(Role.CITY_BUREAU, 'u-1')",
                   "for example Actor(Role.CITY_BUREAU, 'u-1')")  # fmt: skip
    asked = (district, actor.district if actor.role is Role.DISTRICT_AUTHORITY else None)
    for value in asked:
        if value is not None:
            problems = district_problems(value, policy)
            if problems:
                raise InvalidInputError(problems[0])
    scope: dict[str, Any] = {"role": actor.role.value, "district": district}
    if actor.role is Role.DISTRICT_AUTHORITY:
        if district is not None and district != actor.district:
            raise _bad(
                f"{actor.district}主管部门只能查看本县区的待办，不能查看{district}",
                f"the authority of {actor.district} sees its own district only, not {district}",
                "去掉 --district，或以市工业和信息化局身份查看",
                "leave out the district, or ask as the city bureau",
            )
        scope["district"] = actor.district
    elif actor.role is Role.OPERATOR:
        scope["operator_id"] = actor.id
    return scope


def _fingerprint(scope: dict[str, Any], as_of: dt.date) -> str:
    text = json.dumps({**scope, "as_of": as_of.isoformat()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_cursor(
    segment: int, key: tuple[dt.date, dt.date, str, str, str], print_: str, as_of: dt.date
) -> str:
    data = {"s": segment, "k": [key[0].isoformat(), key[1].isoformat(), *key[2:]],
            "f": print_, "d": as_of.isoformat()}  # fmt: skip
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _bad_cursor() -> InvalidInputError:
    return _bad(
        "翻页游标无效，或不属于这一查询",
        "the cursor is not valid, or belongs to another query",
        "请使用上一页返回的 next_cursor，且保持筛选条件不变",
        "pass the next_cursor of the previous page, with the same filters",
    )


def _decode_cursor(cursor: str) -> tuple[int, tuple[dt.date, dt.date, str, str, str], str, dt.date]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        sort_on, since, case_id, obligation, role = data["k"]
        segment = data["s"]
        if segment not in (0, 1) or not all(
            isinstance(v, str) for v in (case_id, obligation, role, data["f"])
        ):
            raise ValueError(segment)
        key = (
            dt.date.fromisoformat(sort_on),
            dt.date.fromisoformat(since),
            case_id,
            obligation,
            role,
        )
        return segment, key, data["f"], dt.date.fromisoformat(data["d"])
    except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, AttributeError):
        raise _bad_cursor() from None


def _check_date(value: object, what: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise _bad(f"{what} 应为日期，收到 {value!r}", f"{what} must be a date, got {value!r}",
                   "请传入 datetime.date", "pass a datetime.date")  # fmt: skip
    return value


def _policy(workflow: Workflow, day: dt.date) -> Policy:
    """The policy whose districts an actor is checked against on ``day``."""
    try:
        return policy_in_force(workflow.policies, day)
    except PolicyNotFoundError:  # a day before any policy: the newest one's districts apply
        return workflow.policies[-1]


def work_queue(
    workflow: Workflow,
    actor: Actor,
    *,
    as_of: dt.date | None = None,
    round_year: int | None = None,
    district: str | None = None,
    state: State | str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> QueuePage:
    """The cases awaiting ``actor``, most urgent first, one page at a time.

    A district authority sees its own district's cases, an operator its own bases (by its
    unified social credit code), the city bureau and experts every district (``district``
    narrows). ``as_of`` is the day asked (default: the workflow's today); ``round_year``
    and ``state`` filter; ``cursor`` is the previous page's `QueuePage.next_cursor`. Bad
    input of any kind is an `InvalidInputError`.
    """
    day = workflow.today() if as_of is None else _check_date(as_of, "as_of")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise _bad(f"每页条数应在 1 到 {MAX_PAGE} 之间，收到 {limit!r}",
                   f"limit must be between 1 and {MAX_PAGE}, got {limit!r}",
                   "例如 50", "for example 50")  # fmt: skip
    if round_year is not None and (isinstance(round_year, bool) or not isinstance(round_year, int)):
        raise _bad(f"年度应为整数，收到 {round_year!r}", f"round_year must be a year, got {round_year!r}",
                   "例如 2025", "for example 2025")  # fmt: skip
    chosen_state = State(state) if state is not None else None
    scope = _scope(actor, district, _policy(workflow, day))
    scope.update(round_year=round_year, state=chosen_state.value if chosen_state else None)
    fingerprint = _fingerprint(scope, day)
    segment, after = 0, None
    if cursor is not None:
        if not isinstance(cursor, str):
            raise _bad_cursor()
        segment, key, printed, day_asked = _decode_cursor(cursor)
        if printed != _fingerprint(scope, day_asked):
            raise _bad_cursor()
        day, after = day_asked, key
        fingerprint = printed
    store = _projection(workflow.store)
    if actor.role in (Role.PUBLIC, Role.SYSTEM):
        return QueuePage(actor, day, (), None)
    found: list[tuple[int, WorkItem]] = []
    for part in (0, 1):
        if part < segment or len(found) > limit:
            continue
        query = WorkItemQuery(
            as_of=day, overdue=part == 0, after=after if part == segment else None,
            limit=limit + 1 - len(found), **scope,
        )  # fmt: skip
        found.extend((part, item) for item in store.work_items(query))
    shown = found[:limit]
    next_cursor = None
    if len(found) > limit:
        part, last = shown[-1]
        next_cursor = _encode_cursor(part, last.key, fingerprint, day)
    return QueuePage(actor, day, tuple(_entry(item, day) for _, item in shown), next_cursor)


# -- rebuilding ----------------------------------------------------------------------------------


@attrs.frozen
class RebuildReport:
    """What `rebuild_work_queue` did: cases seen, and those a commit overtook meanwhile
    (their rows are already the newer commit's)."""

    cases: int
    replaced: int
    overtaken: int

    def to_dict(self) -> dict[str, int]:
        """JSON-ready."""
        return {"cases": self.cases, "replaced": self.replaced, "overtaken": self.overtaken}


def rebuild_work_queue(workflow: Workflow, *, chunk: int = 500) -> RebuildReport:
    """Derive every case's obligations again and replace the projection's rows (a
    database migrated from before ``m004_work_queue``, or after changes written without
    their obligations). A case committed meanwhile keeps the rows of its newer commit."""
    store = workflow.store
    queue = _projection(store, allow_stale=True)
    seen = replaced = 0
    batch: list[tuple[str, int, tuple[WorkItem, ...]]] = []
    for case in store.find(CaseQuery()):
        policy = workflow.policy_for(case)
        batch.append(
            (case.id, case.version, work_items_for(case, policy=policy, calendar=workflow.calendar))
        )
        seen += 1
        if len(batch) >= chunk:
            replaced += queue.replace_work_items(batch)
            batch = []
    replaced += queue.replace_work_items(batch)
    queue.mark_work_queue_built()
    return RebuildReport(seen, replaced, seen - replaced)


@attrs.frozen
class QueueCheck:
    """What `check_work_queue` found: each case whose stored rows are not the rows its
    obligations derive to, with the difference in both languages."""

    cases: int
    findings: tuple[tuple[str, Text], ...]
    stale: bool = False
    """The store marks the queue as to be rebuilt (see `rebuild_work_queue`)."""

    @property
    def ok(self) -> bool:
        """The projection is the derivation of every case, and not marked stale."""
        return not self.findings and not self.stale

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "cases": self.cases,
            "ok": self.ok,
            "stale": self.stale,
            "findings": [{"case_id": c, "zh": f.zh, "en": f.en} for c, f in self.findings],
        }


def check_work_queue(workflow: Workflow) -> QueueCheck:
    """Compare the stored work queue with the obligations derived from every case (an
    audit of the projection: rows deleted, altered or left behind show). A disagreement is
    mended by `rebuild_work_queue`."""
    store = workflow.store
    queue = _projection(store, allow_stale=True)
    stored: dict[str, set[WorkItem]] = {}
    for item in queue.work_items(WorkItemQuery(as_of=dt.date.max, limit=None)):
        stored.setdefault(item.case_id, set()).add(item)
    findings: list[tuple[str, Text]] = []
    seen = 0
    for case in store.find(CaseQuery()):
        seen += 1
        derived = set(
            work_items_for(case, policy=workflow.policy_for(case), calendar=workflow.calendar)
        )
        rows = stored.pop(case.id, set())
        missing, extra = len(derived - rows), len(rows - derived)
        if missing or extra:
            findings.append(
                (
                    case.id,
                    Text(
                        zh=f"待办队列与案件不符：缺 {missing} 行，多 {extra} 行",
                        en=f"the work queue disagrees with the case: {missing} row(s) missing, "
                        f"{extra} row(s) not derived from it",
                    ),
                )
            )
    for case_id, rows in stored.items():
        findings.append(
            (
                case_id,
                Text(
                    zh=f"待办队列中有 {len(rows)} 行不属于任何案件",
                    en=f"the work queue holds {len(rows)} row(s) of no case",
                ),
            )
        )
    return QueueCheck(seen, tuple(findings), queue.work_queue_stale())


# -- dashboards ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Dashboard:
    """A round's (or every round's) figures for the city or one district, as of a day."""

    as_of: dt.date
    round_year: int | None
    district: str | None
    horizon: dt.date
    """The last day of "deadlines soon": ``working_days`` working days after ``as_of``."""
    working_days: int
    counts: tuple[CaseCount, ...]
    notices_running: tuple[NoticeRunning, ...]
    due_soon: tuple[QueueEntry, ...]
    """Obligations with a deadline from ``as_of`` to ``horizon``, nearest first."""
    overdue: tuple[QueueEntry, ...]
    """Overdue obligations, oldest deadline first (at most ``limit``; see ``overdue_count``)."""
    overdue_count: int

    def by_state(self) -> dict[str, int]:
        """Cases per state."""
        totals: dict[str, int] = {}
        for count in self.counts:
            totals[count.state] = totals.get(count.state, 0) + count.count
        return totals

    def by_district(self) -> dict[str, dict[str, int]]:
        """Cases per district and state."""
        table: dict[str, dict[str, int]] = {}
        for count in self.counts:
            row = table.setdefault(count.district, {})
            row[count.state] = row.get(count.state, 0) + count.count
        return table

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "as_of": self.as_of.isoformat(),
            "round_year": self.round_year,
            "district": self.district,
            "working_days": self.working_days,
            "horizon": self.horizon.isoformat(),
            "by_state": self.by_state(),
            "by_district": self.by_district(),
            "notices_running": [
                {"case_id": n.case_id, "round_year": n.round_year, "district": n.district,
                 "state": n.state, "notice_due": n.notice_due.isoformat()}
                for n in self.notices_running
            ],
            "due_soon": [entry.to_dict() for entry in self.due_soon],
            "overdue": [entry.to_dict() for entry in self.overdue],
            "overdue_count": self.overdue_count,
        }  # fmt: skip


def dashboard(
    workflow: Workflow,
    *,
    as_of: dt.date | None = None,
    round_year: int | None = None,
    district: str | None = None,
    working_days: int = 10,
    limit: int = 100,
) -> Dashboard:
    """The round and city dashboard: cases by state and district, notices running,
    deadlines in the next ``working_days`` working days and overdue obligations (every
    role's), read from the projection and the cases' indexed columns."""
    day = workflow.today() if as_of is None else _check_date(as_of, "as_of")
    for value, name in ((working_days, "working_days"), (limit, "limit")):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
            raise _bad(f"{name} 应为 1 到 10000 的整数，收到 {value!r}",
                       f"{name} must be a whole number from 1 to 10000, got {value!r}",
                       "例如 10", "for example 10")  # fmt: skip
    if round_year is not None and (isinstance(round_year, bool) or not isinstance(round_year, int)):
        raise _bad(f"年度应为整数，收到 {round_year!r}", f"round_year must be a year, got {round_year!r}",
                   "例如 2025", "for example 2025")  # fmt: skip
    if district is not None:
        problems = district_problems(district, _policy(workflow, day))
        if problems:
            raise InvalidInputError(problems[0])
    store = _projection(workflow.store)
    horizon = workflow.calendar.add_working_days(day, working_days, allow_provisional=True)
    scope = WorkItemQuery(as_of=day, round_year=round_year, district=district, limit=limit)
    soon = store.work_items(attrs.evolve(scope, overdue=False, due_from=day, due_until=horizon))
    late_query = attrs.evolve(scope, overdue=True)
    late = store.work_items(late_query)
    return Dashboard(
        as_of=day,
        round_year=round_year,
        district=district,
        horizon=horizon,
        working_days=working_days,
        counts=tuple(store.case_counts(round_year, district)),
        notices_running=tuple(store.notices_running(day, round_year, district)),
        due_soon=tuple(_entry(item, day) for item in soon),
        overdue=tuple(_entry(item, day) for item in late),
        overdue_count=store.count_work_items(late_query),
    )
