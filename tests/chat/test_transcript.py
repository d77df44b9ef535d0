"""The reply text (``ChatStream.text``, ``ChatReply.text``) is built as the parts arrive (issue 27):
for any sequence of text events, ended turns and reads mid-stream it is exactly the text the
documented rules give (``nemovideo/chat/_text.py``, docs/protocol.md "Chat"), recomputed here from
the whole history at every read; and building it keeps little beyond the text itself.

``Transcript`` has no public door of its own: ``ChatStream`` feeds it from the shaper (whose own
behaviour tests/chat/test_chat.py and tests/adk check end to end); the property needs reads between
any two events, which only the class itself offers.
"""

from __future__ import annotations

import sys
import tracemalloc
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nemovideo import TextEvent
from nemovideo.chat._text import Transcript

_TEMPORARY_ISSUE = "i encountered a temporary issue"

#: Frames (an event's ``raw``) are compared by identity: a few distinct objects, or none.
FRAMES: list[object] = [{"id": "frame-a"}, {"id": "frame-b"}, {"id": "frame-c"}]

#: Words that hit the rules: blank and padded pieces (stripping), the closing "temporary issue" in
#: other cases and with characters whose lower case grows or is ASCII (İ, the Kelvin sign),
#: wide characters; final texts are also drawn from the deltas before them (repeated, extended).
FRAGMENTS = [
    "Hello ",
    "gzip",
    " world.",
    "",
    " ",
    "\n",
    "\t ",
    "x\n",
    "导出视频",
    "İ",
    "Σ",
    "\u212a",
    "I encountered a temporary issue",
    "i ENCOUNTERED a temporary issue, retry",
    "I encountered a temporary",
    " I encountered a temporary issue",
    "🎬",
]

texts = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=4).map("".join),
    st.text(max_size=6),
)
frames = st.one_of(st.none(), st.sampled_from(range(len(FRAMES))).map(FRAMES.__getitem__))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("text"), texts, st.booleans(), frames),  # text, partial, raw
        # a final text repeating the latest delta (two when the flag is set), then a suffix
        st.tuples(
            st.just("repeat"), st.sampled_from(["", "", " world.", "\n"]), st.booleans(), frames
        ),
        st.tuples(st.just("end_turn"), st.just(""), st.just(False), frames),
        st.tuples(st.just("read"), st.just(""), st.just(False), st.none()),
    ),
    max_size=30,
)
Operation = tuple[str, str, bool, Any]


def repeated(deltas: list[str], final: str) -> tuple[int, int] | None:
    """The run ``deltas[i:j]`` a final text repeats, white space aside: all of them when they
    spell it; else, earliest first, a run that spells it, or one that reaches the last delta and
    spells its start (the final extends them); None when it repeats none."""
    whole = "".join(final.split())
    bare = ["".join(d.split()) for d in deltas]
    if not whole:
        return None
    if "".join(bare) == whole:
        return 0, len(bare)
    for i in range(len(bare)):
        for j in range(i + 1, len(bare) + 1):
            spelled = "".join(bare[i:j])
            if spelled == whole:
                return i, j
            if not whole.startswith(spelled):
                break
        else:
            if "".join(bare[i:]):
                return i, len(bare)
    return None


def reference(history: list[Operation]) -> str:
    """The documented rules, plainly, from the whole history: a turn's final text replaces the
    deltas it repeats (earlier unrepeated ones stay; later ones stay pending); deltas that an
    ended turn (a call, a response) or the end of the history leaves stay, unless the next final
    text comes in the frame that ended the turn or repeats them; each part stripped, blank ones
    left out, joined by newlines; a closing "I encountered a temporary issue" after other text
    dropped."""
    parts: list[str] = []
    deltas: list[str] = []
    closed: tuple[object, str] | None = None  # parts[-1]: deltas a turn's end closed, its frame
    for kind, text, partial, frame in history:
        if kind == "end_turn":
            if deltas:
                parts.append("".join(deltas))
                closed = (frame, parts[-1])
                deltas = []
        elif kind == "text" and partial:
            deltas.append(text)
            closed = None
        elif kind == "text" and text.strip():
            if closed is not None and (
                (frame is not None and closed[0] is frame) or repeated([closed[1]], text)
            ):
                parts.pop()
            closed = None
            run = repeated(deltas, text) if deltas else None
            if deltas and run is None:
                parts.append("".join(deltas))
                deltas = []
            elif run is not None:
                parts.append("".join(deltas[: run[0]]))
                deltas = deltas[run[1] :]
            parts.append(text)
    kept = [p.strip() for p in [*parts, "".join(deltas)] if p.strip()]
    if len(kept) > 1 and kept[-1].lower().startswith(_TEMPORARY_ISSUE):
        kept.pop()
    return "\n".join(kept)


@settings(max_examples=3000, deadline=None)
@given(operations)
def test_text_is_the_documented_rules_at_every_read(history: list[Operation]) -> None:
    transcript = Transcript()
    for n, (kind, text, partial, frame) in enumerate(history):
        if kind == "repeat":  # a final text repeating (extending) the latest deltas
            said = [t for k, t, p, _ in history[:n] if k == "text" and p][-int(partial) - 1 :]
            kind, text, partial = "text", "".join(said) + text, False
            history[n] = (kind, text, partial, frame)
        if kind == "text":
            transcript.add(TextEvent(text, partial=partial, raw=frame))
        elif kind == "end_turn":
            transcript.end_turn(frame)
        else:
            got = transcript.text
            assert got == reference(history[:n])
            assert transcript.text is got  # read again without a change: the same object
    assert transcript.text == reference(history)


def test_reading_mid_turn_then_streaming_on_gives_the_same_text_as_reading_once() -> None:
    read_often, read_once = Transcript(), Transcript()
    frame = {"id": "f"}
    events = [
        TextEvent("Hello ", partial=True),
        TextEvent("gzip ", partial=True),
        TextEvent("Hello gzip world.", raw=frame),
        TextEvent(" Renders ", partial=True),
        TextEvent("ran.", partial=True),
    ]
    seen = []
    for event in events:
        read_often.add(event)
        read_once.add(event)
        seen.append(read_often.text)
    read_often.end_turn(frame)
    read_once.end_turn(frame)
    assert seen == [
        "Hello",
        "Hello gzip",
        "Hello gzip world.",
        "Hello gzip world.\nRenders",
        "Hello gzip world.\nRenders ran.",
    ]
    assert read_often.text == read_once.text == "Hello gzip world.\nRenders ran."


def test_a_long_reply_keeps_little_beyond_its_text() -> None:
    """2,000 turns of ten deltas and a final text repeating them (about 2 M characters): the
    traced peak while streaming and reading stays within a tenth of the text's size beyond it
    (joining kept pieces at the end needed the pieces and the text at once: twice the text)."""
    words = "Hello gzip world, the clip is cut and the music is louder now. 导出 "
    tracemalloc.start()
    try:
        transcript = Transcript()
        for turn in range(2000):
            deltas = [f"{words[n:]}{turn} " for n in range(10)]
            for delta in deltas:
                transcript.add(TextEvent(delta, partial=True))
            transcript.add(TextEvent("".join(deltas)))
            transcript.end_turn({"functionCall": turn})
        text = transcript.text
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(text) > 1_000_000
    assert text.startswith("Hello gzip world") and text.endswith("1999")
    assert peak - sys.getsizeof(text) < sys.getsizeof(text) / 10, (peak, sys.getsizeof(text))
