"""The ``nemovideo`` command line, run as a real process against the emulator over loopback."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from nemovideo.testing import Emulator, sample_images
from nemovideo.testing.mp4probe import probe_mp4


def _env(
    emu: Emulator, config_dir: Path, config: dict[str, Any] | None = None, **extra: str
) -> dict[str, str]:
    """The CLI's environment: the emulator's URL, and (through ``config.json``) fast polling."""
    config_dir.mkdir(parents=True, exist_ok=True)
    fast = {"poll_interval": 0.02, "heartbeat_notice_interval": 0.2}
    (config_dir / "config.json").write_text(json.dumps({**fast, **(config or {})}))
    emu.render.width, emu.render.height = 320, 180
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env.update(NEMO_API_URL=emu.url, NEMO_CONFIG_DIR=str(config_dir), **extra)
    return env


async def cli(
    emu: Emulator, config_dir: Path, *args: str, stdin: bytes | None = None,
    config: dict[str, Any] | None = None, **env: str,
) -> tuple[int, str, str]:  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nemovideo", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=_env(emu, config_dir, config, **env),
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin or b""), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_credits_state_upload_export_json(emulator: Emulator, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    code, out, _ = await cli(emulator, cfg, "credits", "--json")
    assert code == 0 and json.loads(out)["available"] == 100

    code, out, _ = await cli(emulator, cfg, "upload", "--json", *map(str, sample_images()))
    assert code == 0, out
    uploaded = json.loads(out)
    assert [m["name"] for m in uploaded["media"]] == ["city_1.jpg", "city_2.jpg", "city_3.jpg"]

    code, out, _ = await cli(
        emulator, cfg, "chat", "--json", "-m", "turn these images into a 6-second video"
    )
    assert code == 0, out
    assert json.loads(out)["action"] == "chat"

    code, out, _ = await cli(emulator, cfg, "state", "--json")
    state = json.loads(out)
    assert state["session_id"] == uploaded["session_id"], "the CLI remembers its session"
    assert "1. Video:" in state["summary"]

    code, out, err = await cli(emulator, cfg, "export", "--json", "--out", str(tmp_path / "v"))
    assert code == 0, err
    path = Path(json.loads(out)["path"])
    assert path.parent == tmp_path / "v"
    assert probe_mp4(path).duration_s == pytest.approx(6, abs=0.6)


async def test_a_render_that_outlasts_the_wait_is_resumed_with_export_job(
    emulator: Emulator, tmp_path: Path
) -> None:
    cfg, videos = tmp_path / "cfg", tmp_path / "videos"
    assert (await cli(emulator, cfg, "upload", *map(str, sample_images())))[0] == 0
    assert (await cli(emulator, cfg, "chat", "-m", "turn these images into a 4-second video"))[
        0
    ] == 0
    emulator.render.hold()
    code, out, _ = await cli(emulator, cfg, "export", "--json", "--out", str(videos),
                             config={"render_timeout": 0.2})  # fmt: skip
    failure = json.loads(out)
    assert code == 5 and failure["error"] == "RenderTimeoutError"
    job_id = failure["job_id"]
    assert f"nemovideo export --job {job_id} --out {videos}" in failure["message"]
    assert (job_id.startswith("render_") and not videos.exists()) or not os.listdir(videos)
    emulator.render.release()
    code, out, err = await cli(
        emulator, cfg, "export", "--json", "--job", job_id, "--out", str(videos)
    )
    assert code == 0, err
    saved = json.loads(out)
    assert saved["job_id"] == job_id
    assert probe_mp4(Path(saved["path"])).duration_s == pytest.approx(4, abs=0.6)
    assert len(emulator.requests_to("/api/render/proxy/lambda", "POST")) == 1, (
        "resumed, not re-rendered"
    )


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        ("none", ("upload", "{bad}"), 2),
        ("none", ("state", "--session", "123456789"), 6),
        ("token", ("credits",), 3),
        ("broke", ("chat", "-m", "add lo-fi music"), 4),
        ("5xx", ("credits",), 5),
    ],
)
async def test_exit_codes_and_no_traceback(
    emulator: Emulator, tmp_path: Path, setup: str, args: tuple[str, ...], expected: int
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a video")
    env: dict[str, str] = {}
    if setup == "token":
        env["NEMO_TOKEN"] = "nmv_usr_rejected"
    elif setup == "broke":
        emulator.set_credits(None, 0)
    elif setup == "5xx":
        emulator.faults.server_error(times=50, path="/api/credits")
    argv = [a.replace("{bad}", str(bad)) for a in args]
    code, out, err = await cli(emulator, tmp_path / "cfg", *argv, **env)
    assert code == expected, (out, err)
    assert "Traceback" not in err and err.startswith("error: "), err
    assert len(err.strip().splitlines()) == 1
    if setup == "none" and args[0] == "upload":
        assert emulator.requests_to("upload") == []


async def test_chat_repl_through_a_pty(emulator: Emulator, tmp_path: Path) -> None:
    images = " ".join(str(p) for p in sample_images())
    out_dir = tmp_path / "videos"

    def drive() -> str:
        child = pexpect.spawn(
            sys.executable, ["-m", "nemovideo", "chat", "--out", str(out_dir)],
            env=_env(emulator, tmp_path / "cfg"), encoding="utf-8", timeout=60,
        )  # fmt: skip
        try:
            child.expect("> ")
            child.sendline(f"/upload {images} -- turn these images into a 6-second video")
            child.expect("Uploaded 3 files")
            child.expect("> ")
            child.sendline("add lo-fi BGM at 35%")
            child.expect("> ")
            child.sendline("status")
            child.expect("BGM: ")
            child.expect("> ")
            child.sendline("export 1080p mp4")
            child.expect("Video ready! Saved to (\\S+)")
            saved = str(child.match.group(1)).strip()
            child.expect("> ")
            child.sendline("/quit")
            child.expect(pexpect.EOF)
        finally:
            child.close()
        assert child.exitstatus == 0
        return saved

    saved = await asyncio.to_thread(drive)
    assert Path(saved).parent == out_dir
    info = probe_mp4(Path(saved))
    assert info.has_video and info.has_audio
    assert info.duration_s == pytest.approx(6, abs=0.6)
    assert len(emulator.requests_to("/run_sse", "POST")) == 2


async def test_demo_makes_a_playable_mp4(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nemovideo", "demo", "--out", str(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NEMO_CONFIG_DIR": str(tmp_path / "cfg")},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 110)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "Started the NemoVideo emulator" in text and "Timeline (" in text
    info = probe_mp4(tmp_path / "demo.mp4")
    assert (info.width, info.height) == (1920, 1080)
    assert info.duration_s == pytest.approx(15, abs=0.6)


def _spawn(emu: Emulator, config_dir: Path, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable, ["-m", "nemovideo", *args],
        env=_env(emu, config_dir), encoding="utf-8", timeout=30,
    )  # fmt: skip


def _forget_to(emu: Emulator, config_dir: Path, session_id: str) -> None:
    """Make the CLI remember ``session_id`` (one the emulator does not know) for ``emu``."""
    sessions = {emu.url: {"session_id": session_id, "task_id": None}}
    (config_dir / "cli-sessions.json").write_text(json.dumps(sessions))


REPLY_KEYS = {"action", "text", "ok", "error", "message", "summary", "changes", "path",
              "session_id", "new_session", "question"}  # fmt: skip


async def test_usage_errors_are_json_under_json_and_options_go_anywhere(
    emulator: Emulator, tmp_path: Path
) -> None:
    cfg = tmp_path / "cfg"
    code, out, err = await cli(emulator, cfg, "credits", "--bogus", "--json")
    assert (code, err) == (2, "")
    assert json.loads(out) == {
        "error": "UsageError",
        "message": "nemovideo credits: error: unrecognized arguments: --bogus",
    }
    code, out, err = await cli(emulator, cfg, "upload")
    assert code == 2 and out == "" and err.startswith("usage: nemovideo upload")

    code, out, _ = await cli(emulator, cfg, "--json", "--api-url", emulator.url, "credits")
    assert code == 0 and json.loads(out)["available"] == 100

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for command in ("export", "demo"):
        code, out, _ = await cli(emulator, cfg, command, "--json", "--out", str(blocker / "v"))
        assert code == 2, out
        assert json.loads(out)["message"].startswith(f"Cannot use {blocker / 'v'} as the output")
    assert emulator.requests_to("/api/render") == [], "a bad --out fails before rendering"


async def test_a_lost_remembered_session_is_replaced_and_said(
    emulator: Emulator, tmp_path: Path
) -> None:
    cfg = tmp_path / "cfg"
    _env(emulator, cfg)
    _forget_to(emulator, cfg, "1234567")
    code, out, err = await cli(emulator, cfg, "upload", "--json", str(sample_images()[0]))
    assert (code, err) == (0, ""), "no progress bar or note on a pipe under --json"
    uploaded = json.loads(out)
    assert uploaded["new_session"] is True and uploaded["session_id"] != "1234567"
    assert uploaded["media"][0]["media_id"] and uploaded["media"][0]["name"] == "city_1.jpg"

    _forget_to(emulator, cfg, "1234567")
    code, out, _ = await cli(emulator, cfg, "chat", "--json", "-m", "status")
    reply = json.loads(out)
    assert code == 0 and set(reply) == REPLY_KEYS
    assert reply["new_session"] is True and "started a new one" in reply["text"]
    code, out, _ = await cli(emulator, cfg, "state", "--json")
    state = json.loads(out)
    assert state["session_id"] == reply["session_id"], "the Assistant's new session is remembered"
    assert state["new_session"] is False

    _forget_to(emulator, cfg, "1234567")
    code, out, err = await cli(emulator, cfg, "state")
    assert code == 0 and "Session 1234567 was not found, so a new one was started" in err

    emulator.set_credits(None, 0)
    code, out, _ = await cli(emulator, cfg, "chat", "--json", "--new", "-m", "add lo-fi BGM")
    broke = json.loads(out)
    assert code == 4 and set(broke) == REPLY_KEYS
    assert broke["error"] == "InsufficientCreditsError" and "register?bind=" in broke["message"]


async def test_chat_json_lines_from_a_pipe(emulator: Emulator, tmp_path: Path) -> None:
    lines = "status\n/help\n/bogus\n余额\n/upload\n"
    code, out, err = await cli(emulator, tmp_path / "cfg", "chat", "--json",
                               stdin=lines.encode())  # fmt: skip
    assert (code, err) == (0, "")
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["action"] for a in answers] == ["state", "help", "usage", "credits", "usage"]
    assert all(set(a) == REPLY_KEYS for a in answers)
    assert answers[2]["error"] == "UsageError" and "/bogus" in answers[2]["message"]
    assert emulator.requests_to("/run_sse") == [], "commands never reach the agent"


async def test_chat_repl_ctrl_c_cancels_the_operation_then_leaves(
    emulator: Emulator, tmp_path: Path
) -> None:
    photos = tmp_path / "my photos"
    photos.mkdir()
    for n, image in enumerate(sample_images()[:2], 1):
        (photos / f"city {n}.jpg").write_bytes(image.read_bytes())

    def drive() -> int:
        child = _spawn(emulator, tmp_path / "cfg", "chat")
        try:
            child.expect("> ")
            escaped = str(photos / "city 2.jpg").replace(" ", "\\ ")
            child.sendline(f'/upload "{photos}/city 1.jpg" {escaped}')
            child.expect("Uploaded 2 files: city 1.jpg, city 2.jpg")
            child.expect("> ")
            child.sendline("/bogus")
            child.expect("Unknown command /bogus")
            child.expect("> ")
            child.sendline("余额")
            child.expect("credits available")
            child.expect("> ")
            emulator.chat.heartbeats_only = True
            child.sendline("add lo-fi BGM at 35%")
            child.expect("Still working")
            child.sendintr()
            child.expect("Cancelled. ")
            child.expect("> ")
            child.sendline("status")
            child.expect("Timeline")
            child.expect("> ")
            child.sendintr()
            child.expect(pexpect.EOF)
        finally:
            child.close()
        assert "Traceback" not in str(child.before)
        return int(child.exitstatus)

    assert await asyncio.to_thread(drive) == 130, "Ctrl-C at the prompt leaves, without a hang"
    assert len(emulator.requests_to("/run_sse", "POST")) == 1


async def test_progress_bars_on_a_tty_only_and_json_interrupts(
    emulator: Emulator, tmp_path: Path
) -> None:
    cfg, videos = tmp_path / "cfg", tmp_path / "videos"
    code, _, err = await cli(emulator, cfg, "upload", *map(str, sample_images()))
    assert (code, err) == (0, ""), "no bar when stderr is a pipe"
    code, _, _ = await cli(emulator, cfg, "chat", "-m", "turn these images into a 4-second video")
    assert code == 0

    def run(args: list[str], interrupt: bool = False) -> tuple[int, str]:
        child = _spawn(emulator, cfg, *args)
        if interrupt:  # once the message is on the wire (the second POST of this test)
            for _ in range(600):
                if emulator.requests_to("/run_sse", "POST")[1:]:
                    break
                child.expect([pexpect.TIMEOUT], timeout=0.05)
            child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
        return int(child.exitstatus), str(child.before)

    code, shown = await asyncio.to_thread(run, ["export", "--out", str(videos)])
    assert code == 0 and "render: " in shown and "download: " in shown
    visible = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in shown.split("\n")]
    job_id = os.listdir(videos)[0].removesuffix(".mp4")
    assert [v for v in visible if v] == [
        f"Rendering job {job_id} (if interrupted: nemovideo export --job {job_id} --out {videos})",
        f"saved {videos / os.listdir(videos)[0]}",
    ], "no bar is left on screen: only the job id and the result"

    code, shown = await asyncio.to_thread(run, ["export", "--json", "--out", str(videos)])
    assert code == 0 and Path(json.loads(shown)["path"]).parent == videos

    emulator.chat.heartbeats_only = True
    code, shown = await asyncio.to_thread(run, ["chat", "--json", "-m", "add music"], True)
    assert code == 130
    assert json.loads(shown.replace("^C", "")) == {"error": "Interrupted", "message": "interrupted"}
