"""``kmbase audit checkpoint`` and ``kmbase audit verify``: the audit of a whole store, and
the signed checkpoints that anchor its hash chains outside the database (第二十条).

The checkpoint key comes from ``--key-file`` or ``$KMBASE_AUDIT_KEY`` (at least 16 bytes);
keep it where the database administrator cannot read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._i18n import Lang, Text
from ..errors import InvalidInputError
from ._command import Command
from ._group import command_group
from ._options import DbOption, FormatOption, JsonOption, LangOption, OutputFormat

if TYPE_CHECKING:
    from ..audit import (
        AuditReport,
        Checkpoint,
    )

__all__ = ["audit_app"]

audit_app = command_group(
    "audit",
    "审计：核验全部案件、导出签名检查点（第二十条） / Audit every case; export signed "
    "checkpoints (Art. 20).",
)

KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        # audit.AUDIT_KEY_ENVIRONMENT_VARIABLE (tests/test_cli_startup.py holds them equal)
        help="检查点密钥文件（默认 $KMBASE_AUDIT_KEY） / the checkpoint key's file (default: "
        "$KMBASE_AUDIT_KEY).",
        metavar="FILE",
    ),
]


@audit_app.command("checkpoint")
def audit_checkpoint(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="写入文件（默认标准输出） / write to a file (default: stdout).",
            metavar="FILE",
        ),
    ] = None,
    key_file: KeyFileOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """导出所有哈希链头的签名检查点 / Export a signed checkpoint of every chain head.

    Exit 0 written, 2 bad input (no key, unreadable store). The checkpoint is JSON; with
    ``--output`` and ``--json`` the command prints ``written`` and ``heads``.
    """
    from ..audit import checkpoint, load_key  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)

    key = command.run(lambda: load_key(key_file))
    saved = command.with_store(db, lambda store: checkpoint(store, key))
    text = saved.to_json() + "\n"
    if output is None:  # the checkpoint is the JSON document
        typer.echo(text, nl=False)
        return
    command.run(lambda: _write(output, text))
    command.finish(
        {"written": str(output), "heads": len(saved.heads)},
        command.say("已写入检查点：", "checkpoint written: ") + f"{output} ({len(saved.heads)})",
    )


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(
            Text(
                zh=f"无法写入 {path}：{error.strerror}", en=f"cannot write {path}: {error.strerror}"
            ),
            hint=Text(zh="请检查路径与权限", en="check the path and permissions"),
        ) from None


def _read_checkpoint(path: Path) -> Checkpoint:
    from ..audit import Checkpoint  # noqa: PLC0415 - imported when the command runs

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InvalidInputError(
            Text(
                zh=f"无法读取检查点文件 {path}：{reason}",
                en=f"cannot read the checkpoint file {path}: {reason}",
            ),
            hint=Text(zh="请检查路径", en="check the path"),
        ) from None
    return Checkpoint.from_json(text)


@audit_app.command("verify")
def audit_verify(
    checkpoint_file: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="核对的检查点文件 / a checkpoint file to verify against.",
            metavar="FILE",
        ),
    ] = None,
    key_file: KeyFileOption = None,
    db: DbOption = None,
    output: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    lang: LangOption = "zh",
) -> None:
    """核验全部案件（可核对检查点） / Verify every case, and optionally a checkpoint.

    Checks every hash chain, that each stored case and its indexed columns are what its
    newest entry recorded, every outbox event, and, with ``--checkpoint``, that every head
    the checkpoint saw is still on its chain. Exit 0 verified, 1 problems found (each one
    listed), 2 bad input.
    """
    from ..audit import load_key, verify_store  # noqa: PLC0415 - imported when the command runs

    command = Command(lang)
    chosen = command.lang

    def against() -> tuple[Checkpoint | None, bytes | None]:
        saved = None if checkpoint_file is None else _read_checkpoint(checkpoint_file)
        return saved, None if saved is None else load_key(key_file)

    saved, key = command.run(against)
    report = command.with_store(db, lambda store: verify_store(store, saved, key))
    command.finish(
        {
            "verified": report.ok,
            "checkpoint": report.checkpoint,
            "cases": report.cases,
            "rounds": report.rounds,
            "entries": report.entries,
            "events": report.events,
            "findings": [
                {"case": f.case_id, "kind": f.kind, "problem": f.problem.in_(chosen)}
                for f in report.findings
            ],
        },
        lambda: _print_audit(report, chosen),
        exit_code=0 if report.ok else 1,
    )


def _print_audit(report: AuditReport, chosen: Lang) -> None:
    from rich.console import Console  # noqa: PLC0415 - imported when the command runs
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text as RichText  # noqa: PLC0415

    console = Console(highlight=False)
    if report.findings:
        table = Table(title=report.summary().in_(chosen))
        for header in ("案件", "类别", "问题") if chosen == "zh" else ("case", "kind", "problem"):
            table.add_column(header, overflow="fold")
        for finding in report.findings:
            table.add_row(
                RichText(finding.case_id or "—"),
                finding.kind,
                RichText(finding.problem.in_(chosen)),
            )
        console.print(table)
    else:
        console.print(report.summary().in_(chosen), markup=False)
