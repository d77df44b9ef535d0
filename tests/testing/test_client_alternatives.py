"""The SDK accepts every documented alternative the emulator can produce (PROTOCOL lists them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

import nemovideo
from nemovideo.testing import Emulator, sample_images

MAKE_VIDEO = "turn these images into a 6-second video"


@pytest.fixture
async def session(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> AsyncIterator[nemovideo.Session]:
    emulator.chat.delay = 0.001
    emulator.render.width, emulator.render.height, emulator.render.fps = 64, 36, 5
    yield await nemo_client.create_session()


@pytest.mark.parametrize(
    "variant",
    [
        {"text_with_call": True},
        {"artifacts": True},
        {"heartbeat": "none"},
        {"heartbeat": "empty"},
        {"heartbeat": "comment"},
        {"dialect": "simple"},
        {"text_with_call": True, "artifacts": True, "dialect": "simple"},
    ],
)
async def test_chat_wire_variants(
    emulator: Emulator, session: nemovideo.Session, variant: dict[str, Any]
) -> None:
    for name, value in variant.items():
        setattr(emulator.chat, name, value)
    await session.upload(sample_images())
    reply = await session.send(MAKE_VIDEO)
    assert reply.draft.duration_ms == 6000 and not reply.errors
    assert reply.text.count("into a 6-second video") == 1, "the final event is not joined twice"
    assert reply.text.count("Export button") == 1
    calls = [e for e in reply.events if isinstance(e, nemovideo.ToolCallEvent)]
    assert [c.name for c in calls] == ["edit_multitrack"]


async def test_a_refusal_is_an_error_event(emulator: Emulator, session: nemovideo.Session) -> None:
    emulator.chat.refusal = "I can't help with that."
    reply = await session.send("add lo-fi BGM at 35%")
    assert [(e.code, e.message) for e in reply.errors] == [("SAFETY", "I can't help with that.")]
    assert reply.text == "" and not reply.changes


@pytest.mark.parametrize("style", ["envelope", "detail"])
async def test_unknown_session_either_form(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, style: str
) -> None:
    emulator.chat.unknown_session = style
    with pytest.raises(nemovideo.SessionNotFoundError):
        await nemo_client.session("1234567890123456789").send("hello")


async def test_generation_credits(emulator: Emulator, nemo_client: nemovideo.NemoClient) -> None:
    emulator.chat.delay = 0.001
    session = await nemo_client.create_session()
    with pytest.raises(nemovideo.InsufficientCreditsError) as info:
        await session.send("generate two 5-second clips of waves")
    assert info.value.registration_url and "/register?bind=anon_" in info.value.registration_url
    emulator.set_credits(None, 300)
    reply = await session.send("generate two 5-second clips of waves")
    assert reply.draft.duration_ms == 10_000
    state = await session.state()
    assert len(state.generated_media) == 2
    assert await nemo_client.credits() == nemovideo.Credits(available=100, frozen=0, total=100)


@pytest.mark.parametrize(("bare", "shape"), [(False, 1), (True, 2), (True, 3)])
async def test_render_envelopes_and_poll_shapes(
    emulator: Emulator, session: nemovideo.Session, tmp_path: Path, bare: bool, shape: int
) -> None:
    emulator.render.bare, emulator.render.poll_shape = bare, shape
    await session.upload(sample_images()[:1])
    await session.send(MAKE_VIDEO)
    job = await session.export()
    result = await job.wait()
    assert result.url and result.url.startswith(emulator.cdn_url)
    out = await job.download(tmp_path / "out.mp4")
    assert out.read_bytes()[4:8] == b"ftyp"
    [submit] = emulator.requests_to("/api/render/proxy/lambda", "POST")
    assert submit.json is not None and submit.json["sessionId"] == session.id


async def test_uploads_measured_and_urls_judged_by_content(
    emulator: Emulator, session: nemovideo.Session
) -> None:
    [media] = await session.upload(sample_images()[:1])
    assert (media.kind, media.width, media.height) == ("image", 640, 360)
    assert media.media_id == media.info.hash, "no undocumented media_id in the answer"
    emulator.fake_url("https://img.example.com/photo?id=3", sample_images()[1])
    [linked] = await session.upload_urls(["https://img.example.com/photo?id=3"])
    assert (linked.kind, linked.width) == ("image", 640)
    assert linked.url and linked.url.startswith(emulator.cdn_url)
    with pytest.raises(nemovideo.UnsupportedFileError):
        await session.upload_urls(["https://img.example.com/unknown?id=4"])


async def test_errors_without_a_body(emulator: Emulator, nemo_client: nemovideo.NemoClient) -> None:
    await nemo_client.credits()
    emulator.faults.error(1002, path="/api/state", body=False)
    with pytest.raises(nemovideo.SessionNotFoundError):
        await nemo_client.session("1234567890123456789").state()
    emulator.faults.error(429, times=2, path="/api/credits", body=False)
    with pytest.raises(nemovideo.RateLimitError):
        await nemo_client.credits()


async def test_claim_and_registration_links(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    session = await nemo_client.create_session()
    link = URL(session.claim_url)
    assert (link.path, dict(link.query)) == (
        f"/workspace/task/{session.task_id}",
        {"session": session.id},
    ), "the newest documented browser link: no API call, no secret"
    new = URL(await session.claim_link())
    assert new.path == "/workspace/claim" and new.query["ct"].startswith("clm_")
    [claim] = emulator.requests_to("/api/auth/claim-token")
    assert claim.json == {"task_id": session.task_id, "session_id": session.id}
    emulator.set_credits(None, 0)
    await session.upload(sample_images()[:1])
    with pytest.raises(nemovideo.InsufficientCreditsError) as info:
        await session.send(MAKE_VIDEO)
    assert (
        info.value.registration_url == f"https://nemovideo.com/register?bind={nemo_client.user_id}"
    )
