"""``async with thing:`` for anything that has ``aclose()`` (and ``with thing:`` for ``close()``):
one small mixin instead of the same enter/exit pair in every class that owns a resource."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncClosing", "Closing"]

_T = TypeVar("_T", bound="AsyncClosing")
_S = TypeVar("_S", bound="Closing")


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


class Closing:
    """Entering returns the object itself; leaving (even by an exception) calls ``close()``."""

    def close(self) -> None:  # pragma: no cover - every user defines it
        """Release what the object holds (each class says what); calling it again does nothing."""
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
