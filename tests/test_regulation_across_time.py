"""The regulation, third pass (issue 21): the procedure across time. A base stays one base
through its change filings, the spot check is a share of the application's own figure, the
recommendation table shows the verdict the case was recommended on, a lapsed correction has
an outcome, and an announced notice lasts as announced. Each test quotes the words it holds
the library to, and runs on every store where a store is involved."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from kmbase_workflow.actors import Actor
from kmbase_workflow.as_of import case_as_of
from kmbase_workflow.case import ChangeKind, CollectiveDecision, Recommendation, State
from kmbase_workflow.clock import FixedClock
from kmbase_workflow.eligibility import Status, judge_spot_check
from kmbase_workflow.errors import TransitionRefusedError
from kmbase_workflow.records import SpotCheck
from kmbase_workflow.stores import open_store
from kmbase_workflow.workflow import Workflow
from lifecycle_helpers import (
    APPLICATION,
    BUREAU,
    CORRECTION,
    DISTRICT,
    HOME,
    OPERATOR,
    PUBLIC,
    ROUND_CLOSES,
    ROUND_OPENS,
    Harness,
    harness,
    walk_to,
)
from postgres_server import URL, schema  # noqa: F401 - the fixture is used by name

STORES = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=STORES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of each kind."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'across.db'}"
    return f"{URL}?schema={request.getfixturevalue('schema')}"


@pytest.fixture
def h(url: str) -> Iterator[Harness]:
    """A workflow on the store of ``url`` at the worked example's declaration day, with the
    2025 round open."""
    clock = FixedClock(dt.date(2025, 6, 20))
    store = open_store(url)
    workflow = Workflow(store, clock=clock)
    harness = Harness(workflow, clock, store)  # type: ignore[arg-type]
    workflow.bus.subscribe(harness.seen.append)
    workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    yield harness
    workflow.close()


def refused(call: object) -> dict[str, str]:
    """The failed guards of a refused call, by name, with the article each cites."""
    assert callable(call)
    with pytest.raises(TransitionRefusedError) as info:
        call()
    return {f.guard: f.article.zh for f in info.value.failures}


def open_round(h: Harness, year: int) -> None:
    h.workflow.open_round(year, dt.date(year, 6, 1), dt.date(year, 7, 31), BUREAU)
    h.set(dt.date(year, 6, 10))


# -- 第十五条、第十九条: one base through its change filings ------------------------------------


def test_a_renamed_base_is_the_same_base_across_years(h: Harness) -> None:
    """第十五条 "市级示范基地认定有效期为三年，在有效期满当年可再次申报" and 第十九条 "遇有变更
    名称、运营主体……应在更改完成后 10个工作日内……备案": a base certified in 2025 that files a
    change of name in 2026 is still that base: refused in 2026 and 2027, accepted in 2028
    (the year its validity ends), and the new case carries the base's history of titles."""
    wf = h.workflow
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 3, 2))
    wf.file_change(
        "c1",
        OPERATOR,
        "基地更名",
        dt.date(2026, 2, 26),
        kind=ChangeKind.NAME,
        base_name="五华数字经济创业创新园",
    )
    renamed = attrs.evolve(
        APPLICATION, base=attrs.evolve(APPLICATION.base, name="五华数字经济创业创新园")
    )
    for year in (2026, 2027):
        open_round(h, year)
        early = functools.partial(wf.declare, renamed, OPERATOR, case_id=f"again-{year}")
        assert refused(early) == {"reapplication_year": "第十五条"}
    open_round(h, 2028)
    new = wf.declare(renamed, OPERATOR, case_id="again-2028").case
    assert new.base_id == wf.case("c1").base_id
    titles = [c.id for c in wf.cases(base_id=new.base_id) if c.certified_on is not None]
    assert titles == ["c1"]


def test_a_base_with_a_new_operator_is_the_same_base(h: Harness) -> None:
    """第十九条 "遇有变更……运营主体……" and 第九条 (one declaration of a base in a round): after
    a filed change of operator, the new operator's declaration is the base's, refused before
    the year its validity ends (第十五条) and while the base has an open case (第九条)."""
    from kmbase_workflow.examples import eligible_application

    wf = h.workflow
    walk_to(h, State.CERTIFIED)
    new_operator = attrs.evolve(
        APPLICATION.operator,
        name="昆明新运营管理有限公司",
        unified_social_credit_code=_other_code(),
    )
    h.set(dt.date(2026, 3, 2))
    wf.file_change(
        "c1", OPERATOR, "运营主体变更", dt.date(2026, 2, 26), kind=ChangeKind.OPERATOR,
        operator=new_operator,
    )  # fmt: skip
    handed_over = attrs.evolve(eligible_application(), operator=new_operator)
    successor = Actor.for_operator(new_operator)
    open_round(h, 2027)
    assert refused(lambda: wf.declare(handed_over, successor, case_id="early")) == {
        "reapplication_year": "第十五条"
    }
    open_round(h, 2028)
    first = wf.declare(handed_over, successor, case_id="first").case
    assert first.base_id == wf.case("c1").base_id
    assert "one_open_case" in refused(lambda: wf.declare(handed_over, successor, case_id="second"))


def _other_code() -> str:
    from test_regulation_steps import other_code

    return other_code()


# -- 第十条: the spot check is a share of the application's own figure ------------------------


def _recommend(h: Harness, spot_check: SpotCheck) -> object:
    return lambda: h.workflow.recommend(
        "c1", DISTRICT, Recommendation("同意推荐", True, spot_check)
    )


@pytest.mark.parametrize(
    ("spot_check", "accepted"),
    [
        (SpotCheck(10, 1, 1), False),  # 1 of the 60 the application reports for 2024
        (SpotCheck(0, 0, 0), False),  # a sample of zero is no spot check
        (SpotCheck(60, 5, 5), False),
        (SpotCheck(60, 6, 6), True),
        (SpotCheck(10, 6, 6), True),  # the district's own figure does not lower the share
    ],
)
def test_the_spot_check_is_a_share_of_the_applications_residents(
    spot_check: SpotCheck, accepted: bool
) -> None:
    """第十条 "对入驻基地的小微企业按不低于 10%的比例进行满意度随机抽查": the share is of the
    resident small and micro enterprises the application reports for the judged year (60 in
    2024 for a declaration of 2025), never of a figure typed in at the spot check; a sample of
    zero never passes."""
    h = harness()
    walk_to(h, State.DECLARED)
    if accepted:
        assert _recommend(h, spot_check)().case.state is State.DISTRICT_RECOMMENDED  # type: ignore[operator]
    else:
        assert refused(_recommend(h, spot_check)) == {"spot_check.sample_size": "第十条"}


def test_a_sample_of_zero_never_passes_on_its_own() -> None:
    """第十条 "……进行满意度随机抽查": a spot check that sampled no enterprise is no spot
    check, whatever the population."""
    findings = {f.rule: f for f in judge_spot_check(SpotCheck(0, 0, 0))}
    assert findings["spot_check.sample_size"].status is Status.FAIL
    findings = {f.rule: f for f in judge_spot_check(SpotCheck(60, 6, 6), population=61)}
    assert findings["spot_check.sample_size"].status is Status.FAIL
    assert findings["spot_check.sample_size"].required == 7


# -- 第十条 附件2: the table shows the verdict the case was recommended on ---------------------


def test_the_recommendation_table_shows_the_verdict_recommended_on() -> None:
    """第十条 "出具推荐意见，填写《……推荐汇总表》（附件 2）": 是否满足各项申报条件 is the verdict
    the district recommended on (judged at the case's declaration day, `Case.judged_on`), not
    one judged at the date the file carries, so a row never reads 否 beside 同意推荐 是."""
    from kmbase_workflow.exports import recommendation_rows

    h = harness()
    # a file dated 2026: judged at its own date, it would owe 2025's figures
    dated_later = attrs.evolve(APPLICATION, declared_on=dt.date(2026, 1, 5), services_year=2024)
    walk_to(h, State.DISTRICT_RECOMMENDED, application=dated_later)
    (row,) = recommendation_rows(h.workflow, HOME, 2025)
    assert row.recommended
    assert row.eligible


# -- 第十条: a lapsed return for correction has an outcome ------------------------------------


def test_a_lapsed_correction_is_concluded_and_never_blocks_a_later_round(h: Harness) -> None:
    """第十条 "县（市）区……中小企业主管部门对申报材料的真实性、完整性进行初审……并出具推荐
    意见": a return for correction whose deadline passes without a resubmission is concluded by
    the district (not recommended, citing the lapsed deadline); the sweep reports the lapse;
    a concluded case never blocks the base's declaration in a later round."""
    wf = h.workflow
    walk_to(h, State.RETURNED_FOR_CORRECTION)  # due 2025-07-10
    h.set(CORRECTION.due)
    assert refused(lambda: wf.conclude_lapsed_correction("c1", DISTRICT)) == {
        "correction_lapsed": "第十条"
    }
    assert not [e for e in wf.sweep().events if e.type == "correction_overdue"]
    h.set(CORRECTION.due + dt.timedelta(days=1))
    (reported,) = [e for e in wf.sweep().events if e.type == "correction_overdue"]
    assert reported.case_id == "c1"
    assert reported.payload["correction_due"] == CORRECTION.due.isoformat()
    assert not [e for e in wf.sweep().events if e.type == "correction_overdue"]  # once
    concluded = wf.conclude_lapsed_correction("c1", DISTRICT)
    assert concluded.case.state is State.NOT_RECOMMENDED
    assert CORRECTION.due.isoformat() in (concluded.case.closing_reason or "")
    assert [e.type for e in concluded.events] == ["correction_lapsed"]
    assert concluded.events[0].article.zh == "第十条"
    assert case_as_of(wf, "c1", wf.today()).ok  # the record replays to the stored case
    open_round(h, 2026)
    assert wf.declare(APPLICATION, OPERATOR, case_id="next-year").case.state is State.DECLARED


# -- 第十八条: the plaque's return is recorded when it happens ---------------------------------


def test_the_plaque_is_recorded_back_after_the_revocation(h: Harness) -> None:
    """第十八条 "取消“昆明市小型微型企业创业创新示范基地”称号，收回已颁发的牌匾": the return
    of the plaque is recorded when it happens, also after the revocation, once; until then
    the revoked case awaits the city bureau in its work queue."""
    from kmbase_workflow.queues import QueueKind, work_queue

    wf = h.workflow
    walk_to(h, State.REVOKED)  # revoked 2026-03-05, the plaque not back
    assert [e.kind for e in work_queue(wf, BUREAU).entries] == [QueueKind.PLAQUE_RETURN]
    h.set(dt.date(2026, 3, 20))
    assert refused(lambda: wf.record_plaque_return("c1", BUREAU, dt.date(2026, 3, 4))) == {
        "plaque_returned_on": "第十八条"
    }
    outcome = wf.record_plaque_return("c1", BUREAU, dt.date(2026, 3, 18))
    assert outcome.case.state is State.REVOKED
    assert outcome.case.revocation is not None
    assert outcome.case.revocation.plaque_returned_on == dt.date(2026, 3, 18)
    assert [e.type for e in outcome.events] == ["plaque_returned"]
    assert work_queue(wf, BUREAU).entries == ()
    assert case_as_of(wf, "c1", wf.today()).ok  # the record replays to the stored case
    assert refused(lambda: wf.record_plaque_return("c1", BUREAU, dt.date(2026, 3, 19))) == {
        "plaque_returned": "第十八条"
    }


# -- 第十三条: a notice announced to a day off lasts as announced ------------------------------


def test_a_notice_announced_to_a_sunday_lasts_to_that_sunday(h: Harness) -> None:
    """第十三条 "公示期不少于 10 个工作日。对公示期内有异议的基地，市工业和信息化局组织调查
    核实": a notice announced from Monday 2025-11-03 to Sunday 2025-11-16 (10 working days
    and the weekend after) runs to that Sunday: an objection raised on it is received, and
    certification (第十四条 "公示期结束后") comes after it."""
    wf = h.workflow
    walk_to(h, State.SITE_INSPECTED)
    h.set(dt.date(2025, 11, 3))
    notice = wf.publicize("c1", BUREAU, ends_on=dt.date(2025, 11, 16)).case.notice
    assert notice is not None
    assert notice.due == dt.date(2025, 11, 16)
    assert wf.case("c1").notice == notice  # as stored
    h.set(dt.date(2025, 11, 16))
    assert wf.raise_objection("c1", PUBLIC, "入驻企业数不实").case.state is State.OBJECTED
    h.set(dt.date(2025, 11, 17))
    wf.verify_objection("c1", BUREAU, "经核实无问题", sustained=False)
    decision = CollectiveDecision("纪要〔2025〕15号", dt.date(2025, 11, 17))
    assert wf.certify("c1", BUREAU, decision).case.state is State.CERTIFIED


# -- 第十四条: the collective decision's date ---------------------------------------------------


def test_a_collective_decision_may_be_dated_on_a_day_off_after_the_notice() -> None:
    """第十四条 "公示期结束后……经市工业和信息化局集体决策程序后，授予……称号": the decision
    comes after the notice's end and not after today; a meeting on a Saturday is unusual but
    lawful."""
    h = harness()
    walk_to(h, State.SITE_INSPECTED)
    h.set(dt.date(2025, 9, 26))
    h.workflow.publicize("c1", BUREAU, ends_on=dt.date(2025, 10, 17))  # a Friday
    h.set(dt.date(2025, 10, 20))  # the Monday after
    on_last_day = CollectiveDecision("纪要〔2025〕14号", dt.date(2025, 10, 17))
    assert refused(lambda: h.workflow.certify("c1", BUREAU, on_last_day)) == {
        "collective_decision_date": "第十四条"
    }
    in_future = attrs.evolve(on_last_day, decided_on=dt.date(2025, 10, 21))
    assert refused(lambda: h.workflow.certify("c1", BUREAU, in_future)) == {
        "collective_decision_date": "第十四条"
    }
    saturday = attrs.evolve(on_last_day, decided_on=dt.date(2025, 10, 18))
    assert h.workflow.certify("c1", BUREAU, saturday).case.state is State.CERTIFIED


# -- 第十六条: annual reports for the years the title covers, each once ---------------------------


def test_annual_reports_are_for_the_years_of_the_title_each_once(h: Harness) -> None:
    """第十六条 "于每年1月底前将上年度工作总结和当年工作计划上报": a certified base reports
    for each year its title covers (2026, 2027, 2028 for a title valid 2025-10-16 to
    2028-10-15), once a year; a correction supersedes the report filed before, and both stay
    recorded."""
    wf = h.workflow
    walk_to(h, State.CERTIFIED)
    h.set(dt.date(2026, 1, 20))
    assert refused(lambda: wf.file_annual_report("c1", OPERATOR, 2031)) == {
        "report_year": "第十六条"
    }
    assert refused(lambda: wf.file_annual_report("c1", OPERATOR, 2025)) == {
        "report_year": "第十六条"
    }
    assert refused(lambda: wf.file_annual_report("c1", OPERATOR, 2027, correction=True)) == {
        "report_corrected": "第十六条"
    }
    wf.file_annual_report("c1", OPERATOR, 2026, reference="总结〔2026〕1号")
    assert refused(lambda: wf.file_annual_report("c1", OPERATOR, 2026)) == {
        "report_once": "第十六条"
    }
    corrected = wf.file_annual_report(
        "c1", OPERATOR, 2026, reference="总结〔2026〕1号（更正）", correction=True
    ).case
    assert [(r.year, r.reference, r.correction) for r in corrected.annual_reports] == [
        (2026, "总结〔2026〕1号", False),
        (2026, "总结〔2026〕1号（更正）", True),
    ]
    district = wf.file_annual_report("c1", DISTRICT, 2026, by_district=True)  # 第十七条: its own
    assert len(district.case.annual_reports) == 3
