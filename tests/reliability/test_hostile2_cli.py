"""The terminal is not the server's: the CLI shows server text with control, ANSI and OSC
sequences neutralised (nothing clears the screen or retitles the window) and on its own lines;
``--json`` always prints valid JSON and never a traceback, whatever the text holds and whatever
the stdout encoding."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from nemovideo.testing.drafts import bgm_track, make_draft, title_track

from ._hostile import SESSION_ID, Hostile, envelope, json_text, state_answer

CREDITS = "/api/credits/balance/simple"
EVIL = "Hi \\u001b]0;pwned\\u0007\\u001b[2J\\u001b[H \\ud800 \\u009b31m 视频 🎬\\rforged"
RAW_BAD = [b"\x1b", b"\x07", b"\x9b", b"\r"]
ENCODINGS = ["utf-8", "ascii", "latin-1", "cp1252"]


async def cli(
    srv: Hostile, tmp_path: Path, *args: str, encoding: str = "utf-8"
) -> tuple[int, bytes, bytes]:
    cfg = tmp_path / "cfg"
    cfg.mkdir(exist_ok=True)
    (cfg / "config.json").write_text(json.dumps(
        {"max_retries": 0, "request_timeout": 2, "poll_interval": 0.01}))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "PYTHONIO"))}
    env.update(NEMO_API_URL=srv.url, NEMO_CONFIG_DIR=str(cfg), NEMO_TOKEN="nmv_usr_test",
               PYTHONIOENCODING=f"{encoding}:strict", LC_ALL="C", PYTHONUTF8="0")  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nemovideo", *args, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out, err


def neutral(*streams: bytes) -> None:
    for data in streams:
        for raw in RAW_BAD:
            assert raw not in data, (raw, data[:2000])
        assert b"Traceback" not in data, data.decode("utf-8", "replace")


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_a_hostile_error_message_is_valid_json(
    hostile: Hostile, tmp_path: Path, encoding: str
) -> None:
    hostile.on("GET", CREDITS, json_text(f'{{"code": 4001, "message": "{EVIL}"}}'))
    code, out, err = await cli(hostile, tmp_path, "credits", "--json", encoding=encoding)
    assert code != 0
    (line,) = out.decode(encoding).splitlines()
    doc = json.loads(line)
    assert doc["error"] == "UnsupportedFileError" and "forged" in doc["message"]
    neutral(out, err)
    assert hostile.count("GET", CREDITS) == 1


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_a_hostile_error_message_is_neutral_text(
    hostile: Hostile, tmp_path: Path, encoding: str
) -> None:
    hostile.on("GET", CREDITS, json_text(f'{{"code": 4001, "message": "{EVIL}"}}'))
    code, out, err = await cli(hostile, tmp_path, "credits", encoding=encoding)
    assert code != 0 and out == b""
    text = err.decode(encoding)
    assert text.startswith("error: Hi ") and "\\x1b]0;pwned" in text, text
    assert "\\x0dforged" in text, "a carriage return cannot overwrite the line"
    neutral(out, err)


def _evil_draft() -> dict[str, object]:
    title = "Urban \x1b]0;pwned\x07\x1b[2J Dreams\rforged \ud800 视频"
    return make_draft([bgm_track("Lo\x1b[31mfi", 0.35, 10_000), title_track(title, 3000)],
                      title=title)  # fmt: skip


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_a_hostile_draft_shows_neutral_and_round_trips_as_json(
    hostile: Hostile, tmp_path: Path, encoding: str
) -> None:
    hostile.on("GET", "/api/state/", state_answer(_evil_draft()))
    code, out, err = await cli(hostile, tmp_path, "state", "--session", SESSION_ID,
                               encoding=encoding)  # fmt: skip
    assert code == 0, err
    neutral(out, err)
    assert "\\x1b]0;pwned" in out.decode(encoding)

    code, out, err = await cli(hostile, tmp_path, "state", "--json", "--session", SESSION_ID,
                               encoding=encoding)  # fmt: skip
    assert code == 0, err
    neutral(out, err)
    (line,) = out.decode(encoding).splitlines()
    doc = json.loads(line)
    assert doc["session_id"] == SESSION_ID
    assert doc["draft"]["m"]["title"].startswith("Urban \x1b]0;pwned\x07"), "the data is kept"


async def test_credits_with_odd_numbers_are_valid_json(hostile: Hostile, tmp_path: Path) -> None:
    hostile.on("GET", CREDITS, json_text('{"code": 0, "data": {"available": NaN, '
                                         '"frozen": 1e999, "total": "12"}}'))  # fmt: skip
    code, out, err = await cli(hostile, tmp_path, "credits", "--json")
    neutral(out, err)
    assert code in (0, 1, 5), err
    for line in out.decode().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))


async def test_an_unknown_session_in_json_is_one_json_object(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.on("GET", "/api/state/", envelope(None, 1002))
    code, out, err = await cli(hostile, tmp_path, "state", "--json", "--session", "x\u202ey")
    neutral(out, err)
    assert code != 0
    (line,) = out.decode().splitlines()
    assert "error" in json.loads(line)


def _frame(text: str, partial: bool = False) -> str:
    event = {"author": "nemo_agent", "content": {"role": "model", "parts": [{"text": text}]}}
    if partial:
        event["partial"] = True
    return f"data: {json.dumps(event)}\n\n"


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
async def test_streamed_chat_text_is_neutral(
    hostile: Hostile, tmp_path: Path, as_json: bool
) -> None:
    from ._hostile import sse

    evil = "Done \x1b]0;pwned\x07\x1b[2J\x1b[H.\rforged \ud800 line."
    hostile.on("GET", "/api/state/", state_answer())
    hostile.on("POST", "/run_sse", sse([_frame("Done ", partial=True), _frame(evil)]))
    args = ["chat", "--session", SESSION_ID, "-m", "make it shorter"]
    code, out, err = await cli(hostile, tmp_path, *args, *(["--json"] if as_json else []))
    assert code == 0, err
    neutral(out, err)
    assert hostile.count("POST", "/run_sse") == 1
    if as_json:
        (line,) = out.decode().splitlines()
        assert "forged" in json.loads(line)["text"]
    else:
        assert "forged" in out.decode() and "\\x1b]0;pwned" in out.decode()
