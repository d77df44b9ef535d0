"""Read-only homes (issue 21): with no writable config dir the client keeps its token in memory
and a client id for the process, logs one warning, and never raises a raw ``OSError``.

The directory is made read-only for real: as root, in a private mount namespace (``unshare -m``)
with a read-only bind mount over it; otherwise by ``chmod``, which binds an unprivileged user.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from nemovideo.testing import Emulator

from ..conftest import FAST, communicate

SCRIPT = """
import json, logging, sys
from nemovideo.sync import SyncNemoClient

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
with SyncNemoClient(base_url=sys.argv[1], **json.loads(sys.argv[2])) as client:
    first = client.credits().available          # a 1001 here: the token is renewed
    session = client.create_session()
    second = client.credits().available
print(json.dumps({"credits": [first, second], "session": session.id}))
"""


def can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


def readonly_command(readonly: Path, argv: list[str]) -> list[str]:
    """``argv`` run with ``readonly`` read-only (see the module docstring)."""
    if can_unshare():
        quoted = " ".join(f"'{a}'" for a in argv)
        mount = f"mount --bind '{readonly}' '{readonly}' && mount -o remount,bind,ro '{readonly}'"
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", f"{mount} && {quoted}"]
    readonly.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return argv


def writable_again(path: Path) -> None:
    path.chmod(0o755)


async def run_readonly(
    tmp_path: Path, emu: Emulator, env: dict[str, str], readonly: Path
) -> tuple[dict[str, Any], str]:
    if os.geteuid() == 0 and not can_unshare():
        pytest.skip("root ignores file modes and unshare is not available")
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    argv = [sys.executable, str(script), emu.url, json.dumps(FAST)]
    proc = await asyncio.create_subprocess_exec(
        *readonly_command(readonly, argv),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await communicate(proc, 60)
    finally:
        writable_again(readonly)
    text = stderr.decode()
    assert proc.returncode == 0, text
    assert "OSError" not in text and "Traceback" not in text and "Errno" not in text, text
    got: dict[str, Any] = json.loads(stdout)
    return got, text


def warnings_in(text: str) -> list[str]:
    return [line for line in text.splitlines() if "cannot be written" in line]


@pytest.mark.parametrize("where", ["HOME", "NEMO_CONFIG_DIR"])
async def test_a_read_only_config_dir_keeps_the_token_in_memory(
    emulator: Emulator, tmp_path: Path, where: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    if where == "NEMO_CONFIG_DIR":
        config_dir = home / "nemo"
        config_dir.mkdir()
        env["NEMO_CONFIG_DIR"] = str(config_dir)
    runs = []
    for _ in range(2):
        emulator.faults.error(1001, times=1, path="/api/credits")
        got, text = await run_readonly(tmp_path, emulator, env, home)
        assert got["credits"] == [100, 100] and got["session"]
        assert len(warnings_in(text)) == 1, text
        runs.append(got)
    assert list(home.rglob("*")) == ([] if where == "HOME" else [home / "nemo"])
    client_ids = {
        r.headers["X-Client-Id"] for r in emulator.requests_to("/api/auth/anonymous-token")
    }
    assert len(client_ids) == 2, "each process has a client id of its own"
