"""``Peer``: the SDK, the emulator and one ADK app wired together for one test, and captures.

    peer.use("scripted_llm", streaming=True)
    reply = await peer.session.send("add music")
    assert peer.posts() == 1
    peer.record("scripted_llm.stream")      # with NEMO_ADK_RECORD=1: keep the bytes ADK sent

Captures live in ``captures/adk-<version>/<name>.sse`` with ``<name>.json`` beside them (HTTP
status and content type); ``test_captures.py`` replays them through the emulator.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

import nemovideo
from nemovideo.testing import Emulator

CAPTURES = Path(__file__).resolve().parent / "captures"


@attrs.define
class Peer:
    emu: Emulator
    client: nemovideo.NemoClient
    session: nemovideo.Session
    version: str

    @property
    def major(self) -> str:
        return self.version.split(".")[0]

    def use(self, app: str, *, streaming: bool | None = None,
            body: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:  # fmt: skip
        ctl = self.emu.chat
        ctl.upstream_app, ctl.upstream_streaming, ctl.upstream_body = app, streaming, body

    def posts(self) -> int:
        """POSTs to /run_sse the emulator saw; each must also have been forwarded once."""
        seen = len(self.emu.requests_to("/run_sse", "POST"))
        assert self.emu.chat.upstream_posts == seen, "every POST is forwarded exactly once"
        return seen

    def state_reads(self) -> int:
        return len(self.emu.requests_to("/api/state/", "GET"))

    def record(self, name: str) -> None:
        """With ``NEMO_ADK_RECORD=1``: save the last answer ADK sent, as it was on the wire."""
        if os.environ.get("NEMO_ADK_RECORD") != "1":
            return
        status, content_type, body = self.emu.chat.upstream_answers[-1]
        folder = CAPTURES / f"adk-{self.version}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.sse").write_bytes(body)
        meta = {"status": status, "content_type": content_type, "app": self.emu.chat.upstream_app,
                "streaming": self.emu.chat.upstream_streaming, "adk": self.version}  # fmt: skip
        (folder / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
