"""HTML for notebooks: a verdict, a finding, a deadline and a case as small bilingual tables.

Each function returns a self-contained HTML fragment (escaped, inline styles only), which the
records' ``_repr_html_`` methods return so Jupyter shows them as tables:

>>> from kmbase_workflow.examples import ineligible_application
>>> from kmbase_workflow.eligibility import evaluate
>>> fragment = verdict_html(evaluate(ineligible_application()))
>>> fragment.startswith("<div") and "resident_enterprises" in fragment
True
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .case import Case
    from .deadlines import Deadline
    from .eligibility import Finding, Verdict

__all__ = ["case_html", "deadline_html", "finding_html", "verdict_html"]

_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "not_assessable": "#9a6700"}
_TABLE = '<table style="border-collapse:collapse;text-align:left">'


def _e(value: object) -> str:
    return html.escape("—" if value is None else str(value))


def _status(status_value: str, zh: str, en: str) -> str:
    colour = _COLOURS.get(status_value, "inherit")
    return f'<span style="color:{colour};font-weight:bold">{_e(zh)} / {_e(en)}</span>'


def _finding_row(finding: Finding, depth: int = 0) -> str:
    label = finding.status.label
    indent = f"padding-left:{0.3 + 1.2 * depth}em"
    row = (
        f'<tr><td style="{indent}"><code>{_e(finding.rule)}</code></td>'
        f"<td>{_e(finding.article.zh)}<br><small>{_e(finding.article.en)}</small></td>"
        f"<td>{_status(finding.status.value, label.zh, label.en)}</td>"
        f"<td>{_e(finding.required)}</td><td>{_e(finding.actual)}</td>"
        f"<td>{_e(finding.message.zh)}<br><small>{_e(finding.message.en)}</small></td></tr>"
    )
    return row + "".join(_finding_row(detail, depth + 1) for detail in finding.details)


_FINDING_HEAD = (
    "<tr><th>rule 条件</th><th>article 条款</th><th>status 结论</th>"
    "<th>required 要求</th><th>actual 实际</th><th>message 说明</th></tr>"
)


def finding_html(finding: Finding) -> str:
    """One finding (and its sub-findings) as an HTML table."""
    return f"<div>{_TABLE}{_FINDING_HEAD}{_finding_row(finding)}</table></div>"


def verdict_html(verdict: Verdict) -> str:
    """A verdict: its one-line summary, then every finding, failed ones first."""
    summary = verdict.summary()
    colour = _COLOURS["pass" if verdict.eligible else "fail"]
    order = {"fail": 0, "not_assessable": 1, "pass": 2}
    findings = sorted(verdict.findings, key=lambda f: order[f.status.value])
    rows = "".join(_finding_row(finding) for finding in findings)
    return (
        f'<div><p style="color:{colour};font-weight:bold">{_e(summary.zh)}<br>{_e(summary.en)}'
        f"</p><p><small>policy 政策: <code>{_e(verdict.policy_id)}</code> · "
        f"judged on 判断日: {_e(verdict.judged_on.isoformat())} · "
        f"figures of 数据年度: {_e(verdict.figures_year)}</small></p>"
        f"{_TABLE}{_FINDING_HEAD}{rows}</table></div>"
    )


def deadline_html(deadline: Deadline) -> str:
    """A deadline: kind, article, start, due (marked provisional), convention, explanation."""
    provisional = (
        ' <span style="color:#9a6700;font-weight:bold">临时 / provisional</span>'
        if deadline.provisional
        else ""
    )
    rows = [
        ("kind 类型", f"<code>{_e(deadline.kind.value)}</code>"),
        ("article 条款", f"{_e(deadline.article.zh)} / {_e(deadline.article.en)}"),
        ("start 起算", _e(deadline.start)),
        ("due 截止", f"<strong>{_e(deadline.due)}</strong>{provisional}"),
        ("convention 计算规则", f"<code>{_e(deadline.convention)}</code>"),
        ("description 说明", f"{_e(deadline.description.zh)}<br><small>{_e(deadline.description.en)}</small>"),
        ("explanation 解释", f"{_e(deadline.explanation.zh)}<br><small>{_e(deadline.explanation.en)}</small>"),
    ]  # fmt: skip
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    return f"<div>{_TABLE}{body}</table></div>"


def case_html(case: Case) -> str:
    """A case: id, base, state, the dates its steps recorded, objections and closing reason."""
    label = case.state.label
    rows = [
        ("case 案件", f"<code>{_e(case.id)}</code> (v{case.version})"),
        ("base 基地", f"{_e(case.base_name)}（{_e(case.district)}）"),
        ("round 年度", _e(case.round_year)),
        ("state 状态", f"<strong>{_e(label.zh)} / {_e(label.en)}</strong>"),
        ("declared 申报", _e(case.declared_on)),
    ]
    if case.recommendation is not None:
        rows.append(("recommendation 推荐意见", _e(case.recommendation.opinion)))
    if case.expert_score is not None:
        rows.append(("expert score 专家评分", f"{case.expert_score:.1f}"))
    if case.notice is not None:
        flag = " (临时 / provisional)" if case.notice.provisional else ""
        rows.append(("notice 公示", f"{_e(case.notice.start)} – {_e(case.notice.due)}{flag}"))
    for objection in case.objections:
        outcome = {None: "调查中 / under investigation", True: "成立 / sustained",
                   False: "不成立 / not sustained"}[objection.sustained]  # fmt: skip
        rows.append(
            ("objection 异议", f"{_e(objection.raised_on)}: {_e(objection.content)} — {outcome}")
        )
    if case.certified_on is not None:
        rows.append(("certified 认定", _e(case.certified_on)))
    if case.validity is not None:
        rows.append(("valid until 有效期至", _e(case.validity.label())))
    if case.closing_reason:
        rows.append(("reason 原因", _e(case.closing_reason)))
    body = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f"<div>{_TABLE}{body}</table></div>"
