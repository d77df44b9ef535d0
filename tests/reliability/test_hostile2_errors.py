"""Every error can be printed: server text holding lone surrogates, control characters, escape
sequences or bidi overrides becomes an error whose text prints and logs (escaped) on any stream
encoding; a token the server echoes into an error's ``.data`` is masked there as in its message."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nemovideo

from ._hostile import Hostile, assert_no_secret, client_for, expect_error, json_text

CREDITS = "/api/credits/balance/simple"
HOSTILE_TEXTS = {
    "surrogate": ("bad \\ud800 name", "\ud800"),
    "clear-screen": ("boom \\u001b[2J\\u001b[H gone", "\x1b"),
    "osc-title": ("\\u001b]0;pwned\\u0007 title", "\x07"),
    "carriage-return": ("ok\\rERROR forged log line", "\r"),
    "bidi": ("file \\u202egpj.exe", "\u202e"),
    "c1": ("csi \\u009b2J", "\x9b"),
    "nul": ("nul \\u0000 byte", "\x00"),
}


@pytest.mark.parametrize("case", list(HOSTILE_TEXTS))
async def test_server_text_becomes_a_printable_error(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    text, forbidden = HOSTILE_TEXTS[case]
    hostile.on("GET", CREDITS, json_text(f'{{"code": 4001, "message": "{text}"}}'))
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.credits())
    assert isinstance(error, nemovideo.APIError), repr(error)
    for shown in (str(error), error.message, repr(error)):
        assert forbidden not in shown, shown
        shown.encode("ascii", "backslashreplace")  # a lone surrogate would fail even this
        shown.encode("utf-8")
    logging.getLogger("nemovideo.test").error("failed: %s", error)
    for record in caplog.records:
        line = logging.Formatter().format(record)
        assert forbidden not in line or forbidden in "\n\t", line
        line.encode("utf-8")


async def test_a_token_echoed_into_data_is_masked_there_too(
    hostile: Hostile, tmp_path: Path, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    hostile.on("GET", CREDITS, json_text(
        '{"code": 1002, "message": "no", "data": {"echo": "{auth}", "raw": "{token}", '
        '"deep": [{"{token}": ["x {token} y"]}]}}'))  # fmt: skip
    async with client_for(hostile, tmp_path, secret) as client:
        error = await expect_error(client.credits())
    assert isinstance(error, nemovideo.APIError), repr(error)
    assert error.data, "the answer's data is kept"
    assert_no_secret([secret], error=error, records=caplog.records,
                     values=[error.data, dict(error.data)])  # fmt: skip
    assert secret not in repr(error.data) and "***" in repr(error.data)


CHILD = r"""
import logging, sys
import nemovideo
logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
texts = ["bad \ud800 \udfff name", "boom \x1b[2J\x1b]0;pwned\x07 \r\x00 \u202e \x9b"]
for text in texts:
    for error in (nemovideo.APIError(text, code=4001), nemovideo.NemoError(text),
                  nemovideo.RenderFailedError("render_1", text)):
        print(error)
        print(repr(error))
        logging.error("failed: %s", error)
        sys.stderr.write(f"{error}\n")
raise nemovideo.APIError(texts[1] + texts[0])
"""


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8", "cp1252", "utf-16"])
def test_errors_print_and_log_on_any_stream_encoding(tmp_path: Path, encoding: str) -> None:
    env = {**os.environ, "PYTHONIOENCODING": f"{encoding}:strict"}
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          timeout=60, check=False)  # fmt: skip
    err = proc.stderr.decode(encoding, "replace")
    assert proc.returncode == 1, err
    assert "UnicodeEncodeError" not in err, err
    assert "APIError: boom \\x1b[2J" in err.rstrip().splitlines()[-1], err
    out = proc.stdout.decode(encoding)
    for raw in ("\x1b", "\x07", "\x00", "\r", "\u202e", "\x9b"):
        assert raw not in out and raw not in err, (raw, out)
    assert "\\x1b[2J" in out and "\\ud800" in out
