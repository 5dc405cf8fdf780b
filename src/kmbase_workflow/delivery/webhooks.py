"""Webhooks: each event POSTed to an HTTP endpoint a host configures, signed.

The request (one event per request):

- body: JSON, ``{"position": <outbox position>, "event": <the event as stored>}`` (UTF-8);
- ``X-Kmbase-Event-Id``: the event's ``id`` (deliveries are at least once: deduplicate on it);
- ``X-Kmbase-Timestamp``: seconds since the epoch when the request was signed;
- ``X-Kmbase-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the endpoint's secret,
  of ``<timestamp>.<body>`` (the timestamp, a full stop, the raw body bytes). Signing the
  timestamp lets a receiver refuse a replayed old request (`verify`'s ``tolerance``).

Any 2xx answer is success; anything else, a timeout or a refused connection is a failure,
retried with back-off (`kmbase_workflow.delivery.worker.Backoff`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

import attrs

from .._i18n import Text
from ..errors import InvalidInputError
from ..stores import OutboxRecord
from ..stores._rows import event_data

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


@attrs.frozen
class Webhook:
    """An endpoint: ``name`` (its consumer is ``webhook:<name>``), ``url``, the shared
    ``secret``, the event ``types`` it wants (``None``: all) and the request ``timeout``."""

    name: str
    url: str
    secret: str = attrs.field(repr=False)
    types: frozenset[str] | None = None
    timeout: float = 10.0

    def __attrs_post_init__(self) -> None:
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
        """Deliver ``record``; `WebhookError` if the endpoint does not answer 2xx."""
        body = message(record)
        request = urllib.request.Request(
            self.url, data=body, headers=self.headers(record, body, int(time.time())), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as error:
            raise WebhookError(f"HTTP {error.code} from {self.url}") from None
        except (OSError, ValueError) as error:  # refused, timed out, unreachable, bad URL
            raise WebhookError(f"{type(error).__name__} from {self.url}: {error}") from None
        if not 200 <= status < 300:
            raise WebhookError(f"HTTP {status} from {self.url}")
