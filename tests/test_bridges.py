"""Broker bridges against the real servers (tests/broker_servers.py says where and when they
skip): every outbox event arrives, at least once, in order per case, with its event id as
message id; a relay that crashes after the broker confirmed and before the cursor moved, or
is killed, sends again on restart and skips nothing."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from broker_servers import BROKERS, Received, Target, require, target
from kmbase_workflow._i18n import Text
from kmbase_workflow.bridges import CursorSink, RelayReport, Sink, open_sink, relay
from kmbase_workflow.cli import app
from kmbase_workflow.demo import run_demo
from kmbase_workflow.errors import (
    BrokerError,
    BrokerUnavailableError,
    InvalidInputError,
    KmbaseError,
)
from kmbase_workflow.event_schema import json_schema
from kmbase_workflow.events import event_document
from kmbase_workflow.stores import OutboxRecord, open_store

runner = CliRunner()
VALIDATOR = jsonschema.Draft202012Validator(json_schema())


@pytest.fixture(scope="module")
def outbox_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding a realistic round: 57 events of 5 cases. Each test reads it with
    a consumer name of its own."""
    path = tmp_path_factory.mktemp("bridges") / "cases.db"
    result = run_demo(f"sqlite:///{path}")
    result.workflow.store.close()
    return f"sqlite:///{path}"


@pytest.fixture
def consumer() -> str:
    return f"relay-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=BROKERS)
def place(request: pytest.FixtureRequest) -> Iterator[Target]:
    yield from target(request.param)


def _outbox(url: str) -> list[OutboxRecord]:
    with open_store(url) as store:
        return store.read_outbox(0, 100_000)


def _assert_complete_and_ordered(received: Sequence[Received], outbox: list[OutboxRecord]) -> None:
    """Every outbox event arrived (at least once), and a consumer that drops the ids it has
    seen gets each case's events in outbox order."""
    first_seen: list[str] = []
    seen: set[str] = set()
    for message in received:
        assert message.message_id == message.document["id"]
        if message.message_id not in seen:
            seen.add(message.message_id)
            first_seen.append(message.message_id)
    assert seen == {record.event.id for record in outbox}
    case_of = {record.event.id: record.event.case_id for record in outbox}
    for case_id in {record.event.case_id for record in outbox}:
        expected = [r.event.id for r in outbox if r.event.case_id == case_id]
        assert [i for i in first_seen if case_of[i] == case_id] == expected


def test_the_relay_sends_exactly_the_outbox_in_order(
    place: Target, outbox_db: str, consumer: str
) -> None:
    outbox = _outbox(outbox_db)
    with open_store(outbox_db) as store, open_sink(place.url, **place.options) as sink:
        report = relay(store, sink, consumer=consumer, batch_size=20, until_caught_up=True)
        assert store.consumer_position(consumer) == outbox[-1].position
    assert report == RelayReport(consumer, len(outbox), outbox[-1].position, 3)
    received = place.drain()
    assert [m.message_id for m in received] == [r.event.id for r in outbox]
    for message, record in zip(received, outbox, strict=True):
        assert message.document == event_document(record.event)
        VALIDATOR.validate(message.document)
    # a second run has nothing to send
    with open_store(outbox_db) as store, open_sink(place.url, **place.options) as sink:
        assert relay(store, sink, consumer=consumer, until_caught_up=True).relayed == 0
    assert place.drain() == []


class _CrashAfterPublish:
    """A sink whose process 'dies' on its second batch after the broker confirmed it and
    before the relay could acknowledge: the worst moment for at-least-once."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.calls = 0

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        self.calls += 1
        self.sink.publish(records)
        if self.calls == 2:
            raise SystemExit("killed after publish, before acknowledge")


def test_a_crash_between_confirmation_and_acknowledgement_resends_and_skips_nothing(
    place: Target, outbox_db: str, consumer: str
) -> None:
    outbox = _outbox(outbox_db)
    with open_store(outbox_db) as store, open_sink(place.url, **place.options) as sink:
        with pytest.raises(SystemExit):
            relay(store, _CrashAfterPublish(sink), consumer=consumer, batch_size=10)  # type: ignore[arg-type]
        assert store.consumer_position(consumer) == outbox[9].position  # batch 2 unacknowledged
    with open_store(outbox_db) as store, open_sink(place.url, **place.options) as sink:
        report = relay(store, sink, consumer=consumer, batch_size=10, until_caught_up=True)
    assert report.position == outbox[-1].position
    if place.broker == "redis":  # the stream's cursor names batch 2: the relay starts after it
        assert report.relayed == len(outbox) - 20
    else:
        assert report.relayed == len(outbox) - 10  # batch 2 again, then the rest
    received = place.drain()
    _assert_complete_and_ordered(received, outbox)
    if place.broker == "rabbitmq":  # RabbitMQ keeps the copy: consumers drop it by id
        assert len(received) == len(outbox) + 10
    else:  # JetStream (Nats-Msg-Id) drops it itself, the Redis bridge never sends it
        assert len(received) == len(outbox)


def _relay_process(db: str, place: Target, consumer: str, *more: str) -> subprocess.Popen[str]:
    src = Path(__file__).parent.parent / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-c", "from kmbase_workflow.cli import main; main()", "relay"]
    command += ["--to", place.url, "--db", db, "--consumer", consumer, "--lang", "en"]
    command += [*place.cli_options(), *more]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for_position(
    db: str, consumer: str, at_least: int, process: subprocess.Popen[str]
) -> int:
    deadline = time.monotonic() + 60
    with open_store(db) as store:
        while time.monotonic() < deadline:
            position = store.consumer_position(consumer)
            if position >= at_least:
                return position
            assert process.poll() is None, process.communicate()
            time.sleep(0.02)
    pytest.fail(f"the relay did not reach position {at_least}")


def test_a_killed_relay_process_restarts_where_its_cursor_is(
    place: Target, outbox_db: str, consumer: str
) -> None:
    outbox = _outbox(outbox_db)
    process = _relay_process(outbox_db, place, consumer, "--batch", "1", "--poll", "0.05")
    try:
        _wait_for_position(outbox_db, consumer, 1, process)
    finally:
        process.kill()  # SIGKILL: no chance to finish anything
        process.communicate()
    rerun = runner.invoke(
        app,
        ["relay", "--to", place.url, "--db", outbox_db, "--consumer", consumer, "--once",
         "--format", "json", *place.cli_options()],
    )  # fmt: skip
    assert rerun.exit_code == 0, rerun.output
    _assert_complete_and_ordered(place.drain(), outbox)


def test_sigterm_stops_the_relay_cleanly(place: Target, outbox_db: str, consumer: str) -> None:
    outbox = _outbox(outbox_db)
    process = _relay_process(outbox_db, place, consumer, "--poll", "0.05")
    _wait_for_position(outbox_db, consumer, outbox[-1].position, process)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"relayed {len(outbox)} event(s)" in stdout
    assert "Traceback" not in stderr
    assert [m.message_id for m in place.drain()] == [r.event.id for r in outbox]


def test_an_unroutable_message_is_refused_and_the_cursor_stays(
    outbox_db: str, consumer: str
) -> None:
    """RabbitMQ without any queue bound: mandatory publishing makes that an error, not a
    silent drop."""
    require("rabbitmq")
    from broker_servers import URLS

    exchange = f"kmbase-test-{uuid.uuid4().hex[:10]}"
    with open_store(outbox_db) as store:
        try:
            with (
                open_sink(URLS["rabbitmq"], exchange=exchange, queue="") as sink,
                pytest.raises(BrokerError) as caught,
            ):
                relay(store, sink, consumer=consumer, until_caught_up=True)
            assert not caught.value.retryable
            assert store.consumer_position(consumer) == 0
        finally:
            import pika

            connection = pika.BlockingConnection(pika.URLParameters(URLS["rabbitmq"]))
            connection.channel().exchange_delete(exchange)
            connection.close()


# -- without a broker: the relay loop's promises --------------------------------------------


class _FlakySink:
    """Fails retryably ``failures`` times, then records what it was given."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.published: list[int] = []

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        if self.failures:
            self.failures -= 1
            raise BrokerUnavailableError(Text(zh="代理不可用", en="broker down"))
        self.published.extend(record.position for record in records)


def test_a_retryable_failure_is_retried_and_moves_no_cursor(outbox_db: str, consumer: str) -> None:
    outbox = _outbox(outbox_db)
    sink = _FlakySink(failures=3)
    stop = threading.Event()

    def caught_up(records: Sequence[OutboxRecord]) -> None:
        if records[-1].position == outbox[-1].position:
            stop.set()

    with open_store(outbox_db) as store:
        report = relay(
            store,
            sink,
            consumer=consumer,
            stop=stop,
            retry_delays=(0,),
            on_batch=caught_up,  # type: ignore[arg-type]
        )
        assert store.consumer_position(consumer) == outbox[-1].position
    assert sink.failures == 0
    assert sink.published == [record.position for record in outbox]
    assert report.relayed == len(outbox)


def test_until_caught_up_raises_a_retryable_failure_without_moving(
    outbox_db: str, consumer: str
) -> None:
    with open_store(outbox_db) as store:
        with pytest.raises(BrokerUnavailableError):
            relay(store, _FlakySink(failures=1), consumer=consumer, until_caught_up=True)  # type: ignore[arg-type]
        assert store.consumer_position(consumer) == 0


def test_a_relay_needs_a_positive_batch(outbox_db: str) -> None:
    with open_store(outbox_db) as store, pytest.raises(InvalidInputError):
        relay(store, _FlakySink(0), batch_size=0)  # type: ignore[arg-type]


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aio_pika", None)
    monkeypatch.delitem(sys.modules, "kmbase_workflow.bridges.rabbitmq", raising=False)
    with pytest.raises(InvalidInputError) as caught:
        open_sink("amqp://guest:guest@127.0.0.1:5672/%2F")
    assert '"<checkout or .whl>[rabbitmq]"' in caught.value.hint.en  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("127.0.0.1:5672", InvalidInputError),
        ("http://127.0.0.1", InvalidInputError),
        ("amqp://127.0.0.1:99999/", InvalidInputError),
        ("amqp://[::1", InvalidInputError),
        ("redis://[::1", InvalidInputError),
        ("amqp://guest:guest@127.0.0.1:1/%2F", BrokerUnavailableError),
        ("redis://127.0.0.1:1/0", BrokerUnavailableError),
        ("nats://127.0.0.1:1", BrokerUnavailableError),
    ],
)
def test_bad_and_unreachable_urls_are_library_errors(url: str, error: type[KmbaseError]) -> None:
    with pytest.raises(error) as caught:
        open_sink(url, timeout=2)
    assert "guest:guest" not in str(caught.value)  # passwords are never shown


@pytest.mark.parametrize(
    ("options", "broker"),
    [
        ({"stream": "x"}, "amqp://127.0.0.1/"),
        ({"exchange": "x"}, "redis://127.0.0.1:6379/0"),
        ({"queue": "x"}, "nats://127.0.0.1:4222"),
        ({"stream": "bad name!"}, "nats://127.0.0.1:4222"),
        ({"subject": "a..b"}, "nats://127.0.0.1:4222"),
        ({"exchange": "x" * 300}, "amqp://127.0.0.1/"),
        ({"stream": ""}, "redis://127.0.0.1:6379/0"),
    ],
)
def test_options_a_bridge_does_not_take_are_bad_input(options: dict[str, str], broker: str) -> None:
    with pytest.raises(InvalidInputError):
        open_sink(broker, **options)


_SCHEMES = st.sampled_from(["amqp", "amqps", "nats", "redis", "rediss", "tls", "http", "", "AMQP"])
# never an empty host: that is localhost, where the test brokers run
_HOSTS = st.sampled_from(["127.0.0.1:1", "[::1", "h:99999", "u:p@127.0.0.1:1", "127.0.0.1:-3"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scheme=_SCHEMES, host=_HOSTS, rest=st.text(max_size=12))
def test_any_broker_url_ends_in_a_library_error(scheme: str, host: str, rest: str) -> None:
    url = f"{scheme}://{host}{rest}" if scheme else host + rest
    try:
        sink = open_sink(url, timeout=1)
    except KmbaseError as error:
        problem = error
    else:  # a URL that happens to name a running broker ("amqp://": localhost)
        sink.close()
        return
    assert problem.describe("en")
    assert problem.exit_code in (2, 5, 6)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    to=st.one_of(st.text(max_size=20), st.sampled_from(["amqp://127.0.0.1:1/", "redis://[::1"])),
    batch=st.sampled_from(["0", "-1", "abc", "1e9", "5"]),
    poll=st.sampled_from(["nan", "inf", "-1", "0.1", "x"]),
)
def test_relay_command_never_ends_in_a_traceback(
    outbox_db: str, to: str, batch: str, poll: str
) -> None:
    result = runner.invoke(
        app, ["relay", "--to", to, "--db", outbox_db, "--once", "--batch", batch, "--poll", poll]
    )
    assert result.exit_code in (2, 5, 6), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_relay_command_refuses_a_missing_database(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["relay", "--to", "amqp://127.0.0.1/", "--db", f"sqlite:///{tmp_path}/none.db"]
    )
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("url", "option", "broker"),
    [
        ("amqp://guest:guest@127.0.0.1:1/%2F", "stream", "RabbitMQ"),
        ("nats://127.0.0.1:1", "exchange", "NATS"),
        ("redis://127.0.0.1:1/0", "subject", "Redis"),
    ],
)
def test_an_option_the_broker_does_not_take_is_refused_before_connecting(
    url: str, option: str, broker: str
) -> None:
    # Port 1 has no broker: the refusal must come from the option, not from a connection.
    with pytest.raises(InvalidInputError) as refused:
        open_sink(url, **{option: "x"})
    assert f"options {broker} does not take: {option}" in refused.value.message.en
    assert f"{broker} 不支持的选项：{option}" in refused.value.message.zh


def test_the_redis_stream_takes_a_batch_sent_again_once(outbox_db: str) -> None:
    """A batch published again (Redis replied, the reply was lost) appends only what follows
    the stream's cursor; a stream written by an older relay (entry ids ``<position>-0``)
    goes on, Redis choosing ids above them."""
    import redis

    with (
        contextlib.contextmanager(target)("redis") as place,
        open_store(outbox_db) as store,
        open_sink(place.url, **place.options) as sink,
    ):
        client = redis.Redis.from_url(place.url)
        client.xadd(place.options["stream"], {"id": "older", "data": "{}"}, id="100-0")
        client.close()
        assert place.drain()[0].message_id == "older"
        records = store.read_outbox(0, 10)
        assert isinstance(sink, CursorSink)
        assert sink.confirmed_position() is None
        sink.publish(records[:6])
        sink.publish(records)
        assert sink.confirmed_position() == records[-1].position
        assert [m.message_id for m in place.drain()] == [r.event.id for r in records]


def test_the_documented_rabbitmq_consumer_handles_each_event_once(
    outbox_db: str, consumer: str
) -> None:
    """docs/how-to/broker-bridges.md: every RabbitMQ message carries its event id as AMQP
    ``message_id``, a copy sent again after a relay was killed has the same one, and the
    consumer the page shows drops the copies (its code run here on the real queue)."""
    import pika

    page = (Path(__file__).parents[1] / "docs" / "how-to" / "broker-bridges.md").read_text()
    section = page.split("## Dropping the copies (RabbitMQ)", 1)[1]
    callback = section.split("```python\n", 1)[1].split("```", 1)[0]
    outbox = _outbox(outbox_db)
    with contextlib.contextmanager(target)("rabbitmq") as place:
        with open_store(outbox_db) as store, open_sink(place.url, **place.options) as sink:
            with pytest.raises(SystemExit):
                relay(store, _CrashAfterPublish(sink), consumer=consumer, batch_size=10)  # type: ignore[arg-type]
            relay(store, sink, consumer=consumer, batch_size=10, until_caught_up=True)
        handled: list[str] = []
        namespace: dict[str, object] = {}
        exec(compile(callback, "broker-bridges.md", "exec"), namespace)
        namespace["handle"] = lambda event: handled.append(event["id"])
        on_message = namespace["on_message"]
        assert callable(on_message)
        connection = pika.BlockingConnection(pika.URLParameters(place.url))
        channel = connection.channel()
        ids: list[str] = []
        while True:
            method, properties, body = channel.basic_get(place.options["queue"])
            if method is None:
                break
            assert properties.message_id == json.loads(body)["id"]
            ids.append(properties.message_id)
            on_message(channel, method, properties, body)
        connection.close()
    assert len(ids) == len(outbox) + 10  # batch 2 twice
    assert handled == [record.event.id for record in outbox]  # each once, in outbox order
