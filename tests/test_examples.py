"""Every script under ``examples/`` runs against the emulator and does what its docstring says.

Each example's ``run(client, out_dir)`` is imported from its file and driven with a fast client;
the outcomes are checked for real (MP4s probed, summaries read, error classes compared, the web
app's JSON answers). ``quickstart.py`` also runs once as a real process, the way a user starts it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

import nemovideo
from nemovideo.testing import Emulator, fast_client, sample_images
from nemovideo.testing.mp4probe import Mp4Info, probe_mp4

from .conftest import communicate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
Loader = Callable[[str], ModuleType]
Runner = Callable[..., Awaitable[tuple[Any, str]]]


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Loader:
    """Import ``examples/<name>.py`` fresh (with ``examples/`` importable, as when run as a script)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
async def nemo_client(emulator: Emulator, tmp_path: Path) -> AsyncIterator[nemovideo.NemoClient]:
    """The plugin's ``nemo_client``, overridden for this file: its config dir is ``tmp_path /
    "config"`` (an example's output folder holds nothing else), and the emulator renders small
    frames so a render takes milliseconds."""
    emulator.render.width, emulator.render.height = 320, 180
    emulator.render.fps = 10
    async with fast_client(emulator, tmp_path / "config") as c:
        yield c


@pytest.fixture
def run(
    nemo_client: nemovideo.NemoClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Runner:
    """``await run(module, *extra)``: an example's ``run(client, out_dir, *extra)`` with this file's
    client and ``tmp_path``; its result and what was printed since the last look."""

    async def go(module: ModuleType, *extra: Any) -> tuple[Any, str]:
        result = await module.run(nemo_client, tmp_path, *extra)
        return result, capsys.readouterr().out

    return go


def video(path: Path, seconds: float, *, audio: bool | None = None) -> Mp4Info:
    assert path.is_file(), path
    info = probe_mp4(path)
    assert info.has_video and info.codec == "avc1"
    assert info.duration_s == pytest.approx(seconds, abs=0.1)
    if audio is not None:
        assert info.has_audio is audio
    return info


async def run_script(script: str, *args: str, cwd: Path, timeout: float) -> str:
    """``python examples/SCRIPT ARGS`` in ``cwd`` as a user runs it (no ``NEMO_*`` of the
    developer's, so it starts its own emulator); asserts exit 0 and returns its stdout. Killed by
    its pid when it outlives ``timeout``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / script), *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await communicate(proc, timeout)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def said(emulator: Emulator) -> list[str]:
    """Every chat message the emulator received, in order."""
    return [
        part["text"]
        for record in emulator.sessions.values()
        for message in record.chat_log
        for part in message["parts"]
    ]


async def test_quickstart_makes_a_15_second_video(
    example: Loader, run: Runner, emulator: Emulator, tmp_path: Path
) -> None:
    quickstart = example("quickstart")
    path, out = await run(quickstart)

    assert path == tmp_path / "quickstart.mp4"
    video(path, 15)
    assert "Uploaded 3 images" in out
    assert "Timeline (1 track): 1. Video: 3 clips (0-15s)" in out
    assert "rendering: 100%" in out
    assert said(emulator) == [quickstart.PROMPT]
    [record] = emulator.sessions.values()
    assert [m["filename"] for m in record.state["video_infos"]] == [p.name for p in sample_images()]


async def test_batch_saves_one_video_per_step(
    example: Loader, run: Runner, emulator: Emulator
) -> None:
    batch = example("batch")
    paths, out = await run(batch)

    assert [p.name for p in paths] == [
        "batch_1_video.mp4",
        "batch_2_music.mp4",
        "batch_3_title.mp4",
    ]
    video(paths[0], 10, audio=False)
    video(paths[1], 10, audio=True)
    video(paths[2], 10, audio=True)
    assert len({p.read_bytes() for p in paths}) == 3, "each step rendered a different video"
    assert len(emulator.sessions) == 1, "every step edits the same session"
    assert len(emulator.requests_to("/api/render/proxy/lambda", method="POST")) == 3
    assert said(emulator) == [instruction for _, instruction in batch.STEPS]
    assert "batch_3_title: saved" in out

    again, out = await run(batch)
    assert again == paths, "run again: the journal says all is done"
    assert "(done by an earlier run)" in out
    assert len(emulator.requests_to("/run_sse", method="POST")) == 3


async def test_iterative_reports_silent_edits_from_the_draft(
    example: Loader, run: Runner, emulator: Emulator
) -> None:
    emulator.render.width = emulator.render.height = None
    emulator.render.fps = 2
    emulator.chat.silent = True  # the backend edits without a word
    path, out = await run(example("iterative"))

    info = video(path, 8, audio=True)
    assert (info.width, info.height) == (1080, 1920), "'make it vertical' reached the render"
    assert "NemoVideo:" not in out
    assert out.count("answered silently") == 4
    assert "changed: Added Video track 3 clips (0-10s)" in out
    assert "10 s, 1920x1080; media: city_1.jpg, city_2.jpg, city_3.jpg" in out
    assert "changed: Duration 10s -> 8s" in out
    assert "changed: Added BGM track Upbeat (0-8s, 20%)" in out
    assert "changed: Aspect 16:9 -> 9:16" in out


async def test_iterative_prints_what_the_backend_said(example: Loader, run: Runner) -> None:
    path, out = await run(example("iterative"))
    video(path, 8, audio=True)
    assert "NemoVideo: Changing the video length to 8 seconds." in out
    assert "answered silently" not in out
    assert "click" not in out.lower(), "GUI talk is translated away"


async def test_error_handling_catches_each_typed_error(
    example: Loader, run: Runner, nemo_client: nemovideo.NemoClient, emulator: Emulator,
    tmp_path: Path,
) -> None:  # fmt: skip
    caught, out = await run(example("error_handling"), emulator)

    assert [type(e) for e in caught] == [
        nemovideo.UnsupportedFileError,
        nemovideo.FileTooLargeError,
        nemovideo.ValidationError,
        nemovideo.ValidationError,
        nemovideo.RateLimitError,
        nemovideo.InsufficientCreditsError,
    ]
    assert all(isinstance(e, nemovideo.NemoError) and str(e) for e in caught)
    unsupported, too_large, empty_message, empty_export, limited, broke = caught
    assert unsupported.filename == "notes.txt" and "txt" not in unsupported.supported_formats
    assert too_large.filename == "huge.mp4"
    assert too_large.size_bytes == nemo_client.config.max_upload_bytes + 1
    assert "message" in str(empty_message) and "Nothing to export" in str(empty_export)
    assert limited.retry_after == pytest.approx(0.05)
    assert broke.registration_url is not None and str(nemo_client.user_id) in broke.registration_url

    uploads = emulator.requests_to("/api/upload-video")
    assert len(uploads) == len(sample_images()), "only the good upload (one request per file)"
    assert len(emulator.requests_to("/run_sse")) == 1, "only the unpaid edit reached the server"
    assert not emulator.requests_to("/api/render/proxy/lambda", method="POST")
    assert [f.kind for f in emulator.faults.fired] == ["rate_limit"] * 3
    assert len(emulator.requests_to("/api/credits")) == 5  # 1 retried, 1 refused twice, 1 balance
    assert (await nemo_client.credits()).available == 100, "the example gave the credits back"
    assert listing(tmp_path) == ["config"], "no bad files left behind"
    assert "a 429 was retried for you: 100 credits" in out
    assert f"register for more credits: {broke.registration_url}" in out


async def test_error_handling_runs_with_an_output_dir_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "not" / "yet"
    out = await run_script("error_handling.py", str(missing), cwd=tmp_path, timeout=90)
    assert "Caught 6 errors" in out
    assert listing(tmp_path) == ["not"] and listing(missing) == [], "nothing left behind"


async def test_error_handling_against_a_real_api_skips_fault_injection(
    example: Loader, run: Runner
) -> None:
    caught, out = await run(example("error_handling"))

    assert [type(e).__name__ for e in caught] == [
        "UnsupportedFileError", "FileTooLargeError", "ValidationError", "ValidationError",
    ]  # fmt: skip
    assert "skipped" in out


async def _poll_until_done(http: TestClient[Any, Any], job_id: str) -> dict[str, Any]:
    for _ in range(3000):  # up to a minute on a slow machine
        resp = await http.get(f"/videos/{job_id}")
        assert resp.status == 200
        status: dict[str, Any] = await resp.json()
        if status["status"] == "completed":
            return status
        await asyncio.sleep(0.02)
    raise AssertionError(f"render {job_id} did not finish: {status}")


def _form(instruction: str | None, files: list[Path]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if instruction is not None:
        form.add_field("instruction", instruction)
    for path in files:
        form.add_field("images", path.read_bytes(), filename=path.name)
    return form


async def test_webapp_creates_and_reports_render_jobs(
    example: Loader, nemo_client: nemovideo.NemoClient, emulator: Emulator, tmp_path: Path
) -> None:
    webapp = example("webapp")
    async with TestClient(TestServer(webapp.make_app(nemo_client), host="127.0.0.1")) as http:
        instruction = "turn these images into a 6-second video"
        resp = await http.post("/videos", data=_form(instruction, sample_images()))
        assert resp.status == 202
        created = await resp.json()
        assert created["summary"] == "Timeline (1 track): 1. Video: 3 clips (0-6s)"
        assert created["session_id"] in emulator.sessions
        assert said(emulator) == [instruction]

        done = await _poll_until_done(http, created["job_id"])
        assert done["job_id"] == created["job_id"] and done["progress"] == 100
        async with aiohttp.ClientSession() as plain, plain.get(done["url"]) as got:
            (tmp_path / "web.mp4").write_bytes(await got.read())
        video(tmp_path / "web.mp4", 6)

        bad = tmp_path / "notes.txt"
        bad.write_text("not an image")
        resp = await http.post("/videos", data=_form(instruction, [bad]))
        assert resp.status == 400
        assert (await resp.json())["error"] == "UnsupportedFileError"

        resp = await http.post("/videos", data=_form(None, sample_images()))
        assert resp.status == 400 and "instruction" in (await resp.json())["message"]

        resp = await http.get("/videos/render_1")
        assert resp.status == 404 and (await resp.json())["error"] == "NotFoundError"

        emulator.set_credits(None, 0)
        resp = await http.post("/videos", data=_form(instruction, sample_images()))
        assert resp.status == 402
        assert (await resp.json())["error"] == "InsufficientCreditsError"
    assert not nemo_client.closed, "the app leaves a client it was given open"


@pytest.mark.parametrize(
    "job_id",
    [
        "..%2F..%2F..%2Fcredits%2Fbalance%2Fsimple",
        "..%2F..%2F..%2F..%2Fcredits",
        "%2E%2E",
        "render_1%0D%0AX-Injected:%201",
        "render_1%2F..%2F..%2Fcredits",
    ],
)
async def test_webapp_refuses_a_traversal_job_id(
    example: Loader, nemo_client: nemovideo.NemoClient, emulator: Emulator, job_id: str
) -> None:
    """A job id from the URL reaches ``renderer.resume()`` decoded (``../../../credits/...``): the
    SDK refuses it before sending, so the app answers 400 and the API sees no stray request."""
    webapp = example("webapp")
    await nemo_client.credits()
    seen = len(emulator.requests)
    async with TestClient(TestServer(webapp.make_app(nemo_client), host="127.0.0.1")) as http:
        resp = await http.get(URL(f"/videos/{job_id}", encoded=True))
        assert resp.status == 400, await resp.text()
        assert (await resp.json())["error"] == "ValidationError"
    assert emulator.requests[seen:] == []


async def test_webapp_opens_its_own_client_at_startup(
    example: Loader, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("NEMO_")]:
        monkeypatch.delenv(name)
    webapp = example("webapp")
    app = webapp.make_app()
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        shared = app[webapp.CLIENT]
        assert shared.config.base_url.startswith("http://127.0.0.1:")
        resp = await http.post(
            "/videos", data=_form("turn these images into a 1-second video", sample_images()[:1])
        )
        assert resp.status == 202, await resp.text()
        await _poll_until_done(http, (await resp.json())["job_id"])
    assert shared.closed, "the client opened at startup is closed at shutdown"


async def test_examples_use_the_real_api_when_nemo_api_url_is_set(
    example: Loader, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``NEMO_API_URL`` switches every example to a plain ``NemoClient()`` (here: at an emulator
    standing in for the service, with fast polling through ``config.json``)."""
    emulator.render.width, emulator.render.height = 320, 180
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.json").write_text('{"poll_interval": 0.01, "max_polls": 3000}')
    for name in [k for k in os.environ if k.startswith("NEMO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NEMO_API_URL", emulator.url)
    monkeypatch.setenv("NEMO_CONFIG_DIR", str(config_dir))
    quickstart = example("quickstart")
    offline = sys.modules["_offline"]

    async with offline.connect() as (client, own_emulator):
        assert own_emulator is None
        assert client.config.base_url == emulator.url
        video(await quickstart.run(client, tmp_path), 15)
    assert len(emulator.sessions) == 1


async def test_quickstart_runs_as_a_script(tmp_path: Path) -> None:
    text = await run_script("quickstart.py", cwd=tmp_path, timeout=90)
    assert "offline: NemoVideo emulator at http://127.0.0.1:" in text
    assert "Timeline (1 track): 1. Video: 3 clips (0-15s)" in text
    info = video(tmp_path / "out" / "quickstart.mp4", 15)
    assert (info.width, info.height) == (1920, 1080)
    assert listing(tmp_path) == ["out"], "videos go to ./out, nothing else is left behind"
    assert listing(tmp_path / "out") == ["quickstart.mp4"]


@pytest.mark.parametrize("script", ["sync_script.py", "answer_question.py", "otel_tracing.py"])
async def test_the_other_examples_run_as_scripts_and_leave_the_cwd_clean(
    script: str, tmp_path: Path
) -> None:
    work, out = tmp_path / "work", tmp_path / "videos"
    work.mkdir()
    await run_script(script, str(out), cwd=work, timeout=110)
    assert listing(work) == [], "nothing is left in the working directory"
    for saved in out.glob("*.mp4") if out.exists() else ():
        assert probe_mp4(saved).has_video


def test_every_example_is_tested() -> None:
    """Each script is run by a test (here, or in the test file of the helper that wrote it) and
    described in the docs."""
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    here = Path(__file__).read_text()
    assert {"quickstart", "batch", "iterative", "error_handling", "webapp"} <= scripts
    assert all(f'example("{name}")' in here for name in
               ("quickstart", "batch", "iterative", "error_handling", "webapp"))  # fmt: skip
    tests = " ".join(p.read_text() for p in Path(__file__).parent.rglob("test_*.py"))
    docs = " ".join(p.read_text() for p in (EXAMPLES.parent / "docs").glob("*.md"))
    for name in scripts:
        assert f'example("{name}")' in tests or f"{name}.py" in tests, f"{name}.py is not run"
        assert f"examples/{name}.py" in docs, f"examples/{name}.py is not in the docs"
