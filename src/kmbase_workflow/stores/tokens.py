"""API tokens of the HTTP service, kept in the store's own database (migration
``m006_api_tokens``; the memory store keeps them in memory).

A token is ``kmb_<id>_<secret>``: ``id`` finds its row, ``secret`` (32 random bytes) is never
stored, only its SHA-256, compared in constant time. A token carries the actor it stands for
(role, id, district, display name): the service never takes a role from the client.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from .._i18n import Text
from ..actors import Actor, Role
from ..encoding import check_text
from ..errors import InvalidInputError
from ._protocol import CaseStore, reads_without_waiting

if TYPE_CHECKING:
    from ..policy import Policy
    from ._sql import SQLStoreBase

__all__ = [
    "POSTGRES_M006",
    "SQLITE_M006",
    "ApiToken",
    "MemoryTokens",
    "SQLTokens",
    "TokenRows",
    "TokenStore",
    "Tokens",
    "token_store",
    "token_table",
]

_TABLE = """
CREATE TABLE api_tokens (
    id {key} PRIMARY KEY,
    secret_sha256 {key} NOT NULL,
    role {key} NOT NULL,
    actor_id TEXT NOT NULL,
    district TEXT,
    name TEXT NOT NULL,
    created_at {time} NOT NULL,
    revoked_at {time}
);
"""


def token_table(*, key: str = "TEXT", time: str) -> str:
    """Migration ``m006_api_tokens`` in one dialect's column types: ``key`` of the columns
    a token is found or compared by, ``time`` of its times."""
    return _TABLE.format(key=key, time=time)


SQLITE_M006 = token_table(time="TEXT")
POSTGRES_M006 = token_table(time="TIMESTAMPTZ")

PREFIX = "kmb_"


@attrs.frozen
class ApiToken:
    """An issued token as listed: who it stands for, never its secret."""

    id: str
    actor: Actor
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _split(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a token in the service's form, else ``None``."""
    if not token.startswith(PREFIX):
        return None
    token_id, sep, secret = token.removeprefix(PREFIX).partition("_")
    if not sep or not token_id or not secret or len(token) > 200:
        return None
    return token_id, secret


class TokenRows(Protocol):
    """Where a store keeps its tokens: each row with the SHA-256 of its secret."""

    def insert(self, token: ApiToken, digest: str) -> None:
        """Keep a new token."""
        ...

    def get(self, token_id: str) -> tuple[ApiToken, str] | None:
        """A token and the SHA-256 of its secret, by id (``None``: no such token)."""
        ...

    def all(self) -> list[ApiToken]:
        """Every token, oldest first."""
        ...

    def revoke(self, token_id: str, at: dt.datetime) -> None:
        """Mark a token revoked at ``at`` (a revoked one keeps its first time)."""
        ...


@runtime_checkable
class TokenStore(Protocol):
    """A store that keeps the service's API tokens (every bundled store does)."""

    def api_tokens(self) -> TokenRows:
        """This store's tokens."""
        ...


class Tokens:
    """Issue, list, revoke and check the API tokens of one store."""

    def __init__(self, backend: TokenRows) -> None:
        self._backend = backend

    def issue(
        self, actor: Actor, *, now: dt.datetime, policies: Iterable[Policy] | None = None
    ) -> tuple[ApiToken, str]:
        """A new token for ``actor``: its record and the secret text, shown once.

        The actor's district must be one that ``policies`` (default: the bundled ones) list
        (第四条): the service refuses any other on every request, so such a token is refused
        here (`InvalidInputError`), before anything is written.
        """
        for field, value in (("id", actor.id), ("name", actor.name), ("district", actor.district)):
            if value is not None:
                check_text(field, value, indexed=True)
        if actor.district is not None:
            _check_district(actor.district, policies)
        token = ApiToken(secrets.token_hex(6), attrs.evolve(actor, via="http"), now)
        secret = secrets.token_urlsafe(32)
        self._backend.insert(token, _digest(secret))
        return token, f"{PREFIX}{token.id}_{secret}"

    @property
    def checks_without_waiting(self) -> bool:
        """Whether `check` never waits for a writer: its store reads a token through a
        connection no transaction holds (a SQLite file in WAL mode) or from memory. The
        service then checks tokens on its event loop, not in a worker thread. A store's
        `TokenRows` says so with ``reads_without_waiting = True``; one that does not, waits."""
        return reads_without_waiting(self._backend)

    def list(self) -> list[ApiToken]:
        """Every token issued, oldest first, revoked ones included."""
        return self._backend.all()

    def revoke(self, token_id: str, *, now: dt.datetime) -> ApiToken:
        """Revoke a token (``InvalidInputError`` for an unknown one; revoking twice keeps the
        first time)."""
        self._backend.revoke(token_id, now)
        found = self._backend.get(token_id)
        if found is None:
            raise InvalidInputError(
                Text(zh=f"没有编号为 {token_id} 的令牌", en=f"no token with id {token_id}"),
                hint=Text(zh="用 kmbase token list 查看", en="see kmbase token list"),
            )
        return found[0]

    def check(self, token: str) -> Actor | None:
        """The actor an active token stands for (``None``: unknown, malformed or revoked)."""
        parts = _split(token)
        if parts is None:
            return None
        token_id, secret = parts
        found = self._backend.get(token_id) if token_id.isalnum() else None
        expected = found[1] if found is not None else _digest("")
        # compared even for an unknown id, so the time taken does not tell
        matches = hmac.compare_digest(_digest(secret), expected)
        if found is None or not matches or not found[0].active:
            return None
        return found[0].actor


def _check_district(district: str, policies: Iterable[Policy] | None) -> None:
    # imported here: the stores load without the policy files or the eligibility rules
    from ..eligibility import district_problems_in_any  # noqa: PLC0415
    from ..policy import bundled_policies  # noqa: PLC0415

    listed = tuple(policies) if policies is not None else bundled_policies()
    problems = district_problems_in_any(district, listed)
    if not problems:
        return
    raise InvalidInputError(
        problems[0],
        hint=Text(
            zh="请使用政策所列县区的准确名称；自有政策文件用 --policy 指定",
            en="name the district exactly as the policy lists it; give your own policy file with "
            "--policy",
        ),
    )


def _actor(role: str, actor_id: str, district: str | None, name: str) -> Actor:
    return Actor(Role(role), actor_id, district=district, name=name, via="http")


def _when(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


class SQLTokens:
    """`TokenRows` in the ``api_tokens`` table of a SQL store (its dialect's statements)."""

    _COLUMNS = "id, role, actor_id, district, name, created_at, revoked_at, secret_sha256"

    def __init__(self, store: SQLStoreBase) -> None:
        self._store = store

    @property
    def reads_without_waiting(self) -> bool:
        """Whether a token is read through a connection no writer holds (the store's)."""
        return self._store.reads_without_waiting

    def _token(self, row: Sequence[Any]) -> tuple[ApiToken, str]:
        token_id, role, actor_id, district, name, created, revoked, digest = row
        token = ApiToken(
            token_id,
            _actor(role, actor_id, district, name),
            _when(created),
            None if revoked is None else _when(revoked),
        )
        return token, digest

    def insert(self, token: ApiToken, digest: str) -> None:
        actor = token.actor
        self._store._run(
            f"INSERT INTO api_tokens ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                token.id,
                actor.role.value,
                actor.id,
                actor.district,
                actor.name,
                token.created_at.isoformat(),
                None,
                digest,
            ),
        )

    def get(self, token_id: str) -> tuple[ApiToken, str] | None:
        row = self._store._one(f"SELECT {self._COLUMNS} FROM api_tokens WHERE id = ?", (token_id,))
        return None if row is None else self._token(row)

    def all(self) -> list[ApiToken]:
        rows = self._store._all(f"SELECT {self._COLUMNS} FROM api_tokens ORDER BY created_at, id")
        return [self._token(row)[0] for row in rows]

    def revoke(self, token_id: str, at: dt.datetime) -> None:
        self._store._run(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (at.isoformat(), token_id),
        )


class MemoryTokens:
    """`TokenRows` in a dictionary (the memory store's)."""

    reads_without_waiting = True
    """Its lock is held for a dictionary's look-up or update, never across a transaction."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[ApiToken, str]] = {}

    def insert(self, token: ApiToken, digest: str) -> None:
        with self._lock:
            self._tokens[token.id] = (token, digest)

    def get(self, token_id: str) -> tuple[ApiToken, str] | None:
        with self._lock:
            return self._tokens.get(token_id)

    def all(self) -> list[ApiToken]:
        with self._lock:
            return [token for token, _ in self._tokens.values()]

    def revoke(self, token_id: str, at: dt.datetime) -> None:
        with self._lock:
            found = self._tokens.get(token_id)
            if found is not None and found[0].active:
                self._tokens[token_id] = (attrs.evolve(found[0], revoked_at=at), found[1])


def token_store(store: CaseStore) -> Tokens:
    """The API tokens of ``store`` (a `TokenStore`: SQL stores keep them in the database,
    the memory store beside its cases, for as long as it lives)."""
    if isinstance(store, TokenStore):
        return Tokens(store.api_tokens())
    raise InvalidInputError(
        Text(
            zh=f"存储 {type(store).__name__} 不能保存 API 令牌",
            en=f"the store {type(store).__name__} cannot keep API tokens",
        ),
        hint=Text(
            zh="请使用实现 api_tokens() 的存储（各内置存储均可），或改用网关认证",
            en="use a store that implements api_tokens() (every bundled one does), or "
            "gateway authentication",
        ),
    )
