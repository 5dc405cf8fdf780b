"""Signed checkpoints: every chain head and the outbox at one moment, under HMAC-SHA256 with
a key the database administrator does not hold, so a chain re-sealed with plain SHA-256
or a case cut back with its events shows."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from .._i18n import Text
from ..clock import Clock, SystemClock
from ..errors import InvalidInputError
from ..history import canonical_json
from ..serialization import converter
from ..stores import CaseStore
from ._report import AuditFinding
from ._store_view import _Event, _Source

AUDIT_KEY_ENVIRONMENT_VARIABLE = "KMBASE_AUDIT_KEY"
"""Where `load_key` finds the checkpoint key when no key file is given."""

CHECKPOINT_FORMAT = 2
"""The version of the checkpoint's signed form: 2 covers the outbox in the order stores read
it (commit order, `CaseStore.read_outbox`) up to ``outbox_position``; 1 covered every
position up to it, which an event committing late at a lower position (PostgreSQL, issue
27) broke on an untouched database. Both are verified, each as it was made."""
_CHECKPOINT_FORMATS = (1, CHECKPOINT_FORMAT)

_MIN_KEY_BYTES = 16


@attrs.frozen
class ChainHead:
    """Where a case's chain stood: its newest entry's sequence and hash."""

    sequence: int
    hash: str


@attrs.frozen(kw_only=True)
class Checkpoint:
    """Every chain head and the outbox at one moment, signed with HMAC-SHA256.

    ``outbox_digest`` covers the outbox events (position and `event_digest`) in the order
    stores read them (commit order), up to and including the one at ``outbox_position``
    (format 1: every event at a position up to it). ``key_id`` names the key without revealing it. Export it with
    `to_json` to a place the database administrator cannot write (another system, paper,
    an e-mail to the auditor); read it back with `from_json`.
    """

    format: int = CHECKPOINT_FORMAT
    created_at: dt.datetime
    heads: Mapping[str, ChainHead]
    outbox_position: int
    outbox_digest: str
    key_id: str
    signature: str = ""

    def signed_text(self) -> str:
        """The canonical text the signature covers (every field but ``signature``)."""
        data = converter.unstructure(self)
        data.pop("signature")
        return canonical_json(data, 1)

    def to_json(self) -> str:
        """The checkpoint as JSON text (what ``kmbase audit checkpoint`` writes)."""
        return json.dumps(converter.unstructure(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """A checkpoint from `to_json`'s text (``InvalidInputError`` if it is not one)."""
        try:
            data = json.loads(text)
            saved = converter.structure(data, cls)
            if saved.format not in _CHECKPOINT_FORMATS:
                raise ValueError(f"unknown checkpoint format {saved.format}")
        except Exception as error:
            raise InvalidInputError(
                Text(
                    zh=f"检查点文件无法读取：{type(error).__name__}",
                    en=f"the checkpoint cannot be read: {type(error).__name__}",
                ),
                hint=Text(
                    zh="请使用 kmbase audit checkpoint 导出的文件",
                    en="use a file written by kmbase audit checkpoint",
                ),
            ) from None
        return saved


def load_key(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> bytes:
    """The checkpoint key: the bytes of ``path`` (surrounding whitespace stripped), else
    ``$KMBASE_AUDIT_KEY``. At least 16 bytes; ``InvalidInputError`` otherwise."""
    if path is not None:
        try:
            key = Path(path).read_bytes().strip()
        except OSError as error:
            raise InvalidInputError(
                Text(
                    zh=f"无法读取密钥文件 {path}：{error.strerror}",
                    en=f"cannot read the key file {path}: {error.strerror}",
                ),
                hint=Text(zh="请检查路径与权限", en="check the path and permissions"),
            ) from None
    else:
        key = (
            (environ if environ is not None else os.environ)
            .get(AUDIT_KEY_ENVIRONMENT_VARIABLE, "")
            .encode("utf-8")
        )
    if len(key) < _MIN_KEY_BYTES:
        raise InvalidInputError(
            Text(
                zh=f"检查点密钥缺失或过短（至少 {_MIN_KEY_BYTES} 字节）",
                en=f"the checkpoint key is missing or too short (at least {_MIN_KEY_BYTES} bytes)",
            ),
            hint=Text(
                zh=f"用 --key-file 指定密钥文件，或设置 ${AUDIT_KEY_ENVIRONMENT_VARIABLE}",
                en=f"give --key-file, or set ${AUDIT_KEY_ENVIRONMENT_VARIABLE}",
            ),
        )
    return key


def _key_id(key: bytes) -> str:
    return hmac.new(key, b"kmbase-audit-key-id", hashlib.sha256).hexdigest()[:16]


def _sign(text: str, key: bytes) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _outbox_digest(events: Iterable[_Event]) -> str:
    digest = hashlib.sha256()
    for event in events:
        digest.update(f"{event.position}:{event.digest}\n".encode())
    return digest.hexdigest()


def _heads(source: _Source) -> dict[str, ChainHead]:
    raw = source.raw
    heads: dict[str, ChainHead] = {}
    if raw is not None:
        for row in raw.raw_rows("history"):
            heads[str(row["case_id"])] = ChainHead(int(row["sequence"]), str(row["hash"]))
        return heads
    for case_id in source.chain_ids():
        history = source.store.history(case_id)
        if history:
            heads[case_id] = ChainHead(history[-1].sequence, history[-1].hash)
    return heads


def checkpoint(store: CaseStore, key: bytes, *, clock: Clock | None = None) -> Checkpoint:
    """A signed checkpoint of every chain head and of the outbox, now (by ``clock``).

    Take one on a schedule (after each working day, at least after each round's decisions)
    and keep it where the database administrator cannot change it. The database may be in
    use: the outbox is covered in the order stores read it (commit order), up to the last
    event read, so a step still committing (its event at a lower position than one already
    committed, on PostgreSQL) comes after the checkpoint and never makes it fail.
    """
    source = _Source(store)
    order = source.read_order()
    by_position = {event.position: event for event in source.events(None, [])}
    covered = [by_position[position] for position in order if position in by_position]
    unsigned = Checkpoint(
        created_at=(clock or SystemClock()).now(),
        heads=_heads(source),
        outbox_position=covered[-1].position if covered else 0,
        outbox_digest=_outbox_digest(covered),
        key_id=_key_id(key),
    )
    return attrs.evolve(unsigned, signature=_sign(unsigned.signed_text(), key))


def _checkpoint_findings(
    source: _Source, saved: Checkpoint, key: bytes, events: Sequence[_Event]
) -> list[AuditFinding]:
    if saved.key_id != _key_id(key) or not hmac.compare_digest(
        saved.signature, _sign(saved.signed_text(), key)
    ):
        return [
            AuditFinding(
                None,
                "checkpoint",
                Text(
                    zh="检查点签名无效：检查点被伪造或改动，或所用密钥不同",
                    en="the checkpoint's signature is not valid: it was forged or altered, or "
                    "signed with another key",
                ),
            )
        ]
    found = []
    for case_id, head in saved.heads.items():
        history = source.store.history(case_id)
        if len(history) < head.sequence:
            problem = Text(
                zh=f"检查点时历史有 {head.sequence} 条，现只有 {len(history)} 条：记录被截去",
                en=f"the checkpoint saw {head.sequence} entries, the history now has "
                f"{len(history)}: entries were cut off",
            )
        elif history[head.sequence - 1].hash != head.hash:
            problem = Text(
                zh=f"第 {head.sequence} 条记录的哈希与检查点不符：链被改写并重新封存",
                en=f"entry {head.sequence} does not match the checkpoint's hash: the chain was "
                "rewritten and re-sealed",
            )
        else:
            continue
        found.append(AuditFinding(case_id, "checkpoint", problem))
    if _outbox_digest(_covered(source, saved, events)) != saved.outbox_digest:
        found.append(
            AuditFinding(
                None,
                "checkpoint",
                Text(
                    zh=f"事件日志在检查点（位置 {saved.outbox_position}）之前的内容被改动、删除或插入",
                    en=f"the outbox up to the checkpoint (position {saved.outbox_position}) was "
                    "altered: events edited, deleted or inserted",
                ),
            )
        )
    return found


def _covered(source: _Source, saved: Checkpoint, events: Sequence[_Event]) -> list[_Event]:
    """The outbox events a checkpoint covers, in its order: format 1, every position up to
    its ``outbox_position``; later formats, the events read (in commit order) up to it."""
    if saved.format == 1:
        return [event for event in events if event.position <= saved.outbox_position]
    if saved.outbox_position <= 0:
        return []
    by_position = {event.position: event for event in events}
    order = source.read_order(until=saved.outbox_position)
    return [by_position[position] for position in order if position in by_position]
