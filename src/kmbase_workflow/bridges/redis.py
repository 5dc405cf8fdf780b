"""The Redis Streams bridge (the ``redis`` extra, with redis-py).

Each event is appended to one stream (default ``kmbase:events``) with ``XADD``, the entry id
being ``<outbox position>-0`` and the fields ``id`` (the event id), ``type``, ``case_id``,
``position``, ``schema_version`` and ``data`` (the event document, JSON). A batch is one
``MULTI``/``EXEC`` transaction; `RedisStreamSink.publish` returns once Redis replied to it.
How durable a reply is depends on the server's persistence (``appendonly yes`` with
``appendfsync everysec`` or ``always``): configure it as for any other data you keep.

Because an entry's id is its outbox position, the stream refuses the same position twice: a
batch re-sent after a crash appends only what the stream lacks, so the stream holds every
event exactly once, in outbox order (hence in order per case), and consumer groups
(``XREADGROUP``) read it as usual. One stream takes the outbox of one store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis
import redis.exceptions

from .._closing import Closing
from .._i18n import Text
from ..errors import BrokerError
from ..stores import OutboxRecord
from . import bad_url, hide_password, message_body, unavailable

__all__ = ["DEFAULT_STREAM", "RedisStreamSink", "connect"]

DEFAULT_STREAM = "kmbase:events"


class RedisStreamSink(Closing):
    """Appends outbox records to a Redis stream, the outbox position as entry id."""

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

    def last_position(self) -> int:
        """The outbox position of the stream's newest entry ever (0: none yet); entries
        trimmed since still count, as Redis refuses ids at or below them."""
        try:
            info = self._redis.xinfo_stream(self.stream)
        except redis.exceptions.ResponseError:  # no such stream yet
            return 0
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as error:
            raise unavailable(self.url, error) from None
        last = info["last-generated-id"]
        text = last.decode() if isinstance(last, bytes) else str(last)
        return int(text.split("-", 1)[0])

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Append the records the stream lacks, in one transaction."""
        last = self.last_position()
        pipeline = self._redis.pipeline(transaction=True)
        fresh = [record for record in records if record.position > last]
        if not fresh:
            return
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
            pipeline.xadd(self.stream, fields, id=f"{record.position}-0")
        self._call(pipeline.execute)

    def close(self) -> None:
        """Close the connection pool (idempotent)."""
        self._redis.close()

    def __repr__(self) -> str:
        return f"RedisStreamSink({hide_password(self.url)!r}, stream={self.stream!r})"


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
