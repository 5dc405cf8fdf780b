"""The verdict model: a `Verdict` of `Finding` objects, each with its `Status`."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._i18n import Lang, Text
from ._checks import FAIL, NA, PASS

if TYPE_CHECKING:
    from ._findings import _Pending

MeasureValue = float | bool | str | None
Basis = Literal[
    "measured",
    "declared",
    "pledged",
    "service_functions",
    "materials",
    "spot_check",
    "district",
    "figures_year",
]


class Status(enum.Enum):
    """The outcome of one rule."""

    PASS = "pass"
    FAIL = "fail"
    NOT_ASSESSABLE = "not_assessable"
    """Data missing or not judgeable: never counted as a pass."""

    @property
    def label(self) -> Text:
        """Human label in both languages."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    Status.PASS: Text(zh="符合", en="met"),
    Status.FAIL: Text(zh="不符合", en="not met"),
    Status.NOT_ASSESSABLE: Text(zh="无法判断", en="not assessable"),
}

_CODE_STATUS = {PASS: Status.PASS, FAIL: Status.FAIL, NA: Status.NOT_ASSESSABLE}


@attrs.frozen
class Finding:
    """The outcome of one rule for one application."""

    rule: str
    article: Text
    status: Status
    required: MeasureValue
    actual: MeasureValue
    message: Text
    basis: Basis = "measured"
    evidence: str | None = None
    """For declared conditions: where the applicant says the proof is."""
    details: tuple[Finding, ...] = ()
    """Sub-findings (each service function of 第七条, each threshold of a function)."""

    @property
    def passed(self) -> bool:
        """Whether the rule is met."""
        return self.status is Status.PASS

    def _repr_html_(self) -> str:
        from .._html import finding_html  # noqa: PLC0415 - for notebooks only (issue 23)

        return finding_html(self)

    def to_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        """The finding as plain data (the ``kmbase check --format json`` contract)."""
        data: dict[str, Any] = {
            "rule": self.rule,
            "article": attrs.asdict(self.article),  # both languages, as in every JSON output
            "status": self.status.value,
            "required": self.required,
            "actual": self.actual,
            "message": self.message.in_(lang),
            "basis": self.basis,
        }
        if self.evidence is not None:
            data["evidence"] = self.evidence
        if self.details:
            data["details"] = [detail.to_dict(lang) for detail in self.details]
        return data


@attrs.frozen
class Verdict:
    """Every finding for one application under one policy."""

    policy_id: str
    base_name: str
    findings: tuple[Finding, ...]
    judged_on: dt.date
    """The day the application was judged at: the age of 第六条第（二）项 is counted to it
    and the figures of the year before it are judged (by default the application's own
    填报日期; a workflow passes the case's real declaration day)."""
    figures_year: int
    """The year whose figures were judged (the policy's ``figures`` rule)."""
    _pending: _Pending | None = attrs.field(default=None, init=False, eq=False, repr=False)
    """What `evaluate` judged, until ``findings`` is first read."""

    if not TYPE_CHECKING:  # typed as the field it fills, so typos stay type errors

        def __getattr__(self, name: str) -> Any:
            # Only ``findings`` is ever left unset: `evaluate` decides at once (statuses,
            # `eligible`) and renders the ~65 bilingual findings on first read, which costs
            # several times the decision.
            if name == "findings":
                pending = self._pending
                if pending is not None:
                    findings = pending.render()
                    object.__setattr__(self, "findings", findings)
                    return findings
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _repr_html_(self) -> str:
        from .._html import verdict_html  # noqa: PLC0415 - for notebooks only (issue 23)

        return verdict_html(self)

    @property
    def eligible(self) -> bool:
        """True only if every finding passes (a not-assessable finding is not a pass)."""
        if self._pending is not None:
            return self._pending.eligible
        return all(finding.passed for finding in self.findings)

    def failed(self) -> tuple[Finding, ...]:
        """Findings whose rule is not met."""
        if self._pending is not None and self._pending.eligible:
            return ()
        return tuple(f for f in self.findings if f.status is Status.FAIL)

    def not_assessable(self) -> tuple[Finding, ...]:
        """Findings that could not be judged for lack of data."""
        if self._pending is not None and self._pending.eligible:
            return ()
        return tuple(f for f in self.findings if f.status is Status.NOT_ASSESSABLE)

    def finding(self, rule_id: str) -> Finding:
        """The finding for one rule id (``KeyError`` if there is none)."""
        for finding in self.findings:
            if finding.rule == rule_id:
                return finding
        raise KeyError(rule_id)

    def summary(self) -> Text:
        """One line: eligible or not, and how many rules failed or could not be judged."""
        failed, missing = len(self.failed()), len(self.not_assessable())
        day = self.judged_on.isoformat()
        if self.eligible:
            return Text(
                zh=f"{self.base_name}：符合申报条件（判断日 {day}）",
                en=f"{self.base_name}: eligible (judged on {day})",
            )
        return Text(
            zh=f"{self.base_name}：不符合申报条件（{failed} 项不符合，{missing} 项无法判断；判断日 {day}）",
            en=f"{self.base_name}: not eligible ({failed} not met, {missing} not assessable; "
            f"judged on {day})",
        )

    def to_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        """The verdict as plain data (the ``kmbase check --format json`` contract)."""
        return {
            "eligible": self.eligible,
            "policy": self.policy_id,
            "base": self.base_name,
            "judged_on": self.judged_on.isoformat(),
            "figures_year": self.figures_year,
            "findings": [finding.to_dict(lang) for finding in self.findings],
        }
