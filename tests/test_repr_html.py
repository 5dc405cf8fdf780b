"""Notebook representations: what a policy analyst sees when a result is the cell's value."""

from __future__ import annotations

import datetime as dt

import attrs

from kmbase_workflow import evaluate
from kmbase_workflow.deadlines import notice_deadline
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.policy import load_policy
from kmbase_workflow.testing import sample_case


def test_a_verdict_shows_its_summary_and_every_article() -> None:
    verdict = evaluate(ineligible_application())
    html = verdict._repr_html_()
    assert verdict.summary().zh in html
    assert "第六条第（三）项" in html
    assert html.count("<tr") >= len(verdict.findings)


def test_a_finding_shows_its_status_and_message() -> None:
    finding = evaluate(ineligible_application()).finding("resident_enterprises")
    html = finding._repr_html_()
    assert "resident_enterprises" in html
    assert "35" in html


def test_a_deadline_shows_its_date_and_article() -> None:
    notice = notice_deadline(dt.date(2025, 9, 26), load_policy().periods)
    html = notice._repr_html_()
    assert "2025-10-15" in html
    assert "第十三条" in html


def test_a_case_shows_its_state_and_base() -> None:
    html = sample_case("case-1")._repr_html_()
    assert eligible_application().base.name in html
    assert "已申报" in html


def test_user_text_is_escaped() -> None:
    application = eligible_application()
    hostile = attrs.evolve(
        application, base=attrs.evolve(application.base, name="<script>x</script>")
    )
    html = evaluate(hostile)._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
