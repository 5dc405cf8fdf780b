"""Delivery of the outbox to other systems: durable consumers, webhooks and the worker.

- `DeliveryQueue`: each named consumer's queue over the store's outbox (leases, retries,
  dead letters, re-driving);
- `Webhook`: an HTTP endpoint that receives each event, signed (`sign`, `verify`);
- `Worker`: the process that runs the daily sweep and delivers to webhooks and `Consumer`
  handlers, several at once on one PostgreSQL database;
- `Waiter`: wakes a follower at each commit (PostgreSQL ``LISTEN/NOTIFY``) or polls (SQLite).

See docs/how-to/deployment.md.
"""

from __future__ import annotations

from .queue import ConsumerStatus, DeadLetter, Delivery, DeliveryQueue, QueueStatus
from .webhooks import Webhook, WebhookError, message, sign, verify
from .worker import (
    POSTGRES_POLL,
    SQLITE_POLL,
    Backoff,
    Consumer,
    JsonLogFormatter,
    Metrics,
    Waiter,
    Worker,
)

__all__ = [
    "POSTGRES_POLL",
    "SQLITE_POLL",
    "Backoff",
    "Consumer",
    "ConsumerStatus",
    "DeadLetter",
    "Delivery",
    "DeliveryQueue",
    "JsonLogFormatter",
    "Metrics",
    "QueueStatus",
    "Waiter",
    "Webhook",
    "WebhookError",
    "Worker",
    "message",
    "sign",
    "verify",
]
