"""A real ``adk api_server`` as a subprocess, from its own virtual environment beside ``.venv``.

``make test`` creates ``.venv-adk`` (google-adk 2.x) and ``.venv-adk1`` (google-adk 1.20) so the
SDK's environment stays clean. :func:`start` runs ``adk api_server --host 127.0.0.1 --port <free>
tests/adk/agents`` with a bounded start-up wait (it polls the port, and fails with the server's
log if the process exits first); :meth:`AdkServer.stop` ends that process by its pid. Without a
venv the tests skip with a message saying how to create it, except under ``CI=true``, where a
missing venv is a failure: CI must run them.

    server = start("2")
    try:
        print(server.url, server.version)
    finally:
        server.stop()
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENTS = Path(__file__).resolve().parent / "agents"
VENVS = {"2": ROOT / ".venv-adk", "1": ROOT / ".venv-adk1"}
START_TIMEOUT = 60.0
SLOW_MS = 400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _version(venv: Path) -> str:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import google.adk; print(google.adk.__version__)"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return out.stdout.strip()


@attrs.define
class AdkServer:
    """One running api_server: ``url``, the installed ``version``, its process and log file."""

    url: str
    version: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_text("utf-8", "replace")[-size:]

    def stop(self) -> None:
        """End the server by its pid: SIGTERM, then SIGKILL after 10 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def venv_or_skip(major: str) -> Path:
    """The venv for ADK ``major``; skip when absent, but fail loudly in CI."""
    venv = VENVS[major]
    if (venv / "bin" / "adk").exists():
        return venv
    message = (f"{venv.name} (google-adk {major}.x) is missing: run `make adk-venvs` to create it "
               "(the interop tests against a real ADK server need it)")  # fmt: skip
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the ADK interop tests: {message}", pytrace=False)
    pytest.skip(message)


def start(major: str, *, slow_ms: int = SLOW_MS) -> AdkServer:
    """Start ``adk api_server`` of ADK ``major`` ("2" or "1") over ``tests/adk/agents``."""
    venv = venv_or_skip(major)
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix=f"adk{major}-", suffix=".log")[1])
    env = {**os.environ, "NEMO_ADK_SLOW_MS": str(slow_ms), "PYTHONUNBUFFERED": "1",
           "GOOGLE_GENAI_USE_VERTEXAI": "0", "ADK_DISABLE_TELEMETRY": "1"}  # fmt: skip
    # In-memory sessions and artifacts: nothing is written into the agents folder (the tree).
    command = [str(venv / "bin" / "adk"), "api_server", "--host", "127.0.0.1",
               "--port", str(port), "--no-reload", "--session_service_uri", "memory://",
               "--artifact_service_uri", "memory://", str(AGENTS)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=str(AGENTS))  # fmt: skip
    server = AdkServer(f"http://127.0.0.1:{port}", _version(venv), process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while not _listening(port):
        if process.poll() is not None:
            raise RuntimeError(
                f"adk api_server exited ({process.returncode}):\n{server.log_tail()}"
            )
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"adk api_server not listening after {START_TIMEOUT:g}s:\n"
                               f"{server.log_tail()}")  # fmt: skip
        time.sleep(0.05)
    return server
