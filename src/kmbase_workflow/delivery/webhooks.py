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

A `Worker <kmbase_workflow.delivery.Worker>` delivers each webhook's events through one
client for as long as it runs (``WebhookClient``), so they reuse the endpoint's connections
(HTTP keep-alive); calling a `Webhook` on its own opens a connection for that one request.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import math
import ssl
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
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
_DRAINED = 64 * 1024
"""The most of an answer's body read so that its connection can serve the next request
(a longer body is left unread and its connection closed)."""
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
        _close_loop(loop)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Close a loop that is not running, its tasks cancelled first (as `asyncio.run` does: no
    task outlives its loop), without waiting for its executor's threads."""
    try:
        left = asyncio.all_tasks(loop)
        if left:
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
        """Deliver ``record`` on a connection of its own; `WebhookError` if the endpoint does
        not answer 2xx within ``timeout`` seconds (the deadline of the whole exchange). Call
        it from a thread without a running event loop."""
        self.deliver(record, self._post_alone)

    def deliver(self, record: OutboxRecord, post: Callable[[bytes, dict[str, str]], int]) -> None:
        """Deliver ``record`` with ``post``, which sends the body and headers and returns the
        answer's status (``WebhookClient.post``'s: through a client's connections)."""
        body = message(record)
        headers = self.headers(record, body, int(time.time()))
        try:
            status = post(body, headers)
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

    def _post_alone(self, body: bytes, headers: dict[str, str]) -> int:
        async def post() -> int:
            async with _client() as client:
                return await _exchange(client, self, body, headers)

        return _run_alone(post())


def _client() -> httpx2.AsyncClient:
    """The HTTP client of deliveries: redirects never followed; each request is given its
    webhook's timeout."""
    return httpx2.AsyncClient(follow_redirects=False, verify=_tls())


async def _exchange(
    client: httpx2.AsyncClient, webhook: Webhook, body: bytes, headers: Mapping[str, str]
) -> int:
    """The status of the answer to one request, sent and answered (its status and headers)
    within ``webhook.timeout`` seconds: httpx2's timeouts bound each operation (so a receiver
    trickling a byte at a time would hold the request for ever), the ``asyncio.timeout``
    around them the whole. What is left of the deadline then reads a short body, so that
    the connection can serve the next request; a body not read in time costs the connection,
    never the delivery."""
    deadline = asyncio.get_running_loop().time() + webhook.timeout
    request = client.build_request(
        "POST",
        webhook.url,
        content=body,
        headers=dict(headers),
        timeout=httpx2.Timeout(webhook.timeout),
    )
    async with asyncio.timeout_at(deadline):
        response = await client.send(request, stream=True)
    try:
        async with asyncio.timeout_at(deadline):
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > _DRAINED:
                    break
    except (TimeoutError, httpx2.HTTPError):
        pass  # the answer is in: its connection is closed, not reused
    finally:
        await response.aclose()
    return response.status_code


class WebhookClient:
    """The connections a `Worker <kmbase_workflow.delivery.Worker>` delivers one webhook's
    events through, for as long as it runs: an HTTP client on an event loop in a thread of
    its own (started at the first delivery), whose requests the delivery threads wait on.
    Consecutive deliveries reuse a kept-alive connection instead of opening one each; the
    deadline, the timeouts and the redirects never followed are the webhook's, as on its
    own. `close` closes the connections and ends the thread (the worker does when it
    stops); a later delivery starts them again."""

    def __init__(self, webhook: Webhook) -> None:
        self.webhook = webhook
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx2.AsyncClient | None = None
        """Made and used on the loop's thread only."""

    def __call__(self, record: OutboxRecord) -> None:
        """Deliver ``record`` (as calling the ``Webhook`` does, through these connections)."""
        self.webhook.deliver(record, self.post)

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        """Send one request; the answer's status."""
        future = asyncio.run_coroutine_threadsafe(self._post(body, headers), self._running())
        return future.result()

    async def _post(self, body: bytes, headers: dict[str, str]) -> int:
        if self._client is None:
            self._client = _client()
        return await _exchange(self._client, self.webhook, body, headers)

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="kmbase-webhook", daemon=True
                )
                self._thread.start()
            return self._loop

    def close(self) -> None:
        """Close the connections and end the loop's thread (call it once the deliveries under
        way have ended)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close_client(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        _close_loop(loop)

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
