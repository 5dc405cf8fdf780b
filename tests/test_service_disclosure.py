"""A write's answer tells no more than a read would: whoever may act on a case without
reading it (an objection is open to anyone, 第十三条) gets an acknowledgement of their own
act, never the case (the reading rule of ``GET /cases/{id}``, `may_read`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmbase_workflow.service import reference_documents
from service_helpers import Service, ok, service, walk_to_notice

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def svc() -> Iterator[Service]:
    yield from service("memory://")


def _objection(svc: Service) -> dict[str, object]:
    return {
        "payload": {
            "raised_on": svc.workflow.today().isoformat(),
            "raised_by": "群众来信",
            "content": "入驻企业数量不实",
        }
    }


def _secrets(svc: Service) -> list[str]:
    case = ok(svc.as_("city_bureau").show(case_id="c1"))
    application = case["application"]
    operator, base = application["operator"], application["base"]  # type: ignore[index]
    return [
        operator["name"],
        operator["unified_social_credit_code"],
        base["name"],
        base["district"],
        "application",
        "recommendation",
    ]


@pytest.mark.parametrize("name", ["public", "other_operator", "other_district"])
def test_an_objector_who_may_not_read_the_case_gets_an_acknowledgement(
    svc: Service, name: str
) -> None:
    walk_to_notice(svc)
    secrets = _secrets(svc)
    assert svc.as_(name).show(case_id="c1").status_code == 403  # they may not read it
    headers = {"Idempotency-Key": "objection-1"}
    answer = svc.as_(name).fire_object(case_id="c1", json=_objection(svc), headers=headers)
    data = ok(answer)
    for secret in secrets:
        assert secret not in answer.text, f"{name} learns {secret!r}: {answer.text[:300]}"
    entry = svc.workflow.history("c1")[-1]
    assert data == {
        "case": {"id": "c1"},
        "action": "object",
        "to_state": "objected",
        "at": entry.at.isoformat(),
        "event_ids": list(entry.event_ids),
        "replayed": False,
    }
    assert answer.headers["Location"] == "/cases/c1"
    # a retry with the same key is acknowledged as such, still without the case
    again = svc.as_(name).fire_object(case_id="c1", json=_objection(svc), headers=headers)
    assert ok(again) == {**data, "replayed": True}
    for secret in secrets:
        assert secret not in again.text


def test_a_reader_still_gets_the_whole_outcome(svc: Service) -> None:
    walk_to_notice(svc)
    answer = ok(svc.as_("expert").fire_object(case_id="c1", json=_objection(svc)))
    assert answer["case"]["state"] == "objected"  # type: ignore[index]
    assert answer["entry"]["action"] == "object"  # type: ignore[index]
    assert answer["events"]


def test_the_document_describes_the_acknowledgement_where_one_may_be_answered() -> None:
    document = json.loads(reference_documents()["openapi.json"])
    schemas = document["components"]["schemas"]
    assert set(schemas["Acknowledgement"]["required"]) == {
        "case",
        "action",
        "at",
        "event_ids",
        "replayed",
    }
    objection = document["paths"]["/cases/{case_id}/object"]["post"]["responses"]["200"]
    answer = objection["content"]["application/json"]["schema"]
    assert answer == {
        "anyOf": [
            {"$ref": "#/components/schemas/Outcome"},
            {"$ref": "#/components/schemas/Acknowledgement"},
        ]
    }
    # a step taken only on one's own behalf is taken by a reader: the whole outcome
    certify = document["paths"]["/cases/{case_id}/certify"]["post"]["responses"]["200"]
    assert certify["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Outcome"
    }
