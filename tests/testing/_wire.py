"""A raw aiohttp view of the emulator for protocol tests: no SDK code between test and wire."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiohttp

from nemovideo.testing import Emulator
from nemovideo.testing.drafts import make_draft, video_track

ATTRIBUTION = {"X-Skill-Source": "t", "X-Skill-Version": "1", "X-Skill-Platform": "unknown"}
SUBMIT = "/api/render/proxy/lambda"


class Wire:
    """Logs in anonymously, opens a session, and sends raw requests: (status, body, headers)."""

    def __init__(self, http: aiohttp.ClientSession, emu: Emulator) -> None:
        self.http, self.emu = http, emu
        self.token = self.user_id = self.sid = self.task_id = ""

    async def login(self) -> Wire:
        status, body, _ = await self.call(
            "POST", "/api/auth/anonymous-token", token=None,
            headers={"X-Client-Id": str(uuid.uuid4())},
        )  # fmt: skip
        assert status == 200, body
        self.token, self.user_id = body["data"]["token"], body["data"]["user_id"]
        _, body, _ = await self.call(
            "POST", "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "project", "language": "en"},
        )  # fmt: skip
        self.sid, self.task_id = body["data"]["session_id"], body["data"]["task_id"]
        return self

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "",
        headers: dict[str, str] | None = None,
        attribution: bool = True,
        **kw: Any,
    ) -> tuple[int, Any, Any]:
        hdrs = dict(ATTRIBUTION) if attribution else {}
        token = self.token if token == "" else token
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        url = path if "://" in path else self.emu.url + path
        async with self.http.request(method, url, headers=hdrs, **kw) as resp:
            raw = await resp.read()
            body = json.loads(raw) if "json" in resp.content_type else raw
            return resp.status, body, resp.headers

    def chat_body(self, text: str, **fields: Any) -> dict[str, Any]:
        body = {"app_name": "nemo_agent", "user_id": "me", "session_id": self.sid,
                "new_message": {"role": "user", "parts": [{"text": text}]}}  # fmt: skip
        body.update(fields)
        return body

    async def frames(self, text: str) -> list[str]:
        """The SSE frames of a chat answer (raw text of each, blank-line separated)."""
        status, body, headers = await self.call("POST", "/run_sse", json=self.chat_body(text))
        assert status == 200 and headers["Content-Type"] == "text/event-stream", body
        assert b"\r" not in body
        return [f for f in body.decode().split("\n\n") if f]


def events(frames: list[str]) -> list[dict[str, Any]]:
    """The JSON objects of the ``data: {...}`` frames, in order."""
    return [json.loads(f[len("data: ") :]) for f in frames if f.startswith("data: {")]


def parts(event: dict[str, Any]) -> list[dict[str, Any]]:
    content = event.get("content") or {}
    found: list[dict[str, Any]] = content.get("parts") or []
    return found


def job(wire: Wire, job_id: str, **fields: Any) -> dict[str, Any]:
    """A render submit body for a one-second draft; ``fields`` replace (None: drop) keys."""
    draft = make_draft([video_track([{"media_id": "m_a", "url": "a.png"}], 1000)])
    body = {"id": job_id, "sessionId": wire.sid, "draft": draft,
            "output": {"format": "mp4", "quality": "high"}}  # fmt: skip
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


async def finish(wire: Wire, job_id: str) -> dict[str, Any]:
    """Poll the job until it is ``completed`` or ``failed``; its last answer's ``data``."""
    for _ in range(3000):  # up to a minute on a slow machine
        _, body, _ = await wire.call("GET", f"{SUBMIT}/{job_id}")
        data: dict[str, Any] = body.get("data", body)
        if data["status"] in ("completed", "failed"):
            return data
        await asyncio.sleep(0.02)
    raise AssertionError("the job never finished")
