"""What one API call is, and the one policy that decides whether and when to try it again.

Every HTTP request the SDK makes is described by a frozen :class:`Call` and run by the transport's
single loop, which asks :meth:`RetryPolicy.delay_for` after each failure: a number of seconds to
wait before the next attempt, or ``None`` to raise. Nothing else in the SDK decides to repeat a
request. The rules, in the order they are checked:

- **1001 / 401** (token rejected): renew an anonymous token once and replay at once. A token the
  caller chose is never replaced, so it raises.
- **429**: wait ``Retry-After`` (else ``rate_limit_wait``) and try once more; a wait longer than
  ``max_rate_limit_wait`` raises at once, since sleeping for an hour is never what a caller wants.
  On the anonymous-token call a 429 is the 7-day token quota: it raises at once unless the
  server states a short ``Retry-After``.
- **A connection that never opened** (refused, DNS, connect timeout): nothing reached the server,
  so any call may be tried again, up to ``max_retries``, with backoff.
- **5xx, 408, 425 and other network failures**: only calls that may be re-sent (``Call.resend``).
  A 408 (the server gave up waiting for the request) and a 425 (too early: a TLS early-data
  replay refused) say "send it again"; an envelope ``code`` in the 500s on HTTP 200 is a
  ``ServerError`` like HTTP 5xx. A ``Retry-After`` on any of these (a 503 in maintenance) is
  honoured as on 429: that wait instead of the backoff, and a wait past ``max_rate_limit_wait``
  raises at once.

**Never re-send** (``resend=False``) marks a call whose request, once it may have reached the
server, must not be sent again: a chat message (``/run_sse``; a second message is a second
charge and a second edit). A render submit *is* re-sent when its answer was lost (a reset, a
timeout), because its body carries the client-chosen job id, so the copy names the same job
instead of starting another; a 5xx answer to it is not retried here (``retry_status=False``):
the server refused that id, and the renderer submits once more with a new one.

The loop that applies the policy is tenacity's (``AsyncRetrying``, in ``transport``): the policy is
its ``retry`` (:meth:`RetryPolicy.decide`), its ``wait`` (a fixed wait the decision names, else
tenacity's full-jitter exponential backoff, ``wait_random_exponential``) and its ``before_sleep``
(the log line and ``on_retry``). The first attempt runs outside tenacity, so the successful path
pays nothing for it. ``tests/http/test_retry_policy.py`` is this module's table: error x call -> decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from nemovideo._http.endpoints import ANONYMOUS_TOKEN, Envelope
from nemovideo.errors import (
    APIError,
    AuthenticationError,
    NemoError,
    RateLimitError,
    ServerError,
    StreamTimeoutError,
    TransportError,
)

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from nemovideo._config.config import ClientConfig

__all__ = ["Attempts", "BodyFactory", "Call", "CallOptions", "Envelope", "Retry", "RetryPolicy"]

BodyFactory = Callable[[], Any]


@attrs.frozen(eq=False)
class Call:
    """One API call, as the transport's loop runs it.

    ``path`` is a template (``/api/render/proxy/lambda/{id}``) whose placeholders are filled from
    ``segments``, each value percent-encoded as one path segment. ``body`` is a factory, so each
    attempt sends a fresh payload (a file reopened at its start). ``resend`` says whether the
    request may be sent again once it may have reached the server. ``patient`` lets a 429 wait.

    Time bounds, in seconds: ``timeout`` bounds each whole attempt (``None``: the configured
    ``request_timeout``, or no total bound for a ``stream``); ``open_timeout`` bounds the wait for
    the answer's headers; ``idle_timeout`` the wait for each next chunk of the body.
    ``follow_redirects`` (downloads) follows up to five redirects, sending the token and the
    attribution headers only to the API's own origin. ``retry_status=False`` leaves a 5xx answer
    to the caller (a render submit the server refused is sent again with a new id).
    """

    method: str
    path: str
    segments: Mapping[str, object] | None = None
    json_body: Any = None
    body: BodyFactory | None = None
    headers: Mapping[str, str] | None = None
    auth: bool = True
    resend: bool = True
    envelope: Envelope = "code"
    timeout: float | None = None
    patient: bool = True
    stream: bool = False
    open_timeout: float | None = None
    idle_timeout: float | None = None
    follow_redirects: bool = False
    retry_status: bool = True

    def describe(self) -> str:
        """``"GET /api/render/proxy/lambda/render_1"``: method and encoded path, no query."""
        from nemovideo._http.paths import build_path

        try:
            return f"{self.method} {build_path(self.path, self.segments)}"
        except ValueError:
            return f"{self.method} {self.path}"


class CallOptions(TypedDict, total=False):
    """What a caller may set on a call the endpoint table names (``Api.send(endpoint, **options)``);
    each is the :class:`Call` field of the same name."""

    segments: Mapping[str, object] | None
    json_body: Any
    body: BodyFactory | None
    headers: Mapping[str, str] | None
    timeout: float | None
    retry_status: bool


@attrs.define(eq=False)
class Attempts:
    """What happened to one call so far; the policy reads it, the loop updates it."""

    failures: int = 0
    rate_limited: int = 0
    renewed: int = 0

    def note(self, error: NemoError) -> None:
        if isinstance(error, RateLimitError):
            self.rate_limited += 1
        elif isinstance(error, AuthenticationError):
            self.renewed += 1
        else:
            self.failures += 1


@attrs.frozen
class Retry:
    """The policy's answer after a failure: try again, after ``after`` seconds (``None``: the
    jittered exponential backoff), renewing the token first if ``renew``."""

    after: float | None = None
    renew: bool = False


@attrs.frozen(eq=False)
class RetryPolicy:
    """Every retry decision of the SDK (see the module docstring for the rules).

    >>> policy = RetryPolicy(max_retries=2, backoff=0.5, backoff_max=8.0, rate_limit_wait=30.0)
    >>> policy.decide(RateLimitError(retry_after=3.0), Attempts(), Call("GET", "/x"))
    Retry(after=3.0, renew=False)
    >>> policy.decide(ServerError(http_status=502), Attempts(), Call("POST", "/run_sse",
    ...               resend=False)) is None
    True
    """

    max_retries: int
    backoff: float
    backoff_max: float
    rate_limit_wait: float
    max_rate_limit_wait: float = 120.0

    @classmethod
    def from_config(cls, config: ClientConfig) -> RetryPolicy:
        return cls(
            max_retries=config.max_retries,
            backoff=config.retry_backoff,
            backoff_max=config.retry_backoff_max,
            rate_limit_wait=config.rate_limit_wait,
            max_rate_limit_wait=max(120.0, config.rate_limit_wait),
        )

    def decide(self, error: BaseException, attempts: Attempts, call: Call) -> Retry | None:
        """Whether to try ``call`` again after ``error`` (and how), or ``None`` to raise."""
        if not isinstance(error, NemoError):
            return None  # cancellation, KeyboardInterrupt, a bug: never retried
        if isinstance(error, AuthenticationError):
            return _RENEW if call.auth and attempts.renewed == 0 else None
        if isinstance(error, RateLimitError):
            if not call.patient or attempts.rate_limited >= 1:
                return None
            if call.path == ANONYMOUS_TOKEN.path and error.retry_after is None:
                return None  # the anonymous-token quota is 7 days: only a short, stated wait
            wait = self.rate_limit_wait if error.retry_after is None else error.retry_after
            return Retry(wait) if wait <= self.max_rate_limit_wait else None
        if isinstance(error, StreamTimeoutError) or attempts.failures >= self.max_retries:
            return None
        sent = not (isinstance(error, TransportError) and error.never_sent)
        if not sent or (call.resend and isinstance(error, TransportError)):
            return _BACKOFF
        if call.resend and call.retry_status and _says_send_again(error):
            after = getattr(error, "retry_after", None)
            if after is None:
                return _BACKOFF
            return Retry(after) if after <= self.max_rate_limit_wait else None
        return None

    def wait(self, decision: Retry, state: RetryCallState) -> float:
        """Seconds to sleep before the next attempt: the decision's, else the backoff for the
        attempt number tenacity counts."""
        if decision.after is not None:
            return decision.after
        from tenacity import wait_random_exponential  # loaded with the first retry, not the SDK

        # the first retry waits up to 2 * backoff, the next up to 4 * backoff, ... (full jitter)
        return wait_random_exponential(multiplier=2 * self.backoff, max=self.backoff_max)(state)


#: HTTP statuses (or envelope codes) that ask for the same request again: request timeout, too early.
SEND_AGAIN = frozenset({408, 425})


def _says_send_again(error: NemoError) -> bool:
    """A server failure (5xx, or a 5xx envelope code), or a 408/425."""
    if isinstance(error, ServerError):
        return True
    if not isinstance(error, APIError):
        return False
    return error.http_status in SEND_AGAIN or error.code in SEND_AGAIN


_RENEW = Retry(0.0, renew=True)
_BACKOFF = Retry()
