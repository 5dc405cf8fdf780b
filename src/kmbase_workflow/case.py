"""A case: one application moving through the lifecycle, and what each step recorded.

Cases are frozen; each transition makes a new one (``attrs.evolve``) with ``version`` one
higher, so a store can refuse a writer that holds a stale version.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._html import case_html
from ._i18n import Text
from .deadlines import Deadline
from .errors import unknown_choice
from .records import Application, Operator, SpotCheck
from .serialization import converter

__all__ = [
    "ROUND_CHAIN_PREFIX",
    "AnnualReport",
    "Case",
    "ChangeFiling",
    "ChangeKind",
    "CollectiveDecision",
    "Correction",
    "DeclarationRound",
    "Evaluation",
    "ExpertOpinion",
    "KeptApplications",
    "NoticeAnnouncement",
    "Objection",
    "PlaqueReturn",
    "ProvincialRecommendation",
    "Recommendation",
    "Revocation",
    "RevocationGround",
    "Selection",
    "State",
    "kept_applications",
]


class State(enum.Enum):
    """Where a case stands (第九条 to 第十八条)."""

    DECLARED = "declared"
    RETURNED_FOR_CORRECTION = "returned_for_correction"
    DISTRICT_RECOMMENDED = "district_recommended"
    NOT_RECOMMENDED = "not_recommended"
    EXPERT_REVIEWED = "expert_reviewed"
    SITE_INSPECTED = "site_inspected"
    REJECTED = "rejected"
    NOTICE_ANNOUNCED = "notice_announced"
    PUBLICIZED = "publicized"
    OBJECTED = "objected"
    VERIFIED = "verified"
    CERTIFIED = "certified"
    REVOCATION_PENDING = "revocation_pending"
    EXPIRED = "expired"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"

    @classmethod
    def _missing_(cls, value: object) -> State:
        raise unknown_choice(cls, value)

    @property
    def label(self) -> Text:
        """The state's name in both languages."""
        return _STATE_LABELS[self]

    @property
    def is_open(self) -> bool:
        """Still on its way to a decision (declared … verified)."""
        return self in _OPEN

    @property
    def is_final(self) -> bool:
        """No trigger leaves this state."""
        return self in _FINAL

    @property
    def holds_title(self) -> bool:
        """The title is held: certified, or awaiting its withdrawal after a failed evaluation
        (第十五条, 第十八条); reports, filings and expiry concern these states."""
        return self in _TITLE_HELD

    @property
    def awaits_certification(self) -> bool:
        """Under public notice with no objection, or with its objection investigated and found
        groundless: certified once the notice is over (第十三条, 第十四条)."""
        return self in _AWAITING_CERTIFICATION


_STATE_LABELS = {
    State.DECLARED: Text(zh="已申报", en="declared"),
    State.RETURNED_FOR_CORRECTION: Text(zh="退回补正", en="returned for correction"),
    State.DISTRICT_RECOMMENDED: Text(zh="县区已推荐", en="recommended by the district"),
    State.NOT_RECOMMENDED: Text(zh="县区未推荐", en="not recommended"),
    State.EXPERT_REVIEWED: Text(zh="专家评审通过", en="passed expert review"),
    State.SITE_INSPECTED: Text(zh="现场核查通过", en="passed site inspection"),
    State.REJECTED: Text(zh="未通过", en="rejected"),
    State.NOTICE_ANNOUNCED: Text(zh="已公告待公示", en="notice announced, not yet started"),
    State.PUBLICIZED: Text(zh="公示中", en="under public notice"),
    State.OBJECTED: Text(zh="有异议待核实", en="objection under investigation"),
    State.VERIFIED: Text(zh="异议已核实无问题", en="objection investigated, no problem"),
    State.CERTIFIED: Text(zh="已认定授牌", en="certified"),
    State.REVOCATION_PENDING: Text(
        zh="测评不合格待取消称号", en="failed evaluation, title withdrawal pending"
    ),
    State.EXPIRED: Text(zh="有效期满", en="expired"),
    State.REVOKED: Text(zh="已撤销称号", en="title revoked"),
    State.WITHDRAWN: Text(zh="已撤回", en="withdrawn"),
}
_OPEN = frozenset(
    {
        State.DECLARED,
        State.RETURNED_FOR_CORRECTION,
        State.DISTRICT_RECOMMENDED,
        State.EXPERT_REVIEWED,
        State.SITE_INSPECTED,
        State.NOTICE_ANNOUNCED,
        State.PUBLICIZED,
        State.OBJECTED,
        State.VERIFIED,
    }
)
_FINAL = frozenset(
    {State.NOT_RECOMMENDED, State.REJECTED, State.EXPIRED, State.REVOKED, State.WITHDRAWN}
)
_TITLE_HELD = frozenset({State.CERTIFIED, State.REVOCATION_PENDING})
_AWAITING_CERTIFICATION = frozenset({State.PUBLICIZED, State.VERIFIED})


ROUND_CHAIN_PREFIX = "round:"
"""History chains whose id begins with this are declaration rounds' (`DeclarationRound.chain_id`),
never a case's: a case id may not begin with it."""


@attrs.frozen
class DeclarationRound:
    """The year's declaration round (第九条): the window the year's notice sets."""

    year: int
    opens_on: dt.date
    closes_on: dt.date
    notice: str = ""
    """The reference of the year's declaration notice (申报通知)."""

    @property
    def chain_id(self) -> str:
        """The id of this round's chain in the history (``round:2025``): opening the round
        is recorded there, hash-chained as a case's steps are (第二十条)."""
        return f"{ROUND_CHAIN_PREFIX}{self.year}"

    def is_open_on(self, day: dt.date) -> bool:
        """Whether declarations are accepted on ``day``."""
        return self.opens_on <= day <= self.closes_on

    def overlaps(self, other: DeclarationRound) -> bool:
        """Whether the two windows share a day (第九条: one round at a time)."""
        return self.opens_on <= other.closes_on and other.opens_on <= self.closes_on


@attrs.frozen
class Correction:
    """A return for correction (退回补正, 第十条 真实性、完整性初审): what the district found
    wanting and the day by which the operator resubmits."""

    deficiencies: tuple[str, ...]
    due: dt.date
    returned_on: dt.date | None = None
    """The day it was returned: the step sets it (a caller need not send it; one sent is
    replaced), so every correction stored holds it."""


@attrs.frozen
class Recommendation:
    """The district authority's preliminary review and recommendation (第十条)."""

    opinion: str
    """推荐意见."""
    authenticity_checked: bool
    """Materials checked for authenticity and completeness (真实性、完整性初审)."""
    spot_check: SpotCheck
    """The satisfaction spot check (满意度随机抽查)."""


@attrs.frozen
class ExpertOpinion:
    """One expert's review (第十一条) with a score used to select the best of the round.

    ``expert`` is the expert's id (one opinion per expert per case); ``entered_by`` is the
    id of the official who typed it in on the expert's behalf, if anyone did.
    """

    expert: str
    score: float
    opinion: str
    entered_by: str | None = None


@attrs.frozen
class Selection:
    """Where the case ranked when the city bureau selected the round's best (择优, 第十一条)."""

    rank: int
    of: int
    selected: bool
    score: float
    decision: int = 1
    """Which selection of the round this is (1, 2 …): a later one supersedes an earlier."""
    stale: bool = False
    """An expert opinion arrived after it: the round must be selected again."""


@attrs.frozen
class Objection:
    """An objection raised during the public notice (第十三条) and its investigation."""

    raised_on: dt.date
    raised_by: str
    content: str
    finding: str | None = None
    """The investigation's conclusion (调查核实), once made."""
    sustained: bool | None = None


@attrs.frozen
class NoticeAnnouncement:
    """The public notice as the city bureau announces it (第十三条): the day it is first up
    on the portal and its length, either as working days or as a last day. Neither: the
    policy's minimum. A length below the minimum is refused."""

    starts_on: dt.date | None = None
    working_days: int | None = None
    ends_on: dt.date | None = None


@attrs.frozen
class CollectiveDecision:
    """The city bureau's collective decision (集体决策, 第十四条)."""

    reference: str
    """Minutes or document number of the meeting."""
    decided_on: dt.date


class RevocationGround(enum.Enum):
    """Why a title is revoked or withdrawn."""

    VIOLATION = "violation"
    """违法违规行为, 第十五条."""
    FAILED_EVALUATION = "failed_evaluation"
    """测评不合格, 第十八条."""


@attrs.frozen
class Revocation:
    """The revocation of a title (第十五条) or its withdrawal after an evaluation (第十八条)."""

    ground: RevocationGround
    decided_on: dt.date
    details: str
    plaque_returned_on: dt.date | None = None
    """When the plaque was handed back (收回牌匾, 第十八条), once it was."""


@attrs.frozen
class PlaqueReturn:
    """The plaque handed back after a revocation (收回牌匾, 第十八条), recorded when it
    happens."""

    returned_on: dt.date


@attrs.frozen
class AnnualReport:
    """A yearly summary and plan (第十六条 base → district, 第十七条 district → city)."""

    year: int
    by_district: bool = False
    """False: the base's report to its district; True: the district's to the city bureau."""
    submitted_on: dt.date | None = None
    """Set by the workflow to the day it is filed (whatever a caller passes)."""
    late: bool = False
    """Set by the workflow: filed after the policy's due date."""
    reference: str = ""
    correction: bool = False
    """A corrected report: it supersedes the one filed before for the same year (both stay
    recorded); without it a year is reported once (第十六条, 第十七条)."""


@attrs.frozen
class Evaluation:
    """An evaluation by a third party or experts (第十八条)."""

    evaluator: str
    passed: bool
    report: str = ""
    evaluated_on: dt.date | None = None
    """Set by the workflow to the day it is recorded."""


class ChangeKind(enum.Enum):
    """The major changes of 第十九条 (and the address, which the forms carry)."""

    NAME = "name"
    """变更名称: the base's new name."""
    OPERATOR = "operator"
    """变更运营主体: a new operator (a new unified social credit code)."""
    LEGAL_REPRESENTATIVE = "legal_representative"
    """变更法定代表人."""
    ADDRESS = "address"
    """变更地址."""
    OTHER = "other"
    """Another major change, described in words."""

    @classmethod
    def _missing_(cls, value: object) -> ChangeKind:
        raise unknown_choice(cls, value)


@attrs.frozen
class ChangeFiling:
    """A major-change filing (第十九条): name, operator or legal representative changed.

    A filing of a new operator, name or legal representative carries the new values; once
    filed, the case's `Case.operator` and `Case.base_name` follow them (the operator then acts
    by its own credit code).
    """

    change: str
    completed_on: dt.date
    filed_on: dt.date | None = None
    """Set by the workflow to the day it is filed."""
    due: dt.date | None = None
    """Set by the workflow: the last day of the policy's working-day limit."""
    late: bool = False
    """Set by the workflow: filed after ``due``."""
    kind: ChangeKind = ChangeKind.OTHER
    operator: Operator | None = None
    """The operator after the change (kinds operator, legal_representative, address)."""
    base_name: str | None = None
    """The base's name after the change (kind name)."""


@attrs.frozen
class ProvincialRecommendation:
    """A recommendation to the provincial level (第二十一条)."""

    recommended_on: dt.date
    programme: str


StoredApplication = str | Mapping[str, Any]
"""An application as a store gives it: its JSON text (as written), or plain data."""


class KeptApplications:
    """The applications most recently structured from (or written as) a stored JSON text, by
    that text: a step on a case declared or read a moment ago in this process does not parse
    and structure its ~30 KB application again (~0.5 ms, issue 24).

    Keyed by the whole text, so a row changed behind the store's back (the audit's tamper
    tests) is a text never seen: it is structured as read, never answered from here. The
    values are frozen records, shared safely between threads. At most ``size`` are kept
    (the least recently used go first; ~100 KB each with its text); ``size=0`` keeps none.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: collections.OrderedDict[str, Application] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Application | None:
        """The application structured from ``text``, if it is kept."""
        with self._lock:
            value = self._kept.get(text)
            if value is not None:
                self._kept.move_to_end(text)
            return value

    def keep(self, text: str, application: Application) -> None:
        """Keep ``application`` as what ``text`` structures to (it must be: the store's own
        text of it, or its structuring)."""
        if self.size <= 0:
            return
        with self._lock:
            self._kept[text] = application
            self._kept.move_to_end(text)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        """Forget every kept application."""
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


kept_applications = KeptApplications(64)
"""The process's `KeptApplications` (64: the applications of a service's requests in
flight, some 6 MB; set ``kept_applications.size`` to change it, 0 to keep none)."""


class DeferredApplication:
    """An application a store has not read yet: what lists and most steps need of it (the
    base's name and district, the operator), and how to read the rest when it is first used.

    An application is immutable once declared (or amended, 退回补正), so reading it later
    gives what reading it with the case would have; a store builds one for every case it
    reads, and `Case.application` reads it on first use (once: the result is kept). Read
    it while its store is open.
    """

    __slots__ = (
        "_data",
        "_lock",
        "_operator",
        "_operator_code",
        "_read",
        "_value",
        "base_name",
        "district",
        "operator_source",
    )

    def __init__(
        self,
        *,
        base_name: str,
        district: str,
        operator: Operator | str | Mapping[str, Any],
        data: StoredApplication | Callable[[], StoredApplication],
        operator_code: str | None = None,
    ) -> None:
        self.base_name = base_name
        """The base's name in the application (a filed change of name may supersede it)."""
        self.district = district
        """The base's district (an amendment cannot change it)."""
        self.operator_source = operator
        """The operator as the store holds it: JSON text, plain data or the record."""
        self._operator: Operator | None = operator if isinstance(operator, Operator) else None
        self._operator_code = operator_code
        self._data: StoredApplication | None = None if callable(data) else data
        self._read: Callable[[], StoredApplication] | None = data if callable(data) else None
        self._value: Application | None = None
        self._lock = threading.Lock()

    @property
    def operator(self) -> Operator:
        """The operator in the application (a filed change of operator may supersede it)."""
        operator = self._operator
        if operator is None:
            source = self.operator_source
            plain = json.loads(source) if isinstance(source, str) else source
            operator = self._operator = _stored_operator(plain)  # type: ignore[arg-type]
        return operator

    @property
    def operator_code(self) -> str:
        """The operator's unified social credit code: the store's summary column when it gave
        it (the operator is then not read), else the operator's."""
        code = self._operator_code
        if code is None:
            code = self._operator_code = self.operator.unified_social_credit_code
        return code

    @property
    def loaded(self) -> bool:
        """Whether the application has been read and structured."""
        return self._value is not None

    def _stored(self) -> StoredApplication:
        """The application as the store gave it (its JSON text, or plain data), read from the
        store if need be."""
        data = self._data
        if data is None:
            with self._lock:
                if self._data is None:
                    assert self._read is not None
                    self._data = self._read()
                data = self._data
        return data

    def read_text(self) -> str | None:
        """The application's JSON text as its store holds it, once it has been structured from
        it (so the text is known to be JSON, whatever a row changed behind the store holds)
        and while it has not been parsed into plain data: a JSON answer puts it in place as it
        is. ``None`` otherwise."""
        if self._value is None:
            return None
        stored = self._data
        return stored if isinstance(stored, str) else None

    def data(self) -> Mapping[str, Any]:
        """The application as stored (plain data), read from the store if need be."""
        data: StoredApplication | None = self._stored()
        if isinstance(data, str):
            with self._lock:  # parsed once, whichever thread asks first
                if isinstance(self._data, str):
                    self._data = json.loads(self._data)
                data = self._data
        return cast("Mapping[str, Any]", data)  # plain data now

    def get(self) -> Application:
        """The application (read and structured on first use; a stored text structured
        recently in this process is not structured again, `kept_applications`)."""
        value = self._value
        if value is None:
            stored = self._stored()
            if isinstance(stored, str):
                value = kept_applications.get(stored)
                if value is None:
                    value = converter.structure(json.loads(stored), Application)
                    kept_applications.keep(stored, value)
            else:
                value = converter.structure(dict(stored), Application)
            self._value = value
        return value

    def __reduce__(self) -> tuple[Any, ...]:
        # A case sent to another process takes its application with it, read.
        return (_identity, (self.get(),))

    def __repr__(self) -> str:
        state = "read" if self.loaded else "not read yet"
        return f"DeferredApplication(base_name={self.base_name!r}, district={self.district!r}, {state})"


_SCALARS = (str, bool, int)


def _stored_operator(plain: Mapping[str, Any]) -> Operator:
    """An operator as this library stored it (validated when it was declared or filed): built
    without running the validators again, which cost most of a read (a checked credit code
    in the constructor). Anything unexpected takes the converter, which says what is wrong."""
    fields = attrs.fields(attrs.resolve_types(Operator))
    if len(plain) == len(fields):
        operator = object.__new__(Operator)
        for field in fields:
            value = plain.get(field.name)
            if field.type is dt.date and isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    break
            elif not (field.type in _SCALARS and type(value) is field.type):
                break
            object.__setattr__(operator, field.name, value)
        else:
            return operator
    return converter.structure(dict(plain), Operator)


def _identity(value: Application) -> Application:
    return value


def _application_of(source: Application | DeferredApplication) -> Application:
    return source.get() if isinstance(source, DeferredApplication) else source


@attrs.frozen
class Case:
    """One application and everything its steps recorded.

    ``base_id`` identifies the base across rounds (by default the operator's unified social
    credit code and the base's name), so the library can apply 第十五条's re-application rule
    and refuse a second open application in one round.

    ``application`` is given as an `Application`; a store may give a ``DeferredApplication``
    instead, read when `Case.application` is first used (reads of cases for steps that do
    not judge the application never structure it).
    """

    id: str
    base_id: str
    round_year: int
    state: State
    version: int
    _application: Application | DeferredApplication = attrs.field(
        alias="application", eq=_application_of
    )
    """The application as given (see `Case.application`)."""
    declared_on: dt.date
    recommendation: Recommendation | None = None
    expert_opinions: tuple[ExpertOpinion, ...] = ()
    selection: Selection | None = None
    inspection_opinion: str | None = None
    notice: Deadline | None = None
    objections: tuple[Objection, ...] = ()
    decision: CollectiveDecision | None = None
    certified_on: dt.date | None = None
    validity: Deadline | None = None
    revocation: Revocation | None = None
    closing_reason: str | None = None
    """Why a case ended without a title (not recommended, rejected, withdrawn)."""
    annual_reports: tuple[AnnualReport, ...] = ()
    evaluations: tuple[Evaluation, ...] = ()
    change_filings: tuple[ChangeFiling, ...] = ()
    provincial_recommendations: tuple[ProvincialRecommendation, ...] = ()
    notified: tuple[str, ...] = ()
    """Keys of the deadline events already emitted, so a sweep never repeats one."""
    correction: Correction | None = None
    """The open return for correction (退回补正), while the case is returned."""
    last_acted_on: dt.date | None = None
    """The day of the case's newest step: within a case, time never goes backwards."""
    amended_on: dt.date | None = None
    """The day of the latest resubmission (退回补正): ``application`` is then the amended
    one; every version stays in the history."""

    def _repr_html_(self) -> str:
        return case_html(self)

    @property
    def application(self) -> Application:
        """The application as declared, or as last amended (退回补正); read from the store on
        first use when the store deferred it."""
        return _application_of(self._application)

    @property
    def operator(self) -> Operator:
        """The base's operator now: as declared, or as the latest filed change (第十九条)."""
        for filing in reversed(self.change_filings):
            if filing.operator is not None:
                return filing.operator
        return self._application.operator

    @property
    def operator_code(self) -> str:
        """The unified social credit code of the base's operator now (`operator`'s): what
        work items, reading rights and queries by operator compare, known from a stored
        case's summary without reading its operator."""
        for filing in reversed(self.change_filings):
            if filing.operator is not None:
                return filing.operator.unified_social_credit_code
        source = self._application
        if isinstance(source, DeferredApplication):
            return source.operator_code
        return source.operator.unified_social_credit_code

    @property
    def base_name(self) -> str:
        """The base's name now: as declared, or as the latest filed change of name (第十九条)."""
        for filing in reversed(self.change_filings):
            if filing.base_name is not None:
                return filing.base_name
        source = self._application
        return source.base_name if isinstance(source, DeferredApplication) else source.base.name

    @property
    def district(self) -> str:
        """The district whose authority recommends the base."""
        source = self._application
        return source.district if isinstance(source, DeferredApplication) else source.base.district

    @property
    def judged_on(self) -> dt.date:
        """The day the case's application is judged on (第六条/第七条 verdict, the year of the
        spot check's population, 第十条; the verdict 附件2 shows): the day the case was really
        declared, whatever date the file carries."""
        return self.declared_on

    @property
    def open_objection(self) -> Objection | None:
        """The objection still under investigation, if any."""
        for objection in self.objections:
            if objection.sustained is None:
                return objection
        return None

    @property
    def expert_score(self) -> float | None:
        """The mean of the experts' scores (``None`` before any opinion)."""
        if not self.expert_opinions:
            return None
        return sum(o.score for o in self.expert_opinions) / len(self.expert_opinions)

    @staticmethod
    def default_base_id(application: Application) -> str:
        """The operator's credit code and the base's name: stable across rounds."""
        return f"{application.operator.unified_social_credit_code}/{application.base.name}"


def _structure_application(value: object, _type: object) -> Application | DeferredApplication:
    if isinstance(value, DeferredApplication):  # a store's, read when first used
        return value
    return converter.structure(value, Application)


def _unstructure_application(source: Application | DeferredApplication) -> Any:
    if isinstance(source, DeferredApplication):  # as stored: never structured to be written
        return dict(source.data())
    return converter.unstructure(source, Application)


# A case's data calls its application "application" (the attribute holds it as given).
converter.register_structure_hook(
    Case,
    make_dict_structure_fn(
        Case,
        converter,
        _cattrs_forbid_extra_keys=True,
        _application=override(rename="application", struct_hook=_structure_application),
    ),
)
converter.register_unstructure_hook(
    Case,
    make_dict_unstructure_fn(
        Case,
        converter,
        _application=override(rename="application", unstruct_hook=_unstructure_application),
    ),
)
