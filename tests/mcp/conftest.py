"""Helpers for the ``nemovideo mcp`` tests: the server as a real subprocess, driven by the ``mcp``
SDK's own client over stdio, against the test's emulator (which runs on the test's own loop)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import CallToolResult

from nemovideo.testing import Emulator, sample_images

_RUNS = itertools.count()
CALL_BOUND = 60.0
"""Seconds any one tool call may take in these tests (the client's read timeout)."""


@attrs.define
class Served:
    """One running ``nemovideo mcp``: its client, what it reported, and where its stderr goes."""

    client: Client
    stderr: Path
    root: Path
    config_dir: Path
    notes: list[tuple[float, float | None, str | None]] = attrs.Factory(list)
    texts: list[str] = attrs.Factory(list)
    _arrived: asyncio.Event = attrs.Factory(asyncio.Event)

    async def note_containing(self, text: str) -> str:
        """Wait (bounded) for a progress notification whose message holds ``text``."""

        async def wait() -> str:
            while True:
                for _, _, message in self.notes:
                    if message and text in message:
                        return message
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(wait(), CALL_BOUND)

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        """Call a tool with a progress callback; keeps every text and structured result."""

        async def progress(value: float, total: float | None, message: str | None) -> None:
            self.notes.append((value, total, message))
            self._arrived.set()

        result = await self.client.call_tool(
            name, arguments or {}, read_timeout_seconds=CALL_BOUND, progress_callback=progress
        )
        self.texts += [getattr(block, "text", "") for block in result.content]
        self.texts.append(json.dumps(result.structured_content))
        return result


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def server_env(emu: Emulator, config_dir: Path, **extra: str) -> dict[str, str]:
    """The server's environment: the emulator's URL and a config dir with millisecond waits."""
    config_dir.mkdir(parents=True, exist_ok=True)
    fast = {"poll_interval": 0.02, "poll_initial_interval": 0.01, "heartbeat_notice_interval": 0.05,
            "settle_wait": 0.01, "recovery_first_wait": 0.01, "recovery_wait": 0.02}  # fmt: skip
    (config_dir / "config.json").write_text(json.dumps(fast))
    emu.render.width, emu.render.height, emu.render.fps = 160, 90, 10
    return {"NEMO_API_URL": emu.url, "NEMO_CONFIG_DIR": str(config_dir), **extra}


def project_folder(tmp_path: Path) -> Path:
    """The folder the server may use (``--root``), holding the three sample images."""
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    for image in sample_images():
        (root / image.name).write_bytes(image.read_bytes())
    return root


def tokens_seen(emu: Emulator) -> set[str]:
    """Every bearer token the server sent the emulator (what must never reach the client)."""
    found = set()
    for request in emu.requests:
        value = request.headers.get("Authorization", "")
        if value.startswith("Bearer ") and len(value) > 12:
            found.add(value[len("Bearer ") :])
    return found


@contextlib.asynccontextmanager
async def serve_stdio(
    emu: Emulator, tmp_path: Path, *args: str, config_dir: Path | None = None, **env: str
) -> AsyncIterator[Served]:
    """``nemovideo mcp --root <project>`` as a subprocess, its client connected over stdio.

    The SDK's ``stdio_client`` owns the process: on exit it closes stdin and terminates the
    process (by its handle) if it has not ended within its bounded wait.
    """
    root = project_folder(tmp_path)
    config_dir = config_dir or tmp_path / "config"
    stderr = tmp_path / f"server-stderr-{next(_RUNS)}.txt"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "nemovideo", "mcp", "--root", str(root), *args],
        env=server_env(emu, config_dir, **env),
        cwd=str(tmp_path),
    )
    with stderr.open("w", encoding="utf-8") as errlog:
        transport = stdio_client(params, errlog=errlog)
        async with Client(transport, read_timeout_seconds=CALL_BOUND) as client:
            yield Served(client, stderr, root, config_dir)
