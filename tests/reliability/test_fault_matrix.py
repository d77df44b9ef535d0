"""Every fault the emulator injects, against every operation: the documented recovery, nothing lost.

Each case arms one fault on one operation's path only, runs the operation through the public API,
and checks both the outcome (success after the documented retry, or the documented typed error) and
the evidence on the server: how many requests it saw, whether a chat message was recorded at most
once, whether uploaded bytes arrived intact, whether the rendered file downloaded whole.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import attrs
import pytest
from yarl import URL

import nemovideo
from nemovideo.testing import Emulator, fast_client, sample_images
from nemovideo.testing.drafts import example_draft
from nemovideo.testing.mp4probe import probe_mp4


@attrs.define
class Ctx:
    emu: Emulator
    client: nemovideo.NemoClient
    session: nemovideo.Session
    tmp: Path


async def op_credits(ctx: Ctx) -> None:
    assert (await ctx.client.credits()).available >= 0


async def op_state(ctx: Ctx) -> None:
    assert (await ctx.session.state()).draft.ready_for_export


async def op_create(ctx: Ctx) -> None:
    assert (await ctx.client.create_session()).id


async def op_upload(ctx: Ctx) -> None:
    image = sample_images()[0]
    (media,) = await ctx.session.upload([image])
    assert media.url is not None
    stored = ctx.emu.files_dir / URL(media.url).name
    assert stored.read_bytes() == image.read_bytes()
    assert len(ctx.emu.session(ctx.session.id).state["video_infos"]) == 3, "stored exactly once"


async def op_chat(ctx: Ctx) -> None:
    reply = await ctx.session.send("add lo-fi BGM at 50%")  # the example draft has it at 35%
    assert any("BGM" in line or "Lo-fi" in line for line in reply.changes)


async def op_export(ctx: Ctx) -> None:
    job = await ctx.session.export()
    path = await job.download(ctx.tmp / "out.mp4")
    assert probe_mp4(path).has_video


OPS: dict[str, tuple[str, str, Callable[[Ctx], Awaitable[None]]]] = {
    "credits": ("/api/credits", "GET", op_credits),
    "state": ("/api/state/", "GET", op_state),
    "create": ("/api/tasks/me/with-session", "POST", op_create),
    "upload": ("/api/upload-video/", "POST", op_upload),
    "chat": ("/run_sse", "POST", op_chat),
    "submit": ("/api/render/proxy/lambda", "POST", op_export),
    "poll": ("/api/render/proxy/lambda/", "GET", op_export),
}

OK = None
# What each fault must end in, per operation (PROTOCOL "Error codes", DESIGN retry policy):
# 429 is retried once everywhere; 5xx and resets are retried only where repeating is safe (GETs,
# uploads the server de-duplicates, render submits with a fresh id) - never a chat message.
EXPECTED: dict[str, dict[str, type[Exception] | None]] = {
    "rate_limit": dict.fromkeys(OPS, OK),
    "expired_token": dict.fromkeys(OPS, OK),
    "delay": dict.fromkeys(OPS, OK),
    "server_error": {
        **dict.fromkeys(OPS, OK),
        "create": nemovideo.ServerError,
        "chat": nemovideo.ServerError,
    },
    "reset": {
        **dict.fromkeys(OPS, OK),
        "create": nemovideo.TransportError,
        "chat": nemovideo.ChatRecoveryError,
    },
}


def arm(emu: Emulator, fault: str, path: str, method: str) -> None:
    f = emu.faults
    if fault == "rate_limit":
        f.rate_limit(times=1, retry_after=0.01, path=path, method=method)
    elif fault == "expired_token":
        f.error(1001, times=1, path=path, method=method)
    elif fault == "delay":
        f.delay(0.05, times=1, path=path, method=method)
    elif fault == "server_error":
        f.server_error(times=1, status=503, path=path, method=method)
    elif fault == "reset":
        # aiohttp itself re-sends an idempotent GET once after a cut connection (faults.py).
        f.reset_connection(times=2 if method == "GET" else 1, path=path, method=method)


def _leftovers(directory: Path) -> list[Path]:
    """Temp files a download may leave beside its target (none, whatever happened)."""
    return [p for p in directory.iterdir() if p.is_file() and p.suffix in (".part", ".tmp")]


CASES = [(fault, op) for fault in EXPECTED for op in OPS]


@pytest.mark.parametrize(("fault", "op"), CASES, ids=[f"{f}-{o}" for f, o in CASES])
async def test_fault_against_operation(
    emulator: Emulator, tmp_path: Path, fault: str, op: str
) -> None:
    emulator.render.width, emulator.render.height = 160, 90
    async with fast_client(emulator, tmp_path / "cfg", max_polls=200) as client:
        session = await client.create_session()
        media = await session.upload(sample_images()[:2])
        assert len(media) == 2
        emulator.session(session.id).state["draft"] = example_draft(
            emulator.session(session.id).state["video_infos"]
        )
        ctx = Ctx(emulator, client, session, tmp_path)
        path, method, run = OPS[op]
        before = len(emulator.requests_to(path, method))
        arm(emulator, fault, path, method)
        expected = EXPECTED[fault][op]
        if expected is None:
            await run(ctx)
        else:
            with pytest.raises(expected):
                await run(ctx)
        assert emulator.faults.pending == [] or fault == "reset", "the fault never fired"
        sent = len(emulator.requests_to(path, method)) - before
        chat_log = emulator.session(session.id).chat_log
        if op == "chat":
            assert len(chat_log) == (1 if expected is None else 0), "a message was lost or doubled"
            refused_first = fault in ("rate_limit", "expired_token")
            assert sent == (2 if refused_first else 1), "a chat message must never be re-sent"
        else:
            assert chat_log == []
        assert _leftovers(tmp_path) == []
