"""``async with thing:`` for anything that has ``aclose()``: one small mixin instead of the same
``__aenter__``/``__aexit__`` pair in every class that owns a connection."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncClosing"]

_T = TypeVar("_T", bound="AsyncClosing")


class AsyncClosing:
    """Entering returns the object itself; leaving (even by an exception) awaits ``aclose()``."""

    async def aclose(self) -> None:  # pragma: no cover - every user defines it
        raise NotImplementedError

    async def __aenter__(self: _T) -> _T:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
