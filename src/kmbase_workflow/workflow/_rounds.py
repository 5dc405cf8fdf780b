"""Declaration rounds (第九条) and the selection within a round (择优, 第十一条)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .._i18n import Text
from ..actors import Actor, Role
from ..case import (
    DeclarationRound,
    Selection,
    State,
)
from ..eligibility import selection_key
from ..errors import (
    InvalidInputError,
    TransitionRefusedError,
)
from ..events import RoundOpened
from ..history import (
    GENESIS_HASH,
    HistoryEntry,
    event_digest,
    round_digest,
)
from ..lifecycle import (
    GuardFailure,
    Trigger,
    refusal,
    step_for,
)
from ..policy import policy_in_force
from ._commands import plain
from ._core import WorkflowCore
from ._outcomes import Outcome


class Rounds(WorkflowCore):
    """Opening a year's round and ranking its cases."""

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
        payload = plain(declaration_round)
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
