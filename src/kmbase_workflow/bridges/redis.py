"""The Redis Streams bridge (the ``redis`` extra, with redis-py).

Each event is appended to one stream (default ``kmbase:events``) with ``XADD``, the entry id
chosen by Redis (``*``) and the fields ``id`` (the event id), ``type``, ``case_id``,
``position``, ``schema_version`` and ``data`` (the event document, JSON). A batch is one
``MULTI``/``EXEC`` transaction, which also sets the stream's cursor (the key
``<stream>:cursor``) to the outbox position of the batch's last event; `RedisStreamSink.publish`
returns once Redis replied to it. How durable a reply is depends on the server's persistence
(``appendonly yes`` with ``appendfsync everysec`` or ``always``): configure it as for any
other data you keep.

The outbox is read in commit order, which is not always the order of positions (on
PostgreSQL a step may commit an event at a lower position after another committed a higher
one, issue 27), so no entry id is derived from a position: an id Redis refuses, or a record
dropped for being "at or below" the stream's last id, would lose an event. The cursor instead
names the last event appended, in the order the relay reads: a batch re-sent after a crash
(the broker replied, the relay died before moving its own cursor) appends only what follows
it, and `kmbase_workflow.bridges.relay` moves its cursor to the stream's when it starts
(`RedisStreamSink.confirmed_position`). The stream therefore holds every event exactly once,
in the relay's order (hence in order per case), and consumer groups (``XREADGROUP``) read it
as usual. One stream takes the outbox of one store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis
import redis.client
import redis.exceptions

from .._closing import Closing
from .._i18n import Text
from ..errors import BrokerError
from ..stores import OutboxRecord
from . import bad_url, hide_password, message_body, unavailable

__all__ = ["DEFAULT_STREAM", "RedisStreamSink", "connect"]

DEFAULT_STREAM = "kmbase:events"


class RedisStreamSink(Closing):
    """Appends outbox records to a Redis stream, and keeps the stream's cursor beside it."""

    def __init__(self, url: str, *, stream: str = DEFAULT_STREAM, timeout: float = 10.0) -> None:
        if not isinstance(stream, str) or not stream or len(stream.encode()) > 1024:
            raise bad_url(
                url,
                Text(zh="流名称不能为空且至多 1024 字节", en="a stream name is 1 to 1024 bytes"),
            )
        self.url = url
        self.stream = stream
        try:
            self._redis: redis.Redis = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        except (ValueError, TypeError) as error:
            raise bad_url(url, Text(zh=str(error), en=str(error))) from None
        self._call(self._redis.ping)

    def _call(self, action: Any, *args: Any) -> Any:
        try:
            return action(*args)
        except redis.exceptions.AuthenticationError as error:  # retrying will not mend it
            raise _refused(self.url, error) from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as error:
            raise unavailable(self.url, error) from None
        except redis.exceptions.RedisError as error:
            raise _refused(self.url, error) from None
        except ValueError as error:  # a host name no resolver takes (UnicodeError …)
            raise bad_url(self.url, Text(zh=str(error), en=str(error))) from None

    @property
    def cursor_key(self) -> str:
        """The key holding the outbox position of the last event appended."""
        return f"{self.stream}:cursor"

    def confirmed_position(self) -> int | None:
        """The outbox position of the last event the stream received (``None``: none yet)."""
        value = self._call(self._redis.get, self.cursor_key)
        return None if value is None else int(value)

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Append the records that follow the stream's cursor, and move the cursor to the
        last one, in one transaction (redone if another writer moved the cursor meanwhile)."""
        if not records:
            return

        def append(pipeline: redis.client.Pipeline) -> None:
            value = pipeline.get(self.cursor_key)
            fresh = _after(records, None if value is None else int(value))
            if not fresh:
                return
            pipeline.multi()
            for record in fresh:
                event = record.event
                fields: dict[Any, Any] = {
                    "id": event.id,
                    "type": event.type,
                    "case_id": event.case_id,
                    "position": record.position,
                    "schema_version": event.schema_version,
                    "data": message_body(record),
                }
                pipeline.xadd(self.stream, fields)
            pipeline.set(self.cursor_key, fresh[-1].position)

        self._call(self._redis.transaction, append, self.cursor_key)

    def close(self) -> None:
        """Close the connection pool (idempotent)."""
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisStreamSink({hide_password(self.url)!r}, stream={self.stream!r})"


def _after(records: Sequence[OutboxRecord], cursor: int | None) -> Sequence[OutboxRecord]:
    """The records after the one at ``cursor`` (all of them when it is not among them: a
    batch starts right after the relay's cursor, which is at or before the stream's)."""
    for index, record in enumerate(records):
        if record.position == cursor:
            return records[index + 1 :]
    return records


def _refused(url: str, error: BaseException) -> BrokerError:
    return BrokerError(
        Text(
            zh=f"Redis {hide_password(url)} 拒绝了写入（{type(error).__name__}: {error}）",
            en=f"Redis {hide_password(url)} refused the entries ({type(error).__name__}: {error})",
        ),
        hint=Text(
            zh="检查流名称（--stream）与权限；事件游标未前移，修复后重新运行即会重发",
            en="check the stream name (--stream) and the permissions; the cursor did not move, "
            "so a new run sends them again",
        ),
    )


def document(fields: dict[bytes, bytes]) -> dict[str, Any]:
    """The event document of a stream entry's fields (as ``XRANGE`` returns them)."""
    data: dict[str, Any] = json.loads(fields[b"data"])
    return data


def connect(url: str, *, stream: str = DEFAULT_STREAM, timeout: float = 10.0) -> RedisStreamSink:
    """A connected `RedisStreamSink` (what `kmbase_workflow.bridges.open_sink` calls)."""
    return RedisStreamSink(url, stream=stream, timeout=float(timeout))
