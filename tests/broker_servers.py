"""Where the bridge tests find RabbitMQ, NATS JetStream and Redis, and how they read back
what a bridge published.

``KMBASE_TEST_RABBITMQ_URL``, ``KMBASE_TEST_NATS_URL`` and ``KMBASE_TEST_REDIS_URL`` name the
servers (default: the project machines' local ones). Without a reachable server a test skips
and says why, unless ``KMBASE_REQUIRE_SERVICES=1`` (or ``KMBASE_REQUIRE_<BROKER>=1``, e.g.
``KMBASE_REQUIRE_RABBITMQ=1``), set by CI, in which case it fails: CI must never pass by
skipping them. Each test gets its own exchange and queue, stream or subject, deleted after.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

URLS = {
    "rabbitmq": os.environ.get("KMBASE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
    "nats": os.environ.get("KMBASE_TEST_NATS_URL", "nats://127.0.0.1:4222"),
    "redis": os.environ.get("KMBASE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
}
BROKERS = tuple(URLS)


def _required(broker: str) -> bool:
    return "1" in (
        os.environ.get("KMBASE_REQUIRE_SERVICES"),
        os.environ.get(f"KMBASE_REQUIRE_{broker.upper()}"),
    )


@functools.cache
def _unreachable(broker: str) -> str | None:
    url = URLS[broker]
    try:
        if broker == "rabbitmq":
            import pika

            pika.BlockingConnection(pika.URLParameters(url)).close()
        elif broker == "nats":
            import nats

            async def ping() -> None:
                client = await asyncio.wait_for(
                    nats.connect(url, allow_reconnect=False, error_cb=_quiet), 3
                )
                await client.jetstream().account_info()
                await client.close()

            asyncio.run(ping())
        else:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except ImportError as error:
        return f"the {broker} driver is not installed (the {broker} extra): {error}"
    except Exception as error:  # any driver error means: no usable server
        return f"no {broker} server at {url}: {type(error).__name__}: {error}"
    return None


async def _quiet(_error: Exception) -> None:
    pass


def require(broker: str) -> None:
    """Skip (or, when required, fail) the calling test if the broker is not reachable."""
    reason = _unreachable(broker)
    if reason is None:
        return
    if _required(broker):
        pytest.fail(
            f"KMBASE_REQUIRE_SERVICES=1 (or KMBASE_REQUIRE_{broker.upper()}=1) but {reason}"
        )
    pytest.skip(reason)


@attrs.define
class Received:
    """A message as a consumer of the broker sees it."""

    message_id: str
    document: dict[str, Any]


@attrs.define
class Target:
    """One test's place on a broker: the URL and options a bridge publishes with, and how to
    read back what was published there since the last read, in the broker's order."""

    broker: str
    url: str
    options: dict[str, str]
    drain: Callable[[], list[Received]]

    def cli_options(self) -> list[str]:
        """The same options for ``kmbase relay``."""
        return [part for key, value in self.options.items() for part in (f"--{key}", value)]


def _rabbitmq(name: str) -> Iterator[Target]:
    import pika

    url = URLS["rabbitmq"]

    def drain() -> list[Received]:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        received = []
        while True:
            method, properties, body = channel.basic_get(name, auto_ack=True)
            if method is None:
                break
            received.append(Received(properties.message_id, json.loads(body)))
        connection.close()
        return received

    yield Target("rabbitmq", url, {"exchange": name, "queue": name}, drain)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_delete(name)
    channel.exchange_delete(name)
    connection.close()


def _nats(name: str) -> Iterator[Target]:
    import nats

    url = URLS["nats"]
    stream = name.replace("-", "_").upper()
    subject = name.replace("-", "_")

    read_up_to = 0

    async def read() -> list[Received]:
        nonlocal read_up_to
        client = await nats.connect(url, allow_reconnect=False, error_cb=_quiet)
        jetstream = client.jetstream()
        info = await jetstream.stream_info(stream)
        received = []
        first, read_up_to = max(info.state.first_seq, read_up_to + 1), info.state.last_seq
        for sequence in range(first, read_up_to + 1):
            message = await jetstream.get_msg(stream, sequence)
            headers = message.headers or {}
            received.append(Received(headers["Nats-Msg-Id"], json.loads(message.data or b"")))
        await client.close()
        return received

    async def delete() -> None:
        client = await nats.connect(url, allow_reconnect=False, error_cb=_quiet)
        with contextlib.suppress(Exception):  # never created: nothing to delete
            await client.jetstream().delete_stream(stream)
        await client.close()

    yield Target("nats", url, {"stream": stream, "subject": subject}, lambda: asyncio.run(read()))
    asyncio.run(delete())


def _redis(name: str) -> Iterator[Target]:
    import redis

    url = URLS["redis"]
    client = redis.Redis.from_url(url)

    after = "-"

    def drain() -> list[Received]:
        nonlocal after
        entries = client.xrange(name, min=after)
        if entries:
            after = "(" + entries[-1][0].decode()  # exclusive: what is new next time
        return [
            Received(fields[b"id"].decode(), json.loads(fields[b"data"])) for _id, fields in entries
        ]

    yield Target("redis", url, {"stream": name}, drain)
    client.delete(name)
    client.close()


def target(broker: str) -> Iterator[Target]:
    """A fresh place on ``broker`` for one test (skips if the broker is missing)."""
    require(broker)
    name = f"kmbase-test-{uuid.uuid4().hex[:10]}"
    makers = {"rabbitmq": _rabbitmq, "nats": _nats, "redis": _redis}
    yield from makers[broker](name)
