"""What the store openers share: the options of a store URL (``?name=value&…``)."""

from __future__ import annotations

import re
from typing import Any

from .._i18n import Text
from ..errors import InvalidInputError


def options(query: str) -> dict[str, str]:
    """The ``name=value`` pairs of a URL's query."""
    return dict(part.split("=", 1) for part in query.split("&") if "=" in part)


def positive(value: str, name: str, kind: type[float] | type[int]) -> Any:
    """``value`` as a positive number of ``kind``, or `InvalidInputError` naming ``name``."""
    try:
        number = kind(value)
    except ValueError:
        number = 0
    if not number > 0:
        raise InvalidInputError(
            Text(
                zh=f"存储地址中的 {name} 无效：{value}",
                en=f"invalid {name} in the store URL: {value}",
            ),
            hint=Text(zh=f"{name} 须为正数", en=f"{name} must be a positive number"),
        )
    return number


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
