"""The sample records the contracts write: a declared case (`sample_case`), the change that
writes it (`sample_change`), a round's opening (`round_opening`) and a pending obligation
(`sample_item`); a host's own tests may use the three that `kmbase_workflow.testing` exports.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum

from ..actors import Actor, Role
from ..case import Case, DeclarationRound, State
from ..events import Declared, Event, Recommended, RoundOpened, TransitionEvent
from ..examples import eligible_application
from ..history import GENESIS_HASH, HistoryEntry
from ..serialization import converter
from ..stores import Change, WorkItem

__all__ = ["round_opening", "sample_case", "sample_change", "sample_item"]

_ACTOR = Actor(Role.OPERATOR, "昆明春城数字科技发展有限公司")
_BUREAU = Actor(Role.CITY_BUREAU, "bureau-01")
_WHEN = pendulum.datetime(2025, 6, 20, 9, 30, tz="Asia/Shanghai")


def sample_case(case_id: str, **changes: object) -> Case:
    """A declared case of the eligible example application, with ``changes`` applied."""
    application = eligible_application()
    case = Case(
        id=case_id,
        base_id=f"base-{case_id}",
        round_year=2025,
        state=State.DECLARED,
        version=1,
        application=application,
        declared_on=dt.date(2025, 6, 20),
    )
    return attrs.evolve(case, **changes)  # type: ignore[arg-type]


def sample_change(
    case: Case,
    previous: HistoryEntry | None,
    *,
    expected: int | None = None,
    key: str | None = None,
    events: int = 1,
) -> Change:
    """A change writing ``case`` at its version, chained after ``previous`` (its history
    entry sealed, ``events`` transition events with stable ids)."""
    event_type: type[TransitionEvent] = Declared if case.version == 1 else Recommended
    built = tuple(
        event_type(
            id=f"{case.id}-v{case.version}-e{index}",
            case_id=case.id,
            base_id=case.base_id,
            occurred_at=_WHEN,
            actor=_ACTOR,
            payload={"index": index, "名称": case.base_name},
            trigger="declare" if case.version == 1 else "recommend",
            from_state=None if previous is None else previous.to_state,
            to_state=case.state.value,
        )
        for index in range(events)
    )
    entry = HistoryEntry(
        case_id=case.id,
        sequence=case.version,
        action="declare" if case.version == 1 else "recommend",
        from_state=None if previous is None else previous.to_state,
        to_state=case.state.value,
        actor=_ACTOR,
        at=_WHEN,
        reason="理由 reason",
        evidence=("申请报告.pdf",),
        payload={"round": 2025},
        event_ids=tuple(event.id for event in built),
    ).sealed(previous.hash if previous else GENESIS_HASH)
    return Change(
        case=case,
        expected_version=case.version - 1 if expected is None else expected,
        history=entry,
        events=built,
        idempotency_key=key,
    )


def round_opening(
    declaration_round: DeclarationRound, previous: HistoryEntry | None, tag: str = ""
) -> tuple[HistoryEntry, tuple[Event, ...]]:
    """The entry of a round's chain (after ``previous``) and the event opening it records."""
    chain_id = declaration_round.chain_id
    sequence = previous.sequence + 1 if previous else 1
    payload = converter.unstructure(declaration_round)
    event = RoundOpened(
        id=f"{chain_id}-{sequence}{tag}",
        case_id=chain_id,
        base_id="",
        occurred_at=_WHEN,
        actor=_BUREAU,
        payload=payload,
        trigger="open_round",
        round_year=declaration_round.year,
    )
    entry = HistoryEntry(
        case_id=chain_id,
        sequence=sequence,
        action="open_round",
        from_state=previous.to_state if previous else None,
        to_state="opened",
        actor=_BUREAU,
        at=_WHEN,
        payload=payload,
        event_ids=(event.id,),
    ).sealed(previous.hash if previous else GENESIS_HASH)
    return entry, (event,)


def sample_item(case: Case, obligation: str = "declaration_review", **changes: object) -> WorkItem:
    """A pending obligation of ``case`` as the projection stores it, with ``changes``."""
    item = WorkItem(
        case_id=case.id,
        obligation=obligation,
        role=Role.DISTRICT_AUTHORITY.value,
        district=case.district,
        base_id=case.base_id,
        base_name=case.base_name,
        operator_id=case.operator_code,
        round_year=case.round_year,
        state=case.state.value,
        version=case.version,
        actions=("recommend", "decline"),
        article_zh="第十条",
        article_en="Art. 10",
        since=case.declared_on,
    )
    return attrs.evolve(item, **changes)  # type: ignore[arg-type]
