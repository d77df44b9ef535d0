"""``SyncNemoClient`` against the emulator: a plain script, inside a running loop, 8 threads, Ctrl-C.

The blocking client runs the async one on its own loop, driven by the calling thread when it can
(no loop of its own, nobody else in a call) and by the client's helper thread otherwise. A test
that blocks its own event loop (calling the sync client from ``async def``) cannot also serve the
emulator on that loop, so those tests host the emulator on a loop thread of its own
(``threaded_emulator``, from the package's pytest plugin).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.sync import SyncNemoClient, SyncRenderJob, SyncSession
from nemovideo.testing import Emulator, fast_client, sample_images
from nemovideo.testing.drafts import make_draft, video_track

from ..conftest import FAST

MAKE = "turn these images into a 4-second video"
POLLS = "/api/render/proxy/lambda/"


def sync_client(emu: Emulator, config_dir: Path, **overrides: Any) -> SyncNemoClient:
    """The blocking twin of ``fast_client``: same millisecond waits, own config dir."""
    return SyncNemoClient(base_url=emu.url, config_dir=config_dir, **{**FAST, **overrides})


async def until(seen: Callable[[], bool]) -> None:
    """Wait (bounded, 60 s) until the emulator has seen what ``seen`` looks for."""
    for _ in range(6000):
        if seen():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the emulator never saw it")


def loop_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("nemovideo-sync")]


async def _exportable_session(client: nemovideo.NemoClient, emu: Emulator) -> nemovideo.Session:
    """A session whose draft holds three uploaded images, without a chat round trip."""
    emu.render.width, emu.render.height, emu.render.fps = 320, 180, 10
    session = await client.create_session()
    media = await session.upload(sample_images())
    infos = emu.session(session.id).state["video_infos"]
    assert len(infos) == len(media)
    emu.session(session.id).state["draft"] = make_draft([video_track(infos, 2000, name="city")])
    return session


# -- a plain script --------------------------------------------------------------------------

SCRIPT = """
import json, sys, threading
from pathlib import Path
from nemovideo import testing
from nemovideo.sync import SyncNemoClient

url, config_dir, out, options = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4])
with SyncNemoClient(base_url=url, config_dir=config_dir, **options) as c:
    before = c.credits()
    s = c.create_session()
    media = s.upload(testing.sample_images())
    reply = s.send(sys.argv[5])
    with s.chat("add lo-fi BGM at 35%") as stream:
        kinds = sorted({type(ev).__name__ for ev in stream})
    state = c.session(s.id).state()
    job = s.export()
    result = job.wait()
    path = job.download(out)
    again = c.renderer.resume(job.id)
print(json.dumps({
    "available": before.available, "media": len(media), "changes": list(reply.changes),
    "kinds": kinds, "bgm": stream.text, "tracks": len(state.draft.tracks), "status": result.status,
    "size": path.stat().st_size, "resumed": again.status, "closed": c.closed,
    "threads": [t.name for t in threading.enumerate()],
}))
"""


async def test_a_plain_script_makes_a_video(emulator: Emulator, tmp_path: Path) -> None:
    emulator.render.width, emulator.render.height, emulator.render.fps = 320, 180, 10
    (tmp_path / "flow.py").write_text(SCRIPT)
    out = tmp_path / "out.mp4"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(tmp_path / "flow.py"), emulator.url, str(tmp_path / "cfg"), str(out),
        json.dumps(FAST), MAKE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, stderr.decode()
    got = json.loads(stdout)
    assert got["available"] == 100 and got["media"] == 3
    assert "Added Video track 3 clips (0-4s)" in got["changes"]
    assert "ToolCallEvent" in got["kinds"] and got["bgm"]
    assert got["tracks"] == 2 and got["status"] == "completed" and got["resumed"] == "completed"
    assert got["size"] == out.stat().st_size > 0
    assert got["closed"] is True and got["threads"] == ["MainThread"]


# -- inside a running loop, and shared by threads --------------------------------------------


async def test_works_inside_a_running_event_loop(
    threaded_emulator: Emulator, tmp_path: Path
) -> None:
    """As in Jupyter: a loop is running in this thread, and blocking calls still work."""
    asyncio.get_running_loop()
    with sync_client(threaded_emulator, tmp_path / "cfg") as client:
        session = client.create_session()
        assert isinstance(session, SyncSession) and session.client is client
        assert client.credits().available == 100
        assert not client.session(session.id).state().draft.ready_for_export
        media = session.upload(sample_images()[:1])
        assert media[0].name == "city_1.jpg"
        reply = session.send("turn these images into a 3-second video")
        assert reply.changes and reply.draft.duration == 3.0
    assert client.closed and loop_threads() == []


async def test_eight_threads_share_one_client(emulator: Emulator, tmp_path: Path) -> None:
    with sync_client(emulator, tmp_path / "cfg") as client:

        def work(n: int) -> tuple[int, str, bool]:
            session = client.create_session(task_name=f"thread {n}")
            session.upload(sample_images()[:1])
            return (
                client.credits().available,
                session.id,
                not session.state().draft.ready_for_export,
            )

        results = await asyncio.gather(*(asyncio.to_thread(work, n) for n in range(8)))
        assert len(loop_threads()) == 1
    assert {r[0] for r in results} == {100} and len({r[1] for r in results}) == 8
    assert all(r[2] for r in results)
    assert len(emulator.requests_to("/with-session", method="POST")) == 8
    assert loop_threads() == []


# -- the same objects ------------------------------------------------------------------------


def exportable(client: SyncNemoClient, emu: Emulator) -> SyncSession:
    """A session whose draft holds three uploaded images, without a chat round trip."""
    emu.render.width, emu.render.height, emu.render.fps = 320, 180, 10
    session = client.create_session()
    session.upload(sample_images())
    infos = emu.session(session.id).state["video_infos"]
    emu.session(session.id).state["draft"] = make_draft([video_track(infos, 2000, name="city")])
    return session


def test_jobs_and_reattach_are_the_async_objects_blocking(
    threaded_emulator: Emulator, tmp_path: Path
) -> None:
    with sync_client(threaded_emulator, tmp_path / "cfg") as client:
        sid = exportable(client, threaded_emulator).id
        session = client.session(sid)
        job = session.export()
        assert isinstance(job, SyncRenderJob) and job.session_id == sid
        progress: list[int] = []
        result = job.wait(progress=lambda pct, _total: progress.append(pct))
        assert result.status == "completed" and progress[-1] == 100 and job.status == "completed"
        assert job.result == result and job.progress == 100 and job.last is not None
        again = client.renderer.resume(job.id)
        assert again.id == job.id and again.refresh().state == "completed"
        saved = again.download(f"{tmp_path / 'videos'}/")
        assert saved.parent == tmp_path / "videos" and saved.stat().st_size > 0
        assert client.uploader.upload(sid, sample_images()[:1])[0].name == "city_1.jpg"
        assert repr(session).startswith("<SyncSession id=")
        with pytest.raises(AttributeError, match="read-only"):
            job.id = "render_other"  # type: ignore[misc]
        assert job.id == again.id and session.id == sid


def test_with_options_is_a_view_on_the_same_thread(
    threaded_emulator: Emulator, tmp_path: Path
) -> None:
    with sync_client(threaded_emulator, tmp_path / "cfg") as client:
        strict = client.with_options(max_retries=0)
        threaded_emulator.faults.server_error(times=1, path="/api/credits")
        with pytest.raises(nemovideo.ServerError):
            strict.credits()
        threaded_emulator.faults.server_error(times=1, path="/api/credits")
        assert client.credits().available == 100
        strict.close()
        assert not client.closed and strict.credits().available == 100
        assert len(loop_threads()) == 1
    assert strict.closed and loop_threads() == []


# -- errors, misuse and closing --------------------------------------------------------------


def test_errors_are_the_async_clients_typed_errors(
    threaded_emulator: Emulator, tmp_path: Path
) -> None:
    with sync_client(threaded_emulator, tmp_path / "cfg") as client:
        with pytest.raises(nemovideo.SessionNotFoundError):
            client.session("123").state()
        with pytest.raises(nemovideo.ValidationError, match="session id"):
            client.session("../credits")
        with pytest.raises(nemovideo.ValidationError, match="some text"):
            client.create_session().chat("   ")
        with pytest.raises(nemovideo.NotFoundError):
            client.renderer.resume("render_404")
        threaded_emulator.faults.error(2001, path="/api/credits")
        with pytest.raises(nemovideo.InsufficientCreditsError):
            client.credits()
        assert client.credits().available == 100


def test_a_chat_stream_is_read_once(threaded_emulator: Emulator, tmp_path: Path) -> None:
    with sync_client(threaded_emulator, tmp_path / "cfg") as client:
        session = client.create_session()
        session.upload(sample_images())
        stream = session.chat(MAKE)
        with stream:
            events = list(stream)
        assert events and stream.text and not stream.pending_tools
        with pytest.raises(RuntimeError, match="only once"):
            iter(stream)
        assert len(threaded_emulator.requests_to("/run_sse")) == 1


def test_callbacks_may_not_call_the_client(threaded_emulator: Emulator, tmp_path: Path) -> None:
    """A callback runs on the loop thread; calling back in would deadlock, so it is refused."""
    with sync_client(threaded_emulator, tmp_path / "cfg") as client:
        session = client.create_session()

        def progress(_done: int, _total: int) -> None:
            client.credits()

        with pytest.raises(nemovideo.ValidationError, match="own callbacks"):
            session.upload(sample_images()[:1], progress=progress)
        assert client.credits().available == 100
        assert session.upload(sample_images()[:1])[0].name == "city_1.jpg"


def test_a_script_thread_runs_the_loop_itself(threaded_emulator: Emulator, tmp_path: Path) -> None:
    """No hand-off in the common case: the calling thread runs the call, callbacks included."""
    with sync_client(threaded_emulator, tmp_path / "cfg") as client:
        session = client.create_session()
        seen: list[str] = []
        session.upload(sample_images()[:1], progress=lambda *_: seen.append(_thread()))
        assert seen and set(seen) == {threading.current_thread().name}

        async def from_a_loop() -> list[str]:
            inside: list[str] = []
            session.upload(sample_images()[:1], progress=lambda *_: inside.append(_thread()))
            return inside

        assert set(asyncio.run(from_a_loop())) == {"nemovideo-sync"}
        assert len(session.state().video_infos) == 2


def _thread() -> str:
    return threading.current_thread().name


def test_a_connection_the_server_closed_while_idle_is_not_reused(tmp_path: Path) -> None:
    """Between calls nothing runs the loop; the next call first reads the server's close.

    The server closes each keep-alive connection 20 ms after answering (as uvicorn's 5 s or
    gunicorn's 2 s, sooner). A POST is never re-sent (aiohttp itself retries only idempotent
    methods on a dead pooled connection), so a call that picked a dead connection would fail.
    """
    answers = _ClosingServer()
    try:
        with SyncNemoClient(
            base_url=answers.url, config_dir=tmp_path, token="nmv_" + "a" * 32, max_retries=0
        ) as client:
            for _ in range(3):
                assert client.create_session().id == "s1"
                answers.wait_closed()
        assert answers.requests == 3 and answers.connections == 3
    finally:
        answers.stop()


class _ClosingServer:
    """An HTTP/1.1 server on loopback, in its own thread, that drops idle connections at once."""

    def __init__(self) -> None:
        self.requests = self.connections = 0
        self._closed = threading.Semaphore(0)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(30)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        body = json.dumps({"code": 0, "data": {"session_id": "s1"}}).encode()
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
            await asyncio.sleep(0.02)
        finally:
            writer.close()
            self._closed.release()

    def wait_closed(self) -> None:
        assert self._closed.acquire(timeout=30)
        time.sleep(0.1)  # the pause of a script between two calls; above the settle threshold

    def stop(self) -> None:
        self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()


def test_bad_options_fail_before_a_thread_is_left(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="request_timout"):
        SyncNemoClient(request_timout=3)
    with pytest.raises(nemovideo.ValidationError, match="request_timeout"):
        SyncNemoClient(config_dir=tmp_path, request_timeout=-1)
    with pytest.raises(nemovideo.ValidationError, match="http_session"):
        SyncNemoClient(http_session=object())  # type: ignore[arg-type]
    assert loop_threads() == []


def test_closing_ends_the_thread_and_calls_in_flight(
    threaded_emulator: Emulator, tmp_path: Path
) -> None:
    client = sync_client(threaded_emulator, tmp_path / "cfg")
    session = exportable(client, threaded_emulator)
    threaded_emulator.render.hold()
    job = session.export()
    failures: list[BaseException] = []

    def wait() -> None:
        try:
            job.wait()
        except BaseException as exc:
            failures.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    seen_polls(threaded_emulator, 2)
    client.close()
    waiter.join()
    assert [type(e) for e in failures] == [nemovideo.ClientClosedError]
    client.close()
    assert client.closed and loop_threads() == []
    with pytest.raises(nemovideo.ClientClosedError, match="closed"):
        client.credits()
    with pytest.raises(nemovideo.ClientClosedError):
        job.refresh()
    threaded_emulator.render.release()


def seen_polls(emu: Emulator, count: int) -> None:
    """Block (bounded, 60 s) until ``emu`` has answered ``count`` render polls."""
    for _ in range(6000):
        if len(emu.requests_to(POLLS)) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"the emulator never saw {count} polls")


# -- Ctrl-C ------------------------------------------------------------------------------------

INTERRUPTED = """
import sys, threading
from nemovideo.sync import SyncNemoClient

client = SyncNemoClient(base_url=sys.argv[1], config_dir=sys.argv[2], poll_interval=0.01,
                        max_polls=100000)
job = client.renderer.resume(sys.argv[3])
print("waiting", flush=True)
try:
    job.wait()
except KeyboardInterrupt:
    print("interrupted", len([t for t in threading.enumerate() if t.name.startswith("nemovideo")]),
          flush=True)
sys.stdin.readline()
client.close()
print("closed", [t.name for t in threading.enumerate()], flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
async def test_ctrl_c_cancels_a_blocking_wait(emulator: Emulator, tmp_path: Path) -> None:
    """SIGINT during ``job.wait()``: polling stops at once, the process goes on and exits clean."""
    async with fast_client(emulator, tmp_path / "cfg") as helper:
        session = await _exportable_session(helper, emulator)
        emulator.render.hold()
        job = await session.export()
    (tmp_path / "wait.py").write_text(INTERRUPTED)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(tmp_path / "wait.py"), emulator.url, str(tmp_path / "cfg"), job.id,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert await asyncio.wait_for(proc.stdout.readline(), 60) == b"waiting\n"
        polled = len(emulator.requests_to(POLLS))
        await until(lambda: len(emulator.requests_to(POLLS)) >= polled + 3)
        os.kill(proc.pid, signal.SIGINT)
        assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"interrupted 1\n"
        after = len(emulator.requests_to(POLLS))
        await asyncio.sleep(0.2)  # twenty poll intervals, with the client still open
        assert len(emulator.requests_to(POLLS)) == after
        proc.stdin.write(b"\n")
        assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"closed ['MainThread']\n"
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        emulator.render.release()
