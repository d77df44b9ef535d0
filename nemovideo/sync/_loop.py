"""The methods of ``SyncNemoClient`` and its objects: each one is the async method, run blocking.

Every blocking call runs the async client's coroutine on the client's private loop (a
:class:`~nemovideo.sync._driver.DrivenLoop`) and waits for it, so the sync API can never drift
from the async one. :func:`blocking` / :func:`forwarding` turn an async class's methods into
blocking methods of a proxy class, keeping their signatures and docstrings for type checkers and
``help()``; :func:`reading` does the same for a plain attribute::

      class SyncSession(Proxy):
          state = blocking(Session.state)             # def state(self) -> SessionState
          export = blocking(Session.export, SyncRenderJob)   # wraps the returned RenderJob
          id: str = reading()                         # session.id, as the async one has it
"""

from __future__ import annotations

import functools
import types
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

if TYPE_CHECKING:
    from nemovideo.sync._client import SyncNemoClient
    from nemovideo.sync._driver import DrivenLoop

__all__ = [
    "Proxy",
    "View",
    "blocking",
    "forwarding",
    "reading",
]

P = ParamSpec("P")
R = TypeVar("R")
W = TypeVar("W")


class Proxy:
    """A blocking view of one async object; ``_runner`` is the client's :class:`DrivenLoop`."""

    _runner: DrivenLoop
    _async: Any


class _Forward(Generic[P, R]):
    """A descriptor: ``proxy.name(...)`` calls the async class's method on ``proxy._async``.

    The blocking function is built once, with the async method's name, docstring and signature
    (``functools.wraps``); an attribute access binds it to the proxy (``types.MethodType``), so a
    call costs no new closure (``inspect.signature(client.credits)`` still shows the async one's).
    """

    def __init__(
        self,
        method: Callable[..., Any],
        wrap: Callable[[Any, Any], Any] | None,
        run: bool,
    ) -> None:
        self.__doc__ = method.__doc__
        self.__wrapped__ = method

        @functools.wraps(method)
        def call(proxy: Proxy, *args: Any, **kwargs: Any) -> Any:
            value = method(proxy._async, *args, **kwargs)  # noqa: SLF001 (the proxy's own target)
            if run:
                value = proxy._runner.run(value)  # noqa: SLF001
            return value if wrap is None else wrap(proxy, value)

        self._call = call

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _Forward[P, R]: ...
    @overload
    def __get__(self, obj: Proxy, owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, obj: Proxy | None, owner: type[Any]) -> _Forward[P, R] | Callable[P, R]:
        if obj is None:
            return self
        return types.MethodType(self._call, obj)


@overload
def blocking(method: Callable[Concatenate[Any, P], Awaitable[R]]) -> _Forward[P, R]: ...
@overload
def blocking(
    method: Callable[Concatenate[Any, P], Awaitable[R]], wrap: Callable[[Any, R], W]
) -> _Forward[P, W]: ...
def blocking(
    method: Callable[Concatenate[Any, P], Awaitable[Any]],
    wrap: Callable[[Any, Any], Any] | None = None,
) -> _Forward[P, Any]:
    """A blocking method running the async ``method``; ``wrap(proxy, result)`` wraps its result."""
    return _Forward(method, wrap, run=True)


def forwarding(
    method: Callable[Concatenate[Any, P], R], wrap: Callable[[Any, R], W]
) -> _Forward[P, W]:
    """A method calling the plain (non-async) ``method`` and wrapping its result in a proxy."""
    return _Forward(method, wrap, run=False)


class _Reading:
    """A descriptor: ``proxy.name`` reads the same attribute of ``proxy._async``, as it is now."""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    def __get__(self, obj: Proxy | None, owner: type[Any]) -> Any:
        if obj is None:
            return self
        return getattr(obj._async, self._name)  # noqa: SLF001 (the proxy's own target)

    def __set__(self, obj: Proxy, value: Any) -> None:
        raise AttributeError(f"{self._name!r} is read-only (it mirrors the async object's)")


def reading() -> Any:
    """A read-only attribute mirroring the async object's attribute of the same name.

    Declare its type on the proxy class and its docstring below it, as for any attribute::

        id: str = reading()
        \"\"\"The session id.\"\"\"
    """
    return _Reading()


class View(Proxy):
    """A proxy that belongs to a ``SyncNemoClient``: shares its loop."""

    def __init__(self, owner: Proxy, target: Any) -> None:
        # One family of proxies sharing a loop: each reads its owner's plumbing.
        self._runner = owner._runner  # noqa: SLF001
        self._client: SyncNemoClient = owner._client if isinstance(owner, View) else owner  # type: ignore[assignment]  # noqa: SLF001
        self._async = target

    def __repr__(self) -> str:
        return "<Sync" + repr(self._async).removeprefix("<")
