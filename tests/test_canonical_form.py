"""The hashed form reads back as it was hashed on every store (issue 22): numbers of any size
and sign, written through the workflow, verify on memory, SQLite and PostgreSQL alike; a
number that is not finite never reaches the record."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmbase_workflow import Actor, FixedClock, Role, Workflow, open_store
from kmbase_workflow.audit import verify_case, verify_store
from kmbase_workflow.errors import FieldValueError, InvalidInputError
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.history import GENESIS_HASH, HistoryEntry, canonical_json, verify_history
from kmbase_workflow.records import Application
from kmbase_workflow.stores import CaseStore, Change
from kmbase_workflow.testing import sample_case, sample_change
from mysql_server import mysql_url  # noqa: F401 - the fixture is used by name
from postgres_server import schema, store_url  # noqa: F401 - fixtures used by name

BUREAU = Actor(Role.CITY_BUREAU, "市工业和信息化局")
APPLICATION = eligible_application()
OPERATOR = Actor.for_operator(APPLICATION.operator)


@pytest.fixture
def workflow(store_url: str) -> Iterator[Workflow]:  # noqa: F811
    with Workflow(open_store(store_url), clock=FixedClock(dt.date(2025, 6, 20))) as workflow:
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
        yield workflow


def _with_areas(site: float, public: float | None) -> Application:
    base = attrs.evolve(APPLICATION.base, site_area_m2=site, public_service_area_m2=public)
    return attrs.evolve(APPLICATION, base=base)


def test_an_integral_float_of_1e16_verifies_on_every_store(workflow: Workflow) -> None:
    # On PostgreSQL JSONB returned 1e16 as the integer 10000000000000000, which hashed
    # differently: an untampered case failed verification, and with it the whole store.
    workflow.declare(_with_areas(1e16, 1.2345e20), OPERATOR, case_id="c1")
    assert verify_case(workflow.store, "c1").ok
    assert verify_store(workflow.store).ok


_ids = itertools.count()

areas = st.one_of(
    st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e16, 2.0**53, 2.0**53 + 2, 1e300, 1e-300, 5e-324, 85.0]),
    st.integers(0, 2**53).map(float),
)

json_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([-0.0, 1e16, -1e16, 1.2345e20, 1e-300, -5e-324, 2.0**63, 2**64]),
)
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=5)
json_values = st.recursive(
    st.none() | st.booleans() | json_numbers | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(site=areas, public=st.none() | areas)
def test_generated_areas_round_trip_every_store_and_verify(
    workflow: Workflow, site: float, public: float | None
) -> None:
    case_id = f"case-{next(_ids)}"
    workflow.declare(_with_areas(site, public), OPERATOR, case_id=case_id, base_id=case_id)
    assert verify_case(workflow.store, case_id).ok
    # a second writer of the store sees the same bytes: the audit of what it reads back
    assert workflow.case(case_id).application.base.site_area_m2 == site


def _entry_with(payload: dict[str, object], case_id: str) -> Change:
    change = sample_change(sample_case(case_id), None)
    entry = attrs.evolve(change.history, payload=payload).sealed(GENESIS_HASH)
    return attrs.evolve(change, history=entry, data=None)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=st.dictionaries(texts, json_values, max_size=4))
def test_generated_payloads_read_back_as_hashed_on_every_store(
    workflow: Workflow, payload: dict[str, object]
) -> None:
    store: CaseStore = workflow.store
    case_id = f"case-{next(_ids)}"
    store.commit(_entry_with(payload, case_id))
    assert verify_history(store.history(case_id)).ok


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_number_that_is_not_finite_is_refused_at_input(workflow: Workflow, number: float) -> None:
    with pytest.raises(FieldValueError, match="site_area_m2"):
        _with_areas(number, None)
    with pytest.raises(InvalidInputError) as refused:
        canonical_json({"score": number})
    assert refused.value.describe("zh") != refused.value.describe("en")
    with pytest.raises(InvalidInputError):
        workflow.store.commit(_entry_with({"score": number}, "c-nan"))
    assert workflow.store.history("c-nan") == []


def test_an_integral_float_and_its_integer_are_one_number() -> None:
    # the integer a float's shortest decimal form names, as JSONB returns it
    pairs = [(85.0, 85), (1e16, 10**16), (1.2345e20, 12345 * 10**16), (1e300, 10**300), (-0.0, 0)]
    for number, integer in pairs:
        assert canonical_json({"n": number}) == canonical_json({"n": integer})
    assert canonical_json({"n": 1.2345e20}) == '{"n":123450000000000000000}'
    assert canonical_json({"n": 1.5e-7}) == '{"n":1.5e-07}'


def test_entries_of_format_2_keep_their_hash() -> None:
    # written before format 3: an integral float past 2**53 was hashed in exponent form
    entry = HistoryEntry(
        case_id="c",
        sequence=1,
        action="declare",
        from_state=None,
        to_state="declared",
        actor=OPERATOR,
        at=dt.datetime(2025, 6, 20, 9, tzinfo=dt.UTC),
        payload={"area": 1e16},
        format=2,
    ).sealed(GENESIS_HASH)
    assert '"area":1e+16' in entry.canonical()
    assert verify_history([entry]).ok
