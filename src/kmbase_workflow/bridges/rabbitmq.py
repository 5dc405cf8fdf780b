"""The RabbitMQ bridge (the ``rabbitmq`` extra, with aio-pika).

Each event is published, persistent (``delivery_mode`` 2), to a durable topic exchange
(default ``kmbase.events``) with the event ``type`` as routing key (``certified``,
``notice_period_ended`` …), ``message_id`` the event id, ``type`` the event type,
``content_type`` ``application/json``, ``timestamp`` when it occurred, and the headers of
`kmbase_workflow.bridges.message_headers`. The channel is in publisher-confirm mode and every
message is ``mandatory``: `RabbitMQSink.publish` sends the whole batch, in order, without
waiting between messages (a persistent message is confirmed once written to disk, so waiting
for each would cost a disk flush per event), then returns only when the broker has confirmed
every message into at least one queue; a nack or an unroutable message is a `BrokerError`
and the relay does not acknowledge the batch.

Unless told ``queue=""``, the bridge declares a durable queue (default ``kmbase.events``)
bound to every routing key, so nothing published is dropped while no consumer has bound its
own queue yet. RabbitMQ keeps the order of messages published on one channel within each
queue, and the relay publishes in outbox order on one channel: every queue receives each
case's events (indeed all events) in outbox order, duplicates after a crash aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import aio_pika
import aio_pika.abc
import aiormq.exceptions

from .._closing import Closing
from .._i18n import Text
from ..errors import BrokerError
from ..stores import OutboxRecord
from . import _shut_down, bad_url, hide_password, message_body, message_headers, unavailable

__all__ = ["DEFAULT_EXCHANGE", "DEFAULT_QUEUE", "RabbitMQSink", "connect"]

DEFAULT_EXCHANGE = "kmbase.events"
DEFAULT_QUEUE = "kmbase.events"

T = TypeVar("T")

_REFUSED = (
    aiormq.exceptions.ChannelClosed,
    aiormq.exceptions.DeliveryError,  # a nack, or (PublishError) an unroutable message
    aiormq.exceptions.AuthenticationError,
    aiormq.exceptions.ProbableAuthenticationError,
    aiormq.exceptions.ConnectionNotAllowed,
)
_UNREACHABLE = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    OSError,
    TimeoutError,
)


class RabbitMQSink(Closing):
    """Publishes outbox records to a RabbitMQ exchange with publisher confirms."""

    def __init__(
        self,
        url: str,
        *,
        exchange: str = DEFAULT_EXCHANGE,
        queue: str = DEFAULT_QUEUE,
        timeout: float = 10.0,
    ) -> None:
        for name, value in (("exchange", exchange), ("queue", queue)):
            if not isinstance(value, str) or len(value.encode()) > 255 or "\x00" in value:
                raise bad_url(
                    url,
                    Text(
                        zh=f"{name} 须为不超过 255 字节的名称",
                        en=f"{name} must be a name of at most 255 bytes",
                    ),
                )
        self.url = url
        self.exchange = exchange
        self.queue = queue
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _run(self, work: Awaitable[T]) -> T:
        return self._loop.run_until_complete(asyncio.wait_for(work, self.timeout))

    async def _connect(self) -> aio_pika.abc.AbstractExchange:
        self._connection = connection = await aio_pika.connect(self.url, timeout=self.timeout)
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        if self.queue:
            queue = await channel.declare_queue(self.queue, durable=True)
            await queue.bind(exchange, routing_key="#")
        return exchange

    def _open(self) -> aio_pika.abc.AbstractExchange:
        connection = self._connection
        if self._exchange is not None and connection is not None and not connection.is_closed:
            return self._exchange
        self._drop()
        try:
            self._exchange = self._run(self._connect())
        except _REFUSED as error:
            self._drop()
            raise _refused(self.url, error) from None
        except _UNREACHABLE as error:
            self._drop()
            raise unavailable(self.url, error) from None
        except ValueError as error:  # a URL yarl or the resolver cannot read
            self._drop()
            raise bad_url(self.url, Text(zh=str(error), en=str(error))) from None
        return self._exchange

    async def _publish(
        self, exchange: aio_pika.abc.AbstractExchange, records: Sequence[OutboxRecord]
    ) -> None:
        # One task per message, created in order: each takes the channel's lock in turn (it
        # is first come, first served), so the frames go out in outbox order; the batch
        # waits for every confirmation at once.
        sending = [
            asyncio.ensure_future(
                exchange.publish(_message(record), record.event.type, mandatory=True)
            )
            for record in records
        ]
        try:
            await asyncio.gather(*sending)
        finally:
            for task in sending:
                task.cancel()

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Publish ``records`` in order; return once the broker confirmed every one."""
        if not records:
            return
        exchange = self._open()
        try:
            self._run(self._publish(exchange, records))
        except _REFUSED as error:
            self._drop()
            raise _refused(self.url, error) from None
        except _UNREACHABLE as error:
            self._drop()
            raise unavailable(self.url, error) from None

    def _drop(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(*_UNREACHABLE):  # already gone: nothing to close
                self._run(connection.close())

    def close(self) -> None:
        """Close the connection and the sink's event loop (idempotent)."""
        if self._loop.is_closed():
            return
        self._drop()
        _shut_down(self._loop)

    def __repr__(self) -> str:
        return f"RabbitMQSink({hide_password(self.url)!r}, exchange={self.exchange!r})"


def _message(record: OutboxRecord) -> aio_pika.Message:
    event = record.event
    return aio_pika.Message(
        message_body(record),
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=event.id,
        type=event.type,
        timestamp=event.occurred_at.astimezone(dt.UTC),
        headers=dict(message_headers(record)),
    )


def _refused(url: str, error: BaseException) -> BrokerError:
    what = f"{type(error).__name__}: {error}"
    return BrokerError(
        Text(
            zh=f"消息代理 {hide_password(url)} 拒绝了消息（{what}）",
            en=f"the broker {hide_password(url)} refused the messages ({what})",
        ),
        hint=Text(
            zh="检查交换机、队列、凭据与权限；事件游标未前移，修复后重新运行即会重发",
            en="check the exchange, the queue, the credentials and the permissions; the cursor "
            "did not move, so a new run sends them again",
        ),
    )


def connect(
    url: str,
    *,
    exchange: str = DEFAULT_EXCHANGE,
    queue: str = DEFAULT_QUEUE,
    timeout: float = 10.0,
) -> RabbitMQSink:
    """A connected `RabbitMQSink` (what `kmbase_workflow.bridges.open_sink` calls)."""
    return RabbitMQSink(url, exchange=exchange, queue=queue, timeout=float(timeout))
