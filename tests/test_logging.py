"""``NEMO_LOG``: the SDK's logs on stderr, one readable line each, never a token.

The whole-flow tests run a real script as a subprocess against the emulator, with ``NEMO_LOG=debug``
and errors injected that echo the token back, and read what reached its stderr.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import nemovideo
from nemovideo._util import log as _log
from nemovideo.testing import Emulator
from nemovideo.testing._server.store import TokenRecord

FLOW = """
import asyncio, logging, sys
import nemovideo
from nemovideo.testing import sample_images

async def main() -> None:
    fast = dict(retry_backoff=0.001, retry_backoff_max=0.01, rate_limit_wait=0.01,
                settle_wait=0.01, recovery_first_wait=0.01, recovery_wait=0.02)
    async with nemovideo.NemoClient(base_url=sys.argv[1], config_dir=sys.argv[2], **fast) as c:
        for _ in range(2):
            try:
                await c.credits()
            except nemovideo.NemoError as exc:
                print(type(exc).__name__)
                logging.getLogger("nemovideo.app").exception("credits failed: %s", exc)
        await c.credits()
        s = await c.create_session()
        await s.upload(sample_images()[:1])
        await s.send("turn these images into a 3-second video")
        await s.state()

asyncio.run(main())
"""

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO|WARNING|ERROR) nemovideo[.\w]*: "
)


@pytest.fixture
def sdk_logger() -> Iterator[logging.Logger]:
    """The ``nemovideo`` logger, its handlers and level restored after the test."""
    logger = logging.getLogger("nemovideo")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


async def run_flow(emu: Emulator, tmp_path: Path, token: str, **env: str) -> tuple[str, str]:
    """Run ``FLOW`` with ``token`` as NEMO_TOKEN and return (stdout, stderr)."""
    await asyncio.to_thread(tmp_path.mkdir, parents=True, exist_ok=True)
    (tmp_path / "flow.py").write_text(FLOW)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(tmp_path / "flow.py"), emu.url, str(tmp_path / "cfg"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**clean, "NEMO_TOKEN": token, **env},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode()
    return out.decode(), err.decode()


def user_token(emu: Emulator, token: str | None = None) -> str:
    """A valid token for a fresh emulator user: issued by the store, or ``token`` as given."""
    user = emu.store.new_user()
    record = emu.store.issue_token(user.user_id, 3600)
    if token is not None:
        emu.store.tokens[token] = TokenRecord(token, user.user_id, time.time() + 3600)
        return token
    return record.token


def echo_token_faults(emu: Emulator, token: str) -> None:
    """The first two credit calls fail (2001, then 503 on every attempt), quoting the token."""
    emu.faults.error(2001, path="/api/credits", message=f"no credits left for {token}")
    emu.faults.server_error(times=3, status=503, path="/api/credits", body=False)


async def debug_flow(
    emu: Emulator, tmp_path: Path, token: str | None = None
) -> tuple[str, str, str]:
    """``FLOW`` at ``NEMO_LOG=debug`` for a fresh user (``token`` if given) whose first two credit
    calls fail quoting the token (``echo_token_faults``): ``(token, stdout, stderr)``."""
    token = user_token(emu, token)
    echo_token_faults(emu, token)
    out, err = await run_flow(emu, tmp_path, token, NEMO_LOG="debug")
    return token, out, err


async def test_debug_logs_every_request_and_never_the_token(
    emulator: Emulator, tmp_path: Path
) -> None:
    token, out, err = await debug_flow(emulator, tmp_path)
    assert out.split() == ["InsufficientCreditsError", "ServerError"]
    lines = err.splitlines()
    assert lines and all(
        LINE.match(line) or line.startswith(("Traceback", " ", "nemovideo.")) for line in lines
    ), err
    for path in ("/api/credits/balance/simple", "/with-session/", "/api/upload-video/",
                 "/api/state/"):  # fmt: skip
        assert any(path in line and " DEBUG nemovideo." in line for line in lines), (path, err)
    assert re.search(
        r"ERROR nemovideo.app: credits failed: no credits left for (nmv_usr_)?\*\*\*", err
    )
    assert token not in err and token[len("nmv_usr_") :] not in err
    assert not any(t in err for t in emulator.store.tokens)


async def test_request_lines_carry_status_elapsed_retries_and_request_id(
    emulator: Emulator, tmp_path: Path
) -> None:
    """``GET /path -> 503 in 12 ms [req_…]`` for every attempt, and a line per retry decision."""
    token, _, err = await debug_flow(emulator, tmp_path)
    credits = "GET /api/credits/balance/simple"
    assert re.search(rf"DEBUG nemovideo.transport: {credits} -> 200 in \d+ ms \[req_\w+\]", err)
    assert len(re.findall(rf"{credits} -> 503 in \d+ ms \[req_\w+\]", err)) == 3
    retries = [line for line in err.splitlines() if "retrying in" in line]
    assert len(retries) == 2 and all(" INFO nemovideo.transport: " in r for r in retries)
    assert re.search(r"POST /run_sse -> 200 in \d+ ms", err)
    assert token not in err


async def test_the_clients_own_token_is_redacted_whatever_its_shape(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A token with no known prefix is masked because the client registers it."""
    token, out, err = await debug_flow(emulator, tmp_path, "sk-live-7Q2w9E4rT6yU")
    assert "InsufficientCreditsError" in out
    assert "credits failed: no credits left for ***" in err and token not in err


async def test_info_is_quieter_and_unset_is_silent(emulator: Emulator, tmp_path: Path) -> None:
    token = user_token(emulator)
    _, info = await run_flow(emulator, tmp_path, token, NEMO_LOG="INFO")
    assert " DEBUG " not in info
    _, silent = await run_flow(emulator, tmp_path / "quiet", token)
    assert silent == ""


async def test_a_bad_nemo_log_value_is_refused_by_name(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "import nemovideo\n"
        "try:\n    nemovideo.NemoClient(config_dir='cfg')\n"
        "except nemovideo.ValidationError as exc:\n    print(exc)\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(tmp_path / "bad.py"), cwd=tmp_path,
        env={**os.environ, "NEMO_LOG": "verbose"}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert (
        "NEMO_LOG (environment variable) must be one of debug, info, warning, error" in out.decode()
    )
    assert "'verbose'" in out.decode()


# -- the pieces, in process ------------------------------------------------------------------


def test_setup_is_idempotent_and_needs_nemo_log(sdk_logger: logging.Logger) -> None:
    apps = logging.StreamHandler(io.StringIO())  # the application's own, not mistaken for ours
    sdk_logger.handlers[:] = [apps]
    assert _log.setup_from_env({}) is None and _log.setup_from_env({"NEMO_LOG": " "}) is None
    assert sdk_logger.handlers == [apps]
    first = _log.setup_from_env({"NEMO_LOG": "debug"})
    again = _log.setup_from_env({"NEMO_LOG": "info"})
    assert first is not None and again is first
    assert sdk_logger.handlers == [apps, first]
    assert sdk_logger.level == logging.DEBUG
    with pytest.raises(nemovideo.ValidationError, match="NEMO_LOG"):
        _log.setup_from_env({"NEMO_LOG": "loud"})


def test_redact_masks_known_shapes_and_registered_secrets() -> None:
    text = 'Authorization: Bearer abc.DEF-123 token nmv_usr_0123abcd claim clm_99ff, "x-secret-42"'
    assert _log.redact(text) == (
        'Authorization: Bearer *** token nmv_usr_*** claim clm_***, "x-secret-42"'
    )
    _log.register_secret("x-secret-42")
    _log.register_secret("abc")  # too short to mask safely: ignored
    _log.register_secret(None)
    assert _log.redact(text).endswith('"***"') and "abc" in _log.redact("abc")
    assert _log.redact("nothing to hide") == "nothing to hide"


def test_formatter_renders_request_fields_and_the_filter_redacts_them() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_log.LogFormatter())
    handler.addFilter(_log.RedactingFilter())
    logger = logging.getLogger("nemovideo.test_formatter")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        extra = {"method": "POST", "path": "/api/auth/claim-token?t=clm_abcdef",
                 "status": 503, "elapsed_ms": 12.6, "attempt": 2, "request_id": "req-1"}  # fmt: skip
        logger.info("retrying in %.2f s with Bearer %s", 0.5, "nmv_usr_feedbeef", extra=extra)
        logger.debug("no fields here")
        named = {"method": "GET", "path": "/api/x", "status": 200, "request_id": "req-2"}
        logger.debug("GET /api/x -> 200 in 3 ms [req-2]", extra=named)
        try:
            raise nemovideo.APIError("server said nmv_usr_deadbeef", http_status=500)
        except nemovideo.APIError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second, third, *rest = stream.getvalue().splitlines()
    assert first.endswith(
        "INFO nemovideo.test_formatter: POST /api/auth/claim-token?t=clm_*** 503 13ms "
        "retrying in 0.50 s with Bearer *** attempt=2 request_id=req-1"
    )
    assert third.endswith("GET /api/x -> 200 in 3 ms [req-2]")
    assert LINE.match(first) and second.endswith("DEBUG nemovideo.test_formatter: no fields here")
    assert "req-2" not in third.replace("[req-2]", "")
    assert "nmv_usr_deadbeef" not in "\n".join(rest) and "nmv_usr_***" in rest[-1]
