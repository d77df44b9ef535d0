"""Ids cannot walk a URL to another endpoint.

A job or session id is one URL path segment. Traversal (``../../credits``), separators, dot segments
and control characters are refused with ``ValidationError`` before a byte is sent, at the public
entry points and again in the transport (the only module that builds requests), which
percent-encodes every segment it is given. The emulator's request log proves nothing left.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

import nemovideo
from nemovideo._http.paths import build_path, describe_error, encode_segment
from nemovideo.render import RenderJob
from nemovideo.testing import Emulator, sample_images

TRAVERSALS = [
    "../../../credits/balance/simple",
    "../../../../credits",
    "..",
    ".",
    "",
    "a/b",
    "a\\b",
    "render_1\r\nX-Injected: 1",
    "render_1\x00",
    " render_1/",
]


@pytest.fixture
async def nemo_client(nemo_client: nemovideo.NemoClient) -> nemovideo.NemoClient:
    """The plugin's ``nemo_client`` with its token already fetched, so every later request is
    the one the id under test makes."""
    await nemo_client.credits()
    return nemo_client


@pytest.mark.parametrize("bad", TRAVERSALS)
async def test_traversal_ids_are_refused_before_any_request(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, bad: str
) -> None:
    session = await nemo_client.create_session()
    seen = len(emulator.requests)
    calls = [
        lambda: nemo_client.renderer.resume(bad),
        lambda: nemo_client.renderer.resume("render_1", session_id=bad),
        lambda: nemo_client.renderer.export(bad),
        lambda: nemo_client.uploader.upload(bad, sample_images()[:1]),
        lambda: nemo_client.uploader.upload_urls(bad, ["https://example.com/a.jpg"]),
    ]
    for call in calls:
        with pytest.raises(nemovideo.ValidationError):
            await call()
    with pytest.raises(nemovideo.ValidationError):
        RenderJob(nemo_client.renderer, bad)
    with pytest.raises(nemovideo.ValidationError):
        nemo_client.session(bad)
    with pytest.raises(nemovideo.ValidationError):
        nemovideo.Session(nemo_client, bad, task_id=None, user_id=None)
    assert emulator.requests[seen:] == [], "nothing reached the server"
    assert session.id in emulator.sessions


@pytest.mark.parametrize("bad", ["..", ".", "", "a\nb", "\x7f", "\x85"])
async def test_transport_refuses_dot_empty_and_control_segments(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, bad: str
) -> None:
    seen = len(emulator.requests)
    with pytest.raises(nemovideo.ValidationError, match="not a valid URL path segment"):
        await nemo_client.api.request(
            "GET", "/api/render/proxy/lambda/{id}", segments={"id": bad}, envelope="render"
        )
    with pytest.raises(nemovideo.ValidationError):
        nemo_client.api.url("/api/render/proxy/{id}/download", {"id": bad})
    assert emulator.requests[seen:] == []


async def test_a_separator_stays_inside_its_segment(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    """Below the entry points the transport still encodes: ``a/../b`` is one segment on the wire,
    so the emulator routes it to the poll endpoint (and finds no such job), never elsewhere."""
    seen = len(emulator.requests)
    with pytest.raises(nemovideo.NotFoundError, match="Render job not found"):
        await nemo_client.api.request(
            "GET", "/api/render/proxy/lambda/{id}", segments={"id": "../../../credits/balance"},
            envelope="render",
        )  # fmt: skip
    (sent,) = emulator.requests[seen:]
    assert sent.path == "/api/render/proxy/lambda/../../../credits/balance"  # decoded by aiohttp
    url = nemo_client.api.url("/api/render/proxy/{id}/download", {"id": "a/b c?d#e%"})
    assert url.raw_path == "/api/render/proxy/a%2Fb%20c%3Fd%23e%25/download"
    assert url.query_string == "" and url.fragment == ""


def test_path_templates_are_filled_segment_by_segment() -> None:
    assert build_path("/api/credits/balance/simple") == "/api/credits/balance/simple"
    assert build_path("/x/{a}/y/{b}", {"a": "1", "b": "r.2-3_4"}) == "/x/1/y/r.2-3_4"
    assert encode_segment("..a") == "..a" and encode_segment("…") == "%E2%80%A6"
    with pytest.raises(nemovideo.ValidationError, match="must be a string"):
        encode_segment(5)
    for template, segments in [
        ("/x/{a}", None),
        ("/x/{a}", {"b": "1"}),
        ("/x/{a}", {"a": "1", "b": "2"}),
        ("/x/pre{a}", {"a": "1"}),
    ]:
        with pytest.raises(ValueError):
            build_path(template, segments)


async def test_normal_ids_still_work(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, tmp_path: Path
) -> None:
    session = await nemo_client.create_session()
    again = nemo_client.session(session.id)
    assert (await again.state()).draft is not None
    media = await nemo_client.uploader.upload(session.id, sample_images()[:1])
    assert media[0].url
    for job_id in ("render_1718000000000", "r.1-x_2", "A" * 256, "job:7@x", "42"):
        with pytest.raises(nemovideo.NotFoundError):
            await nemo_client.renderer.resume(job_id)
        assert emulator.requests_to(f"/api/render/proxy/lambda/{job_id}", "GET")
    with pytest.raises(nemovideo.ValidationError):
        await nemo_client.renderer.resume("A" * 257)


async def test_ids_are_opaque_and_travel_as_one_segment(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    """An id is never parsed: a percent sign or a huge number is sent as written, one segment."""
    seen = len(emulator.requests)
    with pytest.raises(nemovideo.NotFoundError):
        await nemo_client.renderer.resume("..%2F..%2Fcredits")
    (sent,) = emulator.requests[seen:]
    assert sent.path == "/api/render/proxy/lambda/..%2F..%2Fcredits"
    assert not emulator.requests_to("/api/credits/balance/simple")[1:]
    big = str(2**63 - 1)
    assert (
        nemo_client.session(big).id
        == big
        == nemovideo.Session(nemo_client, big, task_id=None, user_id=None).id
    )


class _Exploding(Payload):
    """A request body whose writer fails with a foreign exception (not a ``NemoError``)."""

    def __init__(self) -> None:
        super().__init__(b"", content_type="application/octet-stream")

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return ""

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(b"x" * 10)
        raise RuntimeError("disk on fire")


async def test_network_error_messages_hold_no_connection_key(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    """aiohttp wraps a failing body as ``Failed to send bytes ... Connection<ConnectionKey(...,
    proxy_auth=...)>``; the SDK's message keeps the method, path and cause, not the key."""
    session = await nemo_client.create_session()
    with pytest.raises(nemovideo.TransportError) as info:
        await nemo_client.api.request(
            "POST", "/api/upload-video/nemo_agent/me/{sid}", segments={"sid": session.id},
            body=_Exploding, headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
    message = str(info.value)
    assert message.startswith(f"POST /api/upload-video/nemo_agent/me/{session.id} failed: ")
    assert "RuntimeError: disk on fire" in message
    assert "ConnectionKey" not in message and "proxy_auth" not in message

    wrapped = aiohttp.ClientConnectionError(
        "Failed to send bytes into the underlying connection Connection<ConnectionKey(host='h', "
        "port=1, proxy_auth=BasicAuth(login='u', password='hunter2', encoding='latin1'))>: "
        "ValueError('x')"
    )
    wrapped.__cause__ = ValueError("x")
    text = describe_error(wrapped)
    assert "hunter2" not in text and "ConnectionKey" not in text
    assert text == (
        "ClientConnectionError: Failed to send bytes into the underlying connection (ValueError: x)"
    )
