"""Optional dependencies (pandas, matplotlib), imported only when a function needs them."""

from __future__ import annotations

import importlib
from typing import Any

from .._i18n import Text

Frame = Any
"""A ``pandas.DataFrame`` (typed loosely so the library imports without pandas)."""


# -- optional dependencies -------------------------------------------------------------------------


def _optional(module: str) -> Any:
    """Import ``module`` or explain which extra provides it, in both languages."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
        message = Text(
            zh=f'需要 {module.split(".", maxsplit=1)[0]}：请安装 notebook 扩展，pip install "kmbase-workflow[notebook]"',
            en=f"{module.split('.', maxsplit=1)[0]} is needed: install the notebook extra, "
            'pip install "kmbase-workflow[notebook]"',
        )
        raise ImportError(str(message)) from exc


def _pandas() -> Any:
    return _optional("pandas")
