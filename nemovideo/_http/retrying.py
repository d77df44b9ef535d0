"""The retry loop: tenacity's ``AsyncRetrying`` driven by the SDK's one :class:`RetryPolicy`.

The transport makes the first attempt itself, so a call that succeeds never builds any of this;
only after a failure does :func:`retry_after_failure` hand the call to tenacity, which then owns
the loop: the policy's :meth:`~nemovideo._http.retry.RetryPolicy.decide` is its ``retry``, the
decision's wait (or tenacity's jittered backoff) its ``wait``, and the log line and the caller's
``on_retry`` hook its ``before_sleep``. A token the server rejected is renewed just before the
attempt that replays it::

    try:
        return await attempt(token)
    except NemoError as exc:
        return await retry_after_failure(exc, call, token, attempt, hooks)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from tenacity import AsyncRetrying, RetryCallState, stop_never

from nemovideo._http.retry import Attempts, Call, Retry, RetryPolicy
from nemovideo.errors import AuthenticationError, NemoError

__all__ = ["RetryHooks", "retry_after_failure"]

log = logging.getLogger("nemovideo.transport")

T = TypeVar("T")


class RetryHooks(Protocol):
    """What the loop needs from the transport: the policy, the caller's hook, token renewal."""

    policy: RetryPolicy
    on_retry: Callable[[Call, NemoError, float], Any] | None

    def renewable(self) -> bool: ...

    def rejected(self, http_status: int | None) -> NemoError: ...

    async def renew(self, token: str) -> str: ...


class _Run:
    """One call's retries: what the policy has seen so far and the token to send next."""

    __slots__ = ("attempts", "call", "decision", "hooks", "pending", "renew", "token")

    def __init__(self, first: NemoError, call: Call, token: str | None, hooks: RetryHooks) -> None:
        self.pending: NemoError | None = first
        self.call = call
        self.token = token
        self.hooks = hooks
        self.attempts = Attempts()
        self.decision = Retry()
        self.renew = False

    def retry(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome is not None else None
        if error is None:
            return False
        decision = self.hooks.policy.decide(error, self.attempts, self.call)
        renew = isinstance(error, AuthenticationError) and self.token is not None
        if renew and not self.hooks.renewable():
            raise self.hooks.rejected(getattr(error, "http_status", None)) from None
        if decision is None:
            return False
        assert isinstance(error, NemoError)  # decide() gives up on anything else
        self.attempts.note(error)
        self.decision, self.renew = decision, renew
        return True

    def wait(self, state: RetryCallState) -> float:
        return self.hooks.policy.wait(self.decision, state)

    def before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        assert isinstance(error, NemoError)
        delay = state.upcoming_sleep
        call = self.call
        log.info(
            "%s: %s; retrying in %.2f s",
            call.describe(),
            error,
            delay,
            extra={
                "method": call.method,
                "path": call.path,
                "retry_in": delay,
                "request_id": error.request_id,
            },
        )
        if self.hooks.on_retry is not None:
            self.hooks.on_retry(call, error, delay)

    async def attempt(self, send: Callable[[str | None], Awaitable[T]]) -> T:
        if self.pending is not None:  # tenacity's first look is at the failure already seen
            error, self.pending = self.pending, None
            raise error
        if self.renew and self.token is not None:
            self.renew = False
            self.token = await self.hooks.renew(self.token)
        return await send(self.token)


async def retry_after_failure(
    first: NemoError,
    call: Call,
    token: str | None,
    send: Callable[[str | None], Awaitable[T]],
    hooks: RetryHooks,
) -> T:
    """Retry ``call`` after its first attempt failed with ``first``, as the policy says; its
    answer, or the last error raised as it was."""
    run = _Run(first, call, token, hooks)
    retrying = AsyncRetrying(
        retry=run.retry,
        wait=run.wait,
        stop=stop_never,  # the policy gives up (max_retries, one 429, one renewal)
        before_sleep=run.before_sleep,
        sleep=asyncio.sleep,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await run.attempt(send)
    raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover
