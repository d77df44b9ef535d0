"""The command line a new user meets right after ``make demo``, run as real processes.

Each test is one thing issue 13 saw go wrong, shown fixed: the job id of a render, Ctrl-C during
one, a mistyped ``--session``, ``--out`` over a file that is not a video, the emulator on a taken
port, a closed pipe, ``--help`` everywhere, what ``credits`` imports, and ``--poll-interval``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from nemovideo.testing import Emulator, sample_images
from nemovideo.testing.mp4probe import probe_mp4

from ._proc import finish, run, spawn, user_env

IMAGES = [str(p) for p in sample_images()]


async def _project(emu: Emulator, env: dict[str, str], seconds: int = 4) -> None:
    """A remembered session with a short video on its timeline."""
    emu.render.width, emu.render.height, emu.render.fps = 320, 180, 10
    assert (await run(env, "upload", *IMAGES))[0] == 0
    code, out, err = await run(
        env, "chat", "-m", f"turn these images into a {seconds}-second video"
    )
    assert code == 0, (out, err)


@pytest.fixture
async def held_env(emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    """A user's environment with a project on its timeline whose renders wait for ``release()``."""
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env)
    emulator.render.hold()
    return env


async def test_export_prints_the_job_id_and_ctrl_c_says_how_to_resume(
    emulator: Emulator, tmp_path: Path, held_env: dict[str, str]
) -> None:
    env = held_env

    def interrupt() -> tuple[str, int, str]:
        child = spawn(env, "export", "--out", str(tmp_path / "videos"))
        child.expect(r"Rendering job (render_[0-9A-Za-z_.-]+) \(if interrupted: nemovideo export "
                     r"--job \1 --out \S+\)")  # fmt: skip
        job_id = str(child.match.group(1))
        child.sendintr()
        code, rest = finish(child)
        return job_id, code, rest

    job_id, code, rest = await asyncio.to_thread(interrupt)
    assert code == 130
    assert (
        f"render {job_id} keeps running on the server. Resume it: nemovideo export --job {job_id}"
        in rest
    )
    assert "Traceback" not in rest

    emulator.render.release()
    code, out, err = await run(
        env, "export", "--json", "--job", job_id, "--out", str(tmp_path / "videos")
    )
    assert code == 0, err
    saved = json.loads(out)
    assert saved["job_id"] == job_id and probe_mp4(Path(saved["path"])).has_video
    assert len(emulator.requests_to("/api/render/proxy/lambda", "POST")) == 1, (
        "resumed, not re-rendered"
    )


async def test_an_interrupted_export_under_json_names_the_job(
    emulator: Emulator, tmp_path: Path, held_env: dict[str, str]
) -> None:
    env = held_env

    def interrupt() -> tuple[int, str]:
        child = spawn(env, "export", "--json", "--out", str(tmp_path / "videos"))
        for _ in range(1200):
            if emulator.requests_to("/api/render/proxy/lambda/", "GET"):
                break
            child.expect([pexpect.TIMEOUT], timeout=0.05)
        child.sendintr()
        return finish(child)

    code, shown = await asyncio.to_thread(interrupt)
    emulator.render.release()
    answer = json.loads(shown.replace("^C", "").strip())
    job_id = emulator.requests_to("/api/render/proxy/lambda", "POST")[0].json["id"]
    assert code == 130 and answer["error"] == "Interrupted" and answer["job_id"] == job_id
    assert f"nemovideo export --job {job_id}" in answer["message"]


async def test_a_mistyped_session_never_replaces_the_remembered_one(
    emulator: Emulator, tmp_path: Path
) -> None:
    cfg = tmp_path / "cfg"
    env = user_env(emulator.url, cfg)
    await _project(emulator, env)
    remembered = (cfg / "cli-sessions.json").read_bytes()
    sessions_before = set(emulator.sessions)

    for args in (("state",), ("chat", "-m", "status"), ("chat", "-m", "add lo-fi BGM"),
                 ("upload", IMAGES[0]), ("export", "--out", str(tmp_path / "v"))):  # fmt: skip
        code, out, err = await run(env, *args, "--session", "999999")
        assert code == 6, (args, out, err)
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert (cfg / "cli-sessions.json").read_bytes() == remembered, args

    assert set(emulator.sessions) == sessions_before, "no session was created"
    assert len(emulator.requests_to("/run_sse", "POST")) == 1, "nothing reached the agent"
    code, out, _ = await run(env, "state", "--json")
    state = json.loads(out)
    assert code == 0 and state["new_session"] is False and "4s" in state["summary"]


async def test_out_never_overwrites_a_file_that_is_not_a_video(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env)
    keep = tmp_path / "keep.txt"
    keep.write_text("my notes\n")
    for command in ("export", "demo"):
        code, out, err = await run(env, command, "--out", str(keep))
        assert code == 2, (command, out, err)
        assert f"Refusing to overwrite {keep}: it exists and is not a video" in err
        assert "--force" in err
    assert keep.read_text() == "my notes\n"
    assert emulator.requests_to("/api/render") == [], "refused before anything was rendered"

    video = tmp_path / "my video.mp4"
    for _ in range(2):  # the second run replaces the first one's output: a video
        code, out, err = await run(env, "export", "--json", "--out", str(video))
        assert code == 0, err
        assert json.loads(out)["path"] == str(video) and probe_mp4(video).has_video

    code, out, err = await run(env, "export", "--json", "--force", "--out", str(keep))
    assert code == 0, err
    assert probe_mp4(keep).has_video, "--force replaces whatever was there"

    code, out, _ = await run(env, "export", "--json", "--out", str(tmp_path / "videos"))
    saved = Path(json.loads(out)["path"])
    assert code == 0 and saved.parent == tmp_path / "videos" and saved.suffix == ".mp4"

    for command in ("export", "demo"):
        code, out, _ = await run(env, command, "--help")
        assert code == 0 and "--force" in out and "only when it is a video" in " ".join(out.split())


def test_every_command_has_help_with_a_description(tmp_path: Path) -> None:
    env = user_env("http://127.0.0.1:9", tmp_path / "cfg")
    top = subprocess.run([sys.executable, "-m", "nemovideo", "--help"], env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    commands = ("demo", "chat", "upload", "export", "credits", "state", "emulator")
    assert top.returncode == 0 and all(c in top.stdout for c in commands)
    for command in commands:
        shown = subprocess.run([sys.executable, "-m", "nemovideo", command, "--help"], env=env,
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert shown.returncode == 0, (command, shown.stderr)
        paragraphs = shown.stdout.split("\n\n")
        assert paragraphs[0].startswith(f"usage: nemovideo {command}")
        description = paragraphs[1].strip()
        assert len(description.split()) >= 6 and not description.startswith(("options", "positional")), (
            command, shown.stdout,
        )  # fmt: skip


@pytest.mark.parametrize("port", ["taken", "70000", "-1", "http"])
def test_the_emulator_on_a_bad_port_is_one_line_and_exit_2(port: str, tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        number = str(blocker.getsockname()[1]) if port == "taken" else port
        done = subprocess.run([sys.executable, "-m", "nemovideo", "emulator", "--port", number],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2, done
    if port in ("taken", "70000", "-1"):
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    if port == "taken":
        assert "already in use" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


async def test_a_closed_pipe_exits_quietly(emulator: Emulator, tmp_path: Path) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env)
    for args in (["state"], ["state", "--json"], ["credits"]):
        read, write = os.pipe()
        os.close(read)  # `| head -1` that has already gone
        try:
            done = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-m", "nemovideo", *args], env=env, stdout=write,
                stderr=subprocess.PIPE, text=True, timeout=60,
            )  # fmt: skip
        finally:
            os.close(write)
        assert (done.returncode, done.stderr) == (0, ""), (args, done.stderr)


async def test_credits_imports_neither_the_emulator_nor_aiohttp_web(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-X", "importtime", "-m", "nemovideo", "credits"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "nemovideo.cli" in imported and "aiohttp" in imported
    assert not {m for m in imported if m.startswith(("nemovideo.testing", "aiohttp.web"))}
    assert "tqdm" not in imported


async def test_poll_interval_from_the_command_line_and_the_environment(
    emulator: Emulator, tmp_path: Path
) -> None:
    """config.json says "poll once an hour": the flag, or NEMO_POLL_INTERVAL, wins over it."""
    cfg = tmp_path / "cfg"
    hourly = {"poll_interval": 3600, "poll_initial_interval": 3600}
    env = user_env(emulator.url, cfg)
    await _project(emulator, env)
    for extra_env, args in (
        ({}, ("--poll-interval", "0.02")),
        ({"NEMO_POLL_INTERVAL": "0.02"}, ()),
    ):
        code, out, err = await run(user_env(emulator.url, cfg, config=hourly, **extra_env),
                                   "export", "--json", *args, "--out", str(tmp_path / "v"),
                                   timeout=90)  # fmt: skip
        assert code == 0, err  # an hour between polls would have hit the timeout above
        assert probe_mp4(Path(json.loads(out)["path"])).has_video
    for bad in ("0", "-1", "soon", "nan"):
        code, _, err = await run(
            env, "export", "--poll-interval", bad, "--out", str(tmp_path / "v")
        )
        assert code == 2 and "--poll-interval" in err, err


async def test_the_render_bar_moves_as_the_job_moves(emulator: Emulator, tmp_path: Path) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    await _project(emulator, env, seconds=6)
    emulator.render.width, emulator.render.height = 640, 360

    def export() -> tuple[int, str]:
        return finish(spawn(env, "export", "--out", str(tmp_path / "videos")))

    code, shown = await asyncio.to_thread(export)
    assert code == 0, shown
    percents = [int(p) for p in re.findall(r"render:\s+(\d+)%", shown)]
    assert len(set(percents)) >= 2 and percents == sorted(percents), percents
    assert percents[-1] == 100
