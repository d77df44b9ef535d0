"""The chat stream's JSON parser: orjson when installed, the stdlib otherwise, the same results.

``nemovideo._util.jsonparse`` uses orjson (the ``speedups`` extra) and hands anything orjson refuses to
``json.loads``; these tests hold it to that: every text decodes to what ``json.loads`` gives (or
fails as it fails), and a whole chat stream of awkward frames yields the same events either way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import example, given, settings
from hypothesis import strategies as st

import nemovideo
from nemovideo._util import jsonparse as _json

from ..conftest import FAST, serving

pytest.importorskip("orjson")

SID = "s-json"

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
TEXTS = VALUES.map(lambda v: json.dumps(v, ensure_ascii=False)) | st.text(max_size=40)


def outcome(parse: Any, data: Any) -> tuple[str, str]:
    """What a parser makes of ``data``: the value's repr (NaN compares), or the error's kind."""
    try:
        return "value", repr(parse(data))
    except RecursionError:
        return "error", "too deep"
    except ValueError:
        return "error", "not JSON"


@pytest.fixture(autouse=True)
def _restore_backend() -> Iterator[None]:
    before = _json.BACKEND
    yield
    _json.use_orjson(before == "orjson")


@settings(max_examples=300, deadline=None)
@given(text=TEXTS)
@example(text='\ufeff{"a": 1}')  # a BOM: json.loads refuses it, and orjson must too
@example(text="-9223372036854775809")  # past 64 bits: orjson alone would give a float
def test_text_decodes_as_json_loads_does(text: str) -> None:
    for on in (True, False):
        _json.use_orjson(on)
        assert outcome(_json.loads, text) == outcome(json.loads, text)


@settings(max_examples=300, deadline=None)
@example(data=b'\xef\xbb\xbf{"a": 1}')
@example(data=b"[18446744073709551616]")
@given(data=TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass")) | st.binary(max_size=40))
def test_bytes_decode_as_json_loads_of_the_replaced_text(data: bytes) -> None:
    expected = outcome(json.loads, data.decode("utf-8", "replace"))
    for on in (True, False):
        _json.use_orjson(on)
        assert outcome(_json.loads_utf8, data) == expected


AWKWARD = [
    b'{"content": {"parts": [{"text": "plain"}]}, "partial": true}',
    b'{"content": {"parts": [{"text": "nan"}]}, "score": NaN}',
    b'{"content": {"parts": [{"text": "big"}]}, "n": 123456789012345678901234567890}',
    b'{"content": {"parts": [{"text": "lone \\ud800 surrogate"}]}}',
    b'{"content": {"parts": [{"text": "caf\xc3\xa9 \xff bad byte"}]}}',
    b'\xef\xbb\xbf{"content": {"parts": [{"text": "a BOM inside data"}]}}',
    b"[" * 1100 + b"]" * 1100,
    b'{"content": {"parts": [{"functionCall": {"name": "edit", "args": "{\\"x\\": 1e400}"}}]}}',
    b'{"content": {"parts": [{"text": "trailing"}]}} junk',
    b'{"content": {"parts": [{"text": "final"}]}}',
]


def awkward_app() -> web.Application:
    async def state(_: web.Request) -> web.Response:
        data = {"session_id": SID, "state": {"draft": {"t": [], "d": 0}, "video_infos": []}}
        return web.json_response({"code": 0, "message": "ok", "data": data})

    async def run_sse(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"".join(b"data: " + frame + b"\n\n" for frame in AWKWARD))
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get(f"/api/state/nemo_agent/me/{SID}/latest", state)
    app.router.add_post("/run_sse", run_sse)
    return app


async def test_a_stream_of_awkward_frames_yields_the_same_events_either_way(
    tmp_path: Path,
) -> None:
    async with serving(awkward_app()) as url:
        seen: dict[str, list[tuple[str, str]]] = {}
        for name in ("orjson", "stdlib"):
            _json.use_orjson(name == "orjson")
            async with (
                nemovideo.NemoClient(
                    base_url=url, token="nmv_usr_json", config_dir=tmp_path, **FAST
                ) as client,
                client.session(SID).chat("go") as stream,
            ):
                seen[name] = [(repr(e), repr(getattr(e, "raw", None))) async for e in stream]
    assert seen["orjson"] == seen["stdlib"]
    kinds = [r.split("(")[0] for r, _ in seen["stdlib"]]
    assert kinds.count("TextEvent") == 6 and kinds.count("RawEvent") == 3  # BOM, deep, junk
    assert "'caf\u00e9 \ufffd bad byte'" in seen["stdlib"][4][0]
    assert "'x': inf" in seen["stdlib"][7][0]


def test_without_orjson_the_stdlib_parses() -> None:
    script = (
        "import sys; sys.modules['orjson'] = None\n"
        "from nemovideo._util import jsonparse as _json\n"
        "assert _json.BACKEND == 'stdlib' and _json.use_orjson(True) == 'stdlib'\n"
        "print(_json.loads('[1, NaN]'), _json.loads_utf8(b'{\"a\": \"\\xff\"}'))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1, nan] {'a': '\ufffd'}"
