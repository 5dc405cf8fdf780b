"""The one write path: load a case, check a step, prepare its change, commit, publish."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .._closing import Closing
from .._i18n import Text
from ..actors import Actor
from ..audit import verify_case
from ..calendar import WorkingDayCalendar, default_calendar
from ..case import (
    Case,
    DeclarationRound,
    State,
)
from ..clock import Clock, SystemClock, today
from ..errors import (
    CaseNotFoundError,
    ConcurrencyConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    TransitionRefusedError,
)
from ..events import (
    DeliveryFailure,
    EventBus,
)
from ..history import (
    HISTORY_FORMAT,
    ChainReport,
    HistoryEntry,
)
from ..lifecycle import (
    Authorization,
    GuardContext,
    GuardFailure,
    Trigger,
    apply_trigger,
    check_guards,
    check_payload_type,
    completed,
    refusal,
    regulation_roles,
    step_for,
)
from ..policy import Policy, bundled_policies, policy_in_force
from ..queue_rules import work_items_for
from ..records import Application
from ..stores import CaseQuery, CaseStore, Change, open_store
from ._change import EncodedApplication, chained_entry, step_event
from ._commands import COMMAND_FORMAT, check_key, command_digest, plain
from ._outcomes import Outcome, Prepared


class WorkflowCore(Closing):
    """The one write path every step goes through (`Workflow` adds the steps by name, the
    rounds and the sweep)."""

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
        check_key(idempotency_key)
        result = self.store.command_result(idempotency_key)
        if result is None:
            return None
        entry = self.store.history(result.case_id)[result.version - 1]
        if result.digest is not None and actor is not None:
            digest = command_digest(trigger, case_id, actor, payload, base_id)
            same = result.digest == digest
        else:
            same_case = case_id is None or case_id == result.case_id
            same_payload = trigger is Trigger.DECLARE or entry.payload == plain(payload)
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

    def _draft(
        self,
        application: Application,
        case_id: str | None,
        base_id: str | None,
        day: dt.date,
        declaration_round: DeclarationRound | None,
    ) -> Case:
        """A new case of ``application``, declared on ``day`` in ``declaration_round`` (the
        round open that day, which the caller read once: the round's guard reads it too)."""
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
        encoded_application = None
        base_cases = None
        if idempotency_key is not None:
            check_key(idempotency_key)
            shared = None
            if isinstance(payload, Application) and COMMAND_FORMAT == HISTORY_FORMAT:
                # the command's digest and the entry's take the application's digest in
                # one form: unstructured and encoded once (~0.25 ms of a declaration)
                encoded_application = EncodedApplication.of(payload)
                shared = encoded_application.digest
            digest = command_digest(
                trigger, case_id or None, actor, payload, base_id, application_digest_=shared
            )
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
            day = self.today()
            extra["round"] = open_round = self._round_open_on(day)
            case = self._draft(payload, case_id or None, base_id, day, open_round)
            extra["other_cases"] = list(
                {
                    other.id: other
                    for other in (*self.store.find(CaseQuery(base_id=case.base_id)), *holders)
                }.values()
            )
            # the store writes the declaration only while the base's cases are these
            base_cases = tuple(
                sorted((o.id, o.version) for o in extra["other_cases"] if o.base_id == case.base_id)
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
            before,
            after,
            ctx,
            evidence,
            (idempotency_key, digest),
            previous_hash=previous_hash,
            encoded_application=encoded_application,
            base_cases=base_cases,
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
        encoded_application: EncodedApplication | None = None,
        base_cases: tuple[tuple[str, int], ...] | None = None,
    ) -> Change:
        """The change of a checked step; ``command``: its idempotency key and the digest of
        the command (`command_digest`), both ``None`` without a key; ``encoded_application``:
        the step's application as the command's digest encoded it."""
        now = self.clock.now()
        events = (step_event(ctx, before, after, event_id=self._new_id(), at=now),)
        previous = None
        if before is not None:
            previous = previous_hash or self.store.last_hash(after.id)
        entry, encoded = chained_entry(
            ctx,
            before,
            after,
            events,
            evidence=evidence,
            at=now,
            entered_at=self._entered_at(),
            previous_hash=previous,
            encoded_application=encoded_application,
        )
        return Change(
            case=after,
            expected_version=before.version if before is not None else 0,
            history=entry,
            events=events,
            idempotency_key=command[0],
            command_digest=command[1],
            work_items=work_items_for(after, policy=ctx.policy, calendar=self.calendar),
            data=encoded,
            base_cases=base_cases,
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

        try:
            first = self._replay_or_prepare(
                case_id, trigger, actor, payload=payload, idempotency_key=idempotency_key, **options
            )
            if isinstance(first, Outcome):
                return first
            failures = self.commit([first])
        except (TransitionRefusedError, ConcurrencyConflictError) as error:
            if idempotency_key is None or isinstance(error, IdempotencyKeyReusedError):
                raise
            raced = self.replay(  # the same command may have committed meanwhile
                idempotency_key,
                trigger,
                case_id or None,
                payload,
                actor=actor,
                base_id=options.get("base_id"),
            )
            if raced is None:
                raise
            return raced
        return Outcome(first.case, first.history, first.events, delivery_failures=failures)

    def _replay_or_prepare(
        self,
        case_id: str,
        trigger: Trigger,
        actor: Actor,
        *,
        payload: object,
        idempotency_key: str | None,
        ran_before: bool | None = None,
        **options: Any,
    ) -> Outcome | Change:
        """The first outcome of a keyed command that ran before, else its prepared change
        (``ran_before``: whether the key is known, if the caller looked it up; ``options``:
        the rest of `prepare`'s keywords). What `fire`, `declare` and `prepare_batch` do
        before they write."""
        if ran_before is not False:
            first = self.replay(
                idempotency_key,
                trigger,
                case_id or None,  # a declaration without an id asks for a fresh one
                payload,
                actor=actor,
                base_id=options.get("base_id"),
            )
            if first is not None:
                return first
        return self.prepare(
            case_id, trigger, actor, payload=payload, idempotency_key=idempotency_key, **options
        )

    def prepare_batch(
        self,
        case_ids: Sequence[str],
        trigger: Trigger | str,
        actor: Actor,
        *,
        idempotency_keys: Sequence[str | None] | None = None,
        reason: str = "",
        evidence: Sequence[str] = (),
        payload: object = None,
        until: Callable[[Prepared], bool] | None = None,
    ) -> list[Prepared]:
        """Prepare ``trigger`` on each case as `fire` would, writing nothing: its change, or
        the first outcome of its key (``idempotency_keys``, one per case) if that ran before,
        or the error that refuses it. The cases, their newest history hashes and the keys
        are read in one query each, whatever the batch's size; `commit` then writes the
        changes in one transaction (a bulk run, a chunk at a time). ``until``: stop after
        the first case it is true of (the rest are not prepared, nor in the list)."""
        trigger = Trigger(trigger)
        keys = list(idempotency_keys) if idempotency_keys is not None else [None] * len(case_ids)
        done = self.store.command_results([key for key in keys if key is not None])
        cases = self.store.get_many(case_ids)
        hashes = self.store.last_hashes(list(cases))
        prepared = []
        for case_id, key in zip(case_ids, keys, strict=True):
            case = cases.get(case_id)
            state = case.state if case is not None else None
            try:
                if case is None and key not in done:
                    raise CaseNotFoundError.no_case(case_id)
                result = self._replay_or_prepare(
                    case_id,
                    trigger,
                    actor,
                    payload=payload,
                    idempotency_key=key,
                    ran_before=key in done,
                    reason=reason,
                    evidence=evidence,
                    expected_version=case.version if case is not None else None,
                    case=case,
                    previous_hash=hashes.get(case_id),
                )
            except (TransitionRefusedError, ConcurrencyConflictError, CaseNotFoundError) as error:
                prepared.append(Prepared(case_id, state, refused=error))
                if until is not None and until(prepared[-1]):
                    break
                continue
            if isinstance(result, Outcome):
                prepared.append(Prepared(case_id, state, replayed=result))
            else:
                prepared.append(Prepared(case_id, state, change=result))
            if until is not None and until(prepared[-1]):
                break
        return prepared

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
