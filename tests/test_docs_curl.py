"""The curl walk of docs/how-to/service.md ("Call it with curl") replayed, request by
request, against the service: every request answers 2xx, as the page implies (issue 22: it
recommended a case and then declined it, a 409). A live stream (``curl -N``) is left out."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

pytest.importorskip("fastapi", reason="the service needs fastapi (tests group)")

from lifecycle_helpers import BUREAU, ROUND_CLOSES, ROUND_OPENS
from service_helpers import Service, service

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "how-to" / "service.md"
TOKENS = {"TOKEN": "operator", "DISTRICT": "district", "BUREAU": "city_bureau"}
"""Each variable of the page and whose token it holds."""


@attrs.frozen
class Request:
    """One curl command of the page."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    streams: bool


def _section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("## Call it with curl")
    return text[start : text.index("\n## ", start + 1)]


def _commands() -> Iterator[list[str]]:
    for block in re.findall(r"```bash\n(.*?)```", _section(), re.DOTALL):
        pending = ""
        for line in block.replace("\\\n", " ").splitlines():
            pending += line + "\n"
            try:  # a quoted body may span lines: read on to its closing quote
                words = shlex.split(pending, comments=True)
            except ValueError:
                continue
            pending = ""
            if words and words[0] == "curl":
                yield words


def _request(words: list[str]) -> Request:
    method, headers, body, url, streams = "GET", {}, None, "", False
    items = iter(words[1:])
    for word in items:
        if word == "-X":
            method = next(items)
        elif word == "-H":
            name, _, value = next(items).partition(":")
            headers[name.strip()] = value.strip()
        elif word in ("-d", "--data"):
            data = next(items)
            body = (ROOT / data[1:]).read_bytes() if data.startswith("@") else data.encode()
            method = "POST" if method == "GET" else method
        elif word.startswith("-"):
            streams = streams or "N" in word
        else:
            url = word
    return Request(method, url.removeprefix("http://127.0.0.1:8000"), headers, body, streams)


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    yield from service(f"sqlite:///{tmp_path / 'service.db'}")


def test_the_walk_replays_without_an_error(svc: Service) -> None:
    svc.workflow.open_round(2025, ROUND_OPENS, ROUND_CLOSES, BUREAU)
    requests = [_request(words) for words in _commands()]
    assert len(requests) >= 8
    assert any(r.path.endswith("/recommend") for r in requests)
    http = svc.client.http
    case_id = ""
    for request in requests:
        if request.streams:
            continue
        path = request.path.replace("$CASE", case_id)
        headers: dict[str, str | bytes] = {}
        for name, value in request.headers.items():
            text = value
            for variable, actor in TOKENS.items():
                text = text.replace(f"${variable}", svc.tokens[actor])
            headers[name] = text.encode()  # curl sends UTF-8 as it is
        response = http.request(request.method, path, headers=headers, content=request.body)
        assert response.status_code < 300, f"{request.method} {path}: {response.text}"
        if path == "/cases":
            case_id = json.loads(response.text)["case"]["id"]
