"""The sweep: what is due or overdue today, fired or announced once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from ..actors import Actor
from ..case import (
    Case,
    State,
)
from ..deadlines import (
    DEFAULT_REMINDER_LEAD_DAYS,
    expiry_reminders,
)
from ..errors import (
    ConcurrencyConflictError,
    TransitionRefusedError,
)
from ..events import (
    AnnualReportOverdue,
    CorrectionOverdue,
    Event,
    NoticePeriodEnded,
    ValidityEndingSoon,
)
from ..lifecycle import Trigger
from ..queue_rules import unfiled_annual_reports
from ..stores import CaseQuery
from ._core import WorkflowCore
from ._outcomes import SweepReport

_SWEEP_RETRIES = 5
"""How often the sweep reloads a case another writer changed under it."""


class Sweep(WorkflowCore):
    """Finding and acting on what is due."""

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
        if case.state.holds_title and validity and day > validity.due:
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
        if case.state.awaits_certification and case.notice is not None:
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
        for report in unfiled_annual_reports(case, self.policy_for(case), self.calendar):
            if report.deadline.due < day:
                yield from notice(
                    f"annual_report_overdue:{report.key}",
                    AnnualReportOverdue,
                    year=report.year,
                    by_district=report.by_district,
                    due=report.deadline.due.isoformat(),
                )
