"""matplotlib charts for `kmbase_workflow.simulation` (imported lazily: no matplotlib at
import time). Labels are rule ids and English words by default; ``lang="zh"`` labels steps in
Chinese and needs a CJK font configured in matplotlib."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._i18n import Lang
from ._deps import _optional
from ._steps import TIMELINE_STEPS

if TYPE_CHECKING:
    from ._timeline import RoundTimeline
    from ._variants import VariantComparison


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    plt = _optional("matplotlib.pyplot")
    _, created = plt.subplots(figsize=size)
    return created


def plot_pass_rates(
    comparison: VariantComparison, *, ax: Any = None, lang: Lang = "en", top: int | None = 12
) -> Any:
    """Grouped horizontal bars: pass rate per rule by variant, for the ``top`` rules with the
    lowest pass rate (all rules that some row fails when ``top`` is ``None``), and eligible."""
    names = list(comparison.verdicts)
    rules: dict[str, list[float]] = {}
    for name in names:
        verdict = comparison.verdicts[name]
        for rule in verdict.rules:
            if rule.startswith("service."):
                continue  # each function only explains service_functions
            rules.setdefault(rule, []).append(verdict.pass_rate(rule))
    shown = sorted(
        (rule for rule, rates in rules.items() if min(rates) < 1.0),
        key=lambda rule: min(rules[rule]),
    )
    shown = shown[:top] if top is not None else shown
    shown.reverse()
    shown.append("eligible")
    rules["eligible"] = [comparison.eligible_rate(name) for name in names]
    ax = _axes(ax, (8, 0.12 * len(shown) * (len(names) + 1) + 1.5))
    height = 0.8 / len(names)
    y = np.arange(len(shown), dtype=float)
    for i, name in enumerate(names):
        ax.barh(y + i * height, [rules[rule][i] for rule in shown], height=height, label=name)
    ax.set_yticks(y + height * (len(names) - 1) / 2)
    ax.set_yticklabels(shown)
    ax.set_xlim(0, 1)
    ax.set_xlabel("通过率" if lang == "zh" else "pass rate")
    ax.set_title("各条件通过率（按政策变体）" if lang == "zh" else "Pass rate per rule, by variant")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize="small", ncols=2)
    return ax


def plot_funnel(timeline: RoundTimeline, *, ax: Any = None, lang: Lang = "en") -> Any:
    """Horizontal bars narrowing from declared to certified."""
    counts = timeline.funnel()
    labels = {step: text.in_(lang) for step, text in TIMELINE_STEPS}
    steps = list(counts)
    ax = _axes(ax, (7, 3.5))
    widths = np.array([counts[step] for step in steps], dtype=float)
    y = np.arange(len(steps))[::-1]
    ax.barh(y, widths, left=(widths.max() - widths) / 2, color="tab:blue")
    for yi, width in zip(y, widths, strict=True):
        share = width / widths[0] if widths[0] else 0.0
        ax.text(widths.max() / 2, yi, f"{int(width):,} ({share:.0%})", ha="center", va="center",
                color="white", fontsize="small")  # fmt: skip
    ax.set_yticks(y)
    ax.set_yticklabels([labels[step] for step in steps])
    ax.set_xticks([])
    ax.set_title("认定流程漏斗" if lang == "zh" else "Funnel through the lifecycle")
    return ax


_SEGMENTS = (
    ("declared", "recommended", "district review", "县区初审", "tab:blue"),
    ("recommended", "expert_reviewed", "expert review", "专家评审", "tab:orange"),
    ("expert_reviewed", "site_inspected", "site inspection", "现场核查", "tab:green"),
    ("site_inspected", "publicized", "to publication", "待公示", "tab:gray"),
    ("publicized", "notice_due", "public notice", "社会公示", "tab:red"),
    ("notice_due", "certified", "collective decision", "集体决策", "tab:purple"),
)


def plot_timeline(
    timeline: RoundTimeline, *, ax: Any = None, replication: int = 0, lang: Lang = "en"
) -> Any:
    """A Gantt chart of one replication: one row per case, one colour per stage; objections
    and their investigation drawn as black bars; provisional cases hatched."""
    mdates = _optional("matplotlib.dates")
    rows = np.flatnonzero(timeline.replication == replication)
    ax = _axes(ax, (9, 0.22 * rows.size + 1.5))
    labelled: set[str] = set()
    for position, row in enumerate(rows):
        y = rows.size - 1 - position
        for start_key, end_key, en, zh, colour in _SEGMENTS:
            start, end = timeline.dates[start_key][row], timeline.dates[end_key][row]
            if np.isnat(start) or np.isnat(end):
                continue
            label = zh if lang == "zh" else en
            left = mdates.date2num(start)
            ax.barh(
                y,
                max(mdates.date2num(end) - left, 0.5),
                left=left,
                color=colour,
                hatch="//" if timeline.provisional[row] else None,
                label=None if label in labelled else label,
                height=0.7,
            )
            labelled.add(label)
        objected, investigated = (
            timeline.dates["objected"][row],
            timeline.dates["investigated"][row],
        )
        if not np.isnat(objected):
            label = "异议调查" if lang == "zh" else "objection investigated"
            left = mdates.date2num(objected)
            ax.barh(y, mdates.date2num(investigated) - left, left=left, color="black",
                    height=0.3, label=None if label in labelled else label)  # fmt: skip
            labelled.add(label)
    ax.set_yticks([])
    ax.set_ylabel("案件" if lang == "zh" else "cases")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.set_title(
        f"{timeline.name}：第 {replication + 1} 轮"
        if lang == "zh"
        else f"{timeline.name}: round {replication + 1}"
    )
    ax.legend(loc="upper left", fontsize="x-small", ncols=2)
    return ax


def plot_days_to_certification(
    timelines: Sequence[RoundTimeline], *, ax: Any = None, lang: Lang = "en"
) -> Any:
    """One box per simulated round: calendar days from the start to certification."""
    ax = _axes(ax, (8, 1.0 + 0.6 * len(timelines)))
    data = []
    for timeline in timelines:
        days = timeline.days_to_certification()
        data.append(days[~np.isnan(days)])
    ax.boxplot(data, orientation="horizontal", tick_labels=[t.name for t in timelines])
    ax.set_xlabel(
        "自本轮开始至认定的日历天数"
        if lang == "zh"
        else "calendar days from the start to certification"
    )
    return ax
