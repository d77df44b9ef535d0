"""The first hour, round three (issue 23): what a newcomer meets, driven as they would drive it.

The chat says every sentence once; exports do what was asked or say why not; the README's
install lines and the smaller points, each through the real ``nemovideo`` command or the
documented snippet.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import nemovideo
import nemovideo.testing
from nemovideo.errors import ValidationError
from nemovideo.testing import Emulator, fast_client, sample_images
from tests.test_notebook import NOTEBOOK, kernel_env
from tests.test_notebook import _read as _read_notebook

from ..conftest import communicate
from ._proc import RATIO_QUESTION, chat_prompt, finish, run, spawn, user_env

__all__ = ["kernel_env"]  # the fixture, shared with tests/test_notebook.py

IMAGES = " ".join(str(p) for p in sample_images())
MAKE = f"/upload {IMAGES} -- turn these images into a 4-second video"


def _small(emu: Emulator) -> None:
    emu.render.width, emu.render.height, emu.render.fps = 320, 180, 10


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _sentences(text: str) -> list[str]:
    """The sentences of a reply, split at line ends and full stops (each long enough to be
    unique on the screen)."""
    parts = re.split(r"(?<=[.!?])\s+|\n", text)
    return [p.strip() for p in parts if len(p.strip()) > 12]


async def test_chat_shows_every_sentence_of_a_reply_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    code, out, err = await run(env, "chat", "--json", "-m", MAKE)
    assert code == 0, err
    replies = [json.loads(out.splitlines()[-1])["text"]]

    def converse() -> str:
        child = spawn(env, "chat", "--new")
        child.logfile_read = screen = io.StringIO()
        child.expect("> ")
        child.sendline(MAKE)
        child.expect("> ")
        emulator.chat.question = RATIO_QUESTION
        child.sendline("make it look nicer")
        child.expect("\\? ")
        child.sendline("skip")
        child.expect("> ")
        child.sendline("/quit")
        finish(child)
        return screen.getvalue()

    shown = await asyncio.to_thread(converse)
    sentences = _sentences(replies[0])
    assert len(sentences) >= 3, replies
    for sentence in [*sentences, "Which look do you want?", "Answer with the option numbers"]:
        assert shown.count(sentence) == 1, (sentence, shown)


def _probe(path: Path) -> tuple[str, str, int, int]:
    """``(container, video codec, width, height)`` of a rendered file, as ffmpeg reads it."""
    import imageio_ffmpeg

    done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    container = re.search(r"Input #0, ([\w,]+), from", done.stderr)
    video = re.search(r"Video: (\w+).*?, (\d{2,5})x(\d{2,5})", done.stderr)
    assert container and video, done.stderr
    return container.group(1), video.group(1), int(video.group(2)), int(video.group(3))


async def _project(emu: Emulator, env: dict[str, str]) -> None:
    """A remembered session with a 4-second video on its timeline."""
    _small(emu)
    code, out, err = await run(env, "chat", "-m", MAKE)
    assert code == 0, (out, err)


async def test_export_renders_the_format_and_resolution_asked(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env)
    wanted = {("webm", "720p"): ("matroska,webm", "vp8", 1280, 720),
              ("gif", "480p"): ("gif", "gif", 854, 480),
              ("mov", None): ("mov,mp4,m4a,3gp,3g2,mj2", "h264", 320, 180)}  # fmt: skip
    for (fmt, res), expected in wanted.items():
        extra = ["--resolution", res] if res else []
        code, out, err = await run(env, "export", "--json", "--format", fmt.upper(), *extra,
                                   "--quality", "low", "--out", str(tmp_path / "videos"))  # fmt: skip
        assert code == 0, err
        path = Path(json.loads(out)["path"])
        assert path.suffix == f".{fmt}" and _probe(path) == expected
    outputs = [r.json["output"] for r in emulator.requests_to("/api/render/proxy/lambda", "POST")]
    assert outputs == [{"format": "webm", "quality": "low", "resolution": "720p"},
                       {"format": "gif", "quality": "low", "resolution": "480p"},
                       {"format": "mov", "quality": "low"}]  # fmt: skip


async def test_an_unsupported_export_is_refused_before_anything_is_sent(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env)
    for flags, named in ((["--format", "avi"], "mp4, webm, mov, gif"),
                         (["--quality", "ultra"], "low, medium, high"),
                         (["--resolution", "8k"], "480p, 720p, 1080p")):  # fmt: skip
        code, out, err = await run(env, "export", *flags)
        assert code == 2 and out == "", err
        assert "invalid choice" in err and named.replace(", ", "', '") in err, err
    for sentence, named in (("export 8k avi", "mp4, webm, mov, gif"),
                            ("export it in ultra quality", "low, medium, high"),
                            ("export 540p mp4", "480p, 720p, 1080p, 1440p, 2160p, 4k")):  # fmt: skip
        code, out, err = await run(env, "chat", "--json", "-m", sentence)
        said = json.loads(out.splitlines()[-1])
        assert said["action"] == "export" and named in said["text"], said
        assert "Nothing was rendered" in said["text"]
    assert emulator.requests_to("/api/render") == []

    async with fast_client(emulator, tmp_path / "sdk") as client:
        session = await client.create_session()
        with pytest.raises(ValidationError, match="supported: mp4, webm, mov, gif"):
            await session.export(format="avi")  # type: ignore[arg-type]
    assert emulator.requests_to("/api/render") == []


async def test_the_assistant_keeps_format_and_resolution_from_a_sentence(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env)
    code, out, err = await run(env, "chat", "--json", "--out", str(tmp_path / "v"), "-m",
                               "export 720p webm")  # fmt: skip
    said = json.loads(out.splitlines()[-1])
    assert code == 0 and said["path"].endswith(".webm"), (out, err)
    assert _probe(Path(said["path"]))[1:] == ("vp8", 1280, 720)
    emulator.render.fail_next("stopped by the test: a 4k render takes a while")
    await run(env, "chat", "--json", "-m", "export 4k mov")
    outputs = [r.json["output"] for r in emulator.requests_to("/api/render/proxy/lambda", "POST")]
    assert outputs == [{"format": "webm", "quality": "high", "resolution": "720p"},
                       {"format": "mov", "quality": "high", "resolution": "2160p"}]  # fmt: skip


async def test_download_to_a_name_without_a_suffix_makes_a_file(
    emulator: Emulator, tmp_path: Path
) -> None:
    _small(emulator)
    async with fast_client(emulator, tmp_path / "cfg") as client:
        session = await client.create_session()
        await session.upload(sample_images())
        await session.send("turn these images into a 4-second video")
        job = await session.export()
        saved = await job.download(tmp_path / "video")
        assert saved == tmp_path / "video.mp4" and saved.is_file()
        into = await job.download(f"{tmp_path / 'videos'}/")
        assert into.parent == tmp_path / "videos" and into.suffix == ".mp4"
        gif = await session.export(format="gif")
        assert (await gif.download(tmp_path / "anim")).name == "anim.gif"
    assert _probe(tmp_path / "anim.gif")[:2] == ("gif", "gif")


async def test_chat_export_out_ctrl_c_names_the_job_and_state_drops_it_when_done(
    emulator: Emulator, tmp_path: Path
) -> None:
    _small(emulator)
    env = user_env(emulator.url, tmp_path / "cfg")
    other = tmp_path / "other"

    def converse() -> tuple[str, str]:
        child = chat_prompt(env, "--out", str(tmp_path / "videos"))
        child.sendline(MAKE)
        child.expect("> ")
        emulator.render.hold()
        child.sendline(f"/export 480p webm --out {other}")
        child.expect("Rendering")
        child.sendintr()
        child.expect(r"Render (render_\S+) keeps running on the server: /export --job \1")
        job_id = str(child.match.group(1))
        child.expect("> ")
        emulator.render.release()
        child.sendline(f"/export --job {job_id} --out {other}")
        child.expect("Video ready! Saved to")
        child.expect("> ")
        child.sendline("/state")
        child.expect("Timeline")
        child.expect("> ")
        after = str(child.before)
        child.sendline("/quit")
        finish(child)
        return job_id, after

    job_id, after = await asyncio.to_thread(converse)
    assert "Renders running" not in after, after
    assert [p.name for p in other.iterdir()] == [f"{job_id}.webm"]
    assert not (tmp_path / "videos").exists() or not list((tmp_path / "videos").iterdir())
    assert _probe(other / f"{job_id}.webm")[1:] == ("vp8", 854, 480)


ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_installs_from_a_clone_and_says_what_make_test_installs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    assert "pip install -e '.[emulator,cli]'" in readme
    activate = [n for n, line in enumerate(lines) if line.startswith(". .venv/bin/activate")]
    extra = lines.index(
        "nemovideo emulator & export NEMO_API_URL=http://127.0.0.1:8765     # the one extra line"
    )
    assert activate and activate[0] == extra - 1, "activate .venv right before the extra line"
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"pip install '?nemovideo\b", text), f"{page.name}: not on PyPI"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    versions = sorted(set(re.findall(r"'google-adk==([\d.]+)'", makefile)))
    assert len(versions) == 2 and all(v in readme for v in versions), versions
    assert "`.venv-adk`" in readme and "`.venv-adk1`" in readme and "tests/adk" in readme
    extras = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^emulator = \[.*"imageio-ffmpeg', extras, re.M)
    assert re.search(r'^cli = \[.*"tqdm', extras, re.M)
    if (ROOT / ".venv" / "bin" / "activate").exists():  # the README's line, as a shell runs it
        done = subprocess.run(["bash", "-c", ". .venv/bin/activate && nemovideo --version"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0 and done.stdout.startswith("nemovideo "), done


async def test_demo_without_the_emulator_extra_names_the_extra(tmp_path: Path) -> None:
    hidden = tmp_path / "hide" / "imageio_ffmpeg"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'imageio_ffmpeg'\", name='imageio_ffmpeg')\n"
    )
    env = user_env("http://127.0.0.1:9", tmp_path / "cfg", PYTHONPATH=str(tmp_path / "hide"))
    env.pop("IMAGEIO_FFMPEG_EXE", None)
    code, out, err = await run(env, "demo", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert code == 1 and "Traceback" not in err, err
    assert "pip install 'nemovideo[emulator]'" in err and "No module named" not in err
    assert "Uploaded" not in out, "said before any work is done"


async def test_running_out_of_emulator_credits_says_how_to_start_it_with_more(
    emulator: Emulator, tmp_path: Path
) -> None:
    async with fast_client(emulator, tmp_path / "cfg") as client:

        async def one_video() -> None:
            session = await client.create_session()
            await session.upload(sample_images())
            await session.send("turn these images into a 4-second video")

        results = await asyncio.gather(*(one_video() for _ in range(3)), return_exceptions=True)
    failed = [r for r in results if isinstance(r, Exception)]
    assert failed and all(isinstance(r, nemovideo.InsufficientCreditsError) for r in failed)
    assert "nemovideo emulator --credits 1000" in str(failed[0])


def test_the_configuration_page_prints_what_it_says(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", page, re.S) if "Timeouts(" in b)
    said = re.search(r"# (Timeouts\(.*?), \.\.\.\)", block)
    assert said
    env = {**user_env("http://127.0.0.1:9", tmp_path / "cfg"), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(said.group(1)), (said.group(1), done.stdout)


async def test_the_resume_command_after_ctrl_c_keeps_out(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env)
    emulator.render.hold()
    videos = tmp_path / "my videos"

    def interrupt() -> str:
        child = spawn(env, "export", "--out", str(videos))
        child.expect(r"Rendering job render_\S+ \(if interrupted: ")
        child.sendintr()
        return finish(child)[1]

    shown = await asyncio.to_thread(interrupt)
    resume = re.search(r"Resume it: (nemovideo export .*)", shown)
    assert resume, shown
    words = shlex.split(resume.group(1).strip())
    assert words[words.index("--out") + 1] == str(videos)
    emulator.render.release()
    code, _, err = await run(env, *words[1:], cwd=tmp_path)  # as pasted, from anywhere
    assert code == 0, err
    assert [p.suffix for p in videos.iterdir()] == [".mp4"]
    assert not [n for n in _names(tmp_path) if n.endswith(".mp4")], "not in the current dir"


async def test_blocked_export_links_and_a_missing_job_says_what_to_do_and_exits_6(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env)
    emulator.block_exports()
    code, out, err = await run(env, "export", "--json")
    blocked = json.loads(out)
    assert code == 4 and blocked["error"] == "ExportBlockedError", (out, err)
    assert re.search(r"Register[\w ]*: http\S+/register\?bind=anon_", blocked["message"]), blocked
    async with fast_client(emulator, tmp_path / "sdk") as client:
        session = await client.create_session()
        await session.upload(sample_images())
        await session.send("turn these images into a 4-second video")
        with pytest.raises(nemovideo.ExportBlockedError) as caught:
            await session.export()
        assert caught.value.registration_url == client.api.registration_url() is not None
        assert caught.value.registration_url in str(caught.value)
        with pytest.raises(nemovideo.NotFoundError, match="Check the id") as missing:
            await (await client.renderer.resume("render_404")).refresh()
        assert missing.value.request_id is not None

    code, out, err = await run(env, "export", "--job", "render_404")
    assert code == 6 and out == "", err
    assert err.startswith("error: ") and "Check the id" in err and "Traceback" not in err


def test_the_error_tree_names_every_builtin_error_a_class_also_is() -> None:
    lines = {}
    for line in (nemovideo.errors.__doc__ or "").splitlines():
        drawn = re.match(r"\s*(?:[│├└─ ]*── )?([A-Z]\w*Error)\b", line)
        if drawn:
            lines[drawn.group(1)] = line
    for name in nemovideo.errors.__all__:
        cls = getattr(nemovideo.errors, name)
        if not isinstance(cls, type):
            continue
        line = lines[name]
        for base in cls.__bases__:
            if base.__module__ == "builtins" and base is not Exception:
                article = "an" if base.__name__[0] in "AEIOU" else "a"
                assert f"also {article} {base.__name__}" in line, (name, line)
    assert issubclass(nemovideo.DownloadError, OSError)
    assert issubclass(nemovideo.RenderTimeoutError, TimeoutError)


async def _script(script: str, cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """``python examples/SCRIPT ARGS`` in ``cwd``, as a user runs it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "examples" / script), *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await communicate(proc, 150)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _plain_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    return {**env, **extra}


async def test_sync_script_saves_into_out_as_documented(tmp_path: Path) -> None:
    code, _, err = await _script("sync_script.py", tmp_path, _plain_env())
    assert code == 0, err
    assert _names(tmp_path) == ["out"] and _names(tmp_path / "out") == ["sync_script.mp4"]
    assert "Videos go to `./out/`" in (ROOT / "docs" / "examples.md").read_text(encoding="utf-8")


async def test_quickstart_against_an_unreachable_api_is_one_clean_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = _plain_env(NEMO_API_URL=url, NEMO_CONFIG_DIR=str(tmp_path / "cfg"), NEMO_MAX_RETRIES="0")
    code, _, err = await _script("quickstart.py", tmp_path, env)
    assert code == 1 and "Traceback" not in err, err
    assert err.startswith("Failed: ") and "127.0.0.1" in err and len(err.splitlines()) == 1


async def test_the_insecure_http_advice_works_from_the_command_line(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    env = user_env("http://0.0.0.0:9", cfg)  # not loopback by name; refused at once if tried
    code, _, err = await run(env, "credits")
    assert code == 2 and '"allow_insecure_http": true' in err and "config.json" in err, err
    (cfg / "config.json").write_text(json.dumps({"allow_insecure_http": True, "max_retries": 0}))
    code, _, err = await run(env, "credits")
    assert code == 5 and "0.0.0.0:9" in err and "Refusing" not in err, err


async def test_a_flag_typo_gets_the_command_usage_and_a_did_you_mean(tmp_path: Path) -> None:
    env = user_env("http://127.0.0.1:9", tmp_path / "cfg")
    code, out, err = await run(env, "export", "--otu", "videos/")
    assert code == 2 and out == ""
    assert err.startswith("usage: nemovideo export ") and "--otu (did you mean --out?)" in err
    code, out, err = await run(env, "--json", "export", "--formt", "gif")
    assert code == 2 and "(did you mean --format?)" in json.loads(out)["message"]


async def test_state_after_uploads_names_the_media_and_new_is_reported(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    code, out, err = await run(env, "--json", "state", "--new")
    assert code == 0 and json.loads(out)["new_session"] is True, (out, err)
    code, out, err = await run(env, "--json", "state")
    assert code == 0 and json.loads(out)["new_session"] is False, (out, err)
    assert (await run(env, "upload", *IMAGES.split()))[0] == 0
    code, out, err = await run(env, "state")
    assert code == 0, err
    assert "Timeline (0 tracks): empty" in out
    assert "Media (3 uploaded): city_1.jpg, city_2.jpg, city_3.jpg." in out
    assert "Not on the timeline yet" in out
    code, out, err = await run(env, "--json", "state")
    assert json.loads(out)["media"] == ["city_1.jpg", "city_2.jpg", "city_3.jpg"]
    code, out, err = await run(env, "chat", "-m", "/state")
    assert code == 0 and "Media (3 uploaded)" in out, (out, err)


@pytest.mark.timeout(90)
def test_the_notebook_s_bars_end_where_the_work_ended_and_the_video_fits(
    kernel_env: Path,
) -> None:
    from nbclient import NotebookClient

    nb = _read_notebook(NOTEBOOK)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "sample_images()" in code and "glob(" not in code
    NotebookClient(nb, timeout=60, startup_timeout=30, kernel_name="python3",
                   resources={"metadata": {"path": str(kernel_env)}}).execute()  # fmt: skip
    bars = [o.data["text/plain"] for c in nb.cells for o in c.get("outputs", [])
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]  # fmt: skip
    assert [b.split(":")[0] for b in bars] == ["upload", "render", "download"], bars
    assert all(" 100%|" in b for b in bars), "the saved text form shows where the bar ended"
    players = [o.data["text/html"] for c in nb.cells for o in c.get("outputs", [])
               if "<video" in o.get("data", {}).get("text/html", "")]  # fmt: skip
    assert players and all("max-width: 100%" in p for p in players)


def test_the_reference_teaches_with_examples_and_the_guides_cover_the_rest() -> None:
    from nemovideo.sync import SyncNemoClient

    core = [nemovideo.NemoClient, SyncNemoClient, nemovideo.Session, nemovideo.ChatStream,
            nemovideo.ChatReply, nemovideo.Draft, nemovideo.RenderJob, nemovideo.Uploader,
            nemovideo.testing.fast_client]  # fmt: skip
    for obj in core:
        assert ">>> " in (obj.__doc__ or ""), f"{obj.__name__} has no runnable example"
    events = (ROOT / "nemovideo" / "chat" / "_events.py").read_text(encoding="utf-8")
    for name in ("TextEvent", "ToolCallEvent", "DraftUpdatedEvent", "QuestionEvent"):
        assert f"- ``{name}``" in events or f"``{name}``:" in events, name
    reference = (ROOT / "docs" / "reference" / "testing.md").read_text(encoding="utf-8")
    assert "::: nemovideo.testing.fast_client" in reference
    assert "::: nemovideo.testing.FAST_SETTINGS" in reference
    guides = " ".join(
        (ROOT / "docs" / page).read_text(encoding="utf-8")
        for page in ("guides.md", "export.md", "testing.md")
    )
    for taught in ("job.cancel()", "export(draft=edited)", "session.answer(", "keep_events=\"all\"",
                   "DraftUpdatedEvent", "send_message(", "nemovideo.route(", "fast_client(",
                   "FAST_SETTINGS"):  # fmt: skip
        assert taught in guides, taught
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "guides.md" in nav and "export.md" in nav


async def test_docs_say_what_the_output_shows_ids_and_waits(
    emulator: Emulator, tmp_path: Path
) -> None:
    logging_page = (ROOT / "docs" / "logging.md").read_text(encoding="utf-8")
    shown = re.search(r"\(`(req_[0-9a-f]{16}_[0-9a-f]+)`\)", logging_page)
    assert shown, "the request-id format is shown by example"
    _small(emulator)
    async with fast_client(emulator, tmp_path / "cfg", max_retries=0) as client:
        await client.credits()
        headers = {
            k.lower(): v for k, v in emulator.requests_to("/api/credits")[-1].headers.items()
        }
        sent = headers["x-request-id"]
        assert re.fullmatch(r"req_[0-9a-f]{16}_[0-9a-f]+", sent), sent
        session = await client.create_session()
        await session.upload(sample_images())
        await session.send("turn these images into a 4-second video")
        emulator.render.fail_next("GPU lost")
        with pytest.raises(nemovideo.RenderFailedError) as failed:
            await (await session.export()).wait()
        emulator.render.hold()
        with pytest.raises(nemovideo.RenderTimeoutError) as late:
            await (await session.export()).wait(timeout=0.3)
        emulator.render.release()
        emulator.chat.heartbeats_only = True
        with pytest.raises(nemovideo.StreamTimeoutError) as quiet:
            await session.send("make it 5 seconds", timeout=0.3)
    for exc in (failed.value, late.value, quiet.value):
        assert exc.request_id and re.fullmatch(r"req_[0-9a-f]{16}_[0-9a-f]+", exc.request_id)
    assert re.search(r"after 0\.[3-9] s \(\d+ polls\)", str(late.value)), str(late.value)

    concepts = (ROOT / "docs" / "concepts.md").read_text(encoding="utf-8")
    assert "at most 256 characters" in concepts
    async with fast_client(emulator, tmp_path / "cfg2") as client:  # ids are checked alike
        for good in ("render_1718000000000", "5529798706024415232", "session_abc", "job:1.2"):
            assert client.session(good).id == good
        for bad in ("a/b", "..", " x", "x\n", "r" * 257, ""):
            with pytest.raises(ValidationError):
                client.session(bad)


@pytest.mark.timeout(120)
def test_the_testing_guide_s_pytest_settings_silence_the_loop_scope_warning(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    toml = re.search(r"```toml\n(.*?)```", page, re.S)
    test = next(
        b for b in re.findall(r"```python\n(.*?)```", page, re.S) if "def test_balance" in b
    )
    assert toml and "asyncio_default_fixture_loop_scope" in toml.group(1)
    (tmp_path / "test_app.py").write_text(test, encoding="utf-8")
    env = _plain_env()

    def pytest_run(config: str) -> str:
        (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=100)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    without = pytest_run('[tool.pytest.ini_options]\nasyncio_mode = "auto"\n')
    assert '"asyncio_default_fixture_loop_scope" is' in without  # the warning the guide quotes
    assert '"asyncio_default_fixture_loop_scope" is\nunset' in page or "is unset" in page
    assert "PytestDeprecationWarning" not in pytest_run(toml.group(1))
