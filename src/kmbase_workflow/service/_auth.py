"""Who is calling: pluggable authentication that never takes a role the client merely claims.

An `Authenticator` turns a request's headers (and the address it came from) into the `Actor`
the library records, or raises `ServiceError` (401). Two ship with the library:

- `TokenAuthenticator`: ``Authorization: Bearer kmb_…``, a token issued from the command line
  (``kmbase token issue``) that names its actor; the database keeps only the SHA-256 of its
  secret.
- `GatewayAuthenticator`: behind a government SSO gateway that has verified the user and
  passes the identity in headers signed with a secret shared with this service (HMAC-SHA256
  over the timestamp and the identity), optionally accepted only from the gateway's
  addresses. A header a client writes itself has no valid signature and is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from .._i18n import Text
from ..actors import Actor, Role
from ..errors import InvalidInputError, KmbaseError
from ..stores.tokens import Tokens
from ._errors import ServiceError

__all__ = [
    "IDENTITY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Authenticator",
    "GatewayAuthenticator",
    "TokenAuthenticator",
    "sign_identity",
]

IDENTITY_HEADER = "X-Kmbase-Identity"
"""base64url of the identity's JSON: ``{"role", "id", "district", "name"}``."""
TIMESTAMP_HEADER = "X-Kmbase-Identity-Timestamp"
"""Unix seconds when the gateway signed the identity."""
SIGNATURE_HEADER = "X-Kmbase-Identity-Signature"
"""Hex HMAC-SHA256 of ``timestamp + "\\n" + identity header`` with the shared secret."""


def unauthenticated(zh: str, en: str) -> ServiceError:
    """A 401 saying why the caller is not known."""
    return ServiceError(
        401,
        Text(zh=f"未认证：{zh}", en=f"not authenticated: {en}"),
        hint=Text(
            zh="请附上 Authorization: Bearer <令牌>（kmbase token issue 签发）或经网关访问",
            en="send Authorization: Bearer <token> (issued by kmbase token issue) or come "
            "through the gateway",
        ),
    )


class Authenticator(Protocol):
    """Who sends a request: the actor, or `ServiceError` (401).

    The service calls it in a worker thread, as it may wait (a token store's database); one
    that never waits says so with a class attribute ``blocking = False`` and is called on
    the event loop, sparing each request a hop to a worker and back (`GatewayAuthenticator`
    checks a signature)."""

    def __call__(self, headers: Mapping[str, str], client: str | None) -> Actor:
        """The actor of a request with ``headers`` from the address ``client``."""
        ...


class TokenAuthenticator:
    """Bearer tokens issued by ``kmbase token issue`` and kept (hashed) in the store."""

    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens

    @property
    def blocking(self) -> bool:
        """Whether a check may wait for the store (a server database; not a SQLite file,
        whose tokens are read through a connection of their own, nor memory)."""
        return not self.tokens.checks_without_waiting

    def __call__(self, headers: Mapping[str, str], client: str | None) -> Actor:
        """The actor of the token in ``Authorization: Bearer``."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated("缺少令牌", "no bearer token")
        actor = self.tokens.check(token.strip())
        if actor is None:
            raise unauthenticated("令牌无效或已吊销", "the token is unknown or revoked")
        return actor


def sign_identity(secret: bytes, identity: Mapping[str, object], timestamp: int) -> dict[str, str]:
    """The headers a gateway sends for ``identity`` (what a gateway, or a test, computes)."""
    encoded = base64.urlsafe_b64encode(
        json.dumps(dict(identity), ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).decode("ascii")
    signature = hmac.new(
        secret, f"{timestamp}\n{encoded}".encode("ascii"), hashlib.sha256
    ).hexdigest()
    return {
        IDENTITY_HEADER: encoded,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature,
    }


class GatewayAuthenticator:
    """An identity verified by an SSO gateway, signed with a shared ``secret``.

    A signature older (or newer) than ``max_age`` seconds is refused, so a captured set of
    headers is not good for long; with ``trusted_proxies`` (addresses or networks) a request
    from anywhere else is refused even with a valid signature.
    """

    blocking = False
    """Its check is a signature and a clock: the service calls it on the event loop."""

    def __init__(
        self,
        secret: bytes,
        *,
        trusted_proxies: Iterable[str] = (),
        max_age: int = 300,
        now: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 32:
            raise InvalidInputError(
                Text(zh="网关共享密钥过短", en="the gateway's shared secret is too short"),
                hint=Text(zh="至少 32 字节随机数据", en="use at least 32 random bytes"),
            )
        self.secret = secret
        self.trusted = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)
        self.max_age = max_age
        self.now = now

    def _from_trusted(self, client: str | None) -> bool:
        if not self.trusted:
            return True
        try:
            address = ipaddress.ip_address(client or "")
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def __call__(self, headers: Mapping[str, str], client: str | None) -> Actor:
        """The actor of a signed identity."""
        if not self._from_trusted(client):
            raise unauthenticated(
                "请求不是来自受信任的网关", "the request did not come from the gateway"
            )
        encoded = headers.get(IDENTITY_HEADER.lower(), "")
        stamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        signature = headers.get(SIGNATURE_HEADER.lower(), "")
        if not (encoded and stamp and signature):
            raise unauthenticated("缺少网关身份头", "no identity headers from the gateway")
        if not re.fullmatch("[0-9]{1,12}", stamp) or abs(self.now() - int(stamp)) > self.max_age:
            raise unauthenticated("身份签名已过期", "the identity's signature is stale")
        expected = hmac.new(self.secret, f"{stamp}\n{encoded}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise unauthenticated("身份签名无效", "the identity's signature is invalid")
        try:
            data = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")))
            return Actor(
                Role(data["role"]),
                data["id"],
                district=data.get("district"),
                name=data.get("name") or "",
                via="http",
            )
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, KmbaseError):
            raise unauthenticated(
                "网关身份格式无效", "the gateway's identity is malformed"
            ) from None
