"""What a step is: the triggers, a guard's context and failure, and `Step`, the declaration
of everything one trigger means (the declarations themselves are in ``_steps.py``).

`declare` registers steps and `step_for` finds one; nothing here knows any particular step
but through that registry, so the guards, effects and the table can import this module.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from .._i18n import Text
from ..actors import Actor, Role
from ..calendar import WorkingDayCalendar
from ..case import Case, DeclarationRound, State
from ..errors import (
    ApplicationFormatError,
    InvalidInputError,
    PayloadFormatError,
    unknown_choice,
)
from ..events import Event
from ..policy import Policy
from ..serialization import structure


class Trigger(enum.Enum):
    """What can happen to a case: the state changes of `STEPS` and the records of `RECORDS`.

    An unknown name is an `InvalidInputError` (a ``ValueError``) listing the choices.
    """

    DECLARE = "declare"
    RETURN_FOR_CORRECTION = "return_for_correction"
    RESUBMIT = "resubmit"
    CONCLUDE_LAPSED_CORRECTION = "conclude_lapsed_correction"
    RECOMMEND = "recommend"
    DECLINE = "decline"
    PASS_REVIEW = "pass_review"
    FAIL_REVIEW = "fail_review"
    PASS_INSPECTION = "pass_inspection"
    FAIL_INSPECTION = "fail_inspection"
    ANNOUNCE_NOTICE = "announce_notice"
    START_NOTICE = "start_notice"
    PUBLICIZE = "publicize"
    OBJECT = "object"
    VERIFY = "verify"
    SUSTAIN_OBJECTION = "sustain_objection"
    CERTIFY = "certify"
    EXPIRE = "expire"
    FAIL_EVALUATION = "fail_evaluation"
    REVOKE = "revoke"
    WITHDRAW = "withdraw"
    EXPERT_OPINION = "expert_opinion"
    SELECTION = "selection"
    ANNUAL_REPORT = "annual_report"
    EVALUATION = "evaluation"
    CHANGE_FILING = "change_filing"
    PROVINCIAL_RECOMMENDATION = "provincial_recommendation"
    PLAQUE_RETURN = "plaque_return"
    NOTIFY = "notify"

    @classmethod
    def _missing_(cls, value: object) -> Trigger:
        raise unknown_choice(cls, value)

    @property
    def label(self) -> Text:
        """The trigger's name in both languages."""
        return step_for(self).label

    @property
    def changes_state(self) -> bool:
        """False for a record (the case keeps its state)."""
        return step_for(self).destination is not None

    @classmethod
    def of_notice(cls, starts_on: dt.date | None, today: dt.date) -> Trigger:
        """The step that publishes a public notice starting on ``starts_on`` (第十三条):
        ``publicize`` when it starts today (or no day is given), ``announce_notice`` when it
        starts on a later day (the sweep then fires ``start_notice`` on that day).

        >>> import datetime as dt
        >>> Trigger.of_notice(dt.date(2025, 9, 29), today=dt.date(2025, 9, 26)).value
        'announce_notice'
        """
        later = starts_on is not None and starts_on > today
        return cls.ANNOUNCE_NOTICE if later else cls.PUBLICIZE


NEW = "new"
"""The pseudo-state before ``declare``."""


@attrs.frozen
class GuardFailure:
    """A guard that did not hold: its name, the article it enforces, and why."""

    guard: str
    article: Text
    message: Text


@attrs.frozen(kw_only=True)
class GuardContext:
    """Everything a guard or an effect may look at. Guards read, never write."""

    case: Case
    trigger: Trigger
    actor: Actor
    today: dt.date
    policy: Policy
    calendar: WorkingDayCalendar
    allow_provisional: bool
    reason: str = ""
    payload: object = None
    authorization: Authorization | None = None
    """Who may act (default `regulation_roles`)."""
    round: DeclarationRound | None = None
    """The declaration round of the case (declare: the round open today)."""
    other_cases: Sequence[Case] = ()
    """The base's other cases (declare only), for 第十五条 and one open case per round."""

    @property
    def step(self) -> Step:
        """The step being fired."""
        return step_for(self.trigger)


Guard = Callable[[GuardContext], Iterator[GuardFailure]]
Effect = Callable[[GuardContext], Mapping[str, Any]]
"""The fields of the case a step sets (besides state, version and the day of the step)."""
Details = Callable[[Case], Mapping[str, Any]]
"""What a step's event tells subscribers beyond the base, district and round."""
Authorization = Callable[[Actor, "Step", Case], Iterable[GuardFailure]]
"""Who may fire a step on a case: the failures of an attempt (none: allowed)."""


@attrs.frozen
class Shorthand:
    """A record payload given as one bare JSON string that stands for one of its fields: a
    public notice's first day alone (``"2025-09-26"``) is ``{"starts_on": "2025-09-26"}``.
    The HTTP schema offers the bare form beside the record from this declaration."""

    key: str
    """The field the bare string fills."""
    format: str
    """Its JSON Schema string format (``date``)."""
    description: Text
    """What the bare string is."""


@attrs.frozen(kw_only=True)
class Step:
    """Everything one trigger means, in one place."""

    trigger: Trigger
    method: str
    """The `Workflow <kmbase_workflow.workflow.Workflow>` method that fires it (``sweep``
    for what the system does); tests/test_adding_a_step.py checks it exists and fires it."""
    sources: tuple[State | None, ...]
    """The states it may be fired from (``None``: a case not yet declared)."""
    destination: State | None
    """Where it takes the case (``None``: a record, the case keeps its state)."""
    roles: frozenset[Role]
    article: Text
    label: Text
    event: type[Event]
    payload: type | None = None
    """The payload's type (``None``: none; the reason says it all)."""
    payload_key: str | None = None
    """For a scalar payload, its key in JSON (``{"opinion": "…"}``)."""
    shorthand: Shorthand | None = None
    """A record payload that may be given as one bare JSON string (`Shorthand`)."""
    guards: tuple[Guard, ...] = ()
    effect: Effect | None = None
    details: Details | None = None
    on_own_behalf: bool = True
    """False when anyone in the roles may act, not only the case's own parties (objections)."""
    choose_event: Callable[[object], type[Event]] | None = None
    """For a step whose event depends on its payload (the sweep's notices): which one."""
    complete: Callable[[GuardContext], object] | None = None
    """Fills the fields of the payload the library decides (the day of filing, lateness),
    whatever a caller passed, before the guards run; the history records the result."""

    def event_for(self, payload: object) -> type[Event]:
        """The event class this step emits with ``payload``."""
        return self.event if self.choose_event is None else self.choose_event(payload)

    def parse_payload(self, data: object) -> object:
        """The payload from JSON-ready ``data`` (``None``: no payload), typed as `payload`.

        ``InvalidInputError`` for data of the wrong shape, or for a payload given to a step
        that takes none.
        """
        if data is None:
            return None
        if self.payload is None:
            raise InvalidInputError(
                Text(
                    zh=f"{self.trigger.value} 不接受附带数据，请用理由说明",
                    en=f"{self.trigger.value} takes no payload; give a reason instead",
                )
            )
        if self.payload is str:
            key = self.payload_key or "value"
            value = data.get(key) if isinstance(data, dict) and set(data) == {key} else data
            if not isinstance(value, str):
                raise InvalidInputError(
                    Text(
                        zh=f'{self.trigger.value} 的附带数据应为 {{"{key}": "..."}} 或字符串',
                        en=f'the payload of {self.trigger.value} must be {{"{key}": "..."}} or a string',
                    )
                )
            return value
        if self.shorthand is not None and isinstance(data, str):
            data = {self.shorthand.key: data}
        try:
            return structure(data, self.payload, source="payload")
        except ApplicationFormatError as error:
            raise PayloadFormatError(self.trigger.value, error.problems) from None


_DECLARED: dict[Trigger, Step] = {}


def declare(*steps: Step) -> tuple[Step, ...]:
    """Register ``steps`` (`step_for` finds them) and return them; a trigger declared twice
    is a programming mistake."""
    for step in steps:
        if step.trigger in _DECLARED:
            raise ValueError(f"{step.trigger.value} is declared twice")
        _DECLARED[step.trigger] = step
    return steps


def step_for(trigger: Trigger) -> Step:
    """The step a trigger fires."""
    return _DECLARED[trigger]


ANYONE = frozenset(Role) - {Role.SYSTEM}
"""Every role but the system's (an objection is open to anyone, 第十三条)."""
TITLE_HELD = tuple(state for state in State if state.holds_title)
"""The states that hold the title (`State.holds_title`), in the order of the measures."""
AWAITING_CERTIFICATION = tuple(state for state in State if state.awaits_certification)
"""The states certify leaves (`State.awaits_certification`, 第十四条)."""
OPEN_STATES = tuple(state for state in State if state.is_open)


def text(zh: str, en: str) -> Text:
    """A text in both languages."""
    return Text(zh=zh, en=en)


def failure(guard: str, article: Text, zh: str, en: str) -> GuardFailure:
    """A failed guard: its name, article and message in both languages."""
    return GuardFailure(guard, article, Text(zh=zh, en=en))
