"""The NATS JetStream bridge (the ``nats`` extra, with nats-py).

Each event is published to the subject ``<subject>.<type>`` (default prefix
``kmbase.events``: ``kmbase.events.certified`` …) of a JetStream stream (default
``KMBASE_EVENTS``, created with the subjects ``<subject>.>`` if it does not exist), with the
header ``Nats-Msg-Id`` set to the event id and the headers of
`kmbase_workflow.bridges.message_headers`. `NatsSink.publish` writes the batch in order and
returns once JetStream has acknowledged (``PubAck``) every message, i.e. stored it in the
stream.

JetStream drops a message whose ``Nats-Msg-Id`` it has already stored within the stream's
duplicate window (two minutes by default): a batch re-sent after a crash within the window is
stored once. One stream keeps the order in which messages were stored, and the relay
publishes one at a time in outbox order, so the stream holds every case's events in outbox
order.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import PubAck

from .._closing import Closing
from .._i18n import Text
from ..errors import BrokerError
from ..stores import OutboxRecord
from . import _shut_down, bad_url, hide_password, message_body, message_headers, unavailable

__all__ = ["DEFAULT_STREAM", "DEFAULT_SUBJECT", "NatsSink", "connect"]

DEFAULT_STREAM = "KMBASE_EVENTS"
DEFAULT_SUBJECT = "kmbase.events"

T = TypeVar("T")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SUBJECT = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


async def _quiet(_error: Exception) -> None:
    """nats-py prints every connection error by default; the sink reports its own."""


class NatsSink(Closing):
    """Publishes outbox records to a JetStream stream, a batch acknowledged at once."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = DEFAULT_STREAM,
        subject: str = DEFAULT_SUBJECT,
        timeout: float = 10.0,
    ) -> None:
        if not isinstance(stream, str) or not _NAME.fullmatch(stream):
            raise bad_url(
                url,
                Text(
                    zh="流名称只能含字母、数字、_ 和 -（至多 64 个）",
                    en="a stream name takes letters, digits, _ and - (at most 64)",
                ),
            )
        if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
            raise bad_url(
                url,
                Text(
                    zh="主题前缀应为以 . 分隔的名称，如 kmbase.events",
                    en="a subject prefix is names separated by dots, e.g. kmbase.events",
                ),
            )
        self.url = url
        self.stream = stream
        self.subject = subject
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _run(self, work: Awaitable[T]) -> T:
        return self._loop.run_until_complete(asyncio.wait_for(work, self.timeout))

    def _open(self) -> JetStreamContext:
        if self._jetstream is not None and self._client is not None and self._client.is_connected:
            return self._jetstream
        self._drop()
        try:
            self._client = client = self._run(
                nats.connect(
                    servers=[self.url],
                    connect_timeout=self.timeout,
                    allow_reconnect=False,
                    max_reconnect_attempts=0,
                    error_cb=_quiet,
                )
            )
            jetstream = client.jetstream(timeout=self.timeout)
            try:
                self._run(jetstream.stream_info(self.stream))
            except nats.js.errors.NotFoundError:
                self._run(jetstream.add_stream(name=self.stream, subjects=[f"{self.subject}.>"]))
        except nats.js.errors.APIError as error:
            self._drop()
            raise _refused(self.url, error) from None
        except (OSError, TimeoutError, nats.errors.Error) as error:
            self._drop()
            raise unavailable(self.url, error) from None
        except ValueError as error:
            self._drop()
            raise bad_url(self.url, Text(zh=str(error), en=str(error))) from None
        self._jetstream = jetstream
        return jetstream

    async def _publish(self, jetstream: JetStreamContext, records: Sequence[OutboxRecord]) -> None:
        # Written one after the other (so in outbox order), acknowledged all at once: waiting
        # for each PubAck would cost a round trip per event. No stall timeout per message:
        # one would yield to the flusher after each (a socket write per event); the batch as
        # a whole is bounded by the sink's timeout.
        pending: list[asyncio.Future[PubAck]] = []
        try:
            for record in records:
                pending.append(
                    await jetstream.publish_async(
                        f"{self.subject}.{record.event.type}",
                        message_body(record),
                        headers={"Nats-Msg-Id": record.event.id, **message_headers(record)},
                    )
                )
            await asyncio.gather(*pending)
        finally:
            for future in pending:
                future.cancel()

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Publish ``records`` in order; return once JetStream acknowledged every one."""
        if not records:
            return
        jetstream = self._open()
        try:
            self._run(self._publish(jetstream, records))
        except (nats.js.errors.APIError, nats.js.errors.NoStreamResponseError) as error:
            raise _refused(self.url, error) from None
        except (OSError, TimeoutError, nats.errors.Error) as error:
            self._drop()
            raise unavailable(self.url, error) from None

    def _drop(self) -> None:
        client, self._client, self._jetstream = self._client, None, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(OSError, TimeoutError, nats.errors.Error):  # already gone
                self._loop.run_until_complete(asyncio.wait_for(client.close(), self.timeout))

    def close(self) -> None:
        """Close the connection and the sink's event loop (idempotent)."""
        if self._loop.is_closed():
            return
        self._drop()
        _shut_down(self._loop)

    def __repr__(self) -> str:
        return f"NatsSink({hide_password(self.url)!r}, stream={self.stream!r})"


def _refused(url: str, error: BaseException) -> BrokerError:
    return BrokerError(
        Text(
            zh=f"JetStream {hide_password(url)} 拒绝了消息（{type(error).__name__}: {error}）",
            en=f"JetStream {hide_password(url)} refused the messages "
            f"({type(error).__name__}: {error})",
        ),
        hint=Text(
            zh="检查流及其主题（--stream、--subject）；事件游标未前移，修复后重新运行即会重发",
            en="check the stream and its subjects (--stream, --subject); the cursor did not "
            "move, so a new run sends them again",
        ),
    )


def connect(
    url: str,
    *,
    stream: str = DEFAULT_STREAM,
    subject: str = DEFAULT_SUBJECT,
    timeout: float = 10.0,
) -> NatsSink:
    """A connected `NatsSink` (what `kmbase_workflow.bridges.open_sink` calls)."""
    return NatsSink(url, stream=stream, subject=subject, timeout=float(timeout))
