"""The token stays where it belongs across a whole session of work.

One flow - upload, chat (with a dropped stream recovered), a token renewal, an export whose download
falls back to the API and is redirected to another origin - runs with every logger at DEBUG. Then
no log record, repr, exception text or traceback holds the token, and only the API origin ever
received an ``Authorization`` header.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client, sample_images


async def test_token_never_leaves_the_api_origin(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    controls = emulator.render
    controls.width, controls.height = 160, 90
    controls.cdn_missing = True
    controls.redirect_downloads = True
    texts: list[str] = []
    async with fast_client(emulator, tmp_path / "cfg", max_polls=1000) as client:
        session = await client.create_session()
        media = await session.upload(sample_images())
        emulator.chat.drop_after = 2
        reply = await session.send("turn these images into a 6-second video")
        assert reply.recovered and reply.changes
        emulator.faults.error(1001, times=1, path="/api/state/")
        await session.state()
        assert len(emulator.requests_to("/api/auth/anonymous-token")) == 2
        token = emulator.requests[-1].headers["Authorization"].removeprefix("Bearer ")
        job = await session.export()
        path = await job.download(tmp_path / "out.mp4")
        assert path.stat().st_size > 0
        emulator.faults.error(2001, times=1, path="/run_sse")
        with pytest.raises(nemovideo.InsufficientCreditsError) as info:
            await session.send("add a title 'x'")
        assistant = client.assistant()
        texts += [repr(x) for x in (client, client.config, session, job, job.result, media,
                                    reply, assistant, info.value)]  # fmt: skip
        texts += [str(info.value), "".join(traceback.format_exception(info.value))]
    texts += [r.getMessage() for r in caplog.records]
    texts += [r.exc_text or "" for r in caplog.records]
    assert any("recovering" in t for t in texts), "the drop was logged"
    for text in texts:
        assert token not in text
    api_auth = [r for r in emulator.requests if "Authorization" in r.headers]
    assert api_auth, "the API did get the token"
    assert emulator.cdn_requests, "the redirect was followed to the CDN origin"
    for r in emulator.cdn_requests:
        assert "Authorization" not in r.headers, r.path
    redirected = [r for r in emulator.requests if r.path.endswith("/download")]
    assert redirected and all("Authorization" in r.headers for r in redirected)
