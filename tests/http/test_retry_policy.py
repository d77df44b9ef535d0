"""The retry policy, as a table: which failure of which kind of call is tried again, and how.

This is the SDK's most important contract (a wrong row re-sends a chat message and charges twice,
or gives up on a call that was safe to repeat), so every row is spelled out here rather than
inferred from scenario tests. The loop that applies it (tenacity's) is tested end to end in
``test_client_options.py`` and the reliability suite.
"""

from __future__ import annotations

import asyncio

import attrs
import pytest

from nemovideo import (
    APIError,
    AuthenticationError,
    ChatRecoveryError,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitError,
    ServerError,
    StreamTimeoutError,
    TransportError,
    ValidationError,
)
from nemovideo._http.retry import Attempts, Call, Retry, RetryPolicy

POLICY = RetryPolicy(max_retries=2, backoff=0.5, backoff_max=8.0, rate_limit_wait=30.0)

READ = Call("GET", "/api/credits/balance/simple")
UPLOAD = Call("POST", "/api/upload-video/nemo_agent/me/{sid}", resend=True)
CHAT = Call("POST", "/run_sse", resend=False)
SUBMIT = Call("POST", "/api/render/proxy/lambda", resend=True, retry_status=False)
TOKEN = Call("POST", "/api/auth/anonymous-token", auth=False, resend=False, patient=False)

BACKOFF = Retry()
RENEW = Retry(0.0, renew=True)
GIVE_UP = None


def _transport_error(message: str, *, never_sent: bool) -> TransportError:
    error = TransportError(message)
    error.never_sent = never_sent
    return error


NEVER_SENT = _transport_error("connection refused", never_sent=True)
DROPPED = _transport_error("connection reset", never_sent=False)
ERROR_5XX = ServerError(http_status=502)

TABLE = [
    # (error, call, what the policy decides)
    # a connection that never opened: nothing reached the server, so any call may go again
    (NEVER_SENT, READ, BACKOFF),
    (NEVER_SENT, CHAT, BACKOFF),
    (NEVER_SENT, SUBMIT, BACKOFF),
    (NEVER_SENT, TOKEN, BACKOFF),
    # a dropped connection: only calls that may be re-sent
    (DROPPED, READ, BACKOFF),
    (DROPPED, UPLOAD, BACKOFF),
    (DROPPED, SUBMIT, BACKOFF),  # the same client-chosen id names the same job
    (DROPPED, CHAT, GIVE_UP),  # never re-send a chat message (a second charge)
    (DROPPED, TOKEN, GIVE_UP),
    # 5xx: re-sendable calls, except a render submit (resubmitted with a new id by the renderer)
    (ERROR_5XX, READ, BACKOFF),
    (ERROR_5XX, UPLOAD, BACKOFF),
    (ERROR_5XX, SUBMIT, GIVE_UP),
    (ERROR_5XX, CHAT, GIVE_UP),
    # a code in the 500s on HTTP 200 is a ServerError too (the code table mixes in statuses)
    (ServerError(code=503, http_status=200), READ, BACKOFF),
    (ServerError(code=500, http_status=200), SUBMIT, GIVE_UP),  # the renderer uses a new id
    # 5xx with Retry-After: that wait, as on 429; too long raises at once
    (ServerError(http_status=503, retry_after=2.0), READ, Retry(2.0)),
    (ServerError(http_status=503, retry_after=3600.0), READ, GIVE_UP),
    (ServerError(http_status=503, retry_after=2.0), CHAT, GIVE_UP),
    # 408 / 425: the server asks for the same request again, for calls safe to repeat
    (APIError(http_status=408), READ, BACKOFF),
    (APIError(code=425, http_status=425), UPLOAD, BACKOFF),
    (APIError(http_status=408), CHAT, GIVE_UP),
    (APIError(http_status=425), SUBMIT, GIVE_UP),
    (APIError(code=7777, http_status=200), READ, GIVE_UP),  # other unknown codes: not retried
    # 429: wait what the server asked (else rate_limit_wait), once; never for the token call
    (RateLimitError(retry_after=3.0), READ, Retry(3.0)),
    (RateLimitError(), READ, Retry(30.0)),
    (RateLimitError(retry_after=3.0), CHAT, Retry(3.0)),  # refused, so nothing was charged
    (RateLimitError(retry_after=3600.0), READ, GIVE_UP),  # longer than max_rate_limit_wait
    (RateLimitError(retry_after=3.0), TOKEN, GIVE_UP),
    # the anonymous-token call, when patient: the 7-day quota waits only a stated, short wait
    (RateLimitError(), attrs.evolve(TOKEN, patient=True), GIVE_UP),
    (RateLimitError(retry_after=2.0), attrs.evolve(TOKEN, patient=True), Retry(2.0)),
    (RateLimitError(retry_after=604800.0), attrs.evolve(TOKEN, patient=True), GIVE_UP),
    # 1001 / 401: renew the anonymous token once and replay at once
    (AuthenticationError(), READ, RENEW),
    (AuthenticationError(), CHAT, RENEW),
    (AuthenticationError(), TOKEN, GIVE_UP),  # the token call carries no token to renew
    # timeouts of a stream, and answers that no retry can change
    (StreamTimeoutError("no content for 600 s"), READ, GIVE_UP),
    (InsufficientCreditsError(), READ, GIVE_UP),
    (NotFoundError(http_status=404), READ, GIVE_UP),
    (ValidationError("bad input"), READ, GIVE_UP),
    (ChatRecoveryError("nothing changed"), READ, GIVE_UP),
    # not a NemoError at all: cancellation and bugs are never retried
    (asyncio.CancelledError(), READ, GIVE_UP),
    (KeyboardInterrupt(), READ, GIVE_UP),
    (RuntimeError("a bug"), READ, GIVE_UP),
]


@pytest.mark.parametrize(
    ("error", "call", "expected"),
    TABLE,
    ids=[f"{type(e).__name__}-{c.describe()}" for e, c, _ in TABLE],
)
def test_first_failure(error: BaseException, call: Call, expected: Retry | None) -> None:
    assert POLICY.decide(error, Attempts(), call) == expected


def test_network_retries_stop_at_max_retries() -> None:
    attempts = Attempts()
    decisions = []
    for _ in range(4):
        decisions.append(POLICY.decide(DROPPED, attempts, READ))
        attempts.note(DROPPED)
    assert decisions == [BACKOFF, BACKOFF, GIVE_UP, GIVE_UP]


def test_a_second_429_or_a_second_renewal_gives_up() -> None:
    attempts = Attempts()
    attempts.note(RateLimitError(retry_after=1.0))
    attempts.note(AuthenticationError())
    assert POLICY.decide(RateLimitError(retry_after=1.0), attempts, READ) is GIVE_UP
    assert POLICY.decide(AuthenticationError(), attempts, READ) is GIVE_UP
    assert POLICY.decide(DROPPED, attempts, READ) == BACKOFF  # failures are counted apart


def test_max_retries_zero_still_replays_a_renewed_token_and_waits_out_a_429() -> None:
    policy = RetryPolicy(max_retries=0, backoff=0.5, backoff_max=8.0, rate_limit_wait=30.0)
    assert policy.decide(DROPPED, Attempts(), READ) is GIVE_UP
    assert policy.decide(AuthenticationError(), Attempts(), READ) == RENEW
    assert policy.decide(RateLimitError(retry_after=2.0), Attempts(), READ) == Retry(2.0)


class _State:
    """The one field of tenacity's RetryCallState that its exponential wait reads."""

    def __init__(self, attempt_number: int) -> None:
        self.attempt_number = attempt_number


@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_backoff_is_full_jitter_under_a_doubling_cap(attempt: int) -> None:
    cap = min(8.0, 2 * 0.5 * 2 ** (attempt - 1))
    waits = [POLICY.wait(BACKOFF, _State(attempt)) for _ in range(200)]  # type: ignore[arg-type]
    assert all(0.0 <= w <= cap for w in waits)
    assert max(waits) > cap / 2  # random over the whole range, not a fixed delay


def test_a_fixed_wait_is_the_decision_s() -> None:
    assert POLICY.wait(Retry(3.0), _State(5)) == 3.0  # type: ignore[arg-type]
