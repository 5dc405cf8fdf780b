"""A client generated from the published OpenAPI document (docs/reference/openapi.json).

Each operation of the document is a method named by its ``operationId``; a call fills the
path's parameters, checks the JSON body against the operation's request schema *before*
sending it, and checks the JSON answer against the schema the document gives for its status.
A document that does not describe what the service does fails these checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import jsonschema

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "reference" / "openapi.json"


class OpenAPIClient:
    """``client.declare(json=...)``, ``client.fire_certify(case_id="c1", json=...)`` …"""

    def __init__(self, http: httpx2.Client, token: str | None = None, document: Path = DOCUMENT):
        self.http = http
        self.token = token
        self.document: dict[str, Any] = json.loads(document.read_text(encoding="utf-8"))
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {
            operation["operationId"]: (method.upper(), path, operation)
            for path, methods in self.document["paths"].items()
            for method, operation in methods.items()
        }

    def as_(self, token: str) -> OpenAPIClient:
        """The same client with another caller's token."""
        other = OpenAPIClient.__new__(OpenAPIClient)
        other.__dict__.update(self.__dict__, token=token)
        return other

    def _check(self, schema: dict[str, Any], data: object) -> None:
        jsonschema.validate(data, {**schema, "components": self.document["components"]})

    def __getattr__(self, operation_id: str) -> Callable[..., httpx2.Response]:
        if operation_id not in self.__dict__.get("operations", {}):
            raise AttributeError(operation_id)
        method, template, operation = self.operations[operation_id]

        def call(
            *,
            json: object = None,
            content: str | None = None,
            params: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None,
            **path: str,
        ) -> httpx2.Response:
            url = re.sub(r"{(\w+)}", lambda m: str(path.pop(m.group(1))), template)
            assert not path, f"{operation_id} has no path parameters {sorted(path)}"
            if json is not None:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                self._check(body, json)
            sent = dict(headers or {})
            if self.token is not None:
                sent.setdefault("Authorization", f"Bearer {self.token}")
            response = self.http.request(
                method, url, json=json, content=content, params=params, headers=sent
            )
            answer = operation["responses"].get(str(response.status_code))
            assert answer is not None, f"{operation_id}: {response.status_code} is undocumented"
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            if schema is not None:
                self._check(schema, response.json())
            return response

        return call
