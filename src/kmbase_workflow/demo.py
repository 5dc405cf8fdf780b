"""The demonstration: one realistic annual round, from declaration to expiry, on a real store.

Five bases in five districts declare in the 2025 round. One is not recommended by its
district; one is not selected after expert review; three are inspected and publicized on
2025-09-26, so their notice runs across National Day to 2025-10-15; one draws an objection
that is investigated and cleared; all three are certified on 2025-10-16. Then the years
pass: a base misses its annual report, another files a major change late, an evaluation
fails and that title is revoked, and in 2028 the sweep reminds and then expires the rest.

>>> from kmbase_workflow.demo import run_demo
>>> result = run_demo("memory://")
>>> states = [step.state for step in result.timeline if step.base == "春城数字经济创业创新园"]
>>> states.pop()
'expired'
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import attrs

from ._credit_code import credit_code_check_character
from ._i18n import Lang, Text
from .actors import Actor, Role
from .case import CollectiveDecision, Recommendation, Revocation, RevocationGround
from .clock import FixedClock
from .deadlines import Deadline
from .eligibility import evaluate
from .events import Event
from .examples import eligible_application, ineligible_application
from .exports import recommendation_rows
from .lifecycle import Trigger, step_for
from .records import Application, SpotCheck
from .stores import CaseStore
from .workflow import Outcome, Workflow

__all__ = ["DemoResult", "DemoStep", "run_demo"]

BUREAU = Actor(Role.CITY_BUREAU, "昆明市工业和信息化局")
SYSTEM = Actor.system()


NO_NOTE = Text(zh="", en="")
"""The note of a timeline line that needs none."""


@attrs.frozen
class DemoStep:
    """One line of the demo's timeline."""

    day: dt.date
    base: str
    step: Text
    state: str
    note: Text = NO_NOTE
    """What the step's line adds, in both languages (a deadline, a reason)."""


@attrs.frozen
class DemoResult:
    """What the demo did: its timeline, the events a subscriber received, the district
    recommendation table (附件2) rows of each district, and the workflow it used."""

    timeline: tuple[DemoStep, ...]
    events: tuple[Event, ...]
    recommendation_rows: tuple[dict[str, object], ...]
    workflow: Workflow

    def event_counts(self) -> dict[str, int]:
        """How many events of each type the subscriber received."""
        return dict(Counter(event.type for event in self.events))

    def to_dict(self, lang: Lang = "zh") -> dict[str, object]:
        """Plain data for ``kmbase demo --format json``."""
        return {
            "timeline": [
                {
                    "date": step.day.isoformat(),
                    "base": step.base,
                    "step": step.step.in_(lang),
                    "state": step.state,
                    "note": step.note.in_(lang),
                }
                for step in self.timeline
            ],
            "events": self.event_counts(),
            "recommendation_table": list(self.recommendation_rows),
        }


def _variant(application: Application, name: str, district: str, code_prefix: str) -> Application:
    """The example application as another base of another district (fictitious)."""
    code = code_prefix + credit_code_check_character(code_prefix)
    return attrs.evolve(
        application,
        base=attrs.evolve(
            application.base, name=name, district=district, address=f"昆明市{district}创新路 8 号"
        ),
        operator=attrs.evolve(
            application.operator, name=f"{name}运营有限公司", unified_social_credit_code=code
        ),
    )


def _bases() -> list[Application]:
    eligible = eligible_application()
    return [
        eligible,
        _variant(eligible, "盘龙滇池创客港", "盘龙区", "91530103MA6K5YQ2X"),
        _variant(eligible, "官渡智慧物流孵化园", "官渡区", "91530111MA6K5YQ3X"),
        # Complete materials (第八条) but short of several thresholds (第六条, 第七条).
        attrs.evolve(ineligible_application(), materials=eligible.materials),
        _variant(eligible, "西山数字文创园", "西山区", "91530112MA6K5YQ4X"),
    ]


def _period(zh: str, en: str, deadline: Deadline | None) -> Text:
    """``公示期 2025-09-26 至 2025-10-15`` / ``notice 2025-09-26 → 2025-10-15``."""
    if deadline is None:
        return NO_NOTE
    return Text(
        zh=f"{zh} {deadline.start} 至 {deadline.due}", en=f"{en} {deadline.start} → {deadline.due}"
    )


class _Round:
    """The demo's round, one method per stage of the measures."""

    def __init__(self, store: CaseStore | str | None, on_step: Callable[[DemoStep], object] | None):
        self.clock = FixedClock(dt.date(2025, 6, 1))
        # The validity runs into years without an official holiday notice: those dates are
        # provisional, and marked so.
        self.workflow = Workflow(store, clock=self.clock, allow_provisional=True)
        self.received: list[Event] = []
        self.workflow.bus.subscribe(self.received.append)
        self.timeline: list[DemoStep] = []
        self.names: dict[str, str] = {}
        self.on_step = on_step
        self.ids: list[str] = []

    def at(self, day: dt.date) -> None:
        self.clock.set(dt.datetime(day.year, day.month, day.day, 9, 30))

    def add(self, step: DemoStep) -> None:
        self.timeline.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def log(self, outcome: Outcome, note: Text = NO_NOTE) -> None:
        entry = outcome.entry
        triggers = {trigger.value: trigger for trigger in Trigger}
        label = (
            step_for(triggers[entry.action]).label
            if entry.action in triggers
            else outcome.events[0].description
        )
        self.add(
            DemoStep(
                day=entry.at.date(),
                base=self.names[outcome.case.id],
                step=label,
                state=outcome.case.state.value,
                note=note,
            )
        )

    def sweep(self, day: dt.date) -> None:
        self.at(day)
        for event in self.workflow.sweep().events:
            state = self.workflow.case(event.case_id).state.value
            self.add(DemoStep(day, self.names[event.case_id], event.description, state))

    def districts(self) -> list[str]:
        """The districts of the demo's bases, in declaration order."""
        return [self.workflow.case(case_id).district for case_id in self.ids]

    def operator(self, case_id: str) -> Actor:
        return Actor.for_operator(self.workflow.case(case_id).application.operator)

    def declare(self) -> None:
        """第九条: the round opens; five bases declare."""
        workflow = self.workflow
        self.at(dt.date(2025, 6, 1))
        workflow.open_round(
            2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU, "2025年度申报通知"
        )
        self.at(dt.date(2025, 6, 16))
        for application in _bases():
            outcome = workflow.declare(application, Actor.for_operator(application.operator))
            self.names[outcome.case.id] = application.base.name
            self.ids.append(outcome.case.id)
            district = application.base.district
            self.log(outcome, Text(zh=district, en=district))

    def review_in_districts(self) -> None:
        """第十条: each district reviews its own base; 呈贡区 declines."""
        workflow = self.workflow
        wuhua, panlong, guandu, chenggong, xishan = self.ids
        self.at(dt.date(2025, 7, 15))
        for case_id in (wuhua, panlong, guandu, xishan):
            case = workflow.case(case_id)
            authority = Actor(Role.DISTRICT_AUTHORITY, f"{case.district}工信局", case.district)
            residents = case.application.yearly[-1].resident_small_micro_enterprises
            sample = workflow.policy_for(case).spot_check.minimum_sample(residents)
            check = SpotCheck(residents, sample, sample)
            self.log(
                workflow.recommend(case_id, authority, Recommendation("同意推荐", True, check))
            )
        authority = Actor(Role.DISTRICT_AUTHORITY, "呈贡区工信局", "呈贡区")
        failed = len(evaluate(workflow.case(chenggong).application).failed())
        reason = f"不符合申报条件（{failed} 项）"
        note = Text(zh=f"{failed} 项条件不满足", en=f"{failed} rules not met")
        self.log(workflow.decline(chenggong, authority, reason), note)

    def review_by_experts(self) -> None:
        """第十一条 and 第十二条: opinions, selection of the best, site inspection."""
        workflow = self.workflow
        wuhua, panlong, guandu, _, xishan = self.ids
        self.at(dt.date(2025, 8, 12))
        for case_id, score in ((wuhua, 91.0), (panlong, 86.5), (guandu, 61.0), (xishan, 82.0)):
            for expert in ("专家甲", "专家乙"):
                workflow.record_expert_opinion(
                    case_id, Actor(Role.EXPERT, expert), score, "服务功能完善，示范作用明显"
                )
        ranked = workflow.select_round(2025, BUREAU, quota=3)
        self.at(dt.date(2025, 9, 2))
        selection = workflow.case(guandu).selection
        rank = selection.rank if selection is not None else 0
        note = Text(zh=f"排名第 {rank}（共 {len(ranked)} 个）", en=f"rank {rank} of {len(ranked)}")
        self.log(workflow.fail_review(guandu, BUREAU, "择优排序未入选"), note)
        for case_id in (wuhua, panlong, xishan):
            self.log(workflow.pass_review(case_id, BUREAU))
        self.at(dt.date(2025, 9, 16))
        for case_id in (wuhua, panlong, xishan):
            self.log(workflow.pass_inspection(case_id, BUREAU, "现场核查情况属实"))

    def publicize_and_certify(self) -> None:
        """第十三条 and 第十四条: the notice across National Day, an objection, certification."""
        workflow = self.workflow
        wuhua, panlong, _, _, xishan = self.ids
        self.at(dt.date(2025, 9, 26))
        for case_id in (wuhua, panlong, xishan):
            outcome = workflow.publicize(case_id, BUREAU)
            notice = outcome.case.notice
            self.log(outcome, _period("公示期", "notice", notice))
        self.at(dt.date(2025, 10, 9))
        objection = "入驻企业数量不实"
        self.log(workflow.raise_objection(panlong, Actor(Role.PUBLIC, "群众来信"), objection))
        self.at(dt.date(2025, 10, 13))
        finding = "经核实，入驻企业数量属实"
        self.log(workflow.verify_objection(panlong, BUREAU, finding, sustained=False))
        self.at(dt.date(2025, 10, 16))
        decision = CollectiveDecision("局长办公会议纪要〔2025〕18号", dt.date(2025, 10, 16))
        for case_id in (wuhua, panlong, xishan):
            outcome = workflow.certify(case_id, BUREAU, decision)
            validity = outcome.case.validity
            self.log(outcome, _period("有效期", "valid", validity))

    def years_pass(self) -> None:
        """第十五条 to 第十九条: reports, a late change filing, a failed evaluation, expiry."""
        workflow = self.workflow
        wuhua = self.ids[0]
        # 五华 and its district report every year (第十六条, 第十七条); the others do not.
        district = Actor(Role.DISTRICT_AUTHORITY, "五华区工信局", "五华区")
        for year in (2026, 2027, 2028):
            self.at(dt.date(year, 1, 20))
            reference = f"{year - 1}年度工作总结和{year}年度工作计划"
            self.log(
                workflow.file_annual_report(wuhua, self.operator(wuhua), year, reference=reference)
            )
            if year == 2026:
                self.sweep(dt.date(2026, 2, 10))
            self.at(dt.date(year, 2, 20))
            self.log(
                workflow.file_annual_report(
                    wuhua, district, year, by_district=True, reference=reference
                )
            )
            if year == 2026:
                self.change_and_revocation()
        self.sweep(dt.date(2028, 7, 20))
        self.sweep(dt.date(2028, 10, 20))

    def change_and_revocation(self) -> None:
        """第十九条: 西山 files a change late; 第十八条 and 第十五条: 盘龙 loses its title."""
        workflow = self.workflow
        _, panlong, _, _, xishan = self.ids
        self.at(dt.date(2026, 3, 20))
        outcome = workflow.file_change(
            xishan, self.operator(xishan), "法定代表人变更", dt.date(2026, 2, 24)
        )
        filing = outcome.case.change_filings[-1]
        note = Text(
            zh=f"应于 {filing.due} 前备案，{'逾期' if filing.late else '按期'}",
            en=f"due {filing.due}, {'late' if filing.late else 'on time'}",
        )
        self.log(outcome, note)
        self.at(dt.date(2026, 6, 10))
        self.log(
            workflow.record_evaluation(panlong, BUREAU, passed=False, evaluator="第三方测评机构")
        )
        revocation = Revocation(
            RevocationGround.FAILED_EVALUATION, dt.date(2026, 6, 10), "测评不合格"
        )
        self.log(workflow.revoke(panlong, BUREAU, revocation))


def run_demo(
    store: CaseStore | str | None = None,
    *,
    on_step: Callable[[DemoStep], object] | None = None,
) -> DemoResult:
    """Run the demonstration round on ``store`` (a store or URL; the CLI gives a fresh SQLite
    file). ``on_step`` sees each timeline line as it happens."""
    demo = _Round(store, on_step)
    demo.declare()
    demo.review_in_districts()
    demo.review_by_experts()
    demo.publicize_and_certify()
    demo.years_pass()
    rows = tuple(
        {"县区": district, **row.as_dict(number)}
        for district in demo.districts()
        for number, row in enumerate(recommendation_rows(demo.workflow, district, 2025), start=1)
    )
    return DemoResult(tuple(demo.timeline), tuple(demo.received), rows, demo.workflow)
