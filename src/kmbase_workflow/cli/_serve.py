"""``kmbase serve`` and ``kmbase token …``: the HTTP service and its API tokens.

``serve`` runs the service (`kmbase_workflow.service`) under uvicorn; ``token issue`` gives an
office's user a token naming its role, id and district (the secret is shown once; the
database keeps its SHA-256), ``token list`` shows who holds one, ``token revoke`` ends one.
Exit codes as for every command (``cli._output``): 0 done, 2 bad input, 5 store unavailable.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from .._i18n import Text
from ..errors import InvalidInputError, install_hint
from ._command import Command
from ._group import command_group
from ._options import (
    ActorDistrictOption,
    ActorIdOption,
    ActorNameOption,
    ActorRoleOption,
    DbOption,
    FormatOption,
    HolidaysOption,
    JsonOption,
    LangOption,
    OutputFormat,
    PolicyOption,
    ProvisionalOption,
    TodayOption,
    make_actor,
)
from ._output import data_console

if TYPE_CHECKING:
    from ..stores.tokens import ApiToken, Tokens

__all__ = ["serve", "token_app"]

T = TypeVar("T")

token_app = command_group("token", "HTTP 服务的 API 令牌 / API tokens of the HTTP service.")

GATEWAY_SECRET_VARIABLE = "KMBASE_GATEWAY_SECRET"
"""The environment variable holding the secret the SSO gateway signs identities with."""


def _missing_extra(error: ImportError) -> InvalidInputError:
    return InvalidInputError(
        Text(
            zh=f"未安装 HTTP 服务所需的包：{error.name}", en=f"the HTTP service needs {error.name}"
        ),
        hint=install_hint("service"),
    )


def _gateway_secret(path: Path | None) -> bytes:
    if path is not None:
        try:
            secret = path.read_bytes().strip()
        except OSError as error:
            raise InvalidInputError(
                Text(zh=f"无法读取密钥文件 {path}：{error}", en=f"cannot read {path}: {error}"),
                hint=Text(zh="检查 --gateway-secret-file", en="check --gateway-secret-file"),
            ) from None
    else:
        secret = os.environ.get(GATEWAY_SECRET_VARIABLE, "").encode("utf-8")
    if len(secret) < 32:
        raise InvalidInputError(
            Text(
                zh="网关认证需要至少 32 字节的共享密钥",
                en="gateway authentication needs a shared secret of at least 32 bytes",
            ),
            hint=Text(
                zh=f"用 --gateway-secret-file 或环境变量 {GATEWAY_SECRET_VARIABLE} 提供",
                en=f"give it with --gateway-secret-file or ${GATEWAY_SECRET_VARIABLE}",
            ),
        )
    return secret


def serve(
    host: Annotated[
        str, typer.Option("--host", help="监听地址 / address to listen on.", metavar="ADDR")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口 / port.", metavar="PORT")] = 8000,
    auth: Annotated[
        str,
        typer.Option(
            "--auth",
            help="认证方式 token|gateway / authentication: token (kmbase token issue) or gateway "
            "(identity signed by an SSO gateway).",
            metavar="token|gateway",
        ),
    ] = "token",
    gateway_secret_file: Annotated[
        Path | None,
        typer.Option(
            "--gateway-secret-file",
            help=f"网关共享密钥文件（或 ${GATEWAY_SECRET_VARIABLE}） / the gateway's shared "
            f"secret (or ${GATEWAY_SECRET_VARIABLE}).",
            metavar="FILE",
        ),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="只接受来自这些地址的网关请求（可重复） / accept gateway requests only from "
            "these addresses or networks (repeatable).",
            metavar="NET",
        ),
    ] = None,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="逐条记录请求（uvicorn 访问日志） / log each request (uvicorn's access log; "
            "off when a gateway or proxy in front logs them).",
        ),
    ] = True,
    today: TodayOption = None,
    allow_provisional: ProvisionalOption = False,
    holidays: HolidaysOption = None,
    policy: PolicyOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """启动 HTTP 服务 / Run the HTTP service (OpenAPI at /docs and /openapi.json)."""
    command = Command(lang)

    def start() -> None:
        try:
            import uvicorn  # noqa: PLC0415 - the service extra

            from ..service import GatewayAuthenticator, create_app  # noqa: PLC0415
        except ImportError as error:
            raise _missing_extra(error) from None
        if auth not in ("token", "gateway"):
            raise InvalidInputError(
                Text(zh=f"未知的认证方式 {auth}", en=f"unknown authentication {auth}"),
                hint=Text(zh="可用：token、gateway", en="use token or gateway"),
            )
        gateway = (
            GatewayAuthenticator(
                _gateway_secret(gateway_secret_file), trusted_proxies=trusted_proxy or ()
            )
            if auth == "gateway"
            else None
        )
        workflow = command.workflow(
            db,
            today=today,
            allow_provisional=allow_provisional,
            holidays=holidays or (),
            policy=policy,
        )
        try:
            # The gateway is the socket's peer (--trusted-proxy): uvicorn must not take the
            # client's address from X-Forwarded-For, which any client writes (by default it
            # does from 127.0.0.1), nor the scheme from X-Forwarded-Proto.
            uvicorn.run(
                create_app(workflow, auth=gateway),
                host=host,
                port=port,
                log_level="info",
                access_log=access_log,
                proxy_headers=False,
            )
        finally:
            workflow.close()

    command.run(start)


def _with_tokens(command: Command, db: str | None, use: Callable[[Tokens], T]) -> T:
    """``use`` on the API tokens of the store of ``--db``, the store closed after."""
    from ..stores.tokens import token_store  # noqa: PLC0415 - imported when the command runs

    return command.with_store(db, lambda store: use(token_store(store)))


def _row(token: ApiToken) -> dict[str, object]:
    actor = token.actor
    return {
        "id": token.id,
        "role": actor.role.value,
        "actor_id": actor.id,
        "district": actor.district,
        "name": actor.name,
        "created_at": token.created_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


@token_app.command("issue")
def token_issue(
    role: ActorRoleOption,
    actor_id: ActorIdOption,
    district: ActorDistrictOption = None,
    name: ActorNameOption = "",
    policy: PolicyOption = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """签发令牌（只显示一次） / Issue a token (its secret is shown once)."""
    command = Command(lang)

    def issue(tokens: Tokens) -> tuple[ApiToken, str]:
        from ..policy import load_policy_file  # noqa: PLC0415 - imported when the command runs

        actor = make_actor(role, actor_id, district, name)
        # the district must be one that serve's policies list (第四条), as the service checks
        policies = (load_policy_file(policy),) if policy is not None else None
        return tokens.issue(actor, now=dt.datetime.now(dt.UTC), policies=policies)

    token, secret = _with_tokens(command, db, issue)

    def show() -> None:
        typer.echo(secret)
        data_console(stderr=True).print(
            command.say(
                f"令牌 {token.id}：{token.actor.describe().zh}（只显示这一次，请妥善保存）",
                f"token {token.id}: {token.actor.describe().en} (shown this once: keep it safe)",
            )
        )

    command.finish({**_row(token), "token": secret}, show)


@token_app.command("list")
def token_list(
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """列出已签发的令牌（不含密钥） / List the tokens issued (never their secrets)."""
    command = Command(lang)

    rows = [_row(token) for token in _with_tokens(command, db, lambda tokens: tokens.list())]
    lines = [
        f"{row['id']}\t{row['role']}\t{row['actor_id']}\t{row['district'] or ''}\t"
        f"{row['name']}\t{'revoked' if row['revoked_at'] else 'active'}"
        for row in rows
    ]
    command.finish(rows, "\n".join(lines) if lines else None)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="令牌编号 / the token's id.", metavar="TOKEN_ID")],
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """吊销令牌（立即生效） / Revoke a token (at once)."""
    command = Command(lang)

    token = _with_tokens(
        command, db, lambda tokens: tokens.revoke(token_id, now=dt.datetime.now(dt.UTC))
    )
    command.finish(_row(token), f"{token.id}\trevoked")
