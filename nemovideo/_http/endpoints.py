"""Every documented call of the NemoVideo API, named once (docs/protocol.md, "Endpoints").

The client builds its requests from this table and the emulator registers its routes from it, so
a path cannot drift between the two (``tests/testing/test_endpoints.py`` checks both sides). It
is pure data: importing it costs no aiohttp, so the CLI and tools can read it freely::

    >>> from nemovideo._http import endpoints as api
    >>> api.RENDER_POLL.method, api.RENDER_POLL.path
    ('GET', '/api/render/proxy/lambda/{id}')
    >>> api.RENDER_POLL.placeholders
    ('id',)
    >>> api.BY_NAME["credits"] is api.CREDITS
    True

Path templates name their segments in braces (``{sid}``, ``{id}``), the form both the client's
path builder and aiohttp's router read. ``envelope`` says how the answer is wrapped: ``"code"``
for ``{"code", "message", "data"}``, ``"render"`` for the render proxy's ``{"success", "data"}``
(or bare), ``"none"`` for raw bytes. ``resend`` says whether the request may be sent again once it
may have reached the server: never for a chat message (a double charge) or a call that creates
something the server names; yes for reads, for uploads (a re-upload is harmless) and for a render
submit, whose client-chosen ``id`` makes a re-send name the same job. ``auth`` is false only for
the anonymous-token call, which goes without a bearer token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import attrs

__all__ = [
    "ALL",
    "ANONYMOUS_TOKEN",
    "BY_NAME",
    "CHAT",
    "CLAIM_TOKEN",
    "CREATE_SESSION",
    "CREDITS",
    "DOWNLOAD",
    "RENDER_CANCEL",
    "RENDER_POLL",
    "RENDER_SUBMIT",
    "STATE",
    "UPLOAD",
    "Endpoint",
    "Envelope",
]

Envelope = Literal["code", "render", "none"]
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@attrs.frozen(eq=False)
class Endpoint:
    """One documented call: its method, path template, answer envelope and re-send rule."""

    name: str
    method: str
    path: str
    envelope: Envelope
    resend: bool
    auth: bool = True

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The names of the path's ``{segments}``, in order (``()`` for a fixed path)."""
        return tuple(_PLACEHOLDER.findall(self.path))


ANONYMOUS_TOKEN = Endpoint(
    "anonymous_token", "POST", "/api/auth/anonymous-token", "code", resend=False, auth=False
)
CREATE_SESSION = Endpoint(
    "create_session", "POST", "/api/tasks/me/with-session/nemo_agent", "code", resend=False
)
CLAIM_TOKEN = Endpoint("claim_token", "POST", "/api/auth/claim-token", "code", resend=False)
CHAT = Endpoint("chat", "POST", "/run_sse", "code", resend=False)
"""The answer is an event stream; only failures before it starts come in the code envelope."""
UPLOAD = Endpoint("upload", "POST", "/api/upload-video/nemo_agent/me/{sid}", "code", resend=True)
CREDITS = Endpoint("credits", "GET", "/api/credits/balance/simple", "code", resend=True)
STATE = Endpoint("state", "GET", "/api/state/nemo_agent/me/{sid}/latest", "code", resend=True)
RENDER_SUBMIT = Endpoint("render_submit", "POST", "/api/render/proxy/lambda", "render", resend=True)
RENDER_POLL = Endpoint("render_poll", "GET", "/api/render/proxy/lambda/{id}", "render", resend=True)
RENDER_CANCEL = Endpoint(
    "render_cancel", "POST", "/api/render/proxy/lambda/{id}/cancel", "render", resend=False
)
DOWNLOAD = Endpoint("download", "GET", "/api/render/proxy/{id}/download", "none", resend=True)
"""The fallback download of a finished render (bearer auth), when its ``outputUrl`` fails."""

ALL: tuple[Endpoint, ...] = (
    ANONYMOUS_TOKEN,
    CREATE_SESSION,
    CLAIM_TOKEN,
    CHAT,
    UPLOAD,
    CREDITS,
    STATE,
    RENDER_SUBMIT,
    RENDER_POLL,
    RENDER_CANCEL,
    DOWNLOAD,
)
"""Every endpoint, in the order docs/protocol.md lists them."""

BY_NAME: Mapping[str, Endpoint] = MappingProxyType({e.name: e for e in ALL})
