"""``kmbase worker``: run the worker (the daily sweep, webhooks), see consumers' lag and
dead letters, re-drive dead letters.

Exit codes are those of ``cli._output``; ``worker run`` exits 0 when stopped by ``SIGTERM``
or ``SIGINT`` after finishing (or giving back) the deliveries under way.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from .._i18n import Text
from ..errors import InvalidInputError
from ._command import Command
from ._group import command_group
from ._options import (
    DbOption,
    FormatOption,
    HolidaysOption,
    JsonOption,
    LangOption,
    NoticeAliasOption,
    OutputFormat,
    PolicyOption,
    ProvisionalOption,
    TodayOption,
    holiday_files,
)
from ._output import data_console

if TYPE_CHECKING:
    from ..delivery import (
        DeliveryQueue,
        QueueStatus,
        Webhook,
        Worker,
    )


__all__ = ["worker_app"]

T = TypeVar("T")

worker_app = command_group(
    "worker", "投递事件与定时检查 / Deliver events (webhooks) and run the daily sweep."
)

SECRET_VARIABLE = "KMBASE_WEBHOOK_SECRET"
"""The environment variable that holds the webhooks' signing secret by default."""


def _bad(zh: str, en: str, hint_zh: str, hint_en: str) -> InvalidInputError:
    return InvalidInputError(Text(zh=zh, en=en), hint=Text(zh=hint_zh, en=hint_en))


def _webhooks(specs: list[str], secret_env: str, types: list[str], timeout: float) -> list[Webhook]:
    from ..delivery import Webhook  # noqa: PLC0415 - imported when the command runs

    if not specs:
        return []
    secret = os.environ.get(secret_env, "")
    if not secret:
        raise _bad(
            f"环境变量 {secret_env} 未设置签名密钥",
            f"the signing secret is not set in ${secret_env}",
            f"export {secret_env}=… 后重试（每个接收方用它验证签名）",
            f"export {secret_env}=... and run again (receivers check signatures with it)",
        )
    hooks = []
    for spec in specs:
        name, sep, url = spec.partition("=")
        if not sep:
            raise _bad(
                f"--webhook 的格式无效：{spec}",
                f"invalid --webhook: {spec}",
                "写成 名称=地址，如 portal=https://portal.example/hooks",
                "write NAME=URL, e.g. portal=https://portal.example/hooks",
            )
        hooks.append(Webhook(name.strip(), url.strip(), secret, frozenset(types) or None, timeout))
    return hooks


def _time_of_day(value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise _bad(
            f"--sweep-at 不是有效时刻：{value!r}",
            f"--sweep-at is not a time of day: {value!r}",
            "写成 HH:MM，如 00:10",
            "write HH:MM, e.g. 00:10",
        ) from None


def _positive(value: float, option: str) -> None:
    if not value > 0:
        raise _bad(
            f"{option} 须为正数：{value}",
            f"{option} must be positive: {value}",
            f"例如 {option} 5",
            f"e.g. {option} 5",
        )


def _configure_logging(log_format: str) -> None:
    from ..delivery import JsonLogFormatter  # noqa: PLC0415 - imported when the command runs

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLogFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    package = logging.getLogger("kmbase_workflow")
    package.addHandler(handler)
    package.setLevel(logging.INFO)


@worker_app.command("run")
def worker_run(
    webhook: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook",
            help="接收事件的地址，名称=URL（可重复） / an endpoint, NAME=URL (repeat).",
            metavar="NAME=URL",
        ),
    ] = None,
    secret_env: Annotated[
        str,
        typer.Option(
            "--secret-env",
            help="保存签名密钥的环境变量 / the variable holding the signing secret.",
            metavar="VAR",
        ),
    ] = SECRET_VARIABLE,
    event_type: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            help="只投递这些事件类型（可重复） / deliver only these types.",
            metavar="TYPE",
        ),
    ] = None,
    sweep_at: Annotated[
        str,
        typer.Option(
            "--sweep-at",
            help="每日检查时刻（北京时间） / daily sweep time, HH:MM.",
            metavar="HH:MM",
        ),
    ] = "00:10",
    sweep_every: Annotated[
        float | None,
        typer.Option(
            "--sweep-every",
            help="每隔若干秒检查一次 / sweep every N seconds instead.",
            metavar="SECONDS",
        ),
    ] = None,
    no_sweep: Annotated[
        bool, typer.Option("--no-sweep", help="不做到期检查 / leave the sweep to others.")
    ] = False,
    poll: Annotated[
        float | None,
        typer.Option(
            "--poll",
            help="无事可做时的轮询间隔秒数 / seconds between looks when idle.",
            metavar="SECONDS",
        ),
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", help="每批租用条数 / events per lease.", metavar="N")
    ] = 20,
    lease: Annotated[
        float, typer.Option("--lease", help="租期秒数 / lease seconds.", metavar="SECONDS")
    ] = 60.0,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            help="每个消费者的并发投递数 / deliveries at once, per consumer.",
            metavar="N",
        ),
    ] = 4,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="每次 webhook 投递的时限秒数（连接、发送、应答，须短于租期） / seconds one "
            "webhook delivery may take, all of it (shorter than --lease).",
            metavar="SECONDS",
        ),
    ] = 10.0,
    max_attempts: Annotated[
        int,
        typer.Option(
            "--max-attempts", help="转入死信前的尝试次数 / tries before a dead letter.", metavar="N"
        ),
    ] = 10,
    backoff_base: Annotated[
        float,
        typer.Option(
            "--backoff", help="首次重试前秒数 / seconds before the first retry.", metavar="SECONDS"
        ),
    ] = 2.0,
    backoff_cap: Annotated[
        float,
        typer.Option("--backoff-cap", help="重试间隔上限秒数 / longest wait.", metavar="SECONDS"),
    ] = 900.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Prometheus 指标端口 / serve /metrics on this port.",
            metavar="PORT",
        ),
    ] = None,
    metrics_address: Annotated[
        str,
        typer.Option("--metrics-address", help="指标监听地址 / metrics address.", metavar="ADDR"),
    ] = "127.0.0.1",
    log_format: Annotated[
        str,
        typer.Option("--log-format", help="日志格式 text|json / log format.", metavar="text|json"),
    ] = "text",
    today: TodayOption = None,
    allow_provisional: ProvisionalOption = False,
    holidays: HolidaysOption = None,
    notice: NoticeAliasOption = None,
    policy: PolicyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """运行工作进程 / Run the worker until SIGTERM: the daily sweep, webhooks.

    Several may run on one PostgreSQL database: each delivery and each notice happens once.
    """
    from ..delivery import Backoff, Metrics, Worker  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)

    def build() -> Worker:
        hooks = _webhooks(webhook or [], secret_env, event_type or [], timeout)
        for value, option in (
            (lease, "--lease"),
            (batch, "--batch"),
            (concurrency, "--concurrency"),
        ):
            _positive(value, option)
        if poll is not None:
            _positive(poll, "--poll")
        if sweep_every is not None:
            _positive(sweep_every, "--sweep-every")
        if log_format not in ("text", "json"):
            raise _bad(
                f"不支持的日志格式 {log_format}",
                f"unsupported log format {log_format}",
                "用 text 或 json",
                "use text or json",
            )
        at = _time_of_day(sweep_at)
        backoff = Backoff(base=backoff_base, cap=backoff_cap, max_attempts=max_attempts)
        metrics = Metrics() if metrics_port is not None else None
        workflow = command.workflow(
            db,
            today=today,
            allow_provisional=allow_provisional,
            holidays=holiday_files(holidays, notice),
            policy=policy,
        )
        try:
            worker = Worker(
                workflow, webhooks=hooks, backoff=backoff, sweep=not no_sweep, sweep_at=at,
                sweep_every=sweep_every, poll=poll, batch=batch, lease=lease,
                concurrency=concurrency, metrics=metrics,
            )  # fmt: skip
        except BaseException:
            workflow.close()
            raise
        if metrics is not None and metrics_port is not None:
            try:
                metrics.serve(metrics_port, metrics_address)
            except OSError as error:
                workflow.close()
                raise _bad(
                    f"无法在 {metrics_address}:{metrics_port} 提供指标：{error}",
                    f"cannot serve metrics on {metrics_address}:{metrics_port}: {error}",
                    "换一个端口",
                    "choose another port",
                ) from None
        return worker

    worker = command.run(build)
    _configure_logging(log_format)
    try:
        command.run(worker.run)
    finally:
        if worker.metrics is not None:
            worker.metrics.close()
        worker.workflow.close()


def _with_queue(command: Command, db: str | None, use: Callable[[DeliveryQueue], T]) -> T:
    """``use`` on the delivery queue of the store of ``--db``, the store closed after."""
    from ..delivery import DeliveryQueue  # noqa: PLC0415 - imported when the command runs

    return command.with_store(db, lambda store: use(DeliveryQueue(store)))


@worker_app.command("status")
def worker_status(
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """消费者进度与死信 / Each consumer's position, lag and dead letters; the last sweep."""
    command = Command(lang)
    status = _with_queue(command, db, lambda queue: queue.status())
    command.finish(status.to_dict(), lambda: _print_status(status, command.zh))


def _print_status(status: QueueStatus, zh: bool) -> None:
    from rich.table import Table  # noqa: PLC0415 - imported when the command runs

    table = Table(title=("发件箱最新位置 " if zh else "outbox head ") + str(status.head))
    for header in ("消费者 consumer", "位置 position", "排队 queued", "死信 dead", "积压 lag"):
        table.add_column(
            header.split()[0 if zh else 1], justify="left" if "consumer" in header else "right"
        )
    for consumer in status.consumers:
        table.add_row(
            consumer.name,
            *(str(n) for n in (consumer.position, consumer.queued, consumer.dead, consumer.lag)),
        )
    console = data_console()
    console.print(table)
    swept = status.last_sweep_day or ("从未" if zh else "never")
    console.print(("最近一次到期检查：" if zh else "last sweep: ") + swept)


@worker_app.command("dead-letters")
def worker_dead_letters(
    consumer: Annotated[
        str | None, typer.Argument(help="消费者（默认全部） / consumer (default: all).")
    ] = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """列出死信 / List the events consumers gave up on, with the last error."""
    command = Command(lang)
    letters = _with_queue(command, db, lambda queue: queue.dead_letters(consumer))
    lines = [
        f"{letter.consumer}\t{letter.position}\t{letter.case_id}\t{letter.event_type}\t"
        f"{letter.attempts}\t{letter.last_error}"
        for letter in letters
    ]
    lines.append(command.say(f"{len(letters)} 条死信", f"{len(letters)} dead letter(s)"))
    command.finish([d.to_dict() for d in letters], "\n".join(lines))


@worker_app.command("redrive")
def worker_redrive(
    consumer: Annotated[str, typer.Argument(help="消费者 / consumer, e.g. webhook:portal.")],
    position: Annotated[
        list[int] | None,
        typer.Option(
            "--position", help="只重投这些位置（可重复） / only these positions.", metavar="N"
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """重投死信 / Put a consumer's dead letters back in its queue (the worker delivers them)."""
    command = Command(lang)
    moved = _with_queue(command, db, lambda queue: queue.redrive(consumer, position))
    unknown = len(set(position or ())) - moved if position else 0
    if not unknown:
        command.finish(
            {"consumer": consumer, "redriven": moved},
            command.say(f"已重投 {moved} 条", f"{moved} re-driven"),
        )
        return
    if not command.json:  # what was re-driven, then why the others were not
        typer.echo(command.say(f"已重投 {moved} 条", f"{moved} re-driven"))
    command.fail(
        _bad(
            f"有 {unknown} 个位置不是 {consumer} 的死信",
            f"{unknown} position(s) are not dead letters of {consumer}",
            "用 kmbase worker dead-letters 查看",
            "see kmbase worker dead-letters",
        ),
    )
