"""Optional dependencies (pandas, matplotlib), imported only when a function needs them."""

from __future__ import annotations

import importlib
from typing import Any

from .._i18n import Text
from ..errors import install_hint

Frame = Any
"""A ``pandas.DataFrame`` (typed loosely so the library imports without pandas)."""


# -- optional dependencies -------------------------------------------------------------------------


def _optional(module: str) -> Any:
    """Import ``module`` or explain which extra provides it, in both languages."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
        name = module.split(".", maxsplit=1)[0]
        hint = install_hint("notebook")
        message = Text(zh=f"需要 {name}：{hint.zh}", en=f"{name} is needed: {hint.en}")
        raise ImportError(str(message)) from exc


def _pandas() -> Any:
    return _optional("pandas")
