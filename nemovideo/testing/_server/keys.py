"""How route modules declare handlers: from the endpoint table, finding their state by typed key.

Handlers are plain module-level functions declared on a ``web.RouteTableDef`` at the path and
method :mod:`nemovideo._http.endpoints` gives (so the client and the emulator cannot disagree on
one); each finds what it needs on its application, typed, instead of closing over it::

    routes = web.RouteTableDef()

    @endpoint(routes, api.CREDITS)
    async def credits(request: web.Request) -> web.Response:
        emu = request.app[EMULATOR]          # an Emulator, for mypy too
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler

from nemovideo._http.endpoints import Endpoint

if TYPE_CHECKING:
    from nemovideo.testing._render.run import RenderRunner
    from nemovideo.testing._server.app import Emulator

__all__ = ["ANSWER_LOST", "EMULATOR", "RENDERS", "endpoint"]

EMULATOR: web.AppKey[Emulator] = web.AppKey("nemovideo_emulator")
"""The emulator an application belongs to (both the API and the CDN origin)."""

RENDERS: web.AppKey[RenderRunner] = web.AppKey("nemovideo_renders")
"""The background tasks rendering the API origin's jobs."""

ANSWER_LOST: web.RequestKey[bool] = web.RequestKey("nemovideo_answer_lost", bool)
"""Set on a request a ``faults.lose_answer`` rule matched: handle it, then cut the connection."""


def endpoint(routes: web.RouteTableDef, ep: Endpoint) -> Callable[[Handler], Handler]:
    """Declare the decorated handler on ``routes`` for ``ep`` (a GET also answers HEAD)."""
    if ep.method == "GET":
        return routes.get(ep.path)
    return routes.route(ep.method, ep.path)
