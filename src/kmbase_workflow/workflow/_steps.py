"""Every step by name: typed wrappers over `Workflow.fire` (their payload records built from
keyword arguments; the keywords every step shares are one `StepOptions`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypedDict, Unpack

from ..actors import Actor, Role
from ..case import (
    AnnualReport,
    ChangeFiling,
    ChangeKind,
    CollectiveDecision,
    Correction,
    Evaluation,
    ExpertOpinion,
    NoticeAnnouncement,
    Objection,
    PlaqueReturn,
    ProvincialRecommendation,
    Recommendation,
    Revocation,
)
from ..lifecycle import Trigger
from ..records import Application, Operator
from ._core import WorkflowCore
from ._outcomes import Outcome


class FireOptions(TypedDict, total=False):
    """The keywords every named step passes on to `Workflow.fire` as they are (PEP 692: a
    step's signature reads ``**options: Unpack[FireOptions]``, and type checkers and IDEs
    know each keyword)."""

    evidence: Sequence[str]
    """References of the documents the step rests on, kept in its history entry."""
    expected_version: int | None
    """Refuse with `ConcurrencyConflictError` if the case is no longer at that version."""
    idempotency_key: str | None
    """A second call of the same command with the same key returns the first outcome and
    writes nothing; the key used for a different command raises `IdempotencyKeyReusedError`."""


class StepOptions(FireOptions, total=False):
    """`FireOptions` and ``reason``, for the steps where a reason is optional (a step that
    requires one takes ``reason`` as a parameter of its own, one that derives it takes none)."""

    reason: str
    """Why, in the step's history entry (default: none given)."""


class NamedSteps(WorkflowCore):
    """The steps and records by name."""

    def return_for_correction(
        self,
        case_id: str,
        actor: Actor,
        deficiencies: Sequence[str],
        due: dt.date,
        **options: Unpack[StepOptions],
    ) -> Outcome:
        """The district returns the application for correction (退回补正, 第十条 真实性、完整性
        初审), listing what is wanting and the day (inside the round) to resubmit by."""
        correction = Correction(tuple(deficiencies), due, returned_on=self.today())
        return self.fire(
            case_id, Trigger.RETURN_FOR_CORRECTION, actor, payload=correction, **options
        )

    def resubmit(
        self, case_id: str, actor: Actor, application: Application, **options: Unpack[StepOptions]
    ) -> Outcome:
        """The operator submits the amended application (the earlier one stays in the
        history); the case is declared again, for the district to review."""
        return self.fire(case_id, Trigger.RESUBMIT, actor, payload=application, **options)

    def conclude_lapsed_correction(
        self, case_id: str, actor: Actor, **options: Unpack[StepOptions]
    ) -> Outcome:
        """The district concludes a return for correction whose deadline passed without a
        resubmission (第十条): not recommended, the closing reason citing the lapsed deadline.
        The sweep reports each lapse (``correction_overdue``)."""
        return self.fire(case_id, Trigger.CONCLUDE_LAPSED_CORRECTION, actor, **options)

    def recommend(
        self,
        case_id: str,
        actor: Actor,
        recommendation: Recommendation,
        **options: Unpack[StepOptions],
    ) -> Outcome:
        """The district recommends (第十条): eligibility passes, authenticity checked, spot check
        of at least the policy's share of residents."""
        return self.fire(case_id, Trigger.RECOMMEND, actor, payload=recommendation, **options)

    def decline(
        self, case_id: str, actor: Actor, reason: str, **options: Unpack[FireOptions]
    ) -> Outcome:
        """The district does not recommend (第十条); a reason is required."""
        return self.fire(case_id, Trigger.DECLINE, actor, reason=reason, **options)

    def pass_review(self, case_id: str, actor: Actor, **options: Unpack[StepOptions]) -> Outcome:
        """The city bureau passes the expert review (第十一条) on the experts' recorded
        opinions (`record_expert_opinion`), and the round's selection if there was one."""
        return self.fire(case_id, Trigger.PASS_REVIEW, actor, **options)

    def fail_review(
        self, case_id: str, actor: Actor, reason: str, **options: Unpack[FireOptions]
    ) -> Outcome:
        """The city bureau rejects after expert review (第十一条)."""
        return self.fire(case_id, Trigger.FAIL_REVIEW, actor, reason=reason, **options)

    def pass_inspection(
        self, case_id: str, actor: Actor, opinion: str, **options: Unpack[StepOptions]
    ) -> Outcome:
        """The site inspection passes (第十二条), with its opinion."""
        return self.fire(case_id, Trigger.PASS_INSPECTION, actor, payload=opinion, **options)

    def fail_inspection(
        self, case_id: str, actor: Actor, reason: str, **options: Unpack[FireOptions]
    ) -> Outcome:
        """The site inspection fails (第十二条)."""
        return self.fire(case_id, Trigger.FAIL_INSPECTION, actor, reason=reason, **options)

    def publicize(
        self,
        case_id: str,
        actor: Actor,
        starts_on: dt.date | None = None,
        *,
        working_days: int | None = None,
        ends_on: dt.date | None = None,
        **options: Unpack[StepOptions],
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
            payload=announcement,
            **options,
        )

    def raise_objection(
        self, case_id: str, actor: Actor, content: str, **options: Unpack[StepOptions]
    ) -> Outcome:
        """Raise an objection during the notice (第十三条)."""
        objection = Objection(raised_on=self.today(), raised_by=actor.id, content=content)
        return self.fire(case_id, Trigger.OBJECT, actor, payload=objection, **options)

    def verify_objection(
        self,
        case_id: str,
        actor: Actor,
        finding: str,
        *,
        sustained: bool,
        **options: Unpack[FireOptions],
    ) -> Outcome:
        """Conclude the investigation of an objection (第十三条): sustained → rejected,
        otherwise → verified."""
        return self.fire(
            case_id,
            Trigger.SUSTAIN_OBJECTION if sustained else Trigger.VERIFY,
            actor,
            reason=finding,
            **options,
        )

    def certify(
        self,
        case_id: str,
        actor: Actor,
        decision: CollectiveDecision,
        **options: Unpack[StepOptions],
    ) -> Outcome:
        """Award the title (第十四条) after the notice, with the collective decision (dated
        after the notice and not in the future); sets the validity (第十五条)."""
        return self.fire(case_id, Trigger.CERTIFY, actor, payload=decision, **options)

    def revoke(
        self, case_id: str, actor: Actor, revocation: Revocation, **options: Unpack[FireOptions]
    ) -> Outcome:
        """Revoke a title for a violation (第十五条) or withdraw it after a failed evaluation
        (第十八条), recording the plaque's return when it happened."""
        return self.fire(
            case_id, Trigger.REVOKE, actor, reason=revocation.details, payload=revocation, **options
        )

    def withdraw(
        self, case_id: str, actor: Actor, reason: str = "", **options: Unpack[FireOptions]
    ) -> Outcome:
        """The operator withdraws an open application."""
        return self.fire(case_id, Trigger.WITHDRAW, actor, reason=reason, **options)

    # -- records that change no state -----------------------------------------------------------

    def record_expert_opinion(
        self,
        case_id: str,
        actor: Actor,
        score: float,
        opinion: str,
        *,
        expert: str | None = None,
        **options: Unpack[StepOptions],
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
        return self.fire(case_id, Trigger.EXPERT_OPINION, actor, payload=record, **options)

    def file_annual_report(
        self,
        case_id: str,
        actor: Actor,
        year: int,
        *,
        by_district: bool = False,
        reference: str = "",
        correction: bool = False,
        **options: Unpack[StepOptions],
    ) -> Outcome:
        """A yearly summary and plan: the base's to its district (第十六条) or the district's to
        the city bureau (第十七条). Flagged late after the policy's due date. Only for a year
        the title's validity covers, once a year; ``correction=True`` files a corrected
        report that supersedes the one filed before (both stay recorded)."""
        return self.fire(
            case_id,
            Trigger.ANNUAL_REPORT,
            actor,
            payload=AnnualReport(
                year=year, by_district=by_district, reference=reference, correction=correction
            ),
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
        **options: Unpack[StepOptions],
    ) -> Outcome:
        """An evaluation by a third party or experts (第十八条). A failed one starts the
        withdrawal of the title (测评不合格的，将取消称号、收回牌匾): the case awaits the city
        bureau's `revoke` on that ground, which records the plaque's return."""
        return self.fire(
            case_id,
            Trigger.EVALUATION if passed else Trigger.FAIL_EVALUATION,
            actor,
            payload=Evaluation(evaluator=evaluator, passed=passed, report=report),
            **options,
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
        **options: Unpack[StepOptions],
    ) -> Outcome:
        """A major-change filing (第十九条: name, operator, legal representative), flagged late
        after the policy's working-day limit. A new ``operator`` (an `Operator`) or
        ``base_name`` becomes the case's from then on: the new operator acts by its own
        unified social credit code."""
        return self.fire(
            case_id,
            Trigger.CHANGE_FILING,
            actor,
            payload=ChangeFiling(
                change=change,
                completed_on=completed_on,
                kind=kind,
                operator=operator,
                base_name=base_name,
            ),
            **options,
        )

    def recommend_to_province(
        self, case_id: str, actor: Actor, programme: str, **options: Unpack[StepOptions]
    ) -> Outcome:
        """Recommend a certified base to the provincial level (第四条, 第二十一条)."""
        return self.fire(
            case_id,
            Trigger.PROVINCIAL_RECOMMENDATION,
            actor,
            payload=ProvincialRecommendation(recommended_on=self.today(), programme=programme),
            **options,
        )

    def record_plaque_return(
        self, case_id: str, actor: Actor, returned_on: dt.date, **options: Unpack[StepOptions]
    ) -> Outcome:
        """The plaque of a revoked title is back (收回牌匾, 第十八条): recorded once, on the
        day it happened (between the revocation and today); until then the case awaits the
        city bureau in its work queue."""
        return self.fire(
            case_id, Trigger.PLAQUE_RETURN, actor, payload=PlaqueReturn(returned_on), **options
        )
