"""What a step's event tells subscribers: its details about the case, the deadlines every
event carries, and, for the sweep's notices, which event a notice is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..case import AnnualReport, Case, ChangeFiling
from ..events import EVENT_TYPES, Event, EventDeadlines, NoticePeriodEnded
from ._guards_title import _annual_report_due
from ._model import GuardContext, Trigger, step_for


def _notice_details(case: Case) -> Mapping[str, Any]:
    if case.notice is None:
        return {}
    return {
        "notice_start": case.notice.start.isoformat(),
        "notice_due": case.notice.due.isoformat(),
        "provisional": case.notice.provisional,
    }


def _validity_details(case: Case) -> Mapping[str, Any]:
    if case.validity is None:
        return {}
    return {
        "valid_from": case.validity.start.isoformat(),
        "valid_until": case.validity.due.isoformat(),
    }


def _correction_details(case: Case) -> Mapping[str, Any]:
    if case.correction is None:
        return {}
    return {"correction_due": case.correction.due.isoformat()}


def _revocation_details(case: Case) -> Mapping[str, Any]:
    if case.revocation is None:
        return {}
    returned = case.revocation.plaque_returned_on
    return {
        "ground": case.revocation.ground.value,
        "plaque_returned_on": returned.isoformat() if returned else None,
    }


def _operator_details(case: Case) -> Mapping[str, Any]:
    return {
        "operator": case.operator_code,
        "operator_name": case.operator.name,
        "base_name": case.base_name,
    }


def _notice_event(payload: object) -> type[Event]:
    """A notice's event class, named by the payload's ``event`` (its ``type``)."""
    name = payload.get("event") if isinstance(payload, Mapping) else None
    return EVENT_TYPES.get(str(name), NoticePeriodEnded)


def event_details(trigger: Trigger, case: Case) -> dict[str, Any]:
    """What a step's event tells subscribers about the case after it, without loading it."""
    details: dict[str, Any] = {
        "base_name": case.base_name,
        "district": case.district,
        "round_year": case.round_year,
    }
    step = step_for(trigger)
    if step.details is not None:
        details.update(step.details(case))
    return details


def event_deadlines(ctx: GuardContext, case: Case) -> EventDeadlines:
    """The deadlines every event carries (schema 2): the case's notice and validity after the
    step, and the due day of the report or change filing the step concerns."""
    notice, validity, payload = case.notice, case.validity, ctx.payload
    report_due = change_due = None
    if isinstance(payload, AnnualReport):
        report_due = _annual_report_due(
            case, ctx.policy, payload.year, payload.by_district, ctx.calendar
        )
    elif isinstance(payload, ChangeFiling):
        change_due = payload.due
    elif isinstance(payload, Mapping) and isinstance(payload.get("due"), str):
        report_due = dt.date.fromisoformat(payload["due"])  # the sweep's overdue report notice
    return EventDeadlines(
        notice_start=notice.start if notice else None,
        notice_end=notice.due if notice else None,
        notice_provisional=notice.provisional if notice else False,
        valid_from=validity.start if validity else None,
        valid_until=validity.due if validity else None,
        report_due=report_due,
        change_filing_due=change_due,
    )
