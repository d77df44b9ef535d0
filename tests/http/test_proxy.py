"""Proxies: a real forward proxy (``pproxy``) on loopback, in its own process, between the client
and the emulator.

The proxy logs one line per connection it opens (``http 127.0.0.1:51234 -> 127.0.0.1:8765``), so a
test can see which origins went through it. What these tests rely on, from aiohttp (3.14) and the
standard library: with ``trust_env=True`` aiohttp asks ``urllib.request.getproxies()`` (``HTTP_PROXY``,
``HTTPS_PROXY``..., either case) for each request and skips the proxy when
``urllib.request.proxy_bypass(host)`` says so, which on Linux reads only ``NO_PROXY``: loopback is
*not* bypassed by default, which is what lets a loopback proxy stand in for a corporate one here.
``NO_PROXY`` entries match host names (``127.0.0.1``), not ``host:port``.

The emulator speaks plain http, so the proxy sees the API's ``Authorization`` header, as any proxy of
plain-http traffic would; against the real (https) API aiohttp tunnels through ``CONNECT`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import secrets
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from yarl import URL

import nemovideo
from nemovideo.testing import Emulator, fast_client, make_sample_image
from nemovideo.testing.drafts import make_draft, video_track

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "WS_PROXY", "WSS_PROXY")


def pproxy_command() -> list[str]:
    """``python -m pproxy`` when the dev extra is installed, else ``$PPROXY`` / ``pproxy`` on PATH."""
    if importlib.util.find_spec("pproxy") is not None:
        return [sys.executable, "-m", "pproxy"]
    found = os.environ.get("PPROXY") or shutil.which("pproxy")
    if not found:
        pytest.skip("pproxy is not installed (pip install pproxy; it is in the dev extra)")
    return [found]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class ForwardProxy:
    """A running pproxy: its URL and the ``host:port`` targets it has connected to."""

    url: str
    lines: list[str]

    def targets(self) -> set[str]:
        return {line.rsplit(" -> ", 1)[1] for line in self.lines if " -> " in line}


@pytest.fixture
async def forward_proxy() -> AsyncIterator[ForwardProxy]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *pproxy_command(), "-l", f"http://127.0.0.1:{port}", "-v",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    proxy = ForwardProxy(f"http://127.0.0.1:{port}", [])
    first = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert b"Serving on" in first, first

    async def collect() -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            proxy.lines.append(line.decode().strip())

    reader = asyncio.ensure_future(collect())
    try:
        yield proxy
    finally:
        proc.terminate()
        await proc.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No proxy variable from the machine leaks into a test (either case)."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    yield monkeypatch


def origin(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.host}:{parsed.port}"


async def flow(client: nemovideo.NemoClient) -> None:
    assert (await client.credits()).available == 100
    session = await client.create_session()
    await session.state()
    assert "ct=clm_" in await session.claim_link()


async def placed_images(emu: Emulator, session_id: str) -> None:
    """A draft of two images put straight into the emulator, as its upload route would.

    Not uploaded through the proxy: pproxy's plain-http channel re-parses every chunk the client
    sends as a possible request line and drops the connection on binary bytes (an upload body).
    """
    media = []
    for n in (1, 2):
        media_id = "m_" + secrets.token_hex(6)
        await make_sample_image(emu.files_dir / f"{media_id}.jpg", f"city {n}", 160, 90)
        media.append({"media_id": media_id, "name": f"city_{n}.jpg", "kind": "image",
                      "url": emu.cdn_file_url(f"{media_id}.jpg")})  # fmt: skip
    state = emu.session(session_id).state
    state["video_infos"], state["draft"] = media, make_draft([video_track(media, 2000)])


PROXY = "<the forward proxy's URL>"

#: How a client is pointed at the proxy (environment, options), and whether the proxy then
#: carries the API's requests or they go direct.
ROUTES = {
    "the HTTP_PROXY variable carries every request": ({"HTTP_PROXY": PROXY}, {}, True),
    "an explicit proxy option needs no environment": ({}, {"proxy": PROXY}, True),
    "NO_PROXY sends loopback direct": (
        {"HTTP_PROXY": PROXY, "NO_PROXY": "example.com,127.0.0.1"},
        {},
        False,
    ),
    "trust_env=False ignores proxy variables": ({"HTTP_PROXY": PROXY}, {"trust_env": False}, False),
}


@pytest.mark.parametrize(("env", "options", "proxied"), ROUTES.values(), ids=ROUTES)
async def test_which_requests_go_through_the_proxy(
    emulator: Emulator,
    tmp_path: Path,
    forward_proxy: ForwardProxy,
    no_proxy_env: pytest.MonkeyPatch,
    env: dict[str, str],
    options: dict[str, Any],
    proxied: bool,
) -> None:
    def fill(value: Any) -> Any:
        return forward_proxy.url if value == PROXY else value

    for name, value in env.items():
        no_proxy_env.setenv(name, fill(value))
    overrides = {name: fill(value) for name, value in options.items()}
    async with fast_client(emulator, tmp_path / "cfg", **overrides) as client:
        await flow(client)
    assert forward_proxy.targets() == ({origin(emulator.url)} if proxied else set())
    assert len(emulator.requests) >= 5
    assert all(r.headers.get("Authorization", "").startswith("Bearer ") for r in
               emulator.requests if "anonymous-token" not in r.path)  # fmt: skip


async def test_downloads_go_through_the_proxy_without_the_token(
    emulator: Emulator,
    tmp_path: Path,
    forward_proxy: ForwardProxy,
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    """The render's CDN URL is another origin: it is proxied too, and gets no Authorization."""
    no_proxy_env.setenv("HTTP_PROXY", forward_proxy.url)
    emulator.render.width, emulator.render.height, emulator.render.fps = 320, 180, 10
    async with fast_client(emulator, tmp_path / "cfg") as client:
        session = await client.create_session()
        await placed_images(emulator, session.id)
        job = await session.export()
        saved = await job.download(tmp_path / "out.mp4")
    assert saved.stat().st_size > 0
    assert forward_proxy.targets() == {origin(emulator.url), origin(emulator.cdn_url)}
    downloads = [r for r in emulator.cdn_requests if r.path.endswith(".mp4")]
    assert downloads and not any("Authorization" in r.headers for r in emulator.cdn_requests)
    token = emulator.requests_to("/api/render/proxy/lambda", "POST")[0].headers["Authorization"]
    assert not any(token in str(r.headers) for r in emulator.cdn_requests)


async def test_an_unreachable_proxy_is_a_transport_error_without_its_password(
    emulator: Emulator, tmp_path: Path, no_proxy_env: pytest.MonkeyPatch
) -> None:
    dead = f"http://proxyuser:s3cretpw@127.0.0.1:{free_port()}"
    async with fast_client(emulator, tmp_path / "cfg", proxy=dead, max_retries=0) as client:
        with pytest.raises(nemovideo.TransportError) as caught:
            await client.credits()
    assert "s3cretpw" not in str(caught.value) and "s3cretpw" not in repr(caught.value)
    assert emulator.requests == []
