"""The workflow service: load a case, fire a step, save state + history + events in one
transaction, then publish.

Every change goes through one path: `Workflow.prepare` checks a step's guards and builds the
change (new case, sealed history entry, events) without writing; `Workflow.commit` writes a
list of changes in one transaction and publishes their events. `declare`, `fire`, the named
steps, the records, `select_round` (one transaction for the whole ranking), bulk runs and the
sweep are all that path.

>>> import datetime as dt
>>> from kmbase_workflow import Actor, FixedClock, Role, Workflow
>>> from kmbase_workflow.examples import eligible_application
>>> workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
>>> bureau = Actor(Role.CITY_BUREAU, "bureau-01", name="市工业和信息化局")
>>> workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau).year
2025
>>> application = eligible_application()
>>> outcome = workflow.declare(application, Actor.for_operator(application.operator))
>>> outcome.case.state.value, outcome.case.version
('declared', 1)
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from ._closing import Closing
from ._i18n import Text
from .actors import Actor, Role
from .audit import (
    application_digest,
    case_canonical,
    event_canonical,
    event_digest,
    round_digest,
    verify_case,
)
from .calendar import WorkingDayCalendar, default_calendar
from .case import (
    AnnualReport,
    Case,
    ChangeFiling,
    ChangeKind,
    CollectiveDecision,
    Correction,
    DeclarationRound,
    Evaluation,
    ExpertOpinion,
    NoticeAnnouncement,
    Objection,
    PlaqueReturn,
    ProvincialRecommendation,
    Recommendation,
    Revocation,
    Selection,
    State,
)
from .clock import Clock, SystemClock, today
from .deadlines import (
    DEFAULT_REMINDER_LEAD_DAYS,
    annual_report_deadlines,
    expiry_reminders,
)
from .eligibility import selection_key
from .errors import (
    ConcurrencyConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    TransitionRefusedError,
)
from .events import (
    AnnualReportOverdue,
    CorrectionOverdue,
    DeliveryFailure,
    Event,
    EventBus,
    NoticePeriodEnded,
    RoundOpened,
    ValidityEndingSoon,
)
from .history import GENESIS_HASH, ChainReport, HistoryEntry, canonical_json, sha256
from .lifecycle import (
    Authorization,
    GuardContext,
    GuardFailure,
    Trigger,
    apply_trigger,
    check_guards,
    check_payload_type,
    completed,
    event_deadlines,
    event_details,
    refusal,
    regulation_roles,
    step_for,
)
from .policy import Policy, bundled_policies, policy_in_force
from .queues import work_items_for
from .records import Application, Operator
from .serialization import unstructure
from .stores import CaseQuery, CaseStore, Change, open_store
from .stores._rows import ChangeData, case_data_without_application, event_data

__all__ = ["Outcome", "SweepReport", "Workflow"]


@attrs.frozen
class Outcome:
    """What one command did: the case after it, its history entry and its events.

    ``replayed`` is true when an idempotency key had already run the same command: nothing
    new was written, ``entry`` is the one the first run wrote and ``case`` is the case now.
    ``delivery_failures`` lists subscribers that raised (the change stays committed).
    """

    case: Case
    entry: HistoryEntry
    events: tuple[Event, ...]
    replayed: bool = False
    delivery_failures: tuple[DeliveryFailure, ...] = ()


@attrs.frozen
class SweepReport:
    """What a sweep found and did at ``as_of``."""

    as_of: dt.date
    expired: tuple[str, ...]
    events: tuple[Event, ...]
    refused: tuple[tuple[str, TransitionRefusedError], ...] = ()
    started: tuple[str, ...] = ()
    """Cases whose announced public notice began (``start_notice``)."""


_SWEEP_RETRIES = 5
"""How often the sweep reloads a case another writer changed under it."""


class Workflow(Closing):
    """The service every face (Python API, CLI, bulk runner, simulation) goes through.

    ``store`` is a `CaseStore` or a URL (default:
    ``$KMBASE_DB``, else the SQLite file ``kmbase.db``); ``clock`` tells the
    time (never the system clock inside the library, unless you pass ``SystemClock()``, the
    default); ``policies`` are the versions of the measures to choose from by declaration
    date (default: the bundled ones); ``calendar`` counts working days; ``bus`` delivers
    events after each commit; ``allow_provisional`` lets deadlines fall in years without an
    official holiday notice (marked provisional) instead of refusing; ``authorization`` says
    who may fire a step (default `regulation_roles`; add a host's own rules with
    `all_of <kmbase_workflow.lifecycle.all_of>`). ``entry_clock`` is the real time when
    ``clock`` claims another day (entering last year's paper records): each entry then
    records when it was really entered (``HistoryEntry.entered_at``), and a day after the
    real one is refused.

    One workflow may be shared by the threads of a web server: it keeps no per-request
    state, and the stores serialise their own connections. ``close()`` (or ``with``)
    releases the store.
    """

    def __init__(
        self,
        store: CaseStore | str | None = None,
        *,
        clock: Clock | None = None,
        policies: Sequence[Policy] | None = None,
        calendar: WorkingDayCalendar | None = None,
        bus: EventBus | None = None,
        allow_provisional: bool = False,
        new_id: Callable[[], str] | None = None,
        authorization: Authorization = regulation_roles,
        entry_clock: Clock | None = None,
    ) -> None:
        self.store: CaseStore = (
            store if store is not None and not isinstance(store, str) else open_store(store)
        )
        self.clock: Clock = clock or SystemClock()
        self.policies: tuple[Policy, ...] = tuple(policies or bundled_policies())
        self.calendar = calendar or default_calendar()
        self.bus = bus or EventBus()
        self.allow_provisional = allow_provisional
        self.authorization = authorization
        self.entry_clock = entry_clock
        self._new_id = new_id or (lambda: uuid.uuid4().hex)
        self._rounds_lock = threading.Lock()

    def close(self) -> None:
        """Release the store (its connection)."""
        self.store.close()

    # -- reading ----------------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """The case with this id."""
        return self.store.get(case_id)

    def cases(
        self,
        *,
        state: State | None = None,
        round_year: int | None = None,
        district: str | None = None,
        base_id: str | None = None,
    ) -> Iterator[Case]:
        """Cases matching every given filter."""
        return self.store.find(
            CaseQuery(state=state, round_year=round_year, district=district, base_id=base_id)
        )

    def history(self, case_id: str) -> list[HistoryEntry]:
        """A case's history, oldest first."""
        return self.store.history(case_id)

    def verify_chain(self, case_id: str) -> ChainReport:
        """Check a case against its hash-chained history (第二十条 audit trail): the chain, that
        it ends where the case stands, that the stored case (state, validity, decisions,
        application) and its indexed columns are what the newest entry recorded, and that
        its outbox events are those its entries emitted (`kmbase_workflow.audit.verify_case`)."""
        return verify_case(self.store, case_id)

    def policy_for(self, case: Case) -> Policy:
        """The policy that governs a case: the one in force on its declaration date."""
        return policy_in_force(self.policies, case.declared_on)

    def today(self) -> dt.date:
        """Today in Asia/Shanghai, by the injected clock."""
        return today(self.clock)

    # -- rounds (第九条) ----------------------------------------------------------------------

    def open_round(
        self, year: int, opens_on: dt.date, closes_on: dt.date, actor: Actor, notice: str = ""
    ) -> DeclarationRound:
        """Open the year's declaration round (the city bureau, 第九条: one round a year, and
        no two rounds' windows overlap, so a declaration's round is never ambiguous).

        Opening is recorded as a case's step is (第二十条): the round, the next entry of its
        chain in the history (`DeclarationRound.chain_id
        <kmbase_workflow.case.DeclarationRound.chain_id>`, ``round:2025``; action
        ``open_round``, ``notice`` as its reason) and a `RoundOpened` event are written in one
        transaction, then the event is published. Another writer who opened the round first
        makes this one a `ConcurrencyConflictError`, with nothing written."""
        policy = policy_in_force(self.policies, opens_on)
        article = policy.periods.declaration.article
        declaration_round = DeclarationRound(year, opens_on, closes_on, notice)
        with self._rounds_lock:
            problems: list[Text] = []
            if actor.role is not Role.CITY_BUREAU:
                problems.append(
                    Text(
                        zh="只有市工业和信息化局可以组织申报",
                        en="only the city bureau opens a round",
                    )
                )
            if closes_on < opens_on or opens_on.year != year:
                problems.append(
                    Text(
                        zh=f"申报期 {opens_on}–{closes_on} 应在 {year} 年内开始且开始不晚于结束",
                        en=f"the window {opens_on}–{closes_on} must open in {year} and not end "
                        "before it starts",
                    )
                )
            rounds = self.store.rounds()
            per_year = policy.periods.declaration.rounds_per_year
            if len([r for r in rounds if r.year == year]) >= per_year:
                problems.append(
                    Text(
                        zh=f"{year} 年已组织过申报（每年 {per_year} 次）",
                        en=f"{year} already has its round ({per_year} a year)",
                    )
                )
            for other in rounds:
                if other.year != year and other.overlaps(declaration_round):
                    problems.append(
                        Text(
                            zh=f"申报期与 {other.year} 年度的申报期（{other.opens_on}–"
                            f"{other.closes_on}）重叠",
                            en=f"the window overlaps round {other.year} ({other.opens_on}–"
                            f"{other.closes_on})",
                        )
                    )
            if problems:
                failures = [GuardFailure("round", article, problem) for problem in problems]
                raise TransitionRefusedError(
                    Text(
                        zh="不能组织申报：" + "；".join(p.zh for p in problems),
                        en="cannot open the round: " + "; ".join(p.en for p in problems),
                    ),
                    failures=failures,
                )
            entry, event = self._round_record(declaration_round, actor, article)
            self.store.save_round(declaration_round, entry, (event,))
        self.bus.publish((event,))
        return declaration_round

    def _round_record(
        self, declaration_round: DeclarationRound, actor: Actor, article: Text
    ) -> tuple[HistoryEntry, RoundOpened]:
        """The sealed entry of the round's chain and the event that opening it records."""
        now = self.clock.now()
        chain_id = declaration_round.chain_id
        before = self.store.history(chain_id)
        payload = _plain(declaration_round)
        event = RoundOpened(
            id=self._new_id(),
            case_id=chain_id,
            base_id="",
            occurred_at=now,
            actor=actor,
            payload=payload,
            trigger="open_round",
            reason=declaration_round.notice,
            round_year=declaration_round.year,
            article=article,
        )
        entry = HistoryEntry(
            case_id=chain_id,
            sequence=len(before) + 1,
            action="open_round",
            from_state=before[-1].to_state if before else None,
            to_state="opened",
            actor=actor,
            at=now,
            reason=declaration_round.notice,
            payload=payload,
            event_ids=(event.id,),
            case_hash=round_digest(declaration_round),
            event_digests=(event_digest(event),),
            entered_at=self._entered_at(),
        ).sealed(before[-1].hash if before else GENESIS_HASH)
        return entry, event

    def _round_open_on(self, day: dt.date) -> DeclarationRound | None:
        for declaration_round in self.store.rounds():
            if declaration_round.is_open_on(day):
                return declaration_round
        return None

    def _round_of(self, year: int) -> DeclarationRound | None:
        return next((r for r in self.store.rounds() if r.year == year), None)

    # -- the one write path ----------------------------------------------------------------

    def replay(
        self,
        idempotency_key: str | None,
        trigger: Trigger,
        case_id: str | None,
        payload: object = None,
        *,
        actor: Actor | None = None,
        base_id: str | None = None,
    ) -> Outcome | None:
        """The first outcome of a keyed command, if it already ran (``None``: it did not, or
        no key); a key that ran another command raises `IdempotencyKeyReusedError`.

        The command is its trigger, its case (for a declaration: the case id and base id
        asked for, ``None`` for fresh ones), its payload (a declaration's application) and,
        given ``actor``, who sends it: a key is compared by the digest of all of them kept
        with it. A key stored before digests were kept (or without ``actor``) is compared
        by the entry it wrote: its step, case and payload. A key that is not text is
        `InvalidInputError`."""
        if idempotency_key is None:
            return None
        _check_key(idempotency_key)
        result = self.store.command_result(idempotency_key)
        if result is None:
            return None
        entry = self.store.history(result.case_id)[result.version - 1]
        if result.digest is not None and actor is not None:
            digest = _command_digest(trigger, case_id, actor, payload, base_id)
            same = result.digest == digest
        else:
            same_case = case_id is None or case_id == result.case_id
            same_payload = trigger is Trigger.DECLARE or entry.payload == _plain(payload)
            same = entry.action == trigger.value and same_case and same_payload
        if not same:
            raise IdempotencyKeyReusedError(
                Text(
                    zh=f"幂等键 {idempotency_key} 已用于另一命令（案件 {result.case_id} 的"
                    f" {entry.action}）",
                    en=f"the idempotency key {idempotency_key} was used for another command "
                    f"({entry.action} on case {result.case_id})",
                ),
                hint=Text(
                    zh="每个不同的命令使用新的幂等键",
                    en="use a fresh key for each distinct command",
                ),
            )
        return Outcome(case=self.store.get(result.case_id), entry=entry, events=(), replayed=True)

    def _context(self, case: Case, trigger: Trigger, actor: Actor, **extra: Any) -> GuardContext:
        return GuardContext(
            case=case,
            trigger=trigger,
            actor=actor,
            today=self.today(),
            policy=self.policy_for(case),
            calendar=self.calendar,
            allow_provisional=self.allow_provisional,
            authorization=self.authorization,
            **extra,
        )

    def _draft(self, application: Application, case_id: str | None, base_id: str | None) -> Case:
        day = self.today()
        declaration_round = self._round_open_on(day)
        return Case(
            id=case_id or self._new_id(),
            base_id=base_id or Case.default_base_id(application),
            round_year=declaration_round.year if declaration_round else day.year,
            state=State.DECLARED,
            version=0,
            application=application,
            declared_on=day,
        )

    def _cases_of_holder(self, application: Application) -> list[Case]:
        """The cases of the base an application names, by the operator and the name the base
        has now: a filed change of name or operator (第十九条) leaves it the same base, so a
        later declaration under its new name or by its new operator is that base's, and the
        guards of 第九条 and 第十五条 see its titles and its open case."""
        return list(
            self.store.find(
                CaseQuery(
                    operator_code=application.operator.unified_social_credit_code,
                    base_name=application.base.name,
                )
            )
        )

    def prepare(
        self,
        case_id: str,
        trigger: Trigger | str,
        actor: Actor,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        payload: object = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        base_id: str | None = None,
        case: Case | None = None,
        previous_hash: str | None = None,
    ) -> Change:
        """Check every guard of ``trigger`` on a case and build the change it would write
        (new case, sealed history entry, events), writing nothing.

        For ``declare`` the payload is the `Application` and ``case_id`` the new case's id
        (empty: a fresh one). Raises `TransitionRefusedError` as `fire` would, and
        `InvalidInputError` for a payload of the wrong type (a programming mistake). A dry run
        stops here; a bulk run passes a chunk of prepared changes to `commit`.

        ``case`` and ``previous_hash``: the case and the hash of its newest history entry as
        the caller just read them (a bulk run reads a chunk in one query each); by default
        they are read from the store. The store refuses the write if the case has moved on.
        """
        trigger = Trigger(trigger)
        check_payload_type(trigger, payload)
        self._check_claimed_day()
        digest = None
        if idempotency_key is not None:
            _check_key(idempotency_key)
            digest = _command_digest(trigger, case_id or None, actor, payload, base_id)
        extra: dict[str, Any] = {}
        if trigger is Trigger.DECLARE:
            if not isinstance(payload, Application):
                raise refusal(
                    case_id or "—",
                    trigger,
                    [
                        GuardFailure(
                            "application",
                            step_for(trigger).article,
                            Text(zh="申报须提交申请报告", en="a declaration needs the application"),
                        )
                    ],
                )
            before = None
            # a host that names the base (base_id) says which base it is; otherwise it is the
            # base whose operator and name are the application's now (第十五条, 第十九条)
            holders = self._cases_of_holder(payload) if base_id is None else []
            if holders:
                base_id = holders[-1].base_id
            case = self._draft(payload, case_id or None, base_id)
            extra["round"] = self._round_open_on(case.declared_on)
            extra["other_cases"] = list(
                {
                    other.id: other
                    for other in (*self.store.find(CaseQuery(base_id=case.base_id)), *holders)
                }.values()
            )
        else:
            before = case = case if case is not None else self.store.get(case_id)
            if expected_version is not None and case.version != expected_version:
                raise ConcurrencyConflictError.stale_version(
                    case.id, expected_version, case.version
                )
            if trigger is Trigger.RETURN_FOR_CORRECTION:
                extra["round"] = self._round_of(case.round_year)
        ctx = completed(
            self._context(case, trigger, actor, reason=reason, payload=payload, **extra)
        )
        failures = check_guards(ctx)
        if failures:
            raise refusal(case.id, trigger, failures)
        after = apply_trigger(ctx)
        return self._build(
            before, after, ctx, evidence, (idempotency_key, digest), previous_hash=previous_hash
        )

    def _entered_at(self) -> dt.datetime | None:
        """The real instant of entry when the clock claims another day (back-dating)."""
        if self.entry_clock is None:
            return None
        real = self.entry_clock.now()
        return real if today(self.entry_clock) != self.today() else None

    def _check_claimed_day(self) -> None:
        """Back-dating is recorded; acting on a day that has not come is refused."""
        if self.entry_clock is not None and self.today() > today(self.entry_clock):
            raise InvalidInputError(
                Text(
                    zh=f"不能以尚未到来的日期 {self.today()} 办理（今天是 {today(self.entry_clock)}）",
                    en=f"cannot act on a day that has not come ({self.today()}; today is "
                    f"{today(self.entry_clock)})",
                ),
                hint=Text(
                    zh="补录以往纸质记录时可用过去的日期，并会记录实际录入时间",
                    en="a past day may be claimed to enter old paper records; the real time "
                    "of entry is recorded",
                ),
            )

    def _build(
        self,
        before: Case | None,
        after: Case,
        ctx: GuardContext,
        evidence: Sequence[str],
        command: tuple[str | None, str | None],
        *,
        previous_hash: str | None = None,
    ) -> Change:
        """The change of a checked step; ``command``: its idempotency key and the digest of
        the command (`_command_digest`), both ``None`` without a key."""
        now = self.clock.now()
        step = ctx.step
        recorded = _plain(ctx.payload)
        cls = step.event_for(ctx.payload)
        fields: dict[str, Any] = {
            "case_id": after.id,
            "base_id": after.base_id,
            "occurred_at": now,
            "actor": ctx.actor,
            "payload": {
                **({} if isinstance(ctx.payload, Application) else recorded),
                **event_details(ctx.trigger, after),
            },
            "trigger": ctx.trigger.value,
            "from_state": before.state.value if before is not None else None,
            "to_state": after.state.value,
            "reason": ctx.reason,
            "round_year": after.round_year,
            "article": step.article,
            "deadlines": event_deadlines(ctx, after),
        }
        events = (cls(id=self._new_id(), **fields),)
        previous = None
        if before is not None:
            previous = previous_hash or self.store.last_hash(after.id)
        # unstructured once: the digests below and the store's rows are made from the same data
        case_data = case_data_without_application(after)
        events_data = tuple(event_data(event) for event in events)
        case_text = case_canonical(case_data)
        event_texts = tuple(event_canonical(data) for data in events_data)
        entry, entry_data, entry_text = HistoryEntry(
            case_id=after.id,
            sequence=after.version,
            action=ctx.trigger.value,
            from_state=before.state.value if before is not None else None,
            to_state=after.state.value,
            actor=ctx.actor,
            at=now,
            reason=ctx.reason,
            evidence=tuple(evidence),
            payload=recorded,
            event_ids=tuple(event.id for event in events),
            case_hash=sha256(case_text),
            # the application is bound when it is declared, and again when it is amended
            application_hash=(
                application_digest(after.application)
                if before is None or ctx.trigger is Trigger.RESUBMIT
                else ""
            ),
            event_digests=tuple(sha256(text) for text in event_texts),
            entered_at=self._entered_at(),
        ).sealed_with_data(previous or GENESIS_HASH)
        return Change(
            case=after,
            expected_version=before.version if before is not None else 0,
            history=entry,
            events=events,
            idempotency_key=command[0],
            command_digest=command[1],
            work_items=work_items_for(after, policy=ctx.policy, calendar=self.calendar),
            data=ChangeData(
                after,
                entry,
                events,
                case_data,
                entry_data,
                events_data,
                (case_text, entry_text, *event_texts),
            ),
        )

    def commit(self, changes: Sequence[Change]) -> tuple[DeliveryFailure, ...]:
        """Write prepared changes in one transaction (all or none), then publish their events.

        With `prepare`, this is how bulk runs write a chunk at a time.
        """
        self.store.commit_many(changes)
        return tuple(self.bus.publish(event for change in changes for event in change.events))

    def fire(
        self,
        case_id: str,
        trigger: Trigger | str,
        actor: Actor,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        payload: object = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Fire ``trigger`` (a state change or a record) at a case: check every guard, then
        save the new case, its history entry and its event in one transaction, then publish.

        ``payload`` is the typed record the step takes (`Step.payload
        <kmbase_workflow.lifecycle.Step.payload>`). ``expected_version``: refuse with
        `ConcurrencyConflictError` if the case is no longer at that version (the store refuses a
        stale write anyway). ``idempotency_key``: a second call of the same command with the
        same key returns the first outcome and writes nothing; the key used for a different
        command raises `IdempotencyKeyReusedError`.
        """
        trigger = Trigger(trigger)
        if trigger is Trigger.DECLARE:
            raise InvalidInputError(
                Text(zh="申报请用 declare()", en="use declare() to declare"),
                hint=Text(zh="declare 会新建案件", en="declare creates the case"),
            )
        return self._act(
            case_id,
            trigger,
            actor,
            reason=reason,
            evidence=evidence,
            payload=payload,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def _act(
        self,
        case_id: str,
        trigger: Trigger,
        actor: Actor,
        *,
        payload: object,
        idempotency_key: str | None,
        **options: Any,
    ) -> Outcome:
        """`fire` and `declare`: the first outcome again for a known key, else prepare,
        commit and publish (``options``: the rest of `prepare`'s keywords).

        A retry racing its original (both looked the key up before either wrote) is refused
        by the store or by the rules once the original commits; it then finds the key and
        answers with the original's outcome, as a retry after it would."""

        def replay() -> Outcome | None:
            return self.replay(
                idempotency_key,
                trigger,
                case_id or None,  # a declaration without an id asks for a fresh one
                payload,
                actor=actor,
                base_id=options.get("base_id"),
            )

        first = replay()
        if first is not None:
            return first
        try:
            change = self.prepare(
                case_id,
                trigger,
                actor,
                payload=payload,
                idempotency_key=idempotency_key,
                **options,
            )
            failures = self.commit([change])
        except (TransitionRefusedError, ConcurrencyConflictError) as error:
            if idempotency_key is None or isinstance(error, IdempotencyKeyReusedError):
                raise
            raced = replay()  # the same command may have committed meanwhile
            if raced is None:
                raise
            return raced
        return Outcome(change.case, change.history, change.events, delivery_failures=failures)

    def declare(
        self,
        application: Application,
        actor: Actor,
        *,
        base_id: str | None = None,
        case_id: str | None = None,
        reason: str = "",
        evidence: Sequence[str] = (),
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Declare an application (第九条): a new case in today's round.

        Refused unless a round is open today (第九条), the materials of 第八条 are complete,
        the base has no other open case, and a certified base's validity ends this year
        (第十五条).
        """
        return self._act(
            case_id or "",
            Trigger.DECLARE,
            actor,
            reason=reason,
            evidence=evidence,
            payload=application,
            idempotency_key=idempotency_key,
            base_id=base_id,
        )

    # -- the steps by name -------------------------------------------------------------------

    def return_for_correction(
        self,
        case_id: str,
        actor: Actor,
        deficiencies: Sequence[str],
        due: dt.date,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The district returns the application for correction (退回补正, 第十条 真实性、完整性
        初审), listing what is wanting and the day (inside the round) to resubmit by."""
        correction = Correction(tuple(deficiencies), due, returned_on=self.today())
        return self.fire(
            case_id,
            Trigger.RETURN_FOR_CORRECTION,
            actor,
            reason=reason,
            evidence=evidence,
            payload=correction,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def resubmit(
        self,
        case_id: str,
        actor: Actor,
        application: Application,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The operator submits the amended application (the earlier one stays in the
        history); the case is declared again, for the district to review."""
        return self.fire(
            case_id,
            Trigger.RESUBMIT,
            actor,
            reason=reason,
            evidence=evidence,
            payload=application,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def conclude_lapsed_correction(
        self,
        case_id: str,
        actor: Actor,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The district concludes a return for correction whose deadline passed without a
        resubmission (第十条): not recommended, the closing reason citing the lapsed deadline.
        The sweep reports each lapse (``correction_overdue``)."""
        return self.fire(
            case_id,
            Trigger.CONCLUDE_LAPSED_CORRECTION,
            actor,
            reason=reason,
            evidence=evidence,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def recommend(
        self,
        case_id: str,
        actor: Actor,
        recommendation: Recommendation,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The district recommends (第十条): eligibility passes, authenticity checked, spot check
        of at least the policy's share of residents."""
        return self.fire(
            case_id,
            Trigger.RECOMMEND,
            actor,
            reason=reason,
            evidence=evidence,
            payload=recommendation,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def decline(
        self,
        case_id: str,
        actor: Actor,
        reason: str,
        *,
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The district does not recommend (第十条); a reason is required."""
        return self.fire(
            case_id,
            Trigger.DECLINE,
            actor,
            reason=reason,
            evidence=evidence,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def pass_review(
        self,
        case_id: str,
        actor: Actor,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The city bureau passes the expert review (第十一条) on the experts' recorded
        opinions (`record_expert_opinion`), and the round's selection if there was one."""
        return self.fire(
            case_id,
            Trigger.PASS_REVIEW,
            actor,
            reason=reason,
            evidence=evidence,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def fail_review(
        self,
        case_id: str,
        actor: Actor,
        reason: str,
        *,
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The city bureau rejects after expert review (第十一条)."""
        return self.fire(
            case_id,
            Trigger.FAIL_REVIEW,
            actor,
            reason=reason,
            evidence=evidence,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def pass_inspection(
        self,
        case_id: str,
        actor: Actor,
        opinion: str,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The site inspection passes (第十二条), with its opinion."""
        return self.fire(
            case_id,
            Trigger.PASS_INSPECTION,
            actor,
            reason=reason,
            evidence=evidence,
            payload=opinion,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def fail_inspection(
        self,
        case_id: str,
        actor: Actor,
        reason: str,
        *,
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The site inspection fails (第十二条)."""
        return self.fire(
            case_id,
            Trigger.FAIL_INSPECTION,
            actor,
            reason=reason,
            evidence=evidence,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def publicize(
        self,
        case_id: str,
        actor: Actor,
        starts_on: dt.date | None = None,
        *,
        working_days: int | None = None,
        ends_on: dt.date | None = None,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Publish the public notice (第十三条) as announced: from ``starts_on`` (default
        today, the day it is first up on the portal, not the day the document was signed),
        for ``working_days`` or until ``ends_on`` (default: the policy's minimum; a shorter
        one is refused). A notice starting on a later day is announced (``announce_notice``)
        and starts on that day (the sweep fires ``start_notice``); objections are accepted and
        certification waits until the announced end."""
        announcement = NoticeAnnouncement(
            starts_on=starts_on, working_days=working_days, ends_on=ends_on
        )
        return self.fire(
            case_id,
            Trigger.of_notice(starts_on, self.today()),
            actor,
            reason=reason,
            evidence=evidence,
            payload=announcement,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def raise_objection(
        self,
        case_id: str,
        actor: Actor,
        content: str,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Raise an objection during the notice (第十三条)."""
        objection = Objection(raised_on=self.today(), raised_by=actor.id, content=content)
        return self.fire(
            case_id,
            Trigger.OBJECT,
            actor,
            reason=reason,
            evidence=evidence,
            payload=objection,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def verify_objection(
        self,
        case_id: str,
        actor: Actor,
        finding: str,
        *,
        sustained: bool,
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Conclude the investigation of an objection (第十三条): sustained → rejected,
        otherwise → verified."""
        return self.fire(
            case_id,
            Trigger.SUSTAIN_OBJECTION if sustained else Trigger.VERIFY,
            actor,
            reason=finding,
            evidence=evidence,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def certify(
        self,
        case_id: str,
        actor: Actor,
        decision: CollectiveDecision,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Award the title (第十四条) after the notice, with the collective decision (dated
        after the notice and not in the future); sets the validity (第十五条)."""
        return self.fire(
            case_id,
            Trigger.CERTIFY,
            actor,
            reason=reason,
            evidence=evidence,
            payload=decision,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def revoke(
        self,
        case_id: str,
        actor: Actor,
        revocation: Revocation,
        *,
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Revoke a title for a violation (第十五条) or withdraw it after a failed evaluation
        (第十八条), recording the plaque's return when it happened."""
        return self.fire(
            case_id,
            Trigger.REVOKE,
            actor,
            reason=revocation.details,
            evidence=evidence,
            payload=revocation,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def withdraw(
        self,
        case_id: str,
        actor: Actor,
        reason: str = "",
        *,
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The operator withdraws an open application."""
        return self.fire(
            case_id,
            Trigger.WITHDRAW,
            actor,
            reason=reason,
            evidence=evidence,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    # -- records that change no state -----------------------------------------------------------

    def record_expert_opinion(
        self,
        case_id: str,
        actor: Actor,
        score: float,
        opinion: str,
        *,
        expert: str | None = None,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """An expert's review opinion and score (第十一条), one per expert per case: given by
        the expert (``actor``), or entered by the city bureau on behalf of ``expert`` (the
        entry records who typed it in)."""
        on_behalf = actor.role is not Role.EXPERT
        record = ExpertOpinion(
            expert=(expert or "") if on_behalf else actor.id,
            score=score,
            opinion=opinion,
            entered_by=actor.id if on_behalf else None,
        )
        return self.fire(
            case_id,
            Trigger.EXPERT_OPINION,
            actor,
            reason=reason,
            evidence=evidence,
            payload=record,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def select_round(
        self,
        round_year: int,
        actor: Actor,
        *,
        quota: int,
        reason: str = "",
        evidence: Sequence[str] = (),
    ) -> list[Outcome]:
        """Rank the round's recommended cases and record who is selected (择优, 第十一条): the
        best ``quota`` by the experts' mean score; ties go to more opinions, then the earlier
        declaration, then the case id. Cases without opinions rank last and are not selected.

        The ranking is one decision, written in one transaction; running it again is a new
        decision (``Selection.decision`` + 1) that supersedes the old one, which stays in the
        history. ``pass_review`` refuses a case not selected, or whose ranking went stale
        because an opinion arrived after it. A ``quota`` below zero is an `InvalidInputError`
        (nothing is written).
        """
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
            article = step_for(Trigger.SELECTION).article
            raise InvalidInputError(
                Text(
                    zh=f"择优名额 quota 应为不小于 0 的整数，而不是 {quota!r}",
                    en=f"the selection quota must be a whole number of at least 0, not {quota!r}",
                ),
                hint=Text(
                    zh=f"名额为入选的案件数（{article.zh}）",
                    en=f"the quota is how many cases are selected ({article.en})",
                ),
            )
        if actor.role is not Role.CITY_BUREAU:
            raise refusal(
                f"round {round_year}",
                Trigger.SELECTION,
                [
                    GuardFailure(
                        "role",
                        step_for(Trigger.SELECTION).article,
                        Text(zh="只有市工业和信息化局可以择优", en="only the city bureau selects"),
                    )
                ],
            )
        candidates = list(self.cases(state=State.DISTRICT_RECOMMENDED, round_year=round_year))
        ranked = sorted(
            candidates,
            key=lambda case: selection_key(
                case.expert_score, len(case.expert_opinions), case.declared_on, case.id
            ),
        )
        # the round's decisions are numbered across every case it ranked, even those that
        # have since moved on
        decision = 1 + max(
            (
                case.selection.decision
                for case in self.cases(round_year=round_year)
                if case.selection is not None
            ),
            default=0,
        )
        changes = [
            self.prepare(
                case.id,
                Trigger.SELECTION,
                actor,
                reason=reason,
                evidence=evidence,
                payload=Selection(
                    rank=rank,
                    of=len(ranked),
                    selected=rank <= quota and case.expert_score is not None,
                    score=case.expert_score or 0.0,
                    decision=decision,
                ),
                expected_version=case.version,
            )
            for rank, case in enumerate(ranked, start=1)
        ]
        failures = self.commit(changes)
        return [
            Outcome(change.case, change.history, change.events, delivery_failures=failures)
            for change in changes
        ]

    def file_annual_report(
        self,
        case_id: str,
        actor: Actor,
        year: int,
        *,
        by_district: bool = False,
        reference: str = "",
        correction: bool = False,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """A yearly summary and plan: the base's to its district (第十六条) or the district's to
        the city bureau (第十七条). Flagged late after the policy's due date. Only for a year
        the title's validity covers, once a year; ``correction=True`` files a corrected
        report that supersedes the one filed before (both stay recorded)."""
        return self.fire(
            case_id,
            Trigger.ANNUAL_REPORT,
            actor,
            reason=reason,
            evidence=evidence,
            payload=AnnualReport(
                year=year, by_district=by_district, reference=reference, correction=correction
            ),
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def record_evaluation(
        self,
        case_id: str,
        actor: Actor,
        *,
        passed: bool,
        evaluator: str,
        report: str = "",
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """An evaluation by a third party or experts (第十八条). A failed one starts the
        withdrawal of the title (测评不合格的，将取消称号、收回牌匾): the case awaits the city
        bureau's `revoke` on that ground, which records the plaque's return."""
        return self.fire(
            case_id,
            Trigger.EVALUATION if passed else Trigger.FAIL_EVALUATION,
            actor,
            reason=reason,
            evidence=evidence,
            payload=Evaluation(evaluator=evaluator, passed=passed, report=report),
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def file_change(
        self,
        case_id: str,
        actor: Actor,
        change: str,
        completed_on: dt.date,
        *,
        kind: ChangeKind = ChangeKind.OTHER,
        operator: Operator | None = None,
        base_name: str | None = None,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """A major-change filing (第十九条: name, operator, legal representative), flagged late
        after the policy's working-day limit. A new ``operator`` (an `Operator`) or
        ``base_name`` becomes the case's from then on: the new operator acts by its own
        unified social credit code."""
        return self.fire(
            case_id,
            Trigger.CHANGE_FILING,
            actor,
            reason=reason,
            evidence=evidence,
            payload=ChangeFiling(
                change=change,
                completed_on=completed_on,
                kind=kind,
                operator=operator,
                base_name=base_name,
            ),
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def recommend_to_province(
        self,
        case_id: str,
        actor: Actor,
        programme: str,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Recommend a certified base to the provincial level (第四条, 第二十一条)."""
        return self.fire(
            case_id,
            Trigger.PROVINCIAL_RECOMMENDATION,
            actor,
            reason=reason,
            evidence=evidence,
            payload=ProvincialRecommendation(recommended_on=self.today(), programme=programme),
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def record_plaque_return(
        self,
        case_id: str,
        actor: Actor,
        returned_on: dt.date,
        *,
        reason: str = "",
        evidence: Sequence[str] = (),
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The plaque of a revoked title is back (收回牌匾, 第十八条): recorded once, on the
        day it happened (between the revocation and today); until then the case awaits the
        city bureau in its work queue."""
        return self.fire(
            case_id,
            Trigger.PLAQUE_RETURN,
            actor,
            reason=reason,
            evidence=evidence,
            payload=PlaqueReturn(returned_on),
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    # -- the sweep ----------------------------------------------------------------------------

    def sweep(self, *, lead_days: Sequence[int] = DEFAULT_REMINDER_LEAD_DAYS) -> SweepReport:
        """Find what is due or overdue today: start announced notices whose day has come,
        fire ``expire`` where validity has ended, and emit one event per deadline reached
        (notice ended, validity ending soon, report overdue, correction lapsed).

        Each emission is recorded on the case (``Case.notified``) in the same transaction as
        its event, and every step is written against the version it was decided on: however
        many sweeps run at once, a notice for one case, kind and due date is sent once.
        """
        day = self.today()
        found = [*self.store.find(CaseQuery(state=State.NOTICE_ANNOUNCED))]
        found.extend(self.store.find(CaseQuery(state=State.RETURNED_FOR_CORRECTION)))
        found.extend(self.store.deadlines_due(day))
        report: dict[str, list[Any]] = {"expired": [], "started": [], "events": [], "refused": []}
        for case_id in dict.fromkeys(case.id for case in found):
            for _ in range(_SWEEP_RETRIES):
                try:
                    self._sweep_case(case_id, day, lead_days, report)
                    break
                except ConcurrencyConflictError:
                    continue  # another writer moved the case: look again
                except TransitionRefusedError as error:
                    report["refused"].append((case_id, error))
                    break
        return SweepReport(
            day,
            tuple(report["expired"]),
            tuple(report["events"]),
            tuple(report["refused"]),
            tuple(report["started"]),
        )

    def _sweep_case(
        self, case_id: str, day: dt.date, lead_days: Sequence[int], report: dict[str, list[Any]]
    ) -> None:
        case = self.store.get(case_id)
        system = Actor.system()
        if case.state is State.NOTICE_ANNOUNCED and case.notice and case.notice.start <= day:
            outcome = self.fire(
                case.id, Trigger.START_NOTICE, system, expected_version=case.version
            )
            report["started"].append(case.id)
            report["events"].extend(outcome.events)
            return
        validity = case.validity
        if (
            case.state in (State.CERTIFIED, State.REVOCATION_PENDING)
            and validity
            and day > validity.due
        ):
            outcome = self.fire(
                case.id,
                Trigger.EXPIRE,
                system,
                reason="validity ended",
                expected_version=case.version,
            )
            report["expired"].append(case.id)
            report["events"].extend(outcome.events)
            return
        for payload in self._due_notices(case, day, lead_days):
            outcome = self.fire(
                case.id, Trigger.NOTIFY, system, payload=payload, expected_version=case.version
            )
            report["events"].extend(outcome.events)
            case = outcome.case

    def _due_notices(
        self, case: Case, day: dt.date, lead_days: Sequence[int]
    ) -> Iterator[dict[str, Any]]:
        """The payloads of the notices due on ``case`` today and not yet sent."""

        def notice(key: str, event: type[Event], **details: Any) -> Iterator[dict[str, Any]]:
            if key not in case.notified:
                yield {"key": key, "event": event.type, **details}

        correction = case.correction
        if case.state is State.RETURNED_FOR_CORRECTION and correction is not None:
            if correction.due < day:  # the district concludes it (第十条)
                yield from notice(
                    f"correction_overdue:{correction.due.isoformat()}",
                    CorrectionOverdue,
                    correction_due=correction.due.isoformat(),
                )
            return
        if case.state in (State.PUBLICIZED, State.VERIFIED) and case.notice is not None:
            if case.notice.due < day:
                yield from notice(
                    "notice_ended", NoticePeriodEnded, notice_due=case.notice.due.isoformat()
                )
            return
        if case.state is not State.CERTIFIED or case.validity is None or case.certified_on is None:
            return
        reminders = expiry_reminders(
            case.validity, lead_days, calendar=self.calendar, allow_provisional=True
        )
        for lead, reminder in zip(sorted(set(lead_days), reverse=True), reminders, strict=True):
            if reminder.due <= day:
                yield from notice(
                    f"validity_ending:{lead}",
                    ValidityEndingSoon,
                    validity_due=case.validity.due.isoformat(),
                    lead_days=lead,
                )
        policy = self.policy_for(case)
        for deadline in annual_report_deadlines(
            case.certified_on, policy.periods, calendar=self.calendar, allow_provisional=True
        ):
            by_district = deadline.kind.value == "district_annual_report"
            year = deadline.start.year
            filed = any(
                r.year == year and r.by_district == by_district for r in case.annual_reports
            )
            if deadline.due < day and not filed:
                yield from notice(
                    f"annual_report_overdue:{year}:{'district' if by_district else 'base'}",
                    AnnualReportOverdue,
                    year=year,
                    by_district=by_district,
                    due=deadline.due.isoformat(),
                )


def _check_key(idempotency_key: object) -> None:
    """Refuse a key that is not text (a number from a JSON body, say) as bad input."""
    if not isinstance(idempotency_key, str):
        raise InvalidInputError(
            Text(
                zh=f"幂等键（idempotency_key）应为文本，收到 {type(idempotency_key).__name__}",
                en=f"the idempotency_key must be text, got {type(idempotency_key).__name__}",
            ),
            hint=Text(zh="请以字符串传入幂等键", en="pass the key as a string"),
        )


_COMMAND_FORMAT = 3
"""The canonical form a command's digest is taken in (fixed: stored digests must still
compare equal after a later format)."""


def _command_digest(
    trigger: Trigger, case_id: str | None, actor: Actor, payload: object, base_id: str | None
) -> str:
    """The digest an idempotency key is kept with: the trigger, the case (for a declaration
    the case id and base id asked for, ``None`` for fresh ones), who acts (role, id,
    district) and the payload (a declaration's application by its digest)."""
    command = {
        "trigger": trigger.value,
        "case_id": case_id,
        "base_id": base_id,
        "actor": [actor.role.value, actor.id, actor.district],
        "payload": (
            application_digest(payload, _COMMAND_FORMAT)
            if isinstance(payload, Application)
            else _plain(payload)
        ),
    }
    return sha256(canonical_json(command, _COMMAND_FORMAT))


def _plain(payload: object) -> dict[str, Any]:
    """A payload as JSON-ready data for the history and the events."""
    if payload is None:
        return {}
    if isinstance(payload, dict):
        return {key: _plain_value(value) for key, value in payload.items()}
    if attrs.has(type(payload)):
        return unstructure(payload)
    return {"value": _plain_value(payload)}


def _plain_value(value: object) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if attrs.has(type(value)):
        return unstructure(value)
    return value
