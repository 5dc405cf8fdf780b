"""``kmbase relay``: the outbox relayed to a message broker (`kmbase_workflow.bridges`)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from .._i18n import Text
from ._command import Command
from ._options import DbOption, FormatOption, JsonOption, LangOption, OutputFormat

if TYPE_CHECKING:
    from ..stores import OutboxRecord

__all__ = ["relay"]

BROKER_URL_ENVIRONMENT_VARIABLE = "KMBASE_BROKER_URL"


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and Ctrl-C set ``stop``: the batch in flight finishes, then the relay exits."""
    handlers = {}
    for number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # not the main thread (a host embeds it)
            handlers[number] = signal.signal(number, lambda *_: stop.set())
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def relay(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="消息代理地址 / broker URL: amqp://user:pass@host:5672/%2F, "
            "nats://host:4222, redis://host:6379/0 (default: $KMBASE_BROKER_URL).",
            envvar=BROKER_URL_ENVIRONMENT_VARIABLE,
            show_default=False,
            metavar="URL",
        ),
    ],
    consumer: Annotated[
        str,
        typer.Option(
            "--consumer", help="发件箱游标名称 / the outbox cursor it moves.", metavar="NAME"
        ),
    ] = "bridge",
    batch: Annotated[
        int, typer.Option("--batch", help="每批条数 / events per batch.", metavar="N")
    ] = 100,
    poll: Annotated[
        float,
        typer.Option(
            "--poll",
            help="无新事件时的轮询间隔（秒） / seconds between empty reads.",
            metavar="SECONDS",
        ),
    ] = 1.0,
    once: Annotated[
        bool,
        typer.Option("--once", help="转发至无新事件即退出 / exit once caught up."),
    ] = False,
    exchange: Annotated[
        str | None,
        typer.Option("--exchange", help="RabbitMQ 交换机 / RabbitMQ exchange.", metavar="EXCHANGE"),
    ] = None,
    queue: Annotated[
        str | None,
        typer.Option(
            "--queue",
            help="RabbitMQ 队列（空：不声明） / RabbitMQ queue ('': none).",
            metavar="QUEUE",
        ),
    ] = None,
    stream: Annotated[
        str | None,
        typer.Option(
            "--stream", help="NATS/Redis 流名称 / NATS or Redis stream.", metavar="STREAM"
        ),
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="NATS 主题前缀 / NATS subject prefix.", metavar="PREFIX"),
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """转发发件箱到消息代理 / Relay the outbox to a message broker (RabbitMQ, NATS, Redis).

    Publishes every event after the consumer's cursor, and moves the cursor only past what the
    broker confirmed: at least once, in outbox order (so in order per case), each message
    with the event id as its message id. Runs until SIGTERM or Ctrl-C (the batch in flight
    finishes), or with --once until caught up. Exit 0 stopped, 2 bad input, 5 broker or
    database unreachable (with --once, or when connecting), 6 the broker refused.
    """
    from ..bridges import open_sink  # noqa: PLC0415 - imported when the command runs
    from ..bridges import relay as relay_outbox  # noqa: PLC0415

    command = Command(lang)
    for name, value, least, most in (("--batch", batch, 1, 10_000), ("--poll", poll, 0, 3600)):
        if not least <= value <= most:  # NaN too
            command.refuse(
                Text(
                    zh=f"{name} 应在 {least} 到 {most} 之间",
                    en=f"{name} must be between {least} and {most}",
                ),
                Text(zh="例如 --batch 100 --poll 1", en="e.g. --batch 100 --poll 1"),
            )
    options = {
        key: value
        for key, value in (
            ("exchange", exchange),
            ("queue", queue),
            ("stream", stream),
            ("subject", subject),
        )
        if value is not None
    }
    store = command.store(db)
    try:
        sink = command.run(lambda: open_sink(to, **options))
        stop = threading.Event()

        def progress(records: Sequence[OutboxRecord]) -> None:
            if not command.json:
                typer.echo(
                    f"{records[-1].position}\t{len(records)}\t"
                    + command.say("已确认", "confirmed"),
                    err=True,
                )

        with sink, _stopped_by_signals(stop):
            report = command.run(
                lambda: relay_outbox(
                    store,
                    sink,
                    consumer=consumer,
                    batch_size=batch,
                    poll_interval=poll,
                    stop=stop,
                    until_caught_up=once,
                    on_batch=progress,
                ),
            )
    finally:
        store.close()
    command.finish(
        {
            "consumer": report.consumer,
            "relayed": report.relayed,
            "position": report.position,
            "batches": report.batches,
        },
        command.say(
            f"已转发 {report.relayed} 个事件，消费者 {report.consumer} 的游标位于 {report.position}",
            f"relayed {report.relayed} event(s); consumer {report.consumer} is at "
            f"position {report.position}",
        ),
    )
