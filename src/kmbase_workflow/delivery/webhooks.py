"""Webhooks: each event POSTed to an HTTP endpoint a host configures, signed.

The request (one event per request):

- body: JSON, ``{"position": <outbox position>, "event": <the event as stored>}`` (UTF-8);
- ``X-Kmbase-Event-Id``: the event's ``id`` (deliveries are at least once: deduplicate on it);
- ``X-Kmbase-Timestamp``: seconds since the epoch when the request was signed;
- ``X-Kmbase-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the endpoint's secret,
  of ``<timestamp>.<body>`` (the timestamp, a full stop, the raw body bytes). Signing the
  timestamp lets a receiver refuse a replayed old request (`verify`'s ``tolerance``).

Any 2xx answer is success; anything else is a failure, retried with back-off
(`kmbase_workflow.delivery.worker.Backoff`): another status, a refused connection, and an
exchange that is not over within the endpoint's ``timeout`` (a deadline for the whole of it:
connecting, sending the request and reading the answer's status and headers, however slowly
the receiver trickles them). A redirect (3xx) is a failure too, never followed: a followed
redirect would become a GET that no receiver handles as the event, and a redirected endpoint
is a configuration to fix (its new URL goes in ``--webhook``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import math
import ssl
import time
from collections.abc import Coroutine, Mapping
from typing import TypeVar

import attrs
import httpx2

from .._i18n import Text
from ..encoding import event_document as event_data
from ..errors import InvalidInputError
from ..stores import OutboxRecord

__all__ = [
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Webhook",
    "WebhookError",
    "message",
    "sign",
    "verify",
]

EVENT_HEADER = "X-Kmbase-Event-Id"
TIMESTAMP_HEADER = "X-Kmbase-Timestamp"
SIGNATURE_HEADER = "X-Kmbase-Signature"
T = TypeVar("T")
CONSUMER_PREFIX = "webhook:"
"""A webhook named ``portal`` is the consumer ``webhook:portal``."""


class WebhookError(Exception):
    """An endpoint did not accept a delivery (the message says why, for the dead letters)."""


def message(record: OutboxRecord) -> bytes:
    """The body of the request that delivers ``record``."""
    body = {"position": record.position, "event": event_data(record.event)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Kmbase-Signature`` value of ``body`` signed at ``timestamp``."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether a request's signature is right and its timestamp within ``tolerance``
    seconds of ``now`` (what a receiver written in Python would check)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        timestamp = int(lowered[TIMESTAMP_HEADER.lower()])
        signature = lowered[SIGNATURE_HEADER.lower()]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _run_alone(coroutine: Coroutine[object, object, T]) -> T:
    """Run ``coroutine`` on an event loop of its own. Unlike `asyncio.run`, closing the loop
    does not wait for its executor's threads: a name server that never answers leaves its
    look-up behind instead of holding the call past the coroutine's deadline."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        try:
            left = asyncio.all_tasks(loop)
            if left:  # as asyncio.run does: no task outlives its loop
                for task in left:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx2's default TLS context (the system's trust store), made once: building one per
    request would read the certificates again each time."""
    return httpx2.create_ssl_context()


@attrs.frozen
class Webhook:
    """An endpoint: ``name`` (its consumer is ``webhook:<name>``), ``url``, the shared
    ``secret``, the event ``types`` it wants (``None``: all) and ``timeout``, the seconds
    one delivery may take from connecting to the answer's headers (a deadline for the
    whole exchange, not for each read: a `Worker` refuses one that is not shorter than its
    lease)."""

    name: str
    url: str
    secret: str = attrs.field(repr=False)
    types: frozenset[str] | None = None
    timeout: float = 10.0

    def __attrs_post_init__(self) -> None:
        if not (isinstance(self.timeout, int | float) and 0 < self.timeout < math.inf):
            raise InvalidInputError(
                Text(
                    zh=f"webhook {self.name} 的超时无效：{self.timeout}",
                    en=f"invalid timeout of webhook {self.name}: {self.timeout}",
                ),
                hint=Text(zh="超时为正的秒数，如 10", en="a positive number of seconds, e.g. 10"),
            )
        if not self.url.startswith(("http://", "https://")) or not self.name.strip():
            raise InvalidInputError(
                Text(
                    zh=f"无效的 webhook：{self.name}={self.url}",
                    en=f"invalid webhook: {self.name}={self.url}",
                ),
                hint=Text(
                    zh="写成 名称=http(s)://地址，如 portal=https://portal.example/hooks",
                    en="write NAME=http(s)://URL, e.g. portal=https://portal.example/hooks",
                ),
            )

    @property
    def consumer(self) -> str:
        """The consumer this endpoint's deliveries go through."""
        return CONSUMER_PREFIX + self.name

    def headers(self, record: OutboxRecord, body: bytes, timestamp: int) -> dict[str, str]:
        """The request headers of one delivery."""
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "kmbase-workflow-webhook/1",
            EVENT_HEADER: record.event.id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        }

    def __call__(self, record: OutboxRecord) -> None:
        """Deliver ``record``; `WebhookError` if the endpoint does not answer 2xx within
        ``timeout`` seconds (the deadline of the whole exchange). Call it from a thread
        without a running event loop (the worker's delivery threads)."""
        body = message(record)
        headers = self.headers(record, body, int(time.time()))
        try:
            status = _run_alone(self._post(body, headers))
        except TimeoutError:
            raise WebhookError(
                f"no answer from {self.url} within its deadline of {self.timeout} s"
            ) from None
        except (httpx2.HTTPError, httpx2.InvalidURL, OSError, ValueError) as error:
            # refused, reset, unreachable, a bad URL or a malformed answer
            raise WebhookError(f"{type(error).__name__} from {self.url}: {error}") from None
        if not 200 <= status < 300:
            kind = " (a redirect, not followed)" if 300 <= status < 400 else ""
            raise WebhookError(f"HTTP {status} from {self.url}{kind}")

    async def _post(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The status of the answer to one request, all of it within ``timeout`` seconds:
        httpx2's timeouts bound each operation (so a receiver trickling a byte at a time
        would hold the request for ever), the ``asyncio.timeout`` around them the whole."""
        async with asyncio.timeout(self.timeout):
            async with httpx2.AsyncClient(
                timeout=httpx2.Timeout(self.timeout), follow_redirects=False, verify=_tls()
            ) as client:
                request = client.stream("POST", self.url, content=body, headers=dict(headers))
                async with request as response:  # the status and headers: the body is not read
                    return response.status_code
