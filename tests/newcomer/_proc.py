"""Running what a new user runs: the ``nemovideo`` command as a real process, on a pipe or a pty.

Every process here is started with a bounded wait and stopped by its own pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect

from ..conftest import communicate

FAST = {"poll_interval": 0.02, "poll_initial_interval": 0.02, "heartbeat_notice_interval": 0.2}


def user_env(api_url: str, config_dir: Path, config: dict[str, Any] | None = None,
             **extra: str) -> dict[str, str]:  # fmt: skip
    """A user's environment: no ``NEMO_*`` of the developer's, the API at ``api_url``, fast polls
    (through ``config.json``, as a user would set them)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.json").write_text(json.dumps({**FAST, **(config or {})}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env.update(NEMO_API_URL=api_url, NEMO_CONFIG_DIR=str(config_dir), **extra)
    return env


async def run(env: dict[str, str], *args: str, stdin: bytes = b"", cwd: Path | None = None,
              timeout: float = 90) -> tuple[int, str, str]:  # fmt: skip
    """``nemovideo ARGS`` on pipes: ``(exit code, stdout, stderr)``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nemovideo", *args, cwd=cwd, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await communicate(proc, timeout, stdin)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def spawn(env: dict[str, str], *args: str, timeout: float = 60) -> pexpect.spawn:
    """``nemovideo ARGS`` under a pseudo-terminal, as typed at a shell prompt."""
    return pexpect.spawn(
        sys.executable, ["-m", "nemovideo", *args], env=env, encoding="utf-8",
        timeout=timeout, dimensions=(40, 120),
    )  # fmt: skip


def chat_prompt(env: dict[str, str], *args: str) -> pexpect.spawn:
    """``nemovideo chat ARGS`` at a terminal (``spawn``), waited on until its first prompt."""
    child = spawn(env, "chat", *args)
    child.expect("> ")
    return child


def say(child: pexpect.spawn, line: str, *shown: str) -> None:
    """Type ``line`` and wait for each pattern of ``shown`` in turn (the last, usually the prompt)."""
    child.sendline(line)
    for pattern in shown:
        child.expect(pattern)


RATIO_QUESTION = {
    "title": "Which look do you want?",
    "questions": [{"id": "ratio", "prompt": "Aspect ratio?", "allow_multiple": False,
                   "options": [{"id": "wide", "label": "16:9"}, {"id": "tall", "label": "9:16"}]}],
}  # fmt: skip
"""A one-question form (the emulator's ``chat.question``): the aspect ratio, 16:9 or 9:16."""


def finish(child: pexpect.spawn) -> tuple[int, str]:
    """Wait for ``child`` to exit: ``(exit status, everything it printed since the last expect)``."""
    child.expect(pexpect.EOF)
    child.close()
    status = child.exitstatus if child.exitstatus is not None else 128 + int(child.signalstatus)
    return int(status), str(child.before)


def visible_lines(transcript: str) -> list[str]:
    """What a terminal shows at the end: per line, the text after its last carriage return."""
    lines = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in transcript.split("\n")]
    return [line.replace("\x1b[K", "").strip() for line in lines if line.strip()]


@contextlib.contextmanager
def emulator_process(*args: str) -> Iterator[str]:
    """``nemovideo emulator --port 0 ARGS`` in the background (the README's extra line); yields
    its URL and stops it by its pid."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nemovideo", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("NemoVideo emulator API: http://127.0.0.1:"), first
        yield first.split(": ", 1)[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
