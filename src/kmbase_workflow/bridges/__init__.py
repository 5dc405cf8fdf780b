"""Broker bridges: the outbox relayed to a message broker an organisation already runs.

A bridge is a *sink* (`Sink`): ``publish(records)`` sends a batch of outbox records and
returns only once the broker has confirmed every one of them (RabbitMQ publisher confirms,
a JetStream ``PubAck``, a Redis reply). `relay` reads the outbox from a named consumer cursor
(`kmbase_workflow.stores.CaseStore.consumer_position`), publishes, and acknowledges the
cursor only after the confirmation. Hence:

- **exactly the events of the outbox**, each sent as its event document
  (`kmbase_workflow.events.event_document`, JSON Schema in docs/schemas/events.schema.json);
- **at least once**: a relay that dies after the broker confirmed and before the cursor moved
  sends that batch again on restart; every message carries the event id as its message id
  (``message_id``, ``Nats-Msg-Id``, the ``id`` field of a stream entry) so consumers, and
  JetStream itself, drop the copy; a sink that keeps a cursor of its own (`CursorSink`, the
  Redis bridge) tells the relay where it is, so nothing is sent twice;
- **never skipped**: the cursor moves only past what the broker confirmed, and it is the
  last record read, in the order `CaseStore.read_outbox` reads (commit order: on
  PostgreSQL an event may commit at a lower position after a higher one), never the
  highest position seen;
- **in order per case**, and in fact in outbox order: one relay publishes one batch at a time,
  in the order it read them, over one connection (see each bridge for how its broker keeps
  it).

Bridges (each behind its optional extra, imported only when chosen by `open_sink`):

==================  =====================================  ===========================
URL                 bridge                                  extra
==================  =====================================  ===========================
``amqp://…``        `kmbase_workflow.bridges.rabbitmq`     ``kmbase-workflow[rabbitmq]``
``nats://…``        `kmbase_workflow.bridges.nats`         ``kmbase-workflow[nats]``
``redis://…``       `kmbase_workflow.bridges.redis`        ``kmbase-workflow[redis]``
==================  =====================================  ===========================
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import attrs

from .._i18n import Text
from ..errors import BrokerUnavailableError, InvalidInputError, KmbaseError, install_hint
from ..events import event_document
from ..stores import CaseStore, OutboxRecord

__all__ = [
    "DEFAULT_CONSUMER",
    "SCHEMES",
    "CursorSink",
    "RelayReport",
    "Sink",
    "message_body",
    "message_headers",
    "open_sink",
    "relay",
]

logger = logging.getLogger(__name__)

DEFAULT_CONSUMER = "bridge"
"""The outbox cursor a relay uses unless told otherwise (``--consumer``)."""

SCHEMES: Mapping[str, tuple[str, str]] = {
    "amqp": ("rabbitmq", "rabbitmq"),
    "amqps": ("rabbitmq", "rabbitmq"),
    "nats": ("nats", "nats"),
    "tls": ("nats", "nats"),
    "redis": ("redis", "redis"),
    "rediss": ("redis", "redis"),
}
"""URL scheme → (bridge module, optional extra)."""

_BROKER_NAMES: Mapping[str, str] = {"rabbitmq": "RabbitMQ", "nats": "NATS", "redis": "Redis"}
"""Bridge module → the broker's name in messages."""


class Sink(Protocol):
    """Where a relay sends the outbox: a broker connection."""

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Send ``records`` in order; return only once the broker confirmed every one.
        `kmbase_workflow.errors.BrokerError` (or its retryable `BrokerUnavailableError`)
        when it did not: the caller then must not acknowledge them."""
        ...

    def close(self) -> None:
        """Close the connection (idempotent)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class CursorSink(Sink, Protocol):
    """A sink whose broker keeps, with the messages, where the relay got to (the Redis
    bridge's stream cursor): `relay` moves its own cursor there when it starts and after a
    failure, so a batch the broker took just before the relay died is not sent again."""

    def confirmed_position(self) -> int | None:
        """The outbox position of the last record the broker took (``None``: none yet)."""
        ...


def message_body(record: OutboxRecord) -> bytes:
    """What every bridge sends: the event document as UTF-8 JSON."""
    return json.dumps(event_document(record.event), ensure_ascii=False).encode("utf-8")


def message_headers(record: OutboxRecord) -> dict[str, str]:
    """The headers every bridge sets beside the body (to route and deduplicate without
    parsing it)."""
    event = record.event
    return {
        "kmbase-event-id": event.id,
        "kmbase-event-type": event.type,
        "kmbase-case-id": event.case_id,
        "kmbase-position": str(record.position),
        "kmbase-schema-version": str(event.schema_version),
    }


def bad_url(url: str, problem: Text) -> InvalidInputError:
    """The error for a broker URL a bridge cannot use (the URL's password hidden)."""
    shown = hide_password(url)
    return InvalidInputError(
        Text(
            zh=f"消息代理地址无效 {shown}：{problem.zh}", en=f"bad broker URL {shown}: {problem.en}"
        ),
        hint=Text(
            zh="例如 amqp://用户:密码@127.0.0.1:5672/%2F、nats://127.0.0.1:4222、"
            "redis://127.0.0.1:6379/0",
            en="for example amqp://user:password@127.0.0.1:5672/%2F, nats://127.0.0.1:4222, "
            "redis://127.0.0.1:6379/0",
        ),
    )


def hide_password(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unreadable URL>"


def unavailable(url: str, error: BaseException) -> BrokerUnavailableError:
    """The error for a broker that cannot be reached (its driver's error named, not raised)."""
    shown = hide_password(url)
    what = f"{type(error).__name__}: {error}".strip().rstrip(":")
    return BrokerUnavailableError(
        Text(
            zh=f"无法连接消息代理 {shown}（{what}）", en=f"cannot reach the broker {shown} ({what})"
        ),
        hint=Text(
            zh="检查代理是否运行、地址和凭据；稍后重试，已确认之外的事件会重新发送",
            en="check that the broker runs, the address and the credentials; try again later "
            "(nothing unconfirmed was acknowledged, so it is sent again)",
        ),
    )


def _shut_down(loop: asyncio.AbstractEventLoop) -> None:
    """Close an async driver's private event loop, letting its background tasks (readers,
    heartbeats) finish first, so nothing is left pending or unawaited."""

    async def finish() -> None:
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await loop.shutdown_asyncgens()

    loop.run_until_complete(finish())
    loop.close()


def open_sink(url: str, **options: str | int | float) -> Sink:
    """The bridge for ``url`` (its scheme chooses it, see the module doc), connected.

    ``options`` go to the bridge (``exchange``, ``queue``, ``stream``, ``subject`` …).
    `InvalidInputError` for a URL no bridge takes, a missing extra or a bad option;
    `BrokerUnavailableError` when the broker cannot be reached.
    """
    if not isinstance(url, str) or "://" not in url:
        raise bad_url(str(url), Text(zh="缺少协议（如 amqp://）", en="no scheme (e.g. amqp://)"))
    scheme = url.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        names = ", ".join(f"{name}://" for name in SCHEMES)
        raise bad_url(
            url,
            Text(
                zh=f"不支持的协议 {scheme}（可用：{names}）",
                en=f"unsupported scheme {scheme} (use {names})",
            ),
        )
    module, extra = SCHEMES[scheme]
    try:
        bridge = importlib.import_module(f"{__name__}.{module}")
    except ImportError as error:
        raise InvalidInputError(
            Text(
                zh=f"未安装 {scheme} 消息代理的驱动（{error.name}）",
                en=f"the driver for {scheme} brokers is not installed ({error.name})",
            ),
            hint=install_hint(extra),
        ) from None
    connect: Callable[..., Sink] = bridge.connect
    # Each bridge's options are the keywords of its connect(): checked here, once for all.
    taken = {
        name
        for name, parameter in inspect.signature(connect).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = ", ".join(sorted(set(options) - taken))
    if unknown:
        broker = _BROKER_NAMES[module]
        raise bad_url(
            url,
            Text(
                zh=f"{broker} 不支持的选项：{unknown}",
                en=f"options {broker} does not take: {unknown}",
            ),
        )
    return connect(url, **options)


@attrs.frozen
class RelayReport:
    """What a relay did before it stopped."""

    consumer: str
    relayed: int
    """Events published and confirmed (a batch re-sent after a failure counts again)."""
    position: int
    """The consumer's cursor when it stopped: every event up to it was confirmed."""
    batches: int


def relay(
    store: CaseStore,
    sink: Sink,
    *,
    consumer: str = DEFAULT_CONSUMER,
    batch_size: int = 100,
    poll_interval: float = 1.0,
    stop: threading.Event | None = None,
    until_caught_up: bool = False,
    retry_delays: Sequence[float] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
    on_batch: Callable[[Sequence[OutboxRecord]], object] | None = None,
) -> RelayReport:
    """Relay the outbox to ``sink`` from the cursor of ``consumer`` until ``stop`` is set (or,
    with ``until_caught_up``, until the outbox has no more events).

    Each batch: read up to ``batch_size`` events after the cursor, publish them (the sink
    returns once the broker confirmed), then acknowledge the cursor to the last one. Between
    empty reads the relay waits ``poll_interval`` seconds (or until ``stop``). A retryable
    failure (broker or database unreachable, busy) is logged and retried after the next of
    ``retry_delays`` (the last one repeating); with ``until_caught_up`` it is raised. A stop
    during a batch lets the batch finish: the cursor always names the last confirmed event.
    ``on_batch`` is called after each acknowledged batch (progress, tests). A `CursorSink`'s
    position is acknowledged first (at the start, and again after each failure).
    """
    if batch_size < 1:
        raise InvalidInputError(
            Text(zh="批大小至少为 1", en="the batch size must be at least 1"),
            hint=Text(zh="例如 100", en="for example 100"),
        )
    stop = stop or threading.Event()
    relayed = batches = failures = 0
    position = store.consumer_position(consumer)
    keeping = sink if isinstance(sink, CursorSink) else None
    synced = False
    while not stop.is_set():
        try:
            if keeping is not None and not synced:
                confirmed = keeping.confirmed_position()
                if confirmed is not None:
                    store.acknowledge(consumer, confirmed)
                synced = True
            position = store.consumer_position(consumer)
            records = store.read_outbox(position, batch_size)
            if records:
                sink.publish(records)
                position = records[-1].position
                store.acknowledge(consumer, position)
        except KmbaseError as error:
            if not error.retryable or until_caught_up:
                raise
            delay = retry_delays[min(failures, len(retry_delays) - 1)] if retry_delays else 0.0
            failures += 1
            synced = False
            logger.warning("relay %s: %s; retrying in %.1fs", consumer, error.describe("en"), delay)
            stop.wait(delay)
            continue
        failures = 0
        if records:
            relayed += len(records)
            batches += 1
            logger.info(
                "relay %s: %d event(s) confirmed up to %d", consumer, len(records), position
            )
            if on_batch is not None:
                on_batch(records)
            continue
        if until_caught_up:
            break
        stop.wait(poll_interval)
    return RelayReport(consumer, relayed, position, batches)
