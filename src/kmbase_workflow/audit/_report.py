"""What the audit reports: an `AuditReport` of `AuditFinding` objects."""

from __future__ import annotations

import attrs

from .._i18n import Text


@attrs.frozen
class AuditFinding:
    """One thing the audit found: which case or round chain (``round:2025``; ``None``: the
    store or the checkpoint), what kind (``chain``, ``case``, ``round``, ``column``,
    ``event``, ``checkpoint``) and what."""

    case_id: str | None
    kind: str
    problem: Text


@attrs.frozen
class AuditReport:
    """The result of `verify_store`: ``ok`` when nothing was found."""

    cases: int
    entries: int
    events: int
    findings: tuple[AuditFinding, ...]
    checkpoint: bool = False
    """Whether a checkpoint was verified too."""
    rounds: int = 0
    """Declaration rounds verified (their chains are among ``entries``, their events among
    ``events``)."""

    @property
    def ok(self) -> bool:
        """Nothing was found."""
        return not self.findings

    def summary(self) -> Text:
        """One line in both languages."""
        against = Text(zh="（含检查点核对）", en=" (against a checkpoint)")
        suffix = against if self.checkpoint else Text(zh="", en="")
        if self.ok:
            return Text(
                zh=f"审计通过{suffix.zh}：{self.cases} 个案件，{self.rounds} 个申报批次，"
                f"{self.entries} 条历史，{self.events} 个事件",
                en=f"audit passed{suffix.en}: {self.cases} cases, {self.rounds} rounds, "
                f"{self.entries} history entries, {self.events} events",
            )
        return Text(
            zh=f"审计发现 {len(self.findings)} 处问题{suffix.zh}",
            en=f"the audit found {len(self.findings)} problems{suffix.en}",
        )
