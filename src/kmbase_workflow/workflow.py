"""The workflow service: load a case, fire a trigger, save state + history + events in one
transaction, then publish.

>>> import datetime as dt
>>> from kmbase_workflow import Actor, FixedClock, Role, Workflow
>>> from kmbase_workflow.examples import eligible_application
>>> workflow = Workflow("memory://", clock=FixedClock(dt.date(2025, 6, 20)))
>>> bureau = Actor(Role.CITY_BUREAU, "市工业和信息化局")
>>> workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau).year
2025
>>> operator = Actor(Role.OPERATOR, "昆明春城数字科技发展有限公司")
>>> outcome = workflow.declare(eligible_application(), operator)
>>> outcome.case.state.value, outcome.case.version
('declared', 1)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from ._i18n import Text
from .actors import Actor, Role
from .audit import application_digest, case_digest, event_digest, verify_case
from .calendar import WorkingDayCalendar, default_calendar
from .case import (
    AnnualReport,
    Case,
    ChangeFiling,
    CollectiveDecision,
    DeclarationRound,
    Evaluation,
    ExpertOpinion,
    Objection,
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
    change_filing_deadline,
    expiry_reminders,
)
from .errors import InvalidInputError, TransitionRefusedError
from .events import (
    AnnualReportFiled,
    AnnualReportOverdue,
    Certified,
    ChangeFiled,
    Declared,
    DeliveryFailure,
    EvaluationRecorded,
    Event,
    EventBus,
    ExpertOpinionRecorded,
    Expired,
    InspectionFailed,
    InspectionPassed,
    NoticePeriodEnded,
    NotRecommended,
    ObjectionRaised,
    ObjectionSustained,
    ObjectionVerified,
    ProvinciallyRecommended,
    Publicized,
    Recommended,
    ReviewFailed,
    ReviewPassed,
    Revoked,
    RoundSelected,
    TransitionEvent,
    ValidityEndingSoon,
    Withdrawn,
)
from .history import GENESIS_HASH, ChainReport, HistoryEntry
from .lifecycle import (
    GuardContext,
    GuardFailure,
    Trigger,
    actor_failures,
    apply_trigger,
    check_guards,
    refusal,
)
from .policy import Policy, bundled_policies, policy_in_force
from .records import Application
from .serialization import unstructure
from .stores import CaseQuery, CaseStore, Change, open_store
from .stores.memory import conflict

__all__ = ["Outcome", "SweepReport", "Workflow"]

_TRANSITION_EVENTS: dict[Trigger, type[TransitionEvent]] = {
    Trigger.DECLARE: Declared,
    Trigger.RECOMMEND: Recommended,
    Trigger.DECLINE: NotRecommended,
    Trigger.PASS_REVIEW: ReviewPassed,
    Trigger.FAIL_REVIEW: ReviewFailed,
    Trigger.PASS_INSPECTION: InspectionPassed,
    Trigger.FAIL_INSPECTION: InspectionFailed,
    Trigger.PUBLICIZE: Publicized,
    Trigger.OBJECT: ObjectionRaised,
    Trigger.VERIFY: ObjectionVerified,
    Trigger.SUSTAIN_OBJECTION: ObjectionSustained,
    Trigger.CERTIFY: Certified,
    Trigger.EXPIRE: Expired,
    Trigger.REVOKE: Revoked,
    Trigger.WITHDRAW: Withdrawn,
}


@attrs.frozen
class Outcome:
    """What one command did: the case after it, its history entry and its events.

    ``replayed`` is true when an idempotency key had already run: nothing new was written
    and ``entry`` is the one the first run wrote. ``delivery_failures`` lists subscribers
    that raised (the change stays committed).
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


class Workflow:
    """The service every face (Python API, CLI, bulk runner, simulation) goes through.

    ``store`` is a `CaseStore` or a URL (default:
    ``$KMBASE_DB``, else the SQLite file ``kmbase.db``); ``clock`` tells the
    time (never the system clock inside the library, unless you pass ``SystemClock()``, the
    default); ``policies`` are the versions of the measures to choose from by declaration
    date (default: the bundled ones); ``calendar`` counts working days; ``bus`` delivers
    events after each commit; ``allow_provisional`` lets deadlines fall in years without an
    official holiday notice (marked provisional) instead of refusing.
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
    ) -> None:
        self.store: CaseStore = (
            store if store is not None and not isinstance(store, str) else open_store(store)
        )
        self.clock: Clock = clock or SystemClock()
        self.policies: tuple[Policy, ...] = tuple(policies or bundled_policies())
        self.calendar = calendar or default_calendar()
        self.bus = bus or EventBus()
        self.allow_provisional = allow_provisional
        self._new_id = new_id or (lambda: uuid.uuid4().hex)

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

    def verify(self, case_id: str) -> ChainReport:
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
        """Open the year's declaration round (the city bureau, 第九条: one round a year)."""
        policy = policy_in_force(self.policies, opens_on)
        article = policy.periods.declaration.article
        problems: list[Text] = []
        if actor.role is not Role.CITY_BUREAU:
            problems.append(
                Text(zh="只有市工业和信息化局可以组织申报", en="only the city bureau opens a round")
            )
        if closes_on < opens_on or opens_on.year != year:
            problems.append(
                Text(
                    zh=f"申报期 {opens_on}–{closes_on} 应在 {year} 年内且开始不晚于结束",
                    en=f"the window {opens_on}–{closes_on} must lie in {year} and not end before it starts",
                )
            )
        existing = [r for r in self.store.rounds() if r.year == year]
        if len(existing) >= policy.periods.declaration.rounds_per_year:
            problems.append(
                Text(
                    zh=f"{year} 年已组织过申报（每年 {policy.periods.declaration.rounds_per_year} 次）",
                    en=f"{year} already has its round ({policy.periods.declaration.rounds_per_year} a year)",
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
        declaration_round = DeclarationRound(year, opens_on, closes_on, notice)
        self.store.save_round(declaration_round)
        return declaration_round

    def _round_open_on(self, day: dt.date) -> DeclarationRound | None:
        for declaration_round in self.store.rounds():
            if declaration_round.is_open_on(day):
                return declaration_round
        return None

    # -- the one write path ----------------------------------------------------------------

    def _replayed(self, idempotency_key: str | None) -> Outcome | None:
        if idempotency_key is None:
            return None
        result = self.store.command_result(idempotency_key)
        if result is None:
            return None
        entry = self.store.history(result.case_id)[result.version - 1]
        return Outcome(case=self.store.get(result.case_id), entry=entry, events=(), replayed=True)

    def _build(
        self,
        before: Case | None,
        after: Case,
        *,
        action: str,
        actor: Actor,
        reason: str,
        evidence: Sequence[str],
        payload: object,
        events: Sequence[Callable[[str, dt.datetime], Event]],
        idempotency_key: str | None,
    ) -> Change:
        now = self.clock.now()
        built = tuple(make(self._new_id(), now) for make in events)
        previous = self.store.last_hash(after.id) if before is not None else None
        entry = HistoryEntry(
            case_id=after.id,
            sequence=after.version,
            action=action,
            from_state=before.state.value if before is not None else None,
            to_state=after.state.value,
            actor=actor,
            at=now,
            reason=reason,
            evidence=tuple(evidence),
            payload=_plain(payload),
            event_ids=tuple(event.id for event in built),
            case_hash=case_digest(after),
            application_hash=application_digest(after.application) if before is None else "",
            event_digests=tuple(event_digest(event) for event in built),
        ).sealed(previous or GENESIS_HASH)
        return Change(
            case=after,
            expected_version=before.version if before is not None else 0,
            history=entry,
            events=built,
            idempotency_key=idempotency_key,
        )

    def _commit(self, before: Case | None, after: Case, **build: Any) -> Outcome:
        change = self._build(before, after, **build)
        failures = self.commit([change])
        return Outcome(after, change.history, change.events, delivery_failures=failures)

    def commit(self, changes: Sequence[Change]) -> tuple[DeliveryFailure, ...]:
        """Write prepared changes in one transaction (all or none), then publish their events.

        With `prepare`, this is how bulk runs write a chunk at a time.
        """
        self.store.commit_many(changes)
        return tuple(self.bus.publish(event for change in changes for event in change.events))

    def _context(
        self,
        case: Case,
        trigger: Trigger,
        actor: Actor,
        reason: str,
        payload: object,
        **extra: Any,
    ) -> GuardContext:
        return GuardContext(
            case=case,
            trigger=trigger,
            actor=actor,
            today=self.today(),
            policy=self.policy_for(case),
            calendar=self.calendar,
            allow_provisional=self.allow_provisional,
            reason=reason,
            payload=payload,
            **extra,
        )

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
        replay = self._replayed(idempotency_key)
        if replay is not None:
            return replay
        day = self.today()
        declaration_round = self._round_open_on(day)
        resolved_base = base_id or Case.default_base_id(application)
        draft = Case(
            id=case_id or self._new_id(),
            base_id=resolved_base,
            round_year=declaration_round.year if declaration_round else day.year,
            state=State.DECLARED,
            version=0,
            application=application,
            declared_on=day,
        )
        ctx = self._context(
            draft,
            Trigger.DECLARE,
            actor,
            reason,
            None,
            round=declaration_round,
            other_cases=list(self.store.find(CaseQuery(base_id=resolved_base))),
        )
        failures = check_guards(ctx)
        if failures:
            raise refusal(draft.id, Trigger.DECLARE, failures)
        after = apply_trigger(ctx)
        return self._commit(
            None,
            after,
            action=Trigger.DECLARE.value,
            actor=actor,
            reason=reason,
            evidence=evidence,
            payload={"round": after.round_year, "base_id": after.base_id},
            events=[self._transition_event(Trigger.DECLARE, None, after, actor, reason)],
            idempotency_key=idempotency_key,
        )

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
        """Fire ``trigger`` at a case: check every guard, then save the new state, its
        history entry and its event in one transaction, then publish the event.

        ``expected_version``: refuse with ``ConcurrencyConflictError`` if the case is no longer
        at that version (the store refuses a stale write anyway). ``idempotency_key``: a second
        call with the same key returns the first outcome and writes nothing.
        """
        replay = self._replayed(idempotency_key)
        if replay is not None:
            return replay
        change = self.prepare(
            case_id,
            trigger,
            actor,
            reason=reason,
            evidence=evidence,
            payload=payload,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        failures = self.commit([change])
        return Outcome(change.case, change.history, change.events, delivery_failures=failures)

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
    ) -> Change:
        """Check every guard of ``trigger`` on a case and build the change it would write
        (new state, sealed history entry, events), writing nothing.

        Raises ``TransitionRefusedError`` as `fire` would. A dry run stops here; a bulk
        run passes a chunk of prepared changes to `commit`.
        """
        trigger = Trigger(trigger)
        if trigger is Trigger.DECLARE:
            raise InvalidInputError(
                Text(zh="申报请用 declare()", en="use declare() to declare"),
                hint=Text(zh="declare 会新建案件", en="declare creates the case"),
            )
        case = self.store.get(case_id)
        if expected_version is not None and case.version != expected_version:
            raise conflict(case.id, expected_version, case.version)
        ctx = self._context(case, trigger, actor, reason, payload)
        failures = check_guards(ctx)
        if failures:
            raise refusal(case.id, trigger, failures)
        after = apply_trigger(ctx)
        return self._build(
            case,
            after,
            action=trigger.value,
            actor=actor,
            reason=reason,
            evidence=evidence,
            payload=payload,
            events=[self._transition_event(trigger, case.state, after, actor, reason)],
            idempotency_key=idempotency_key,
        )

    def _transition_event(
        self, trigger: Trigger, before: State | None, after: Case, actor: Actor, reason: str
    ) -> Callable[[str, dt.datetime], Event]:
        cls = _TRANSITION_EVENTS[trigger]
        payload = _event_payload(trigger, after)

        def make(event_id: str, now: dt.datetime) -> Event:
            return cls(
                id=event_id,
                case_id=after.id,
                base_id=after.base_id,
                occurred_at=now,
                actor=actor,
                payload=payload,
                trigger=trigger.value,
                from_state=before.value if before is not None else None,
                to_state=after.state.value,
                reason=reason,
            )

        return make

    # -- the triggers by name ----------------------------------------------------------------

    def recommend(
        self, case_id: str, actor: Actor, recommendation: Recommendation, **options: Any
    ) -> Outcome:
        """The district recommends (第十条): eligibility passes, authenticity checked, spot check
        of at least the policy's share of residents."""
        return self.fire(case_id, Trigger.RECOMMEND, actor, payload=recommendation, **options)

    def decline(self, case_id: str, actor: Actor, reason: str, **options: Any) -> Outcome:
        """The district does not recommend (第十条); a reason is required."""
        return self.fire(case_id, Trigger.DECLINE, actor, reason=reason, **options)

    def pass_review(
        self, case_id: str, actor: Actor, opinion: ExpertOpinion | None = None, **options: Any
    ) -> Outcome:
        """The city bureau passes the expert review (第十一条)."""
        return self.fire(case_id, Trigger.PASS_REVIEW, actor, payload=opinion, **options)

    def fail_review(self, case_id: str, actor: Actor, reason: str, **options: Any) -> Outcome:
        """The city bureau rejects after expert review (第十一条)."""
        return self.fire(case_id, Trigger.FAIL_REVIEW, actor, reason=reason, **options)

    def pass_inspection(self, case_id: str, actor: Actor, opinion: str, **options: Any) -> Outcome:
        """The site inspection passes (第十二条), with its opinion."""
        return self.fire(case_id, Trigger.PASS_INSPECTION, actor, payload=opinion, **options)

    def fail_inspection(self, case_id: str, actor: Actor, reason: str, **options: Any) -> Outcome:
        """The site inspection fails (第十二条)."""
        return self.fire(case_id, Trigger.FAIL_INSPECTION, actor, reason=reason, **options)

    def publicize(
        self, case_id: str, actor: Actor, starts_on: dt.date | None = None, **options: Any
    ) -> Outcome:
        """Publish the public notice (第十三条) starting ``starts_on`` (default today)."""
        return self.fire(case_id, Trigger.PUBLICIZE, actor, payload=starts_on, **options)

    def raise_objection(self, case_id: str, actor: Actor, content: str, **options: Any) -> Outcome:
        """Raise an objection during the notice (第十三条)."""
        objection = Objection(raised_on=self.today(), raised_by=actor.name, content=content)
        return self.fire(case_id, Trigger.OBJECT, actor, payload=objection, **options)

    def verify_objection(
        self, case_id: str, actor: Actor, finding: str, *, sustained: bool, **options: Any
    ) -> Outcome:
        """Conclude the investigation of an objection (第十三条): sustained → rejected,
        otherwise → verified."""
        trigger = Trigger.SUSTAIN_OBJECTION if sustained else Trigger.VERIFY
        return self.fire(case_id, trigger, actor, reason=finding, **options)

    def certify(
        self, case_id: str, actor: Actor, decision: CollectiveDecision, **options: Any
    ) -> Outcome:
        """Award the title (第十四条) after the notice, with the collective decision; sets the
        validity (第十五条)."""
        return self.fire(case_id, Trigger.CERTIFY, actor, payload=decision, **options)

    def revoke(self, case_id: str, actor: Actor, revocation: Revocation, **options: Any) -> Outcome:
        """Revoke a title for a violation (第十五条) or a failed evaluation (第十八条)."""
        return self.fire(
            case_id, Trigger.REVOKE, actor, reason=revocation.details, payload=revocation, **options
        )

    def withdraw(self, case_id: str, actor: Actor, reason: str = "", **options: Any) -> Outcome:
        """The operator withdraws an open application."""
        return self.fire(case_id, Trigger.WITHDRAW, actor, reason=reason, **options)

    # -- records that change no state -----------------------------------------------------------

    def _record(
        self,
        case_id: str,
        actor: Actor,
        *,
        action: str,
        roles: frozenset[Role],
        states: frozenset[State],
        article: Text,
        update: Callable[[Case], Case],
        event: type[Event],
        payload: object,
        reason: str = "",
        evidence: Sequence[str] = (),
        idempotency_key: str | None = None,
        extra_failures: Iterable[GuardFailure] = (),
    ) -> Outcome:
        replay = self._replayed(idempotency_key)
        if replay is not None:
            return replay
        case = self.store.get(case_id)
        failures = list(extra_failures)
        failures.extend(actor_failures(actor, case, roles, event.description))
        if case.state not in states:
            failures.append(
                GuardFailure(
                    "state",
                    article,
                    Text(
                        zh=f"案件状态为“{case.state.label.zh}”，不能办理此事项",
                        en=f"not possible for a case that is {case.state.label.en}",
                    ),
                )
            )
        if failures:
            raise refusal(case.id, event.description, failures)
        after = attrs.evolve(update(case), version=case.version + 1)
        plain = _plain(payload)

        def make(event_id: str, now: dt.datetime) -> Event:
            return event(
                id=event_id,
                case_id=after.id,
                base_id=after.base_id,
                occurred_at=now,
                actor=actor,
                payload=plain,
            )

        return self._commit(
            case,
            after,
            action=action,
            actor=actor,
            reason=reason,
            evidence=evidence,
            payload=payload,
            events=[make],
            idempotency_key=idempotency_key,
        )

    def record_expert_opinion(
        self, case_id: str, actor: Actor, score: float, opinion: str, **options: Any
    ) -> Outcome:
        """An expert's review opinion and score (第十一条)."""
        record = ExpertOpinion(expert=actor.name, score=score, opinion=opinion)
        return self._record(
            case_id,
            actor,
            action="expert_opinion",
            roles=frozenset({Role.EXPERT}),
            states=frozenset({State.DISTRICT_RECOMMENDED}),
            article=Text(zh="第十一条", en="Art. 11"),
            update=lambda case: attrs.evolve(case, expert_opinions=(*case.expert_opinions, record)),
            event=ExpertOpinionRecorded,
            payload=record,
            **options,
        )

    def select_round(
        self, round_year: int, actor: Actor, *, quota: int, **options: Any
    ) -> list[Outcome]:
        """Rank the round's recommended cases by their experts' mean score and record who is
        selected (择优, 第十一条): the best ``quota``. Cases without opinions rank last.
        ``pass_review`` then refuses a case that was not selected."""
        if actor.role is not Role.CITY_BUREAU:
            raise refusal(
                f"round {round_year}",
                RoundSelected.description,
                [
                    GuardFailure(
                        "role",
                        Text(zh="第十一条", en="Art. 11"),
                        Text(zh="只有市工业和信息化局可以择优", en="only the city bureau selects"),
                    )
                ],
            )
        candidates = list(self.cases(state=State.DISTRICT_RECOMMENDED, round_year=round_year))
        ranked = sorted(
            candidates,
            key=lambda case: (case.expert_score is None, -(case.expert_score or 0.0), case.id),
        )
        outcomes = []
        for rank, case in enumerate(ranked, start=1):
            selection = Selection(
                rank=rank,
                of=len(ranked),
                selected=rank <= quota and case.expert_score is not None,
                score=case.expert_score or 0.0,
            )
            outcomes.append(
                self._record(
                    case.id,
                    actor,
                    action="selection",
                    roles=frozenset({Role.CITY_BUREAU}),
                    states=frozenset({State.DISTRICT_RECOMMENDED}),
                    article=Text(zh="第十一条", en="Art. 11"),
                    update=_set_selection(selection),
                    event=RoundSelected,
                    payload=selection,
                    **options,
                )
            )
        return outcomes

    def file_annual_report(
        self,
        case_id: str,
        actor: Actor,
        year: int,
        *,
        by_district: bool = False,
        reference: str = "",
        **options: Any,
    ) -> Outcome:
        """A yearly summary and plan: the base's to its district (第十六条) or the district's to
        the city bureau (第十七条). Flagged late after the policy's due date."""
        case = self.store.get(case_id)
        policy = self.policy_for(case)
        period = (
            policy.periods.district_annual_report
            if by_district
            else policy.periods.base_annual_report
        )
        day = self.today()

        # Only this year's due date matters; later years may lie beyond the official calendar.
        due = _annual_due(
            case, policy=policy, year=year, by_district=by_district, calendar=self.calendar
        )
        report = AnnualReport(
            year=year,
            by_district=by_district,
            submitted_on=day,
            late=due is not None and day > due,
            reference=reference,
        )
        return self._record(
            case_id,
            actor,
            action="annual_report",
            roles=frozenset({Role.DISTRICT_AUTHORITY if by_district else Role.OPERATOR}),
            states=frozenset({State.CERTIFIED}),
            article=period.article,
            update=lambda c: attrs.evolve(c, annual_reports=(*c.annual_reports, report)),
            event=AnnualReportFiled,
            payload=report,
            **options,
        )

    def record_evaluation(
        self,
        case_id: str,
        actor: Actor,
        *,
        passed: bool,
        evaluator: str,
        report: str = "",
        **options: Any,
    ) -> Outcome:
        """An evaluation by a third party or experts (第十八条); a failed one allows revocation
        on that ground."""
        evaluation = Evaluation(
            evaluated_on=self.today(), evaluator=evaluator, passed=passed, report=report
        )
        return self._record(
            case_id,
            actor,
            action="evaluation",
            roles=frozenset({Role.CITY_BUREAU, Role.EXPERT}),
            states=frozenset({State.CERTIFIED}),
            article=Text(zh="第十八条", en="Art. 18"),
            update=lambda c: attrs.evolve(c, evaluations=(*c.evaluations, evaluation)),
            event=EvaluationRecorded,
            payload=evaluation,
            **options,
        )

    def file_change(
        self, case_id: str, actor: Actor, change: str, completed_on: dt.date, **options: Any
    ) -> Outcome:
        """A major-change filing (第十九条: name, operator, legal representative), flagged late
        after the policy's working-day limit."""
        case = self.store.get(case_id)
        policy = self.policy_for(case)
        deadline = change_filing_deadline(
            completed_on,
            policy.periods,
            calendar=self.calendar,
            allow_provisional=self.allow_provisional,
        )
        day = self.today()
        filing = ChangeFiling(
            change=change,
            completed_on=completed_on,
            filed_on=day,
            due=deadline.due,
            late=day > deadline.due,
        )
        problems = []
        if completed_on > day:
            problems.append(
                GuardFailure(
                    "completed_on",
                    policy.periods.change_filing.article,
                    Text(
                        zh=f"变更完成日 {completed_on} 晚于今天",
                        en=f"the change cannot be completed in the future ({completed_on})",
                    ),
                )
            )
        return self._record(
            case_id,
            actor,
            action="change_filing",
            roles=frozenset({Role.OPERATOR}),
            states=frozenset({State.CERTIFIED}),
            article=policy.periods.change_filing.article,
            update=lambda c: attrs.evolve(c, change_filings=(*c.change_filings, filing)),
            event=ChangeFiled,
            payload=filing,
            extra_failures=problems,
            **options,
        )

    def recommend_to_province(
        self, case_id: str, actor: Actor, programme: str, **options: Any
    ) -> Outcome:
        """Recommend a certified base to the provincial level (第四条, 第二十一条)."""
        record = ProvincialRecommendation(recommended_on=self.today(), programme=programme)
        return self._record(
            case_id,
            actor,
            action="provincial_recommendation",
            roles=frozenset({Role.CITY_BUREAU}),
            states=frozenset({State.CERTIFIED}),
            article=Text(zh="第二十一条", en="Art. 21"),
            update=lambda c: attrs.evolve(
                c, provincial_recommendations=(*c.provincial_recommendations, record)
            ),
            event=ProvinciallyRecommended,
            payload=record,
            **options,
        )

    # -- the sweep ----------------------------------------------------------------------------

    def sweep(self, *, lead_days: Sequence[int] = DEFAULT_REMINDER_LEAD_DAYS) -> SweepReport:
        """Find what is due or overdue today, fire ``expire`` where validity has ended, and emit
        one event per deadline reached (notice ended, validity ending soon, report overdue).

        Each emission is recorded on the case (``Case.notified``), so a second sweep emits
        nothing twice.
        """
        day = self.today()
        system = Actor.system()
        expired: list[str] = []
        events: list[Event] = []
        refused: list[tuple[str, TransitionRefusedError]] = []
        for case in list(self.store.deadlines_due(day)):
            try:
                if case.state is State.CERTIFIED and case.validity and day > case.validity.due:
                    outcome = self.fire(case.id, Trigger.EXPIRE, system, reason="validity ended")
                    expired.append(case.id)
                    events.extend(outcome.events)
                    continue
                for key, event_type, payload in self._due_notices(case, day, lead_days):
                    outcome = self._notify(case.id, key, event_type, payload)
                    events.extend(outcome.events)
            except TransitionRefusedError as error:
                refused.append((case.id, error))
        return SweepReport(day, tuple(expired), tuple(events), tuple(refused))

    def _due_notices(
        self, case: Case, day: dt.date, lead_days: Sequence[int]
    ) -> Iterator[tuple[str, type[Event], dict[str, Any]]]:
        if case.state in (State.PUBLICIZED, State.VERIFIED) and case.notice is not None:
            if case.notice.due < day and "notice_ended" not in case.notified:
                yield "notice_ended", NoticePeriodEnded, {"notice_due": case.notice.due.isoformat()}
            return
        if case.state is not State.CERTIFIED or case.validity is None or case.certified_on is None:
            return
        reminders = expiry_reminders(
            case.validity, lead_days, calendar=self.calendar, allow_provisional=True
        )
        for lead, reminder in zip(sorted(set(lead_days), reverse=True), reminders, strict=True):
            key = f"validity_ending:{lead}"
            if reminder.due <= day and key not in case.notified:
                yield (
                    key,
                    ValidityEndingSoon,
                    {
                        "validity_due": case.validity.due.isoformat(),
                        "lead_days": lead,
                    },
                )
        policy = self.policy_for(case)
        for deadline in annual_report_deadlines(
            case.certified_on, policy.periods, calendar=self.calendar, allow_provisional=True
        ):
            by_district = deadline.kind.value == "district_annual_report"
            year = deadline.start.year
            key = f"annual_report_overdue:{year}:{'district' if by_district else 'base'}"
            filed = any(
                r.year == year and r.by_district == by_district for r in case.annual_reports
            )
            if deadline.due < day and not filed and key not in case.notified:
                yield (
                    key,
                    AnnualReportOverdue,
                    {
                        "year": year,
                        "by_district": by_district,
                        "due": deadline.due.isoformat(),
                    },
                )

    def _notify(
        self, case_id: str, key: str, event_type: type[Event], payload: dict[str, Any]
    ) -> Outcome:
        return self._record(
            case_id,
            Actor.system(),
            action="notify",
            roles=frozenset({Role.SYSTEM}),
            states=frozenset(State),
            article=event_type.description,
            update=lambda c: attrs.evolve(c, notified=(*c.notified, key)),
            event=event_type,
            payload={"key": key, **payload},
        )


def _set_selection(selection: Selection) -> Callable[[Case], Case]:
    return lambda case: attrs.evolve(case, selection=selection)


def _annual_due(
    case: Case, *, policy: Policy, year: int, by_district: bool, calendar: WorkingDayCalendar
) -> dt.date | None:
    """The due date of one year's report. Other years of the validity may lie beyond the
    official calendar, which does not matter for this one (hence provisional allowed)."""
    if case.certified_on is None:
        return None
    kind = "district_annual_report" if by_district else "base_annual_report"
    for deadline in annual_report_deadlines(
        case.certified_on, policy.periods, calendar=calendar, allow_provisional=True
    ):
        if deadline.kind.value == kind and deadline.start.year == year:
            return deadline.due
    return None


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


def _event_payload(trigger: Trigger, case: Case) -> dict[str, Any]:
    """What subscribers need to know about a transition without loading the case."""
    payload: dict[str, Any] = {
        "base_name": case.base_name,
        "district": case.district,
        "round_year": case.round_year,
    }
    if trigger is Trigger.PUBLICIZE and case.notice is not None:
        payload["notice_start"] = case.notice.start.isoformat()
        payload["notice_due"] = case.notice.due.isoformat()
        payload["provisional"] = case.notice.provisional
    if trigger is Trigger.CERTIFY and case.validity is not None:
        payload["valid_from"] = case.validity.start.isoformat()
        payload["valid_until"] = case.validity.due.isoformat()
    if trigger is Trigger.REVOKE and case.revocation is not None:
        payload["ground"] = case.revocation.ground.value
    return payload
