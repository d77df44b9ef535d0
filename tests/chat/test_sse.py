"""The SSE decoder: WHATWG parsing rules, chunk-boundary independence, and bounded memory."""

from __future__ import annotations

import itertools
import json
import re
import tracemalloc
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nemovideo.chat._sse import ServerSentEvent, SSEComment, SSEDecoder, SSEItem
from nemovideo.errors import StreamDecodeError

E = ServerSentEvent
C = SSEComment
Outcome = list[SSEItem] | str  # the items, or "error" when StreamDecodeError was raised


def run(stream: bytes, cuts: Sequence[int] = (), **options: Any) -> Outcome:
    """Feed ``stream`` cut at ``cuts`` (sorted offsets), then close; enforce the memory bound."""
    decoder = SSEDecoder(**options)
    items: list[SSEItem] = []
    bounds = [0, *cuts, len(stream)]
    try:
        for start, end in itertools.pairwise(bounds):
            items += decoder.feed(stream[start:end])
            assert decoder.pending_bytes <= decoder.max_line_bytes
        items += decoder.close()
    except StreamDecodeError:
        return "error"
    assert decoder.bytes_fed == len(stream)
    return items


def bytewise(stream: bytes, **options: Any) -> Outcome:
    return run(stream, range(1, len(stream)), **options)


# --- the rules, one by one ------------------------------------------------------------------

SPEC_CASES: list[tuple[str, bytes, list[SSEItem]]] = [
    ("simple", b"data: hello\n\n", [E(data="hello")]),
    # WHATWG examples
    ("whatwg multi-line", b"data: YHOO\ndata: +2\ndata: 10\n\n", [E(data="YHOO\n+2\n10")]),
    (
        "whatwg ids and spaces",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
        b"data:  third event\n\n",
        [E(data="first event", id="1"), E(data="second event", id=""), E(data=" third event", id="")],
    ),
    (
        "whatwg empty data",
        b"data\n\ndata\ndata\n\ndata:",
        [E(data=""), E(data="\n")],
    ),
    ("whatwg space optional", b"data:test\n\ndata: test\n\n", [E(data="test"), E(data="test")]),
    (
        "whatwg event types",
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
        [E("add", "73857293"), E("remove", "2153"), E("add", "113411")],
    ),
    # line ends
    ("CR", b"data: a\rdata: b\r\r", [E(data="a\nb")]),
    ("CRLF", b"data: a\r\ndata: b\r\n\r\n", [E(data="a\nb")]),
    ("mixed ends", b"data: a\r\ndata: b\rdata: c\n\r\n", [E(data="a\nb\nc")]),
    ("CR then CRLF is two ends", b"data: a\r\r\ndata: b\n\n", [E(data="a"), E(data="b")]),
    ("LF CR is two ends", b"data: a\n\rdata: b\n\n", [E(data="a"), E(data="b")]),
    # BOM
    ("BOM stripped", b"\xef\xbb\xbfdata: a\n\n", [E(data="a")]),
    ("second BOM is part of the name", b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n", []),
    ("BOM later is content", b"data: a\n\n\xef\xbb\xbfdata: b\n\n", [E(data="a")]),
    ("BOM in a value kept", b"data: \xef\xbb\xbfa\n\n", [E(data="\ufeffa")]),
    # comments
    ("comments ignored", b": hi\ndata: a\n: there\n\n", [E(data="a")]),
    ("comment only block", b": keep-alive\n\n", []),
    # field parsing
    ("one space stripped", b"data:  x\n\n", [E(data=" x")]),
    ("no space", b"data:x\n\n", [E(data="x")]),
    ("tab kept", b"data:\tx \n\n", [E(data="\tx ")]),
    ("colon in value", b'data: {"a":"b:c"}\n\n', [E(data='{"a":"b:c"}')]),
    ("no colon: data", b"data\n\n", [E(data="")]),
    ("no colon: event", b"event\ndata: x\n\n", [E(data="x")]),
    ("empty data dispatches", b"data:\n\n", [E(data="")]),
    ("unknown fields ignored", b"foo: bar\nDATA: no\ndata : no\ndata: x\nbar\n\n", [E(data="x")]),
    ("NUL in data kept", b"data: a\x00b\n\n", [E(data="a\x00b")]),
    ("invalid UTF-8 replaced", b"data: \xff\xe5\xaf\n\n", [E(data="\ufffd\ufffd")]),
    # dispatch
    ("no dispatch without blank line", b"data: x\n", []),
    ("no dispatch of unterminated", b"data: x\n\ndata: y", [E(data="x")]),
    ("blank lines alone", b"\n\n\r\n\r", []),
    ("event type reset after dispatch", b"event: x\ndata: 1\n\ndata: 2\n\n", [E("x", "1"), E(data="2")]),
    ("empty block resets type", b"event: x\n\ndata: 1\n\n", [E(data="1")]),
    ("empty event name", b"event:\ndata: 1\n\n", [E(data="1")]),
    ("last event type wins", b"event: a\nevent: b\ndata: 1\n\n", [E("b", "1")]),
    ("unicode event", "event: 导出\ndata: 1\n\n".encode(), [E("导出", "1")]),
    # id
    ("id persists", b"id: 7\ndata: a\n\ndata: b\n\n", [E(data="a", id="7"), E(data="b", id="7")]),
    ("id without event", b"id: 7\n\ndata: b\n\n", [E(data="b", id="7")]),
    ("id with NUL ignored", b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", [E(data="a", id="1"), E(data="b", id="1")]),
    ("id reset to empty", b"id: 1\ndata: a\n\nid:\ndata: b\n\n", [E(data="a", id="1"), E(data="b", id="")]),
    # retry
    ("retry", b"retry: 1500\ndata: a\n\n", [E(data="a", retry=1500)]),
    ("retry persists", b"retry: 5\n\ndata: a\n\n", [E(data="a", retry=5)]),
    (
        "bad retry ignored",
        "retry: 1a\nretry: -1\nretry: +1\nretry:  10\nretry:\nretry: 1.5\nretry: ١٢\ndata: a\n\n".encode(),
        [E(data="a")],
    ),
    ("later retry wins", b"retry: 1\nretry: 20\ndata: a\n\n", [E(data="a", retry=20)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stream", "expected"), [c[1:] for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES]
)
def test_spec_rule(stream: bytes, expected: list[SSEItem]) -> None:
    assert run(stream) == expected
    assert bytewise(stream) == expected
    assert reference(stream) == expected


def test_comments_emitted_in_order_on_request() -> None:
    stream = b": hi\ndata: a\n:\n:  two\n:x\n\n"
    assert run(stream, emit_comments=True) == [C("hi"), C(""), C(" two"), C("x"), E(data="a")]


def test_values_are_frozen_slotted_attrs() -> None:
    ev = E(data="x")
    assert (ev.event, ev.id, ev.retry) == ("message", None, None)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ev.data = "y"  # type: ignore[misc]
    assert not hasattr(ev, "__dict__")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        C("x").text = "y"  # type: ignore[misc]


def test_counts_bytes_and_rejects_use_after_close() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: a\n") == [] and d.feed(b"") == [] and d.feed(b"\n") == [E(data="a")]
    assert d.bytes_fed == 9
    assert d.feed(b"data: unterminated\n") == []
    assert d.close() == []
    with pytest.raises(RuntimeError):
        d.feed(b"\n")


# --- chunk boundaries -----------------------------------------------------------------------

SAMPLE = (
    "\ufeff: connected\r\n"
    "\r\n"
    'data: {"content":{"parts":[{"text":"正在导出 🎬"}],"role":"model"},"partial":true,"id":"e1"}\n\n'
    "event: heartbeat\r\ndata:\r\n\r\n"
    'id: 42\rdata: {"content":{"parts":[{"functionCall":{"id":"adk-1","name":"edit_multitrack",'
    '"args":{"title":"导出 ✨"}}}]},"author":"nemo"}\r\r'
    ": ping 🫡\n"
    "data: line one 😀\ndata:line two\ndata:  three\n\n"
    'retry: 1500\nfoo: bar\ndata: {"error": "boom ü"}\r\n\r\n'
    "data: unterminated 导"
).encode()
SAMPLE_ITEMS: list[SSEItem] = [
    C("connected"),
    E(
        data='{"content":{"parts":[{"text":"正在导出 🎬"}],"role":"model"},"partial":true,"id":"e1"}'
    ),
    E("heartbeat", ""),
    E(
        data='{"content":{"parts":[{"functionCall":{"id":"adk-1","name":"edit_multitrack",'
        '"args":{"title":"导出 ✨"}}}]},"author":"nemo"}',
        id="42",
    ),
    C("ping 🫡"),
    E(data="line one 😀\nline two\n three", id="42"),
    E(data='{"error": "boom ü"}', id="42", retry=1500),
]
SAMPLE_EVENTS = [i for i in SAMPLE_ITEMS if isinstance(i, E)]


def test_sample_whole_and_bytewise() -> None:
    assert run(SAMPLE, emit_comments=True) == SAMPLE_ITEMS
    assert run(SAMPLE) == SAMPLE_EVENTS
    assert bytewise(SAMPLE, emit_comments=True) == SAMPLE_ITEMS
    assert reference(SAMPLE, emit_comments=True) == SAMPLE_ITEMS


def test_sample_every_split_point() -> None:
    for cut in range(len(SAMPLE) + 1):
        assert run(SAMPLE, [cut], emit_comments=True) == SAMPLE_ITEMS, cut


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7])
def test_sample_every_fixed_chunk_size_and_offset(size: int) -> None:
    for offset in range(1, size):
        cuts = range(offset, len(SAMPLE), size)
        assert run(SAMPLE, cuts, emit_comments=True) == SAMPLE_ITEMS, (size, offset)


def test_every_pair_of_split_points_over_tricky_bytes() -> None:
    tricky = "\ufeffid: 1\r\ndata: 导出🎬\rdata:\r\n\r: c\r\r\n".encode()
    expected = [E(data="导出🎬\n", id="1"), C("c")]
    for i in range(len(tricky) + 1):
        for j in range(i, len(tricky) + 1):
            assert run(tricky, [i, j], emit_comments=True) == expected, (i, j)


# --- caps -----------------------------------------------------------------------------------


def endless_line(total: int, chunk: int) -> Iterator[bytes]:
    block = b"x" * chunk
    yield b"data: " + block[6:]
    for _ in range(total // chunk - 1):
        yield block


@pytest.mark.parametrize("prefix", [b"", b"data: ok\n\n", b"data: ok\n\n: partial"])
def test_100mb_line_fails_fast_with_bounded_memory(prefix: bytes) -> None:
    chunk, cap = 64 * 1024, 1 << 20
    decoder = SSEDecoder(max_line_bytes=cap)
    assert decoder.feed(prefix) == ([E(data="ok")] if prefix else [])
    tracemalloc.start()
    try:
        with pytest.raises(StreamDecodeError, match="max_line_bytes"):
            for part in endless_line(100 * 1000 * 1000, chunk):
                decoder.feed(part)
                assert decoder.pending_bytes <= cap
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoder.bytes_fed <= len(prefix) + cap + chunk
    assert peak < 3 * cap
    with pytest.raises(StreamDecodeError):
        decoder.feed(b"\n\n")


def test_line_cap_is_exact_in_any_position() -> None:
    for cap in (10, 11, 12):
        fits = cap >= len(b"data: 12345")
        for stream in (b"data: 12345\n\n", b"data: 12345", b"data: a\n\ndata: 12345\n\n"):
            outcome = run(stream, max_line_bytes=cap)
            assert (outcome == "error") is not fits, (cap, stream)
            assert bytewise(stream, max_line_bytes=cap) == outcome


def test_event_cap_counts_joined_data_bytes() -> None:
    stream = "data: 12345\ndata: 导\n\n".encode()  # "12345\n导" = 9 bytes
    assert run(stream, max_event_bytes=9) == [E(data="12345\n导")]
    assert run(stream, max_event_bytes=8) == "error"
    assert bytewise(stream, max_event_bytes=8) == "error"
    many = b"data: x\n" * 1000  # never dispatched, still bounded
    assert run(many, [8 * k for k in range(1, 1000)], max_event_bytes=100) == "error"
    assert run(b"data: x\n\n" * 1000, max_event_bytes=1) == [E(data="x")] * 1000


def test_event_cap_error_says_why() -> None:
    d = SSEDecoder(max_event_bytes=4)
    with pytest.raises(StreamDecodeError, match="max_event_bytes=4"):
        d.feed(b"data: 12345\n")


# --- arbitrary input ------------------------------------------------------------------------

TOKENS = st.sampled_from(
    [b"data", b"event", b"id", b"retry", b":", b": ", b" ", b"\n", b"\r", b"\r\n", b"\n\n",
     b"1", b"42", b"x", b"\x00", b"\xef\xbb\xbf", b"\xef", b"\xbb", "导".encode(), "🎬".encode(),
     b"\xe5", b"\xff", b"\t"]
)  # fmt: skip
STREAMS = st.lists(TOKENS, max_size=60).map(b"".join) | st.binary(max_size=200)


def reference(stream: bytes, max_line: int = 1 << 20, max_event: int = 16 << 20, emit_comments: bool = False) -> Outcome:  # fmt: skip
    """The WHATWG algorithm written out literally, over whole-stream lines decoded one by one."""
    if stream.startswith(b"\xef\xbb\xbf"):
        stream = stream[3:]
    *lines, tail = re.split(rb"\r\n|\r|\n", stream)
    if any(len(line) > max_line for line in [*lines, tail]):
        return "error"
    out: list[SSEItem] = []
    data, data_bytes, event, last_id, retry = "", b"", "", None, None
    for raw in lines:
        line = raw.decode("utf-8", "replace")
        if not line:
            if data:
                out.append(E(event or "message", data[:-1], last_id, retry))
            data, data_bytes, event = "", b"", ""
            continue
        if line.startswith(":"):
            if emit_comments:
                out.append(C(line[2:] if line.startswith(": ") else line[1:]))
            continue
        field, colon, value = line.partition(":")
        raw_value = raw.partition(b":")[2]
        if colon and value.startswith(" "):
            value, raw_value = value[1:], raw_value[1:]
        if field == "data":
            data += value + "\n"
            data_bytes += raw_value + b"\n"
            if len(data_bytes) - 1 > max_event:
                return "error"
        elif field == "event":
            event = value
        elif field == "id" and "\x00" not in value:
            last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
    return out


@settings(max_examples=300, deadline=None)
@given(stream=STREAMS, cuts=st.lists(st.integers(0, 200), max_size=8))
def test_caps_agree_across_splits(stream: bytes, cuts: list[int]) -> None:
    cuts = sorted(c for c in cuts if c <= len(stream))
    whole = run(stream, max_line_bytes=12, max_event_bytes=16)
    assert whole == reference(stream, max_line=12, max_event=16)
    assert run(stream, cuts, max_line_bytes=12, max_event_bytes=16) == whole
    assert bytewise(stream, max_line_bytes=12, max_event_bytes=16) == whole


def test_stray_lines_rebuild_an_unescaped_multiline_frame() -> None:
    from nemovideo.chat._shape import Shaper
    from nemovideo.chat._sse import SSEStray

    message = 'Render "x" failed:\nValueError: the encoder said "no"\n\n\nretry later'
    wire = f'data: {{"error": "{message}"}}\n\n'.encode()
    for size in (1, 7, len(wire)):
        decoder = SSEDecoder(emit_stray=True)
        shaper = Shaper()
        events = []
        for at in range(0, len(wire), size):
            for item in decoder.feed(wire[at : at + size]):
                events += shaper.feed(item)
        events += shaper.finish()
        assert [e.message for e in events] == [message], size  # type: ignore[union-attr]
    plain = SSEDecoder()
    assert not any(isinstance(i, SSEStray) for i in plain.feed(wire)), "off by default"


# --- plain mode: the chat stream's hot path -------------------------------------------------


def unplain(outcome: Outcome) -> Outcome:
    """A plain decoder's items, written as the ordinary decoder writes them."""
    if isinstance(outcome, str):
        return outcome
    return [E(data=i.decode("utf-8", "replace")) if isinstance(i, bytes) else i for i in outcome]


@pytest.mark.parametrize("plain", [False, True], ids=["rules", "plain mode"])
@settings(max_examples=400, deadline=None)
@given(stream=STREAMS, cuts=st.lists(st.integers(0, 200), max_size=8), comments=st.booleans())
def test_any_split_decodes_as_the_reference(
    plain: bool, stream: bytes, cuts: list[int], comments: bool
) -> None:
    """Whole, cut anywhere, or a byte at a time: what the reference parser reads (plain mode's
    bare data bytes written back as the events they stand for)."""
    cuts = sorted(c for c in cuts if c <= len(stream))
    expected = reference(stream, emit_comments=comments)
    for outcome in (
        run(stream, emit_comments=comments, plain=plain),
        run(stream, cuts, emit_comments=comments, plain=plain),
        bytewise(stream, emit_comments=comments, plain=plain),
    ):
        assert unplain(outcome) == expected


@settings(max_examples=300, deadline=None)
@given(stream=STREAMS, cuts=st.lists(st.integers(0, 200), max_size=8))
def test_plain_mode_keeps_the_caps(stream: bytes, cuts: list[int]) -> None:
    cuts = sorted(c for c in cuts if c <= len(stream))
    expected = reference(stream, max_line=12, max_event=16)
    caps = {"max_line_bytes": 12, "max_event_bytes": 16, "plain": True}
    assert unplain(run(stream, cuts, **caps)) == expected
    assert unplain(bytewise(stream, **caps)) == expected


def test_plain_mode_yields_bare_data_only_for_plain_events() -> None:
    items = run(SAMPLE, emit_comments=True, plain=True)
    assert isinstance(items, list)
    assert items[1] == SAMPLE_ITEMS[1].data.encode()  # type: ignore[union-attr]  # no name, no id
    assert items[2] == E("heartbeat", "") and items[3] == SAMPLE_ITEMS[3]  # named; an id in force
    assert unplain(items) == SAMPLE_ITEMS
    for cut in range(len(SAMPLE) + 1):
        assert run(SAMPLE, [cut], emit_comments=True, plain=True) == items, cut


@pytest.mark.parametrize("plain", [False, True])
def test_a_huge_single_data_line_is_refused_in_plain_mode_too(plain: bool) -> None:
    frame = b"data: " + b"x" * 5000 + b"\n\n"
    with pytest.raises(StreamDecodeError, match="max_line_bytes"):
        SSEDecoder(max_line_bytes=4096, plain=plain).feed(frame * 3)
    with pytest.raises(StreamDecodeError, match="max_event_bytes"):
        SSEDecoder(max_event_bytes=4096, plain=plain).feed(frame)


# --- screened chunks: one digit scan a chunk, orjson for the frames it passes ---------------

_NUMBERS = st.integers(-(2**70), 2**70) | st.sampled_from([2**64, -(2**63) - 1, 10**18, 1.5e19])
_ADK_FRAMES = st.one_of(
    st.builds(
        lambda text, n, partial: {
            "content": {"parts": [{"text": text}]},
            "n": n,
            "partial": partial,
        },
        st.text(max_size=30) | st.from_regex(r"[0-9]{15,25}", fullmatch=True),
        _NUMBERS,
        st.booleans(),
    ),
    st.builds(
        lambda n, cid: {
            "content": {"parts": [{"functionCall": {"name": "t", "id": cid, "args": {"n": n}}}]}
        },
        _NUMBERS,
        st.from_regex(r"[0-9a-f]{10,30}", fullmatch=True),
    ),
)
_RAW_FRAMES = st.sampled_from(
    [b'{"n": NaN}', b'{"content": {"parts": [{"text": "\xff"}]}}', b"nope"]
)


@settings(max_examples=200, deadline=None)
@given(
    frames=st.lists(_ADK_FRAMES.map(lambda f: json.dumps(f).encode()) | _RAW_FRAMES, max_size=12),
    cuts=st.lists(st.integers(0, 2000), max_size=6),
)
def test_screened_chunks_read_every_frame_as_the_stdlib_does(
    frames: list[bytes], cuts: list[int]
) -> None:
    """A chunk's frames are scanned once for runs of 19 digits (an integer orjson would read as a
    float); those that pass are parsed by orjson as they are. The events, ``raw`` included, are
    what the stdlib parser gives for the same stream, wherever its chunks are cut."""
    pytest.importorskip("orjson")
    from nemovideo._util import jsonparse
    from nemovideo.chat._events import screened
    from nemovideo.chat._shape import Shaper

    wire = b"".join(b"data: " + frame + b"\n\n" for frame in frames)
    bounds = [0, *sorted(c for c in cuts if c <= len(wire)), len(wire)]

    def events(fast: bool) -> list[tuple[str, str]]:
        decoder, shaper, out = SSEDecoder(plain=True), Shaper(), []
        for start, end in itertools.pairwise(bounds):
            out += shaper.shape(screened(decoder.feed(wire[start:end])))
        out += shaper.finish()
        return [(repr(e), repr(getattr(e, "raw", None))) for e in out]

    before = jsonparse.BACKEND
    try:
        jsonparse.use_orjson(False)
        expected = events(False)
        jsonparse.use_orjson(True)
        assert events(True) == expected
    finally:
        jsonparse.use_orjson(before == "orjson")


def test_screened_splits_a_chunk_around_a_frame_with_a_long_run() -> None:
    pytest.importorskip("orjson")
    from nemovideo.chat._events import screened

    big = b'{"id": "m_1234567890123456789x"}'
    assert screened([b"{}", big, b"[1]", b"[2]", big]) == [
        ([b"{}"], True),
        ([big], False),
        ([b"[1]", b"[2]"], True),
        ([big], False),
    ]
    assert screened([b"1" * 18, b"2" * 18]) == [([b"1" * 18, b"2" * 18], True)], "runs kept apart"
    assert screened([b"{}", ServerSentEvent(data="{}")]) == [
        ([b"{}", ServerSentEvent(data="{}")], False)
    ]
