"""matplotlib charts for `kmbase_workflow.simulation` (matplotlib is imported lazily, when a
chart is drawn). Every label (titles, axes, steps, rule names from the policy's descriptions)
is in the chosen language; ``lang="zh"`` draws with an installed CJK font (`find_cjk_font`)
and, when there is none, warns once how to install one (`MissingCJKFontWarning`)."""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._i18n import Lang, Text
from ._deps import _optional
from ._steps import TIMELINE_STEPS

if TYPE_CHECKING:
    from ..policy import Policy
    from ._timeline import RoundTimeline
    from ._variants import VariantComparison

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
"""Fonts with Chinese glyphs, in order of preference (simplified Chinese first)."""


class MissingCJKFontWarning(UserWarning):
    """A Chinese chart is drawn but no installed font has Chinese glyphs (they show as boxes)."""


_NO_CJK_FONT = Text(
    zh="未找到中文字体，图中的中文将显示为方框。请安装一种中文字体，例如 "
    "Debian/Ubuntu：sudo apt-get install fonts-noto-cjk（或 fonts-wqy-zenhei），"
    '然后删除 matplotlib 的字体缓存（~/.cache/matplotlib）并重启内核；或改用 lang="en"。',
    en="No font with Chinese glyphs was found: Chinese labels will show as boxes. Install one, "
    "e.g. on Debian/Ubuntu: sudo apt-get install fonts-noto-cjk (or fonts-wqy-zenhei), then "
    "delete matplotlib's font cache (~/.cache/matplotlib) and restart the kernel; or use "
    'lang="en".',
)


def find_cjk_font() -> str | None:
    """The first font of `CJK_FONTS` that matplotlib's font manager knows, or ``None``."""
    font_manager = _optional("matplotlib.font_manager")
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _localise(ax: Any, lang: Lang) -> Any:
    """Give every text of ``ax`` a CJK font (falling back to the default per glyph) when
    ``lang`` is Chinese; warn once, in both languages, when no such font is installed."""
    if lang != "zh":
        return ax
    font = find_cjk_font()
    if font is None:
        warnings.warn(f"{_NO_CJK_FONT.zh}\n{_NO_CJK_FONT.en}", MissingCJKFontWarning, stacklevel=4)
        return ax
    text_type = _optional("matplotlib.text").Text
    for text in ax.findobj(match=text_type):
        text.set_fontfamily([font, "sans-serif"])
    return ax


_OTHER_LABELS = {
    "figures_year.yearly": Text(zh="申报年度数据", en="figures of the judged year"),
    "figures_year.services": Text(zh="申报年度服务数据", en="service figures of the judged year"),
    "district": Text(zh="所在县区在认定范围内", en="district is listed"),
    "application.unknown_keys": Text(zh="无未知字段", en="no unknown keys"),
    "eligible": Text(zh="符合申报条件", en="eligible"),
}


def _rule_labels(policy: Policy) -> dict[str, Text]:
    """A short name for each rule key of a verdict, from the policy's descriptions."""
    labels: dict[str, Text] = {rule.id: rule.description for rule in policy.rules}
    requirement = policy.service_functions
    labels[requirement.id] = requirement.description
    labels |= {f"service.{f.id}": f.name for f in requirement.functions}
    labels |= {f"material.{m.id}": m.name for m in policy.materials}
    labels |= {f"pledge.{p.id}": p.description for p in policy.pledges}
    return labels | _OTHER_LABELS


def _short(text: str, lang: Lang) -> str:
    if lang == "zh":
        return text if len(text) <= 20 else text[:19] + "…"
    return textwrap.shorten(text, 48, placeholder="…")


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
    labels = _rule_labels(comparison.policies[names[0]])
    ax.set_yticks(y + height * (len(names) - 1) / 2)
    ax.set_yticklabels([_short(labels[r].in_(lang), lang) if r in labels else r for r in shown])
    ax.set_xlim(0, 1)
    ax.set_xlabel("通过率" if lang == "zh" else "pass rate")
    ax.set_title("各条件通过率（按政策变体）" if lang == "zh" else "Pass rate per rule, by variant")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize="small", ncols=2)
    return _localise(ax, lang)


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
    return _localise(ax, lang)


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
    return _localise(ax, lang)


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
    return _localise(ax, lang)
