"""The RabbitMQ bridge (``pip install 'kmbase-workflow[rabbitmq]'``, with pika).

Each event is published, persistent (``delivery_mode`` 2), to a durable topic exchange
(default ``kmbase.events``) with the event ``type`` as routing key (``certified``,
``notice_period_ended`` …), ``message_id`` the event id, ``type`` the event type,
``content_type`` ``application/json``, ``timestamp`` when it occurred, and the headers of
`kmbase_workflow.bridges.message_headers`. The channel is in publisher-confirm mode and every
message is ``mandatory``: `RabbitMQSink.publish` returns only when the broker has confirmed
each message into at least one queue; a nack or an unroutable message is a `BrokerError`
and the relay does not acknowledge it.

Unless told ``queue=""``, the bridge declares a durable queue (default ``kmbase.events``)
bound to every routing key, so nothing published is dropped while no consumer has bound its
own queue yet. RabbitMQ keeps the order of messages published on one channel within each
queue, and the relay publishes in outbox order on one channel: every queue receives each
case's events (indeed all events) in outbox order, duplicates after a crash aside.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from .._i18n import Text
from ..errors import BrokerError
from ..stores import OutboxRecord
from . import bad_url, hide_password, message_body, message_headers, unavailable

__all__ = ["DEFAULT_EXCHANGE", "DEFAULT_QUEUE", "RabbitMQSink", "connect"]

DEFAULT_EXCHANGE = "kmbase.events"
DEFAULT_QUEUE = "kmbase.events"

_UNREACHABLE = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.ConnectionClosed,
    pika.exceptions.StreamLostError,
    pika.exceptions.ChannelWrongStateError,
    pika.exceptions.ConnectionWrongStateError,
    OSError,
)


class RabbitMQSink:
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
        try:
            self._parameters = pika.URLParameters(url)
        except (ValueError, TypeError) as error:
            raise bad_url(url, Text(zh=str(error), en=str(error))) from None
        self._parameters.socket_timeout = timeout
        self._parameters.stack_timeout = timeout
        self._parameters.blocked_connection_timeout = timeout
        self._parameters.connection_attempts = 1
        self.url = url
        self.exchange = exchange
        self.queue = queue
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._open()

    def _open(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        try:
            self._connection = pika.BlockingConnection(self._parameters)
            channel = self._connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            if self.queue:
                channel.queue_declare(self.queue, durable=True)
                channel.queue_bind(self.queue, self.exchange, routing_key="#")
        except pika.exceptions.ChannelClosedByBroker as error:
            self.close()
            raise _refused(self.url, error) from None
        except pika.exceptions.ProbableAuthenticationError as error:
            self.close()
            raise _refused(self.url, error) from None
        except _UNREACHABLE as error:
            self.close()
            raise unavailable(self.url, error) from None
        except ValueError as error:  # a host name no resolver takes (UnicodeError …)
            self.close()
            raise bad_url(self.url, Text(zh=str(error), en=str(error))) from None
        self._channel = channel
        return channel

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Publish ``records`` in order, each confirmed by the broker before the next."""
        channel = self._open()
        try:
            for record in records:
                event = record.event
                channel.basic_publish(
                    self.exchange,
                    event.type,
                    message_body(record),
                    pika.BasicProperties(
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=pika.DeliveryMode.Persistent,
                        message_id=event.id,
                        type=event.type,
                        timestamp=int(event.occurred_at.astimezone(dt.UTC).timestamp()),
                        headers=dict[str, Any](message_headers(record)),
                    ),
                    mandatory=True,
                )
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as error:
            raise _refused(self.url, error) from None
        except pika.exceptions.ChannelClosedByBroker as error:
            self._channel = None
            raise _refused(self.url, error) from None
        except _UNREACHABLE as error:
            self.close()
            raise unavailable(self.url, error) from None

    def close(self) -> None:
        """Close the connection (idempotent; a broken one is dropped)."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(*_UNREACHABLE):  # already gone: nothing to close
                connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RabbitMQSink({hide_password(self.url)!r}, exchange={self.exchange!r})"


def _refused(url: str, error: BaseException) -> BrokerError:
    what = f"{type(error).__name__}: {error}"
    return BrokerError(
        Text(
            zh=f"消息代理 {hide_password(url)} 拒绝了消息（{what}）",
            en=f"the broker {hide_password(url)} refused the messages ({what})",
        ),
        hint=Text(
            zh="检查交换机、队列与权限；事件游标未前移，修复后重新运行即会重发",
            en="check the exchange, the queue and the permissions; the cursor did not move, so "
            "a new run sends them again",
        ),
    )


def connect(
    url: str,
    *,
    exchange: str = DEFAULT_EXCHANGE,
    queue: str = DEFAULT_QUEUE,
    timeout: float = 10.0,
    **unknown: object,
) -> RabbitMQSink:
    """A connected `RabbitMQSink` (what `kmbase_workflow.bridges.open_sink` calls)."""
    if unknown:
        raise bad_url(
            url,
            Text(
                zh=f"RabbitMQ 不支持的选项：{', '.join(sorted(unknown))}",
                en=f"options RabbitMQ does not take: {', '.join(sorted(unknown))}",
            ),
        )
    return RabbitMQSink(url, exchange=exchange, queue=queue, timeout=float(timeout))
