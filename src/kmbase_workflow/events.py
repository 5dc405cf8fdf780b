"""Events: typed, frozen records of what happened, and the in-process bus that delivers them.

Every committed transition emits one event named after it (`Certified`, …); records
that change no state emit theirs (`AnnualReportFiled`, …); the sweep emits one per
deadline kind (`NoticePeriodEnded`, `ValidityEndingSoon`, …); opening a declaration round
emits `RoundOpened`, whose ``case_id`` names the round's chain (``round:2025``), not a case.

Delivery, in-process (`EventBus`):

- after the change is committed, never before: a subscriber never sees a change that was
  rolled back, and a subscriber that raises never undoes it;
- in commit order, and within one change in the order emitted; subscribers in the order
  they subscribed;
- a failing subscriber is reported (``bus.failures``, the ``on_error`` hook and the
  ``kmbase_workflow.events`` logger) and does not stop the others;
- at most once: if the process dies between commit and delivery the event is not
  delivered in-process. Consumers that must see every event read the store's outbox
  (at least once, each event with a stable ``id`` to deduplicate on).

Outside the process an event travels as its *document* (`event_document`): plain JSON whose
shape is versioned (`EVENT_SCHEMA_VERSION`, JSON Schema in docs/schemas/events.schema.json).
Version 1 documents (older outbox rows) lack the fields version 2 added; they read back with
``schema_version`` 1 and those fields empty, and write out exactly as they were stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

import attrs

from ._i18n import Text
from .actors import Actor

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "EVENT_TYPES",
    "AnnualReportFiled",
    "AnnualReportOverdue",
    "Certified",
    "ChangeFiled",
    "CorrectionLapsed",
    "CorrectionOverdue",
    "CorrectionRequested",
    "Declared",
    "DeliveryFailure",
    "EvaluationFailed",
    "EvaluationRecorded",
    "Event",
    "EventBus",
    "EventDeadlines",
    "EventHandler",
    "ExpertOpinionRecorded",
    "Expired",
    "InspectionFailed",
    "InspectionPassed",
    "NotRecommended",
    "NoticeAnnounced",
    "NoticePeriodEnded",
    "ObjectionRaised",
    "ObjectionSustained",
    "ObjectionVerified",
    "PlaqueReturned",
    "ProvinciallyRecommended",
    "Publicized",
    "Recommended",
    "Resubmitted",
    "ReviewFailed",
    "ReviewPassed",
    "Revoked",
    "RoundOpened",
    "RoundSelected",
    "Subscription",
    "TransitionEvent",
    "ValidityEndingSoon",
    "Withdrawn",
    "event_document",
    "event_from_document",
]

logger = logging.getLogger(__name__)


EVENT_SCHEMA_VERSION = 2
"""The version of the event document this library writes (docs/events.md: what bumps it).

1. ``id``, ``type``, ``case_id``, ``base_id``, ``occurred_at``, ``actor``, ``payload``; for
   state changes also ``trigger``, ``from_state``, ``to_state``, ``reason``.
2. Every event also carries ``schema_version``, ``trigger``, ``from_state``, ``to_state``
   (equal for a record), ``reason``, ``round_year``, ``article`` and ``deadlines``.
"""

_ADDED_IN_2 = frozenset(
    {"schema_version", "trigger", "from_state", "to_state", "reason", "round_year", "article",
     "deadlines"}
)  # fmt: skip


@attrs.frozen(kw_only=True)
class EventDeadlines:
    """The case's deadlines after the step, as a consumer needs them without reading the
    database (every field ``None`` when the case has no such deadline)."""

    notice_start: dt.date | None = None
    """First day of the public notice (第十三条)."""
    notice_end: dt.date | None = None
    """Last day of the public notice: certification may follow after it (第十三条)."""
    notice_provisional: bool = False
    """The notice's end falls in a year without an official holiday notice: it may move."""
    valid_from: dt.date | None = None
    """First day of the title's validity (第十五条)."""
    valid_until: dt.date | None = None
    """Last day of the title's validity (第十五条)."""
    report_due: dt.date | None = None
    """For an annual summary and plan filed or overdue: the day it was due (第十六条、第十七条)."""
    change_filing_due: dt.date | None = None
    """For a major change filed: the last day it could be filed in time (第十九条)."""


@attrs.frozen(kw_only=True)
class Event:
    """Something that happened to a case (or, for `RoundOpened`, to a declaration round).

    ``id`` is unique and stable: a consumer that may see an event twice (the outbox delivers
    at least once) deduplicates on it. ``payload`` is plain JSON-ready data. Every event
    says which ``trigger`` emitted it and the states before and after (equal for a record,
    which changes no state; ``from_state`` ``None`` for a declaration).
    """

    type: ClassVar[str] = "event"
    description: ClassVar[Text] = Text(zh="事件", en="event")

    id: str
    case_id: str
    base_id: str
    occurred_at: dt.datetime
    actor: Actor
    payload: Mapping[str, Any] = attrs.field(factory=dict)
    schema_version: int = EVENT_SCHEMA_VERSION
    """The document version it was written in (1: an outbox row older than the field)."""
    trigger: str = ""
    from_state: str | None = None
    to_state: str | None = None
    reason: str = ""
    round_year: int | None = None
    """The declaration round of the case."""
    article: Text | None = None
    """The article(s) of the measures the step applies, in both languages."""
    deadlines: EventDeadlines = attrs.field(factory=EventDeadlines)


@attrs.frozen(kw_only=True)
class TransitionEvent(Event):
    """A state change: ``trigger`` moved the case from ``from_state`` to ``to_state``."""

    trigger: str
    from_state: str | None
    to_state: str


@attrs.frozen(kw_only=True)
class Declared(TransitionEvent):
    """已申报（第九条） / declared (Art. 9)."""

    type: ClassVar[str] = "declared"
    description: ClassVar[Text] = Text(zh="已申报（第九条）", en="declared (Art. 9)")


@attrs.frozen(kw_only=True)
class CorrectionRequested(TransitionEvent):
    """退回补正（第十条） / returned for correction (Art. 10)."""

    type: ClassVar[str] = "correction_requested"
    description: ClassVar[Text] = Text(
        zh="退回补正（第十条）", en="returned for correction (Art. 10)"
    )


@attrs.frozen(kw_only=True)
class Resubmitted(TransitionEvent):
    """补正后重新提交（第十条） / resubmitted after correction (Art. 10)."""

    type: ClassVar[str] = "resubmitted"
    description: ClassVar[Text] = Text(
        zh="补正后重新提交（第十条）", en="resubmitted after correction (Art. 10)"
    )


@attrs.frozen(kw_only=True)
class CorrectionLapsed(TransitionEvent):
    """补正逾期，不予推荐（第十条） / the correction lapsed: not recommended (Art. 10)."""

    type: ClassVar[str] = "correction_lapsed"
    description: ClassVar[Text] = Text(
        zh="补正逾期，不予推荐（第十条）", en="the correction lapsed: not recommended (Art. 10)"
    )


@attrs.frozen(kw_only=True)
class Recommended(TransitionEvent):
    """县区已推荐（第十条） / recommended by the district (Art. 10)."""

    type: ClassVar[str] = "recommended"
    description: ClassVar[Text] = Text(
        zh="县区已推荐（第十条）", en="recommended by the district (Art. 10)"
    )


@attrs.frozen(kw_only=True)
class NotRecommended(TransitionEvent):
    """县区未推荐（第十条） / not recommended (Art. 10)."""

    type: ClassVar[str] = "not_recommended"
    description: ClassVar[Text] = Text(zh="县区未推荐（第十条）", en="not recommended (Art. 10)")


@attrs.frozen(kw_only=True)
class ReviewPassed(TransitionEvent):
    """专家评审通过（第十一条） / passed expert review (Art. 11)."""

    type: ClassVar[str] = "review_passed"
    description: ClassVar[Text] = Text(
        zh="专家评审通过（第十一条）", en="passed expert review (Art. 11)"
    )


@attrs.frozen(kw_only=True)
class ReviewFailed(TransitionEvent):
    """专家评审未通过（第十一条） / failed expert review (Art. 11)."""

    type: ClassVar[str] = "review_failed"
    description: ClassVar[Text] = Text(
        zh="专家评审未通过（第十一条）", en="failed expert review (Art. 11)"
    )


@attrs.frozen(kw_only=True)
class InspectionPassed(TransitionEvent):
    """现场核查通过（第十二条） / passed site inspection (Art. 12)."""

    type: ClassVar[str] = "inspection_passed"
    description: ClassVar[Text] = Text(
        zh="现场核查通过（第十二条）", en="passed site inspection (Art. 12)"
    )


@attrs.frozen(kw_only=True)
class InspectionFailed(TransitionEvent):
    """现场核查未通过（第十二条） / failed site inspection (Art. 12)."""

    type: ClassVar[str] = "inspection_failed"
    description: ClassVar[Text] = Text(
        zh="现场核查未通过（第十二条）", en="failed site inspection (Art. 12)"
    )


@attrs.frozen(kw_only=True)
class NoticeAnnounced(TransitionEvent):
    """发布公示公告（第十三条） / public notice announced (Art. 13)."""

    type: ClassVar[str] = "notice_announced"
    description: ClassVar[Text] = Text(
        zh="发布公示公告（第十三条）", en="public notice announced (Art. 13)"
    )


@attrs.frozen(kw_only=True)
class Publicized(TransitionEvent):
    """开始公示（第十三条） / public notice started (Art. 13)."""

    type: ClassVar[str] = "publicized"
    description: ClassVar[Text] = Text(
        zh="开始公示（第十三条）", en="public notice started (Art. 13)"
    )


@attrs.frozen(kw_only=True)
class ObjectionRaised(TransitionEvent):
    """公示期内提出异议（第十三条） / objection raised (Art. 13)."""

    type: ClassVar[str] = "objection_raised"
    description: ClassVar[Text] = Text(
        zh="公示期内提出异议（第十三条）", en="objection raised (Art. 13)"
    )


@attrs.frozen(kw_only=True)
class ObjectionVerified(TransitionEvent):
    """异议经核实没有问题（第十三条） / objection investigated, no problem (Art. 13)."""

    type: ClassVar[str] = "objection_verified"
    description: ClassVar[Text] = Text(
        zh="异议经核实没有问题（第十三条）", en="objection investigated, no problem (Art. 13)"
    )


@attrs.frozen(kw_only=True)
class ObjectionSustained(TransitionEvent):
    """异议经核实成立（第十三条） / objection sustained (Art. 13)."""

    type: ClassVar[str] = "objection_sustained"
    description: ClassVar[Text] = Text(
        zh="异议经核实成立（第十三条）", en="objection sustained (Art. 13)"
    )


@attrs.frozen(kw_only=True)
class Certified(TransitionEvent):
    """认定授牌（第十四条） / certified (Art. 14)."""

    type: ClassVar[str] = "certified"
    description: ClassVar[Text] = Text(zh="认定授牌（第十四条）", en="certified (Art. 14)")


@attrs.frozen(kw_only=True)
class Expired(TransitionEvent):
    """有效期满（第十五条） / validity ended (Art. 15)."""

    type: ClassVar[str] = "expired"
    description: ClassVar[Text] = Text(zh="有效期满（第十五条）", en="validity ended (Art. 15)")


@attrs.frozen(kw_only=True)
class EvaluationFailed(TransitionEvent):
    """测评不合格，待取消称号、收回牌匾（第十八条） / evaluation failed, title and plaque to be
    withdrawn (Art. 18)."""

    type: ClassVar[str] = "evaluation_failed"
    description: ClassVar[Text] = Text(
        zh="测评不合格，待取消称号、收回牌匾（第十八条）",
        en="evaluation failed, title and plaque to be withdrawn (Art. 18)",
    )


@attrs.frozen(kw_only=True)
class Revoked(TransitionEvent):
    """撤销称号（第十五条、第十八条） / title revoked (Art. 15, 18)."""

    type: ClassVar[str] = "revoked"
    description: ClassVar[Text] = Text(
        zh="撤销称号（第十五条、第十八条）", en="title revoked (Art. 15, 18)"
    )


@attrs.frozen(kw_only=True)
class Withdrawn(TransitionEvent):
    """申报单位撤回 / withdrawn by the operator."""

    type: ClassVar[str] = "withdrawn"
    description: ClassVar[Text] = Text(zh="申报单位撤回", en="withdrawn by the operator")


@attrs.frozen(kw_only=True)
class RoundOpened(Event):
    """组织申报（第九条） / declaration round opened (Art. 9).

    A round's event, not a case's: ``case_id`` is the round's chain (``round:2025``,
    `DeclarationRound.chain_id <kmbase_workflow.case.DeclarationRound.chain_id>`),
    ``base_id`` is empty, ``from_state`` and ``to_state`` are ``None``; ``payload`` holds
    ``year``, ``opens_on``, ``closes_on`` and ``notice``. A public notice: every follower of
    the events sees it, a district's too."""

    type: ClassVar[str] = "round_opened"
    description: ClassVar[Text] = Text(
        zh="组织申报（第九条）", en="declaration round opened (Art. 9)"
    )


@attrs.frozen(kw_only=True)
class ExpertOpinionRecorded(Event):
    """记录专家评审意见（第十一条） / expert opinion recorded (Art. 11)."""

    type: ClassVar[str] = "expert_opinion_recorded"
    description: ClassVar[Text] = Text(
        zh="记录专家评审意见（第十一条）", en="expert opinion recorded (Art. 11)"
    )


@attrs.frozen(kw_only=True)
class RoundSelected(Event):
    """择优排序（第十一条） / ranked within the round (Art. 11)."""

    type: ClassVar[str] = "round_selected"
    description: ClassVar[Text] = Text(
        zh="择优排序（第十一条）", en="ranked within the round (Art. 11)"
    )


@attrs.frozen(kw_only=True)
class AnnualReportFiled(Event):
    """报送年度工作总结和计划（第十六条、第十七条） / annual summary and plan filed (Art. 16, 17)."""

    type: ClassVar[str] = "annual_report_filed"
    description: ClassVar[Text] = Text(
        zh="报送年度工作总结和计划（第十六条、第十七条）",
        en="annual summary and plan filed (Art. 16, 17)",
    )


@attrs.frozen(kw_only=True)
class EvaluationRecorded(Event):
    """记录测评结果（第十八条） / evaluation recorded (Art. 18)."""

    type: ClassVar[str] = "evaluation_recorded"
    description: ClassVar[Text] = Text(
        zh="记录测评结果（第十八条）", en="evaluation recorded (Art. 18)"
    )


@attrs.frozen(kw_only=True)
class ChangeFiled(Event):
    """重大变更备案（第十九条） / major change filed (Art. 19)."""

    type: ClassVar[str] = "change_filed"
    description: ClassVar[Text] = Text(
        zh="重大变更备案（第十九条）", en="major change filed (Art. 19)"
    )


@attrs.frozen(kw_only=True)
class ProvinciallyRecommended(Event):
    """推荐申报省级示范基地（第二十一条） / recommended to the province (Art. 21)."""

    type: ClassVar[str] = "provincially_recommended"
    description: ClassVar[Text] = Text(
        zh="推荐申报省级示范基地（第二十一条）", en="recommended to the province (Art. 21)"
    )


@attrs.frozen(kw_only=True)
class NoticePeriodEnded(Event):
    """公示期结束（第十三条） / public notice ended (Art. 13)."""

    type: ClassVar[str] = "notice_period_ended"
    description: ClassVar[Text] = Text(
        zh="公示期结束（第十三条）", en="public notice ended (Art. 13)"
    )


@attrs.frozen(kw_only=True)
class ValidityEndingSoon(Event):
    """有效期即将届满（第十五条） / validity ending soon (Art. 15)."""

    type: ClassVar[str] = "validity_ending_soon"
    description: ClassVar[Text] = Text(
        zh="有效期即将届满（第十五条）", en="validity ending soon (Art. 15)"
    )


@attrs.frozen(kw_only=True)
class AnnualReportOverdue(Event):
    """年度工作总结和计划逾期未报（第十六条、第十七条） / annual summary and plan overdue (Art. 16, 17)."""

    type: ClassVar[str] = "annual_report_overdue"
    description: ClassVar[Text] = Text(
        zh="年度工作总结和计划逾期未报（第十六条、第十七条）",
        en="annual summary and plan overdue (Art. 16, 17)",
    )


@attrs.frozen(kw_only=True)
class PlaqueReturned(Event):
    """收回牌匾（第十八条） / the plaque returned (Art. 18)."""

    type: ClassVar[str] = "plaque_returned"
    description: ClassVar[Text] = Text(
        zh="收回牌匾（第十八条）", en="the plaque returned (Art. 18)"
    )


@attrs.frozen(kw_only=True)
class CorrectionOverdue(Event):
    """补正期限已过，待县区办结（第十条） / the correction deadline passed; the district
    concludes (Art. 10)."""

    type: ClassVar[str] = "correction_overdue"
    description: ClassVar[Text] = Text(
        zh="补正期限已过，待县区办结（第十条）",
        en="the correction deadline passed; the district concludes (Art. 10)",
    )


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        Declared, CorrectionRequested, Resubmitted, Recommended, NotRecommended, ReviewPassed,
        ReviewFailed, InspectionPassed, InspectionFailed, NoticeAnnounced, Publicized,
        ObjectionRaised, ObjectionVerified, ObjectionSustained, Certified, Expired,
        EvaluationFailed, Revoked, Withdrawn, RoundOpened, ExpertOpinionRecorded, RoundSelected,
        AnnualReportFiled, EvaluationRecorded, ChangeFiled, ProvinciallyRecommended,
        NoticePeriodEnded, ValidityEndingSoon, AnnualReportOverdue, CorrectionLapsed,
        PlaqueReturned, CorrectionOverdue,
    )
}  # fmt: skip
"""Every event class by its ``type`` name (how stores write and read them)."""


def event_document(event: Event) -> dict[str, Any]:
    """The event as plain JSON-ready data, with its ``type``: what the outbox stores, what
    ``kmbase follow`` prints and what a broker bridge sends (docs/schemas/events.schema.json).
    The wire format is `kmbase_workflow.encoding`'s, with every other record's encoding."""
    from .encoding import event_document as document  # noqa: PLC0415 - it imports this module

    return document(event)


def event_from_document(data: Mapping[str, Any]) -> Event:
    """The event of a document (any schema version this library knows); unknown keys, added
    by a later minor change, are ignored. `InvalidInputError` for data that is no event."""
    from .encoding import event_from_document as read  # noqa: PLC0415 - it imports this module

    return read(data)


E = TypeVar("E", bound=Event)
EventHandler = Callable[[Event], object]
"""A subscriber: called with each event it subscribed to."""


@attrs.frozen
class DeliveryFailure:
    """A subscriber raised while handling an event (the change stays committed)."""

    event: Event
    handler: str
    error: BaseException


@attrs.define(eq=False)
class Subscription:
    """A registered subscriber; pass it to `EventBus.unsubscribe` to remove it."""

    handler: EventHandler
    types: tuple[type[Event], ...]
    """Empty: every event."""

    def wants(self, event: Event) -> bool:
        """Whether this subscriber takes ``event``."""
        return not self.types or isinstance(event, self.types)


class EventBus:
    """In-process publish/subscribe for events (see the module docs for the guarantees).

    >>> bus = EventBus()
    >>> seen = []
    >>> @bus.on(Certified)
    ... def remember(event):
    ...     seen.append(event.type)
    """

    def __init__(
        self,
        *,
        on_error: Callable[[DeliveryFailure], object] | None = None,
        keep_failures: int = 100,
    ) -> None:
        self._subscriptions: list[Subscription] = []
        self._on_error = on_error
        self._keep = keep_failures
        self.failures: list[DeliveryFailure] = []
        """The most recent delivery failures (at most ``keep_failures``)."""

    def subscribe(self, handler: EventHandler, *types: type[Event]) -> Subscription:
        """Call ``handler`` for events of ``types`` (and their subclasses); none: every event."""
        subscription = Subscription(handler, tuple(types))
        self._subscriptions.append(subscription)
        return subscription

    def on(self, *types: type[Event]) -> Callable[[Callable[[E], object]], Callable[[E], object]]:
        """Decorator form of `subscribe`."""

        def register(handler: Callable[[E], object]) -> Callable[[E], object]:
            self.subscribe(handler, *types)  # type: ignore[arg-type]
            return handler

        return register

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to a subscriber (no error if it is already gone)."""
        with contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)

    @contextlib.contextmanager
    def subscribed(self, handler: EventHandler, *types: type[Event]) -> Iterator[Subscription]:
        """Subscribe for the duration of a ``with`` block."""
        subscription = self.subscribe(handler, *types)
        try:
            yield subscription
        finally:
            self.unsubscribe(subscription)

    def publish(self, events: Iterable[Event]) -> list[DeliveryFailure]:
        """Deliver committed events; returns the failures of this call."""
        failures: list[DeliveryFailure] = []
        for event in events:
            for subscription in tuple(self._subscriptions):
                if not subscription.wants(event):
                    continue
                try:
                    subscription.handler(event)
                except Exception as error:  # a subscriber's failure must not spread
                    failure = DeliveryFailure(event, _name(subscription.handler), error)
                    failures.append(failure)
                    logger.exception(
                        "subscriber %s failed on %s %s", failure.handler, event.type, event.id
                    )
                    if self._on_error is not None:
                        self._on_error(failure)
        if failures:
            self.failures = (self.failures + failures)[-self._keep :]
        return failures


def _name(handler: EventHandler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
