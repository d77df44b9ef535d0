"""The SDK on captured ADK bytes (``captures/adk-<version>/``), replayed by the emulator.

These run without any ADK installed: each capture is what a real ``adk api_server`` (2.13 or
1.20) put on the wire for one agent of ``agents/``, re-served byte for byte
(``emu.chat.replay``). The checks are the live tests' own (``_expect``). Re-record them with
``NEMO_ADK_RECORD=1 pytest tests/adk/test_interop.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.testing import Emulator

from . import _expect as expect
from ._peer import CAPTURES

CAPTURED = sorted(CAPTURES.glob("adk-*/*.sse"))
ANSWERS = {p: (json.loads(p.with_suffix(".json").read_text()), p.read_bytes()) for p in CAPTURED}


def _replies(check: Callable[[Any, str], None]) -> Callable[[Any, str, bool], None]:
    def run(result: Any, major: str, streaming: bool) -> None:
        assert isinstance(result, nemovideo.ChatReply), result
        check(result, major)

    return run


def _raises(check: Callable[[Any, str], None]) -> Callable[[Any, str, bool], None]:
    def run(result: Any, major: str, streaming: bool) -> None:
        assert isinstance(result, nemovideo.NemoError), result
        check(result, major)

    return run


CHECKS: dict[str, Callable[[Any, str, bool], None]] = {
    "scripted_llm.stream": _replies(lambda r, m: expect.edit(r, m, True)),
    "scripted_llm.nostream": _replies(lambda r, m: expect.edit(r, m, False)),
    "custom_stream": _replies(lambda r, m: expect.custom(r)),
    "refuses": _replies(lambda r, m: expect.refused(r)),
    "asks": _replies(lambda r, m: expect.asked(r)),
    "artifact_save": _replies(lambda r, m: expect.artifact(r)),
    "tool_raises.stream": _raises(lambda e, m: expect.raised(e, m, True)),
    "broken_agent": _raises(expect.broken),
    "session_not_found": _raises(
        lambda e, m: isinstance(e, nemovideo.SessionNotFoundError) or pytest.fail(repr(e))
    ),
    "validation_422": _raises(
        lambda e, m: (e.http_status == 422 and "Field required" in e.message) or pytest.fail(e)
    ),
}


def test_every_agent_was_captured_for_both_versions() -> None:
    versions = {path.parent.name for path in CAPTURED}
    assert len(versions) == 2, versions
    for version in versions:
        names = {p.stem for p in CAPTURED if p.parent.name == version}
        assert names == set(CHECKS), (version, set(CHECKS) ^ names)


@pytest.mark.parametrize("capture", CAPTURED, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_capture_decodes_as_live(
    capture: Path, emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    meta, body = ANSWERS[capture]
    emulator.chat.replay = (meta["status"], meta["content_type"], body)
    session = await nemo_client.create_session()
    try:
        result: Any = await session.send("hello")
    except nemovideo.NemoError as exc:
        result = exc
    CHECKS[capture.stem](result, meta["adk"].split(".")[0], bool(meta["streaming"]))
    assert len(emulator.requests_to("/run_sse", "POST")) == 1
