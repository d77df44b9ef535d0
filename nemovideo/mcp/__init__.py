"""``nemovideo mcp``: the SDK as a Model Context Protocol server, so AI assistants make videos with it.

Needs the extra: ``pip install -e '.[mcp]'`` in a clone (the official ``mcp`` SDK, 2.x). Then::

    nemovideo mcp                          # stdio: what Claude Desktop, Claude Code, Cursor launch
    nemovideo mcp --http --port 8931       # streamable HTTP on http://127.0.0.1:8931/mcp
    nemovideo mcp --root ~/videos          # the only folder upload/export may touch (default: cwd)

Tools: ``new_session``, ``upload``, ``chat``, ``answer``, ``state``, ``export``, ``credits``
(``nemovideo.mcp._tools``). Configuration is the client's: ``NEMO_TOKEN``, ``NEMO_API_URL``, the
config dir and its anonymous token cache; with ``NEMO_API_URL`` pointing at ``nemovideo
emulator`` everything works offline. The token never appears in a tool result, a notification, a
log line or an error. See docs/mcp.md for client configuration snippets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_arguments", "run", "serve"]

EXTRA_HINT = "nemovideo mcp needs the MCP extra: pip install -e '.[mcp]' (from a clone)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``nemovideo mcp``'s own options."""
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="the only folder upload and export may read and write "
        "(default: the current directory)",
    )
    parser.add_argument(
        "--http", action="store_true", help="serve streamable HTTP on 127.0.0.1 instead of stdio"
    )
    parser.add_argument(
        "--port", type=int, default=8931, help="the HTTP port (default 8931; 0: any free one)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="the longest a chat, upload or export call may take (default 900)",
    )


async def serve(
    client_options: dict[str, Any],
    *,
    root: Path | None = None,
    http: bool = False,
    port: int = 8931,
    timeout: float = 900.0,
) -> None:
    """Serve the tools until stdin closes (stdio) or the process is interrupted (HTTP)."""
    from nemovideo import NemoClient
    from nemovideo.mcp._paths import PathGuard
    from nemovideo.mcp._tools import Bounds, Toolbox, build_server

    guard = PathGuard(root if root is not None else Path.cwd())
    async with NemoClient(**client_options) as client:
        toolbox = Toolbox(client, guard, Bounds(long=timeout))
        server = build_server(toolbox)
        try:
            if http:
                await _serve_http(server, port)
            else:
                await server.run_stdio_async()
        finally:
            await toolbox.aclose()


async def _serve_http(server: Any, port: int) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    bound = sock.getsockname()[1]
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    print(
        f"nemovideo mcp: serving MCP at http://127.0.0.1:{bound}/mcp", file=sys.stderr, flush=True
    )
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()


def run(options: argparse.Namespace, client_options: dict[str, Any]) -> int:
    """The ``nemovideo mcp`` command: 0 after a clean end, 2 for a bad option."""
    if options.timeout is None or not 0 < options.timeout <= 86400:
        print("error: --timeout: expected seconds between 0 and 86400", file=sys.stderr)
        return 2
    if not 0 <= options.port <= 65535:
        print(f"error: --port {options.port}: a port is a number from 0 to 65535", file=sys.stderr)
        return 2
    root = options.root
    if root is not None and not Path(root).expanduser().is_dir():
        print(f"error: --root {root}: not a directory", file=sys.stderr)
        return 2
    logging.getLogger("nemovideo").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(
                client_options,
                root=root,
                http=options.http,
                port=options.port,
                timeout=options.timeout,
            )
        )
    return 0
