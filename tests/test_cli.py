"""The ``nemovideo`` command line, run as a real process against the emulator over loopback."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from nemovideo.testing import Emulator, sample_images
from nemovideo.testing.mp4probe import probe_mp4


def _env(emu: Emulator, config_dir: Path, **extra: str) -> dict[str, str]:
    """The CLI's environment: the emulator's URL, and (through ``config.json``) fast polling."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.json").write_text('{"poll_interval": 0.02, "max_polls": 3000}')
    emu.render.width, emu.render.height = 320, 180
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env.update(NEMO_API_URL=emu.url, NEMO_CONFIG_DIR=str(config_dir), **extra)
    return env


async def cli(emu: Emulator, config_dir: Path, *args: str, **env: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nemovideo", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=_env(emu, config_dir, **env),
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
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
            child.sendline("export")
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
