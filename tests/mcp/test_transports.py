"""``nemovideo mcp`` over streamable HTTP, from a client nobody here wrote (the MCP Inspector),
and without the extra installed."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client

from nemovideo.testing import Emulator
from tests.mcp.conftest import CALL_BOUND, project_folder, server_env, text_of, tokens_seen

REPO = Path(__file__).resolve().parents[2]
INSPECTOR = Path(
    os.environ.get(
        "NEMO_MCP_INSPECTOR",
        REPO / "build/inspector/node_modules/@modelcontextprotocol/inspector-cli/build/cli.js",
    )
)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await asyncio.wait_for(proc.wait(), 10)


async def test_http_transport_answers_tool_calls_on_loopback(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = {**os.environ, **server_env(emulator, tmp_path / "config")}
    env.pop("NEMO_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nemovideo", "mcp", "--http", "--port", "0",
        "--root", str(project_folder(tmp_path)),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        assert "serving MCP at http://127.0.0.1:" in line, line
        url = line.split(" at ", 1)[1].strip()
        async with Client(url, read_timeout_seconds=CALL_BOUND) as client:
            result = await client.call_tool("credits", {})
            assert not result.is_error, text_of(result)
            assert result.structured_content == {"available": 100, "frozen": 0, "total": 100}
            created = await client.call_tool("new_session", {})
            state = await client.call_tool("state", {})
            assert (
                state.structured_content["session_id"] == created.structured_content["session_id"]
            )
        # clients that open an MCP session (the initialize handshake) each keep their own current
        # session; sessionless (2026-07-28) requests share the server's, or pass session_id
        async with Client(url, mode="legacy") as a, Client(url, mode="legacy") as b:
            first = await a.call_tool("new_session", {})
            await b.call_tool("new_session", {})
            mine = await a.call_tool("state", {})
            assert mine.structured_content["session_id"] == first.structured_content["session_id"]
    finally:
        await _stop(proc)
        assert proc.stderr is not None and proc.stdout is not None
        rest = (await asyncio.wait_for(proc.stderr.read(), 10)).decode()
        out = (await asyncio.wait_for(proc.stdout.read(), 10)).decode()
    for token in tokens_seen(emulator):
        assert token not in rest + out + json.dumps(result.structured_content)


@pytest.mark.skipif(
    shutil.which("node") is None or not INSPECTOR.is_file(),
    reason=f"the MCP Inspector CLI is not installed at {INSPECTOR} (`make inspector` installs it "
    "from npm; Node is needed)",
)
async def test_the_mcp_inspector_lists_tools_and_calls_them(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = server_env(emulator, tmp_path / "config")
    root = project_folder(tmp_path)

    async def inspector(*method: str) -> dict[str, object]:
        flags = [f"-e{key}={value}" for key, value in env.items()]
        # the inspector looks for its own package.json relative to the working directory
        proc = await asyncio.create_subprocess_exec(
            "node", str(INSPECTOR), "--cli", *flags, sys.executable, "-m", "nemovideo", "mcp",
            "--root", str(root), "--method", *method,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=str(INSPECTOR.parent),
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 90)
        finally:
            await _stop(proc)
        assert proc.returncode == 0, err.decode()
        for token in tokens_seen(emulator):
            assert token.encode() not in out + err
        answer: dict[str, object] = json.loads(out)
        return answer

    listed = await inspector("tools/list")
    names = {tool["name"] for tool in listed["tools"]}  # type: ignore[attr-defined]
    assert names == {"new_session", "upload", "chat", "answer", "state", "export", "credits"}

    credits = await inspector("tools/call", "--tool-name", "credits")
    assert credits["isError"] is False
    assert credits["structuredContent"] == {"available": 100, "frozen": 0, "total": 100}

    created = await inspector("tools/call", "--tool-name", "new_session")
    session_id = created["structuredContent"]["session_id"]  # type: ignore[index]
    # a new process each time: the session is remembered across restarts (the config dir)
    state = await inspector("tools/call", "--tool-name", "state")
    assert state["isError"] is False, state
    assert state["structuredContent"]["session_id"] == session_id  # type: ignore[index]
    assert "Nothing to export yet" in state["content"][0]["text"]  # type: ignore[index]


def test_without_the_extra_it_says_which_to_install(tmp_path: Path) -> None:
    code = "import sys; sys.modules['mcp'] = None; from nemovideo.cli import main; sys.exit(main(['mcp']))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: nemovideo mcp needs the MCP extra: pip install -e '.[mcp]' (from a clone)"
    ]


def test_bad_options_exit_2_with_one_line(tmp_path: Path) -> None:
    for args, says in (
        (["--root", str(tmp_path / "missing")], "not a directory"),
        (["--port", "70000"], "a port is a number"),
        (["--timeout", "0"], "--timeout"),
        (["--bogus"], "unrecognized arguments"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "nemovideo", "mcp", *args],
            capture_output=True, text=True, timeout=60, cwd=tmp_path, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 2, (args, done.stderr)
        assert says in done.stderr and "Traceback" not in done.stderr
        assert done.stdout == ""
