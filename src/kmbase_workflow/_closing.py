"""``with thing:`` for the library's closable objects (stores, broker sinks, the workflow)."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """Closes itself when a ``with`` block ends, however it ends; ``close`` says what."""

    def close(self) -> None:  # pragma: no cover - each subclass's
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
