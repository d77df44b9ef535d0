"""Fault injection: make the emulator fail the way the real service does, on purpose.

Each rule matches the next ``times`` API requests whose path contains ``path`` (``None``: any API
request except the anonymous-token call, unless ``path`` names it) and, if given, whose method is
``method``. A rule is consumed as it fires and every firing is appended to ``faults.fired``::

    emu.faults.rate_limit(times=1, retry_after=0.05, path="/api/credits")
    emu.faults.server_error(times=2, status=503, method="GET")
    emu.faults.reset_connection(path="/with-session")   # the TCP connection is cut, no answer
    emu.faults.lose_answer(path="/api/render/proxy/lambda", method="POST")  # handled, answer lost
    emu.faults.error(2001)                               # in the current error style
    emu.faults.error(2001, path="/run_sse", after=2)     # the third chat on is out of credits
    emu.faults.expire_tokens()                           # every token issued so far, now
    emu.faults.drop_session(sid)                         # next use of sid -> 1002

Rules are checked in the order they were added, before routing; ``delay`` and ``lose_answer``
rules let the check go on (after sleeping, or marking the request), the first other matching
rule answers the request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from nemovideo._http.endpoints import ANONYMOUS_TOKEN
from nemovideo.testing._server.keys import ANSWER_LOST
from nemovideo.testing._server.store import DEFAULT_MESSAGES, STATUS_FOR_CODE, APIFailure

if TYPE_CHECKING:
    from nemovideo.testing._server.app import Emulator

__all__ = ["ANONYMOUS_TOKEN_PATH", "FaultRule", "Faults", "FiredFault"]

ANONYMOUS_TOKEN_PATH = ANONYMOUS_TOKEN.path


@attrs.define
class FaultRule:
    """A pending fault; ``times`` counts down as it fires."""

    kind: str
    times: int
    path: str | None = None
    method: str | None = None
    options: dict[str, Any] = attrs.Factory(dict)
    after: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return ANONYMOUS_TOKEN_PATH not in path
        return self.path in path


@attrs.frozen
class FiredFault:
    """One firing: the rule's kind and options, and the request it hit (None for direct actions)."""

    kind: str
    method: str | None
    path: str | None
    time: float
    options: Mapping[str, Any] = attrs.Factory(dict)


def _decimal(seconds: float) -> str:
    return f"{max(seconds, 0.0):f}".rstrip("0").rstrip(".") or "0"


def _positive(times: int) -> int:
    if times < 1:
        raise ValueError(f"times must be >= 1, got {times}")
    return times


class Faults:
    """The fault rules of one [`Emulator`][nemovideo.testing.Emulator] (``emu.faults``)."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu
        self._rules: list[FaultRule] = []
        self.fired: list[FiredFault] = []

    def __repr__(self) -> str:
        return f"<Faults pending={len(self._rules)} fired={len(self.fired)}>"

    @property
    def pending(self) -> list[FaultRule]:
        """A copy of the rules that have not fired out yet, in the order they are checked.

        Useful to assert a test consumed every fault it set up::

            assert emu.faults.pending == []
        """
        return list(self._rules)

    def _add(
        self,
        kind: str,
        times: int,
        path: str | None,
        method: str | None,
        after: int = 0,
        **options: Any,
    ) -> FaultRule:
        if after < 0:
            raise ValueError(f"after must be >= 0, got {after}")
        rule = FaultRule(
            kind, _positive(times), path, method.upper() if method else None, options, after
        )
        self._rules.append(rule)
        return rule

    # -- rules matched against requests ------------------------------------------------------

    def rate_limit(
        self,
        times: int = 1,
        retry_after: float = 0.01,
        path: str | None = None,
        method: str | None = None,
        after: int = 0,
    ) -> FaultRule:
        """HTTP 429 (code 429) with ``Retry-After: <retry_after>`` in decimal seconds.

        ``after``: let that many matching requests through first (here and in ``error``).
        """
        return self._add("rate_limit", times, path, method, after, retry_after=retry_after)

    def server_error(
        self,
        times: int = 1,
        status: int = 503,
        path: str | None = None,
        method: str | None = None,
        body: bool = True,
    ) -> FaultRule:
        """HTTP ``status`` with a JSON envelope (``body``) or a plain-text page, as gateways do."""
        return self._add("server_error", times, path, method, status=status, body=body)

    def reset_connection(
        self, times: int = 1, path: str | None = None, method: str | None = None
    ) -> FaultRule:
        """Cut the TCP connection without answering; the client sees a disconnect.

        aiohttp's client (3.14) silently re-sends an idempotent request (GET, HEAD...) once when
        its connection is cut, so a GET needs ``times=2`` to surface as an error; a POST is never
        re-sent.
        """
        return self._add("reset_connection", times, path, method)

    def lose_answer(
        self, times: int = 1, path: str | None = None, method: str | None = None
    ) -> FaultRule:
        """Handle the request (its body read, its effect applied), then cut the connection.

        The client sees a disconnect, as when a gateway times out or a reset hits after the
        service acted: it cannot know whether the request took effect. This is how a test shows
        a render submit re-sent with the same ``id`` names the job the lost answer would have::

            emu.faults.lose_answer(path="/api/render/proxy/lambda", method="POST")
            job = await session.export()        # sent twice, one job
            assert len(emu.store.render_jobs) == 1

        For answers sent whole; a stream (``/run_sse``) has been sent by the time its handler
        returns, so cut those with ``emu.chat.drop_after`` instead.
        """
        return self._add("lose_answer", times, path, method)

    def delay(
        self, seconds: float, times: int = 1, path: str | None = None, method: str | None = None
    ) -> FaultRule:
        """Hold the request ``seconds`` before it goes on (to other rules, then the handler)."""
        return self._add("delay", times, path, method, seconds=seconds)

    def error(
        self,
        code: int,
        times: int = 1,
        path: str | None = None,
        method: str | None = None,
        message: str | None = None,
        body: bool = True,
        after: int = 0,
    ) -> FaultRule:
        """Answer documented ``code`` in the emulator's current error style.

        ``after``: let that many matching requests through first, so a batch's third chat is
        the first one refused: ``emu.faults.error(2001, path="/run_sse", after=2)``.

        ``body=False``: the code's HTTP status (``"status"`` style, whatever the current one)
        with a plain-text page and no JSON, as a gateway in front of the service answers.

        A 1001 also expires the token the request carried, as the real service has then really
        stopped accepting it: the client's renewal gets a new token instead of a quota refusal.
        """
        return self._add("error", times, path, method, after, code=code, message=message, body=body)

    # -- direct actions ----------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far becomes expired now (next use: 1001)."""
        count = self._emu.store.expire_tokens()
        self.fired.append(FiredFault("expire_tokens", None, None, time.time(), {"count": count}))

    def drop_session(self, session_id: str) -> None:
        """The session disappears (next use: 1002)."""
        self._emu.store.sessions.pop(session_id, None)
        self.fired.append(
            FiredFault("drop_session", None, None, time.time(), {"session_id": session_id})
        )

    def clear(self) -> None:
        """Forget every pending rule (``fired`` is kept)."""
        self._rules.clear()

    # -- the middleware's side ---------------------------------------------------------------

    async def intercept(self, request: web.Request) -> web.StreamResponse | None:
        """The answer of the first matching rule, or None to let the request through."""
        for rule in list(self._rules):
            if not rule.matches(request.method, request.path):
                continue
            if rule.after > 0:
                rule.after -= 1
                continue
            rule.times -= 1
            if rule.times <= 0:
                self._rules.remove(rule)
            self.fired.append(
                FiredFault(rule.kind, request.method, request.path, time.time(), dict(rule.options))
            )
            if rule.kind == "delay":
                await asyncio.sleep(float(rule.options["seconds"]))
                continue
            if rule.kind == "lose_answer":
                request[ANSWER_LOST] = True
                continue
            return self._answer(rule, request)
        return None

    @staticmethod
    def answer_lost(request: web.Request) -> bool:
        """After the handler: cut the connection if a ``lose_answer`` rule matched ``request``."""
        if not request.get(ANSWER_LOST, False):
            return False
        if request.transport is not None:
            request.transport.abort()
        return True

    def _answer(self, rule: FaultRule, request: web.Request) -> web.StreamResponse:
        opts = rule.options
        if rule.kind == "rate_limit":
            failure = APIFailure(
                429,
                DEFAULT_MESSAGES[429],
                status=429,
                headers={"Retry-After": _decimal(float(opts["retry_after"]))},
            )
            return self._emu.failure_response(failure)
        if rule.kind == "server_error":
            status = int(opts["status"])
            message = DEFAULT_MESSAGES.get(status, "Server error")
            if opts["body"]:
                return self._emu.error_response(status, message, status=status)
            return web.Response(status=status, text=f"{status} {message}")
        if rule.kind == "reset_connection":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        code = int(opts["code"])
        if code == 1001:
            record = self._emu.store.tokens.get(self._emu.bearer_token(request) or "")
            if record is not None:
                record.expires_at = min(record.expires_at, time.time())
        message = opts["message"] or DEFAULT_MESSAGES.get(code, "Error")
        if not opts.get("body", True):
            status = STATUS_FOR_CODE.get(code, code if 400 <= code < 600 else 400)
            return web.Response(status=status, text=f"{status} {message}")
        return self._emu.error_response(code, message)
