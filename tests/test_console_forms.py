"""Every step's console form is derived from its declared payload (issue 25): a new step shows
up in the console without a new template, or these tests name the step and the field that
cannot be shown; and no form or address of the console answers bad input with a 500."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterator

import attrs
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console_helpers import Browser, console, forms
from kmbase_workflow import FixedClock, Workflow
from kmbase_workflow._i18n import Text
from kmbase_workflow.case import Evaluation, Objection
from kmbase_workflow.console._forms import (
    FILLED_BY_LIBRARY,
    FormField,
    NotDerivable,
    read_form,
    step_form,
)
from kmbase_workflow.lifecycle import RECORDS, STEPS, Step, Trigger, step_for
from kmbase_workflow.policy import Policy, load_policy
from kmbase_workflow.records import Application

EVERY_STEP = [step for step in (*STEPS, *RECORDS) if step.trigger is not Trigger.DECLARE]


@pytest.mark.parametrize("step", EVERY_STEP, ids=lambda step: step.trigger.value)
def test_every_steps_form_is_derived_from_its_payload(step: Step) -> None:
    try:
        fields = step_form(step, load_policy())
    except NotDerivable as error:
        pytest.fail(str(error))
    names = [field.name for field in fields]
    assert names[-2:] == ["reason", "evidence"]
    if step.payload is Application:
        assert names[0] == "application"  # an upload (JSON or TOML) or pasted text
    elif step.payload is not None and attrs.has(step.payload):
        asked = {name.split(".", 1)[0] for name in names[:-2]}
        declared = {f.name for f in attrs.fields(step.payload)}
        left_out = {name for record, name in FILLED_BY_LIBRARY if record is step.payload}
        assert asked == declared - left_out, (
            f"{step.trigger.value}: the form does not ask {declared - left_out - asked}"
        )


def test_every_field_of_every_form_is_labelled_in_both_languages() -> None:
    missing = []
    for step in EVERY_STEP:
        for field in step_form(step, load_policy()):
            if field.name in (field.label.zh, field.label.en):
                missing.append(f"{step.trigger.value}: {field.name}")
            for value, label in field.choices:
                if label.zh == value and label.en == value:
                    missing.append(f"{step.trigger.value}: {field.name} = {value}")
    assert not missing, "labels missing from console/_text.py FIELD_LABELS: " + ", ".join(missing)


def test_a_payload_field_of_an_unknown_kind_names_the_step_and_the_field() -> None:
    @attrs.frozen
    class Odd:
        when: dt.time

    step = attrs.evolve(STEPS[1], payload=Odd)
    with pytest.raises(NotDerivable, match=r"return_for_correction: field 'when'"):
        step_form(step)


def test_the_fields_the_library_fills_are_ones_it_overrides() -> None:
    """A field left out of the forms is one the library sets whatever a caller passes (its
    ``complete``) or a later step sets (an objection's finding): never one a caller decides."""
    completed = {
        step.payload for step in (*STEPS, *RECORDS) if step.complete is not None and step.payload
    }
    for record, name in FILLED_BY_LIBRARY:
        assert name in {f.name for f in attrs.fields(record)}
        assert (
            record in completed
            or record in (Objection, Evaluation)
            or name in ("decision", "stale")
        )


def _sample(field: FormField) -> str:
    if field.kind == "int":
        return "2025" if field.name == "year" else "1"
    samples = {
        "number": "80",
        "date": "2025-06-20",
        "bool": "on",
        "lines": "第一项",
        "json": "{}",
        "choice": field.choices[0][0] if field.choices else "",
    }
    return samples.get(field.kind, "内容")


@pytest.mark.parametrize("step", EVERY_STEP, ids=lambda step: step.trigger.value)
def test_a_filled_form_reads_as_the_steps_payload(step: Step) -> None:
    fields = step_form(step, load_policy())
    values = {
        field.name: _sample(field)
        for field in fields
        if field.optional_record is None and field.kind != "application"
    }
    command, problems = read_form(step, fields, values, dt.date(2025, 6, 20))
    assert problems == {}
    if step.payload is not None and attrs.has(step.payload) and step.payload is not Application:
        payload = step.parse_payload(command["payload"])
        assert isinstance(payload, step.payload)
    assert command["reason"] == "内容"
    assert command["evidence"] == ["第一项"]


def test_the_spot_checks_legend_reads_its_article_from_the_policy() -> None:
    """第十条 by the Kunming file; a policy that puts the spot check elsewhere is followed."""
    policy = load_policy()
    step = step_for(Trigger.RECOMMEND)

    def legend(policy: Policy | None) -> Text:
        found = {f.group for f in step_form(step, policy) if f.name.startswith("spot_check.")}
        assert len(found) == 1
        [group] = found
        assert group is not None
        return group

    assert legend(policy) == Text(
        zh="满意度随机抽查（第十条）", en="Satisfaction spot check (Art. 10)"
    )
    moved = attrs.evolve(
        policy,
        spot_check=attrs.evolve(policy.spot_check, article=Text(zh="第九条", en="Art. 9")),
    )
    assert legend(moved) == Text(
        zh="满意度随机抽查（第九条）", en="Satisfaction spot check (Art. 9)"
    )
    assert legend(None) == Text(zh="满意度随机抽查", en="Satisfaction spot check")


@pytest.fixture
def site() -> Iterator[tuple[Browser, Workflow, FixedClock]]:
    yield from console()


def test_every_steps_form_page_renders_with_its_keys(site) -> None:
    from test_console import recommended

    browser, _, _ = site
    case_id = recommended(browser)
    browser.sign_in("city_bureau")
    for step in EVERY_STEP:
        page = browser.get(f"/console/cases/{case_id}/{step.trigger.value}")
        assert page.status_code == 200, step.trigger.value
        form = next(f for f in forms(page.text) if f.action.endswith(f"/{step.trigger.value}"))
        assert form.values["idempotency_key"], step.trigger.value
        assert form.values["csrf"], step.trigger.value
        for field in step_form(step, load_policy()):
            if field.kind != "application":
                assert f'name="{field.name}"' in page.text, (step.trigger.value, field.name)


_PATHS = st.sampled_from(
    [
        "/console/cases/{case}/{trigger}",
        "/console/cases/{case}",
        "/console/notices/{case}/object",
        "/console/rounds/{text}",
        "/console/rounds/{text}/selection",
        "/console/rounds",
        "/console/declare",
        "/console/sign-in",
        "/console/inbox",
        "/console/exports/{text}",
        "/console/cases",
    ]
)
_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=0, max_size=30)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=_PATHS,
    trigger=st.sampled_from([step.trigger.value for step in EVERY_STEP] + ["declare", "x"]),
    case=st.sampled_from(["c1", "none", "%00", "..", "a" * 300]),
    text=_TEXT,
    fields=st.dictionaries(
        st.sampled_from(
            [
                "score",
                "opinion",
                "spot_check.sampled",
                "due",
                "deficiencies",
                "starts_on",
                "working_days",
                "quota",
                "year",
                "opens_on",
                "application",
                "payload",
                "ground",
                "kind",
                "expected_version",
                "idempotency_key",
                "intent",
                "as_of",
                "round_year",
                "state",
                "lang",
                "token",
                "operator.registered_on",
            ]
        ),
        _TEXT,
        max_size=6,
    ),
    method=st.sampled_from(["GET", "POST"]),
)
def test_no_bad_input_on_any_console_address_is_a_server_error(
    fuzz_site, *, path, trigger, case, text, fields, method
) -> None:
    client, csrf = fuzz_site
    url = path.format(
        case=urllib.parse.quote(case, safe=""),
        trigger=trigger,
        text=urllib.parse.quote(text, safe=""),
    )
    if method == "GET":
        answer = client.get(url, params=fields)
    else:
        answer = client.post(url, data={"csrf": csrf, **fields})
    assert answer.status_code < 500, (method, url, fields, answer.text[:500])


@pytest.fixture(scope="module")
def fuzz_site() -> Iterator[tuple[TestClient, str]]:
    from test_console import recommended

    for browser, _, _ in console():
        recommended(browser)
        browser.sign_in("city_bureau")
        page = browser.get("/console/rounds")
        csrf = next(f for f in forms(page.text) if f.method == "post").values["csrf"]
        browser.client.follow_redirects = False
        yield browser.client, csrf
