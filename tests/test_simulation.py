"""Policy simulation: the frame path agrees with the single-application verdict, variants,
comparisons, synthetic populations and round timelines that respect the regulation's steps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmbase_workflow.actors import Actor, Role
from kmbase_workflow.calendar import WorkingDayCalendar
from kmbase_workflow.case import Case, CollectiveDecision, Objection, State
from kmbase_workflow.deadlines import earliest_certification_date, notice_deadline
from kmbase_workflow.eligibility import Finding, evaluate
from kmbase_workflow.errors import CalendarDataMissingError, InvalidInputError
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.lifecycle import GuardContext, Trigger, check_guards
from kmbase_workflow.policy import Policy, load_policy
from kmbase_workflow.records import Application
from kmbase_workflow.simulation import (
    OUTCOMES,
    STATUS_CATEGORIES,
    PopulationSpec,
    Stage,
    TimelineSpec,
    compare,
    compare_timelines,
    evaluate_frame,
    frame_columns,
    generate_columns,
    generate_population,
    simulate_round,
    to_frame,
    variant_keys,
    vary,
)
from strategies import applications

pd = pytest.importorskip("pandas")

POLICY = load_policy()
VARIANT = vary(POLICY, resident_enterprises=30, **{"service_functions.minimum": 3})


def _flatten(findings: tuple[Finding, ...]) -> list[Finding]:
    """Top-level findings and each service function's finding (the frame's columns)."""
    flat = []
    for finding in findings:
        flat.append(finding)
        flat.extend(d for d in finding.details if d.rule.startswith("service."))
    return flat


def _assert_agrees(apps: list[Application], policy: Policy) -> None:
    result = evaluate_frame(to_frame(apps, policy), policy)
    assert len(result) == len(apps)
    for row, app in enumerate(apps):
        verdict = evaluate(app, policy)
        assert bool(result["eligible"].iloc[row]) == verdict.eligible
        judged = set()
        for finding in _flatten(verdict.findings):
            assert result[finding.rule].iloc[row] == finding.status.value, finding.rule
            judged.add(finding.rule)
        # What the single verdict leaves out (a rule that does not apply to the base's
        # focus, an optional material not offered) counts as met in the frame.
        for rule in set(result.columns) - judged - {"eligible"}:
            assert result[rule].iloc[row] == "pass", rule


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(applications(POLICY), min_size=1, max_size=6))
def test_frame_verdict_agrees_with_single_verdict(apps: list[Application]) -> None:
    _assert_agrees(apps, POLICY)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(applications(VARIANT), min_size=1, max_size=4))
def test_frame_verdict_agrees_under_a_variant(apps: list[Application]) -> None:
    _assert_agrees(apps, VARIANT)


def test_examples_agree_and_frame_has_documented_columns(policy: Policy) -> None:
    apps = [eligible_application(), ineligible_application()]
    frame = to_frame(apps, policy)
    assert tuple(frame.columns) == frame_columns(policy)
    assert list(frame.index) == [app.base.name for app in apps]
    assert frame.index.name == "base"
    _assert_agrees(apps, policy)
    result = evaluate_frame(frame, policy)
    assert list(result["resident_enterprises"].cat.categories) == list(STATUS_CATEGORIES)
    assert result["eligible"].tolist() == [True, False]


def test_missing_values_in_a_frame_are_not_assessable_never_a_pass(policy: Policy) -> None:
    frame = to_frame([eligible_application()] * 3, policy)
    frame["resident_small_micro_enterprises"] = pd.array([60, None, 40], dtype="Int64")
    frame["satisfaction_rate"] = [0.8, 0.9, np.nan]
    frame["material.audit_report"] = pd.array([True, None, True], dtype="boolean")
    frame["focus"] = pd.array(["production_services", "production_services", None], dtype="string")
    result = evaluate_frame(frame, policy)
    assert result["resident_enterprises"].tolist() == ["pass", "not_assessable", "pass"]
    assert result["satisfaction_rate"].tolist() == ["pass", "pass", "not_assessable"]
    assert result["material.audit_report"].tolist() == ["pass", "fail", "pass"]
    # No focus: neither site-area rule applies, but nothing else is lost either.
    assert result["site_area_production_services"].tolist() == ["pass"] * 3
    assert result["eligible"].tolist() == [True, False, False]


def test_an_absent_column_makes_its_rule_not_assessable(policy: Policy) -> None:
    frame = to_frame([eligible_application()], policy).drop(columns=["small_micro_employees"])
    result = evaluate_frame(frame, policy)
    assert result["resident_employees"].tolist() == ["not_assessable"]
    assert not result["eligible"].iloc[0]


# -- variants ------------------------------------------------------------------------------


def test_vary_changes_only_what_it_names_and_says_so(policy: Policy) -> None:
    variant = vary(
        policy,
        resident_enterprises=30,
        **{
            "service_functions.minimum": 3,
            "notice.working_days": 15,
            "service.training.person_times": 200,
        },
    )
    assert variant.rule("resident_enterprises").required == 30
    assert variant.service_functions.minimum == 3
    assert variant.periods.notice.working_days == 15
    training = variant.service_functions.function("training").thresholds[0]
    assert training.required == 200
    assert variant.id != policy.id
    assert variant.id.startswith(policy.id)
    assert "30" in variant.rule("resident_enterprises").description.zh
    assert "variant" in variant.rule("resident_enterprises").description.en
    # Everything else is the same object.
    assert variant.rule("resident_employees") is policy.rule("resident_employees")
    assert variant.periods.validity is policy.periods.validity
    # The file's policy is untouched.
    assert (
        load_policy().rule("resident_enterprises").required
        == policy.rule("resident_enterprises").required
    )
    assert vary(policy, id="mine", resident_enterprises=30).id == "mine"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"no_such_rule": 1}, "no_such_rule"),
        ({"resident_enterprises": "thirty"}, "number"),
        ({"resident_enterprises": -1}, "negative"),
        ({"resident_enterprises": 30.5}, "whole"),
        ({"good_credit": 1}, "True or False"),
        ({"notice.working_days": 0}, "at least 1"),
        ({"service.training.activities": 3}, "no such threshold"),
    ],
)
def test_vary_refuses_bad_keys_and_values_bilingually(
    policy: Policy, changes: dict[str, object], fragment: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        vary(policy, **changes)
    assert fragment in raised.value.message.en
    assert "无法改变" in raised.value.message.zh
    assert raised.value.hint is not None
    assert "resident_enterprises" in raised.value.hint.en


def test_every_variant_key_is_accepted(policy: Policy) -> None:
    for key in variant_keys(policy):
        current = policy.rule(key).required if key in {r.id for r in policy.rules} else 2
        value = current if isinstance(current, bool) else 2
        assert vary(policy, **{key: value}).id.endswith(f"{key}={value}")


def test_compare_reports_rates_binding_rules_and_changed_bases(policy: Policy) -> None:
    population = generate_population(3000, seed=7, policy=policy)
    lowered = vary(policy, resident_enterprises=30)
    comparison = compare(population, {"2022": policy, "residents 30": lowered})
    rates = comparison.pass_rates()
    assert (
        rates.loc["resident_enterprises", "residents 30"]
        > rates.loc["resident_enterprises", "2022"]
    )
    assert (
        rates.loc["resident_employees", "residents 30"] == rates.loc["resident_employees", "2022"]
    )
    assert comparison.eligible_rate("residents 30") >= comparison.eligible_rate("2022")
    # A base that fails the resident threshold alone under 2022 ...
    binding = comparison.binding("2022")
    frame = evaluate_frame(population, policy)
    deciding = [c for c in frame.columns if c != "eligible" and not c.startswith("service.")]
    not_passing = (frame[deciding] != "pass").sum(axis=1)
    alone = (frame["resident_enterprises"] == "fail") & (not_passing == 1)
    assert binding["resident_enterprises"] == int(alone.sum()) > 0
    # ... and the bases whose outcome changes are exactly those that become eligible.
    changed = comparison.changed("2022", "residents 30")
    became = frame.index[~frame["eligible"] & evaluate_frame(population, lowered)["eligible"]]
    assert sorted(changed) == sorted(became)
    assert comparison.changes().index.tolist() == sorted(changed)
    summary = comparison.summary()
    assert summary.loc["residents 30", "changed_vs_first"] == len(changed)
    assert comparison.most_binding("2022") in binding
    page = comparison._repr_html_()
    assert "Policy variants" in page
    assert "政策变体" in page
    assert "residents 30" in page


def test_compare_accepts_columns_and_a_list_of_policies(policy: Policy) -> None:
    columns = generate_columns(500, seed=3, policy=policy)
    comparison = compare(columns, [policy, vary(policy, resident_enterprises=30)])
    assert list(comparison.verdicts) == [policy.id, f"{policy.id}+resident_enterprises=30"]
    assert comparison.size == 500
    with pytest.raises(InvalidInputError):
        compare(columns, [])


# -- synthetic populations ---------------------------------------------------------------------


def test_generation_is_seeded_and_follows_the_spec(policy: Policy) -> None:
    first = generate_population(2000, seed=11, policy=policy)
    again = generate_population(2000, seed=11, policy=policy)
    other = generate_population(2000, seed=12, policy=policy)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    assert tuple(first.columns) == frame_columns(policy)
    spec = PopulationSpec(missing={"site_area_m2": 0.5}, manufacturing_share=1.0)
    frame = generate_population(4000, spec, seed=1, policy=policy)
    assert 0.45 < frame["site_area_m2"].isna().mean() < 0.55
    assert (frame["focus"] == "manufacturing").all()
    result = evaluate_frame(frame, policy)
    # Missing site areas are never a pass.
    assert (
        result.loc[frame["site_area_m2"].isna(), "site_area_manufacturing"] == "not_assessable"
    ).all()


def test_service_figures_follow_the_policy_under_judgement(policy: Policy) -> None:
    doubled = vary(policy, **{"service.training.person_times": 600})
    base = generate_columns(5000, seed=5, policy=policy)["service.training.person_times"]
    high = generate_columns(5000, seed=5, policy=doubled)["service.training.person_times"]
    assert np.median(high[high > 0]) == pytest.approx(2 * np.median(base[base > 0]), rel=0.05)


def test_negative_size_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        generate_columns(-1)


# -- round timelines ----------------------------------------------------------------------------

NATIONAL_DAY_WEEK = dt.date(2025, 9, 22)


@pytest.fixture(scope="module")
def timeline() -> object:
    return simulate_round(NATIONAL_DAY_WEEK, cases=20, replications=50, seed=3)


def test_timeline_steps_are_in_order_and_respect_the_notice(timeline, policy: Policy) -> None:  # type: ignore[no-untyped-def]
    d = timeline.dates
    certified = ~np.isnat(d["certified"])
    assert certified.any()
    for earlier, later in [
        ("declared", "recommended"),
        ("recommended", "expert_reviewed"),
        ("expert_reviewed", "site_inspected"),
        ("site_inspected", "publicized"),
        ("publicized", "notice_due"),
    ]:
        both = ~np.isnat(d[earlier]) & ~np.isnat(d[later])
        assert (d[earlier][both] <= d[later][both]).all(), (earlier, later)
    assert (d["certified"][certified] > d["notice_due"][certified]).all()
    for row in np.flatnonzero(certified)[:40]:
        published = d["publicized"][row].astype(dt.date)
        notice = notice_deadline(published, policy.periods, allow_provisional=True)
        assert d["notice_due"][row].astype(dt.date) == notice.due
        assert d["certified"][row].astype(dt.date) >= earliest_certification_date(notice)
    objected = ~np.isnat(d["objected"])
    assert (d["objected"][objected] >= d["publicized"][objected]).all()
    assert (d["objected"][objected] <= d["notice_due"][objected]).all()
    settled = objected & certified
    assert (d["certified"][settled] > d["investigated"][settled]).all()
    assert set(np.unique(timeline.outcome)) <= set(OUTCOMES)


def test_simulated_dates_pass_the_lifecycle_guards(timeline, policy: Policy) -> None:  # type: ignore[no-untyped-def]
    d = timeline.dates
    bureau = Actor(Role.CITY_BUREAU, "市工业和信息化局")
    calendar = WorkingDayCalendar(allow_provisional=True)
    app = eligible_application()
    for row in np.flatnonzero(~np.isnat(d["certified"]))[:10]:
        notice = notice_deadline(
            d["publicized"][row].astype(dt.date), policy.periods, allow_provisional=True
        )
        case = Case(
            id="sim", base_id="b", round_year=2025, state=State.PUBLICIZED, version=5,
            application=app, declared_on=NATIONAL_DAY_WEEK, notice=notice,
        )  # fmt: skip
        today = d["certified"][row].astype(dt.date)
        ctx = GuardContext(
            case=case, trigger=Trigger.CERTIFY, actor=bureau, today=today, policy=policy,
            calendar=calendar, allow_provisional=True,
            payload=CollectiveDecision(reference="集体决策纪要", decided_on=today),
        )  # fmt: skip
        assert check_guards(ctx) == []
    for row in np.flatnonzero(~np.isnat(d["objected"]))[:10]:
        notice = notice_deadline(
            d["publicized"][row].astype(dt.date), policy.periods, allow_provisional=True
        )
        case = Case(
            id="sim", base_id="b", round_year=2025, state=State.PUBLICIZED, version=5,
            application=app, declared_on=NATIONAL_DAY_WEEK, notice=notice,
        )  # fmt: skip
        day = d["objected"][row].astype(dt.date)
        ctx = GuardContext(
            case=case, trigger=Trigger.OBJECT, actor=Actor(Role.PUBLIC, "匿名"), today=day,
            policy=policy, calendar=calendar, allow_provisional=True,
            payload=Objection(raised_on=day, raised_by="匿名", content="材料不实"),
        )  # fmt: skip
        assert check_guards(ctx) == []


def test_a_longer_notice_delays_certification(policy: Policy) -> None:
    fixed = TimelineSpec(
        district_review=Stage(10, 10, 10), expert_review=Stage(10, 10, 10),
        site_inspection=Stage(5, 5, 5), publication_gap=Stage(3, 3, 3),
        objection_rate=0.0, collective_decision=Stage(2, 2, 2),
    )  # fmt: skip
    ten = simulate_round(dt.date(2025, 6, 2), spec=fixed, policy=policy, replications=3)
    fifteen = simulate_round(
        dt.date(2025, 6, 2), spec=fixed, policy=vary(policy, **{"notice.working_days": 15}),
        replications=3,
    )  # fmt: skip
    cal = WorkingDayCalendar()
    a = ten.dates["certified"][~np.isnat(ten.dates["certified"])][0].astype(dt.date)
    b = fifteen.dates["certified"][~np.isnat(fifteen.dates["certified"])][0].astype(dt.date)
    extra = policy.periods.notice.working_days // 2
    assert cal.count_working_days(a, b) == extra
    comparison = compare_timelines(ten, fifteen)
    summary = comparison.summary()
    assert summary["median_days"].iloc[1] > summary["median_days"].iloc[0]
    assert "Round timeline" in comparison._repr_html_()


def test_eligible_flags_drive_the_recommendation() -> None:
    flags = np.array([True, False, True])
    timeline = simulate_round(dt.date(2025, 6, 2), cases=3, replications=4, eligible=flags)
    assert (timeline.outcome.reshape(4, 3)[:, 1] == "not_recommended").all()
    with pytest.raises(InvalidInputError):
        simulate_round(dt.date(2025, 6, 2), cases=3, eligible=[True])


def test_years_without_official_data_are_flagged_or_refused() -> None:
    calendar = WorkingDayCalendar()
    beyond = dt.date(calendar.official_through + 1, 9, 1)
    timeline = simulate_round(beyond, replications=5, calendar=calendar)
    assert timeline.provisional.all()
    assert timeline.summary_data()["provisional_share"] == 1.0
    with pytest.raises(CalendarDataMissingError):
        simulate_round(beyond, replications=5, calendar=calendar, allow_provisional=False)
    official = simulate_round(dt.date(calendar.official_through, 1, 5), replications=5)
    assert not official.provisional.any()


def test_timeline_frame_summary_and_funnel(timeline) -> None:  # type: ignore[no-untyped-def]
    frame = timeline.to_frame()
    assert len(frame) == timeline.size == 1000
    assert {"publicized", "notice_due", "certified", "outcome", "provisional"} <= set(frame.columns)
    funnel = timeline.funnel()
    counts = list(funnel.values())
    assert counts == sorted(counts, reverse=True)
    assert funnel["certified"] == int((timeline.outcome == "certified").sum())
    s = timeline.summary_data()
    assert s["p10_days"] <= s["median_days"] <= s["p90_days"]
    assert "认定时间模拟" in timeline._repr_html_()


def test_stage_and_spec_validation() -> None:
    with pytest.raises(InvalidInputError):
        Stage(5, 3, 10)
    with pytest.raises(InvalidInputError):
        TimelineSpec(collective_decision=Stage(0, 1, 2))
    assert (Stage(4, 4, 4).draw(np.random.default_rng(0), 3) == 4).all()


def test_plots_draw_without_a_display(policy: Policy) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comparison = compare(generate_population(300, seed=1), [policy, VARIANT])
    timeline = simulate_round(NATIONAL_DAY_WEEK, cases=8, replications=5)
    for ax in (
        comparison.plot_pass_rates(),
        timeline.plot(),
        timeline.plot_funnel(),
        compare_timelines(timeline, timeline).plot(),
    ):
        assert ax.get_title() or ax.get_xlabel()
    plt.close("all")


def test_html_of_records() -> None:
    from kmbase_workflow._html import case_html, deadline_html, finding_html, verdict_html

    verdict = evaluate(ineligible_application())
    page = verdict_html(verdict)
    assert "不符合申报条件" in page
    assert "not eligible" in page
    assert page.index(">不符合 / not met<") < page.index(">符合 / met<")  # failed first
    assert "service.information" in finding_html(verdict.finding("service_functions"))
    notice = notice_deadline(dt.date(2025, 9, 26), load_policy().periods)
    assert "2025-10-15" in deadline_html(notice)  # National Day moves the end
    provisional = notice_deadline(
        dt.date(WorkingDayCalendar().official_through + 1, 3, 2), load_policy().periods,
        allow_provisional=True,
    )  # fmt: skip
    assert "provisional" in deadline_html(provisional)
    case = Case(
        id="c-1", base_id="b", round_year=2025, state=State.PUBLICIZED, version=5,
        application=eligible_application(), declared_on=dt.date(2025, 6, 20), notice=notice,
        objections=(Objection(dt.date(2025, 9, 30), "匿名", "<script>"),),
    )  # fmt: skip
    page = case_html(case)
    assert "公示中" in page
    assert "&lt;script&gt;" in page
    assert "<script>" not in page


PUBLIC_NAMES = [
    "OUTCOMES", "STATUS_CATEGORIES", "TIMELINE_STEPS", "Bernoulli", "Beta", "Choice",
    "LogNormal", "MissingCJKFontWarning", "Normal", "PopulationSpec", "RoundTimeline", "Stage", "TimelineComparison",
    "TimelineSpec", "VariantComparison", "compare", "compare_timelines", "evaluate_frame", "find_cjk_font",
    "frame_columns", "generate_columns", "generate_population", "simulate_round", "to_frame",
    "variant_keys", "vary",
]  # fmt: skip


def test_the_public_surface_is_pinned_and_steps_does_not_shadow_the_lifecycle() -> None:
    from kmbase_workflow import simulation
    from kmbase_workflow.lifecycle import STEPS as LIFECYCLE_STEPS

    assert simulation.__all__ == PUBLIC_NAMES
    assert all(hasattr(simulation, name) for name in PUBLIC_NAMES)
    assert not hasattr(simulation, "STEPS")  # lifecycle.STEPS is the graph; this is not
    assert [step for step, _ in simulation.TIMELINE_STEPS][-1] == "certified"
    assert LIFECYCLE_STEPS


def test_the_simulation_package_has_no_import_cycle() -> None:
    """Each module of the package imports only modules before it (TYPE_CHECKING aside)."""
    import ast
    from pathlib import Path

    from kmbase_workflow import simulation

    folder = Path(simulation.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for node in tree.body:  # module level only: lazy imports inside functions are fine
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets |= {node.module} if node.module else {a.name for a in node.names}
        graph[path.stem] = {t for t in targets if (folder / f"{t}.py").exists()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in graph.get(start, ())
        )

    assert graph["_plots"]
    assert graph["_timeline"]
    assert [module for module in graph if reaches(module, module, set())] == []


def _figure_texts(ax: object) -> list[str]:
    from matplotlib.text import Text as MplText

    return [text.get_text() for text in ax.figure.findobj(match=MplText) if text.get_text()]  # type: ignore[attr-defined]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def _charts(policy: Policy, lang: str) -> list[object]:
    comparison = compare(generate_population(300, seed=1), {"2022": policy, "variant": VARIANT})
    timeline = simulate_round(NATIONAL_DAY_WEEK, cases=8, replications=5, name="round")
    return [
        comparison.plot_pass_rates(lang=lang),
        timeline.plot(lang=lang),
        timeline.plot_funnel(lang=lang),
        compare_timelines(timeline, timeline).plot(lang=lang),
    ]


def test_english_charts_carry_no_chinese_text_and_name_rules_in_english(policy: Policy) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    charts = _charts(policy, "en")
    for ax in charts:
        texts = _figure_texts(ax)
        assert texts
        assert [text for text in texts if _has_cjk(text)] == []
    rules = [label.get_text() for label in charts[0].get_yticklabels()]  # type: ignore[attr-defined]
    assert "resident_enterprises" not in rules  # a rule's name, not its id
    assert any("resident" in rule.lower() for rule in rules)
    plt.close("all")


def test_chinese_charts_label_in_chinese_with_a_cjk_font(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from kmbase_workflow.simulation import _plots

    monkeypatch.setattr(_plots, "find_cjk_font", lambda: "DejaVu Sans")  # stands in for one
    charts = _charts(policy, "zh")
    pass_rates = charts[0]
    rules = [label.get_text() for label in pass_rates.get_yticklabels()]  # type: ignore[attr-defined]
    assert all(_has_cjk(rule) for rule in rules), rules
    assert pass_rates.get_title() == "各条件通过率（按政策变体）"  # type: ignore[attr-defined]
    for ax in charts:
        assert _has_cjk(ax.get_title() + ax.get_xlabel() + ax.get_ylabel())  # type: ignore[attr-defined]
        assert ax.title.get_fontfamily()[0] == "DejaVu Sans"  # type: ignore[attr-defined]
    plt.close("all")


def test_chinese_charts_without_a_cjk_font_warn_how_to_install_one(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from kmbase_workflow.simulation import _plots

    monkeypatch.setattr(_plots, "find_cjk_font", lambda: None)
    timeline = simulate_round(NATIONAL_DAY_WEEK, cases=4, replications=2)
    with pytest.warns(_plots.MissingCJKFontWarning, match="fonts-noto-cjk") as caught:
        ax = timeline.plot_funnel(lang="zh")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "未找到中文字体" in message
    assert "No font with Chinese glyphs" in message
    assert ax.get_title() == "认定流程漏斗"  # falls back: still drawn, still Chinese
    assert issubclass(_plots.MissingCJKFontWarning, UserWarning)
    plt.close("all")


def test_the_cjk_font_finder_reads_matplotlibs_font_manager(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    font_manager = pytest.importorskip("matplotlib.font_manager")
    from kmbase_workflow.simulation import _plots

    fonts = [font_manager.FontEntry(name="DejaVu Sans"), font_manager.FontEntry(name="SimHei")]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", fonts)
    assert _plots.find_cjk_font() == "SimHei"
    monkeypatch.setattr(font_manager.fontManager, "ttflist", fonts[:1])
    assert _plots.find_cjk_font() is None
