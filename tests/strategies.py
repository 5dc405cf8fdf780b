"""Hypothesis strategies for the records of 附件1 (reusable by any test).

Two flavours share the same building blocks:

* ``*_records()`` draw any valid record (free text, any non-negative number): for round trips.
* :func:`applications` draws whole applications biased towards the thresholds of a policy
  (values at, just below and just above each required value, exact shares and growth rates,
  anniversaries including 29 February) and towards missing data: for judging them.

The GB 32100-2015 check character is computed here by an independent reference
implementation (:func:`reference_check_character`), never by the library.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from hypothesis import strategies as st

from kmbase_workflow.policy import Comparison, Policy, load_policy
from kmbase_workflow.records import (
    Application,
    Base,
    ContractedAgency,
    Declaration,
    Education,
    Focus,
    Operator,
    ResidentEnterprise,
    SatisfactionResponse,
    ServiceFigures,
    ServiceVolume,
    SpotCheck,
    StaffMember,
    YearFigures,
)

# -- GB 32100-2015, written from the standard's table, not from the library -----------------------

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015 (no I, O, S, V, Z), in the order of their values 0–30."""
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weights W_i = 3^(i-1) mod 31 of the first 17 characters."""


def reference_check_character(first_17: str) -> str:
    """C18 = 31 − MOD(Σ C_i × W_i, 31); a result of 31 is written 0 (GB 32100-2015 §5)."""
    assert len(first_17) == 17
    total = 0
    for char, weight in zip(first_17, CREDIT_CODE_WEIGHTS, strict=True):
        total += CREDIT_CODE_CHARSET.index(char) * weight
    check = 31 - total % 31
    if check == 31:
        check = 0
    return CREDIT_CODE_CHARSET[check]


credit_code_prefixes = st.text(alphabet=CREDIT_CODE_CHARSET, min_size=17, max_size=17)
"""Any 17 characters of the code's charset."""


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    """A valid unified social credit code (17 drawn characters + reference check character)."""
    prefix = draw(credit_code_prefixes)
    return prefix + reference_check_character(prefix)


# -- scalars ------------------------------------------------------------------------------------

# Any text a document can hold: no NUL (U+0000) nor lone surrogates, which serialization
# refuses.
_characters = st.characters(codec="utf-8", exclude_characters="\x00")
names = st.text(_characters, min_size=1, max_size=12).filter(lambda s: s.strip() != "")
"""Text for fields that must not be blank."""
free_text = st.text(_characters, max_size=12)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2035, 12, 31))
counts = st.integers(min_value=0, max_value=100_000)
amounts = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
optional_counts = st.none() | counts
optional_amounts = st.none() | amounts

# -- records (any valid value) ---------------------------------------------------------------------


def operator_records() -> st.SearchStrategy[Operator]:
    return st.builds(
        Operator,
        name=names,
        unified_social_credit_code=credit_codes(),
        registered_on=dates,
        independent_legal_person=st.booleans(),
        legal_representative=free_text,
        nature=free_text,
        registered_address=free_text,
    )


def base_records() -> st.SearchStrategy[Base]:
    return st.builds(
        Base,
        name=names,
        district=names,
        leading_industries=st.lists(names, max_size=5, unique_by=str.strip).map(tuple),
        focus=st.sampled_from(Focus),
        established_on=dates,
        site_area_m2=amounts,
        public_service_area_m2=optional_amounts,
        facilities=free_text,
        address=free_text,
        contact_person=free_text,
        contact_phone=free_text,
        website=free_text,
        email=free_text,
    )


def staff_records() -> st.SearchStrategy[StaffMember]:
    return st.builds(
        StaffMember,
        name=names,
        position=free_text,
        education=st.sampled_from(Education),
        full_time_service=st.booleans(),
        startup_mentor=st.booleans(),
        intermediate_title_or_above=st.booleans(),
        school_and_major=free_text,
        qualification=free_text,
        qualification_issuer=free_text,
        years_at_base=optional_amounts,
        phone=free_text,
    )


def resident_records() -> st.SearchStrategy[ResidentEnterprise]:
    return st.builds(
        ResidentEnterprise,
        name=names,
        moved_in_on=dates,
        employees=counts,
        industry=free_text,
        in_leading_industry=st.booleans(),
        small_or_micro=st.booleans(),
        main_business=free_text,
        revenue_last_year_10k_yuan=optional_amounts,
        innovation_outputs=counts,
        contact_person=free_text,
        contact_phone=free_text,
    )


def year_records(year: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[YearFigures]:
    return st.builds(
        YearFigures,
        year=year if year is not None else st.integers(1990, 2035),
        resident_enterprises=counts,
        resident_small_micro_enterprises=counts,
        small_micro_employees=counts,
        innovation_outputs=counts,
        small_micro_revenue_10k_yuan=optional_amounts,
        patent_applications=optional_counts,
        patents_held=optional_counts,
    )


def service_figure_records() -> st.SearchStrategy[ServiceFigures]:
    return st.builds(
        ServiceFigures,
        enterprises_served=optional_counts,
        activities=optional_counts,
        person_times=optional_counts,
        description=free_text,
    )


@st.composite
def service_volume_records(draw: st.DrawFn, max_total: int = 100_000) -> ServiceVolume:
    total = draw(st.integers(0, max_total))
    return ServiceVolume(total=total, free_or_low_fee=draw(st.integers(0, total)))


def satisfaction_records() -> st.SearchStrategy[SatisfactionResponse]:
    return st.builds(
        SatisfactionResponse,
        enterprise=names,
        satisfied=st.booleans(),
        services=free_text,
        contact_person=free_text,
        contact_phone=free_text,
    )


def agency_records() -> st.SearchStrategy[ContractedAgency]:
    return st.builds(
        ContractedAgency,
        name=names,
        signed_agreement=st.booleans(),
        scope=free_text,
        signed_on=st.none() | dates,
    )


def declaration_records() -> st.SearchStrategy[Declaration]:
    return st.builds(Declaration, value=st.booleans(), evidence=free_text)


@st.composite
def spot_check_records(draw: st.DrawFn) -> SpotCheck:
    residents = draw(st.integers(0, 10_000))
    sampled = draw(st.integers(0, residents))
    return SpotCheck(
        resident_small_micro_enterprises=residents,
        sampled=sampled,
        satisfied=draw(st.integers(0, sampled)),
    )


@st.composite
def yearly_records(draw: st.DrawFn) -> tuple[YearFigures, ...]:
    years = draw(st.lists(st.integers(1990, 2035), max_size=3, unique=True))
    return tuple(draw(year_records(st.just(year))) for year in years)


@st.composite
def application_records(draw: st.DrawFn) -> Application:
    """Any valid application (free text and numbers; not biased towards thresholds)."""
    return Application(
        base=draw(base_records()),
        operator=draw(operator_records()),
        declared_on=draw(dates),
        yearly=draw(yearly_records()),
        staff=tuple(draw(st.lists(staff_records(), max_size=3))),
        residents=tuple(draw(st.lists(resident_records(), max_size=3))),
        services=draw(st.dictionaries(names, service_figure_records(), max_size=3)),
        service_volume=draw(st.none() | service_volume_records()),
        satisfaction_survey=tuple(draw(st.lists(satisfaction_records(), max_size=3))),
        agencies=tuple(draw(st.lists(agency_records(), max_size=3))),
        materials=draw(st.dictionaries(names, free_text, max_size=3)),
        declarations=draw(st.dictionaries(names, declaration_records(), max_size=3)),
        revenue_last_year_10k_yuan=draw(optional_amounts),
        fee_reductions_10k_yuan=draw(optional_amounts),
        qualifications=draw(free_text),
        government_support=draw(free_text),
        honours=draw(free_text),
    )


# -- applications near a policy's thresholds ----------------------------------------------------------


def _near(required: float, spread: int = 1) -> list[float]:
    return [required + step for step in range(-spread, spread + 1)]


def _required(policy: Policy, measure: str) -> list[float]:
    return [
        float(rule.required)
        for rule in policy.rules
        if rule.measure == measure and rule.comparison is not Comparison.IS_TRUE
    ]


def _count_near(policy: Policy, measure: str) -> st.SearchStrategy[int]:
    near = sorted(
        {int(v) for required in _required(policy, measure) for v in _near(required) if v >= 0}
    )
    return st.sampled_from(near) | st.integers(0, 2 * int(max(near, default=10)) + 5)


@st.composite
def _growth_pair(draw: st.DrawFn, latest_near: st.SearchStrategy[int]) -> tuple[int, int]:
    """(previous, latest): exact growth rates of the policy's growth rules, ±1, zero, or any."""
    kind = draw(st.sampled_from(["exact", "any", "zero_previous"]))
    if kind == "zero_previous":
        return 0, draw(latest_near)
    if kind == "any":
        return draw(st.integers(0, 2000)), draw(latest_near)
    rate = Fraction(draw(st.sampled_from(["0.1", "0.2", "0", "0.5"])))
    previous = rate.denominator * draw(st.integers(1, 100))
    latest = int(previous * (1 + rate)) + draw(st.sampled_from([-1, 0, 0, 1]))
    return previous, max(latest, 0)


@st.composite
def _yearly_near(draw: st.DrawFn, policy: Policy, declared_on: dt.date) -> tuple[YearFigures, ...]:
    shape = draw(st.sampled_from(["two", "two", "two", "none", "one", "gap", "three"]))
    latest_year = declared_on.year - 1
    years = {
        "none": [],
        "one": [latest_year],
        "two": [latest_year - 1, latest_year],
        "gap": [latest_year - 2, latest_year],
        "three": [latest_year - 2, latest_year - 1, latest_year],
    }[shape]
    residents = _growth_pair(_count_near(policy, "resident_small_micro_enterprises"))
    employees = _growth_pair(_count_near(policy, "small_micro_employees"))
    outputs = _growth_pair(st.integers(0, 200))
    pairs = [draw(residents), draw(employees), draw(outputs)]
    figures = []
    for index, year in enumerate(years):
        latest = index == len(years) - 1
        r, e, o = (pair[1] if latest else pair[0] for pair in pairs)
        figures.append(
            YearFigures(
                year=year,
                resident_enterprises=r + draw(st.integers(0, 5)),
                resident_small_micro_enterprises=r,
                small_micro_employees=e,
                innovation_outputs=o,
            )
        )
    return tuple(draw(st.permutations(figures)))


def _staff_member(
    education: Education, *, full_time: bool, mentor: bool, title: bool
) -> StaffMember:
    return StaffMember(
        name="服务人员",
        position="",
        education=education,
        full_time_service=full_time,
        startup_mentor=mentor,
        intermediate_title_or_above=title,
    )


staff_near = st.lists(
    st.builds(
        _staff_member,
        st.sampled_from(Education),
        full_time=st.booleans() | st.just(True),
        mentor=st.booleans(),
        title=st.booleans(),
    ),
    max_size=13,
).map(tuple)
"""Staff lists of 0–13 people (10 full-time staff with 8 qualified happen often)."""


@st.composite
def _share_list(draw: st.DrawFn, make: object, max_size: int = 12) -> tuple[object, ...]:
    size = draw(st.integers(0, max_size) | st.just(10))
    yes = draw(st.integers(0, size))
    items = [make(True) for _ in range(yes)] + [make(False) for _ in range(size - yes)]  # type: ignore[operator]
    return tuple(draw(st.permutations(items)))


def _resident(
    in_leading: bool, leading_industry: str = "电子信息", small_or_micro: bool = True
) -> ResidentEnterprise:
    return ResidentEnterprise(
        name="入驻企业",
        moved_in_on=dt.date(2020, 1, 1),
        employees=10,
        industry=leading_industry if in_leading else "餐饮",
        in_leading_industry=in_leading,
        small_or_micro=small_or_micro,
    )


def _response(satisfied: bool) -> SatisfactionResponse:
    return SatisfactionResponse(enterprise="入驻企业", satisfied=satisfied)


def _agency(signed: bool) -> ContractedAgency:
    return ContractedAgency(name="服务机构", signed_agreement=signed)


@st.composite
def _established_near(draw: st.DrawFn, policy: Policy, declared_on: dt.date) -> dt.date:
    years = draw(st.sampled_from([int(v) for v in _required(policy, "operating_years")] or [2]))
    years += draw(st.sampled_from([-1, 0, 0, 1]))
    if draw(st.booleans()):  # a leap day start
        leap = next(y for y in range(declared_on.year - years, 1900, -1) if y % 4 == 0)
        return dt.date(leap, 2, 29)
    year = declared_on.year - years
    day = 28 if (declared_on.month, declared_on.day) == (2, 29) else declared_on.day
    anniversary = declared_on.replace(year=year, day=day)
    return anniversary + dt.timedelta(days=draw(st.sampled_from([-1, 0, 1])))


@st.composite
def _service_figures_near(draw: st.DrawFn, policy: Policy) -> dict[str, ServiceFigures]:
    services: dict[str, ServiceFigures] = {}
    for function in policy.service_functions.functions:
        if draw(st.integers(0, 4)) == 0:
            continue  # not claimed
        values: dict[str, int | None] = {}
        for threshold in function.thresholds:
            required = int(threshold.required)
            values[threshold.measure] = draw(
                st.sampled_from([None, required - 1, required, required, required + 1])
                | st.integers(0, 3 * required + 1)
            )
        services[function.id] = ServiceFigures(**values)  # type: ignore[arg-type]
    if draw(st.booleans()):
        services["not_a_function_of_this_policy"] = ServiceFigures(enterprises_served=1000)
    return services


@st.composite
def applications(draw: st.DrawFn, policy: Policy | None = None) -> Application:
    """An application whose measures often sit exactly at, just below or just above the
    thresholds of ``policy`` (default: the bundled policy), with missing data mixed in."""
    policy = policy or load_policy()
    declared_on = draw(
        st.dates(
            min_value=max(policy.effective_from, dt.date(2022, 10, 8)),
            max_value=dt.date(2030, 12, 31),
        )
        | st.sampled_from([dt.date(2024, 2, 29), dt.date(2025, 2, 28), dt.date(2025, 3, 1)])
    )
    site_areas = sorted({v for r in _required(policy, "site_area_m2") for v in _near(r)})
    base = Base(
        name="示范基地",
        # Mostly a district of the policy (第四条), sometimes one it does not list.
        district=draw(st.sampled_from([d.name for d in policy.districts]) | st.just("不存在的区")),
        leading_industries=tuple(f"产业{i}" for i in range(draw(st.integers(0, 5)))),
        focus=draw(st.sampled_from(Focus)),
        established_on=draw(_established_near(policy, declared_on)),
        site_area_m2=draw(st.sampled_from(site_areas or [0.0]) | amounts),
    )
    operator = Operator(
        name="运营单位",
        unified_social_credit_code=draw(credit_codes()),
        registered_on=dt.date(2015, 1, 1),
        independent_legal_person=draw(st.booleans() | st.just(True)),
    )
    declared = [rule.measure for rule in policy.rules if rule.declared]
    declarations = {
        key: Declaration(
            value=draw(st.booleans() | st.just(True)),
            evidence=draw(st.sampled_from(["佐证材料", "", "  "]) | st.just("p.1")),
        )
        for key in declared
        if draw(st.integers(0, 5)) > 0
    }
    materials = {
        material.id: draw(st.sampled_from(["材料.pdf", "", " "]) | st.just("x.pdf"))
        for material in policy.materials
        if draw(st.integers(0, 5)) > 0
    }
    # 附件1 承诺书: mostly pledged, sometimes not, sometimes missing.
    pledges = {
        pledge.id: draw(st.just(True) | st.booleans())
        for pledge in policy.pledges
        if draw(st.integers(0, 8)) > 0
    }
    volume = draw(st.none() | service_volume_records(max_total=20) | st.just(ServiceVolume(10, 2)))
    yearly = draw(_yearly_near(policy, declared_on))
    residents = draw(_share_list(_resident))
    judged = next((f for f in yearly if f.year == policy.figures.expected_year(declared_on)), None)
    if judged is not None and draw(st.booleans()):
        # A roster as long as the reported total (第六条第（四）项), its share near the threshold,
        # agreeing with the rest of the application: flagged residents in one of the base's
        # leading industries (leading_flags_consistent), as many small or micro as reported
        # (small_micro_flags_consistent).
        total = judged.resident_enterprises
        share = float(policy.rule("leading_industry_share").required)
        leading = min(total, max(0, round(share * total) + draw(st.integers(-1, 1))))
        industry = base.leading_industries[0] if base.leading_industries else "电子信息"
        small = judged.resident_small_micro_enterprises
        residents = tuple(
            _resident(i < leading, industry, small_or_micro=i < small) for i in range(total)
        )
    return Application(
        base=base,
        operator=operator,
        declared_on=declared_on,
        yearly=yearly,
        staff=draw(staff_near),
        residents=residents,  # type: ignore[arg-type]
        services=draw(_service_figures_near(policy)),
        service_volume=volume,
        satisfaction_survey=draw(_share_list(_response)),  # type: ignore[arg-type]
        agencies=draw(_share_list(_agency, max_size=8)),  # type: ignore[arg-type]
        materials=materials,
        declarations=declarations,
        pledges=pledges,
        services_year=draw(
            st.none() | st.sampled_from([declared_on.year - 2, declared_on.year - 1])
        ),
    )
