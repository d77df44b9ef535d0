"""The draft model: lossless round trip, liberal reading, the documented summary, diffs, builders."""

from __future__ import annotations

import copy
import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nemovideo.draft import Draft, Segment, Track, TrackType
from nemovideo.errors import ValidationError
from nemovideo.testing.drafts import (
    bgm_track,
    example_draft,
    make_draft,
    normalize_draft,
    title_track,
    video_track,
)

DOCUMENTED = (
    "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
    '3. Title: "Urban Dreams" (0-3s)'
)

# --- generated JSON -------------------------------------------------------------------------

KEYS = st.sampled_from(
    ["t", "tt", "sg", "d", "m", "st", "start", "s", "offset", "end", "duration", "end_s",
     "volume", "vol", "text", "role", "name", "src", "media_id", "id", "title", "width",
     "height", "aspect_ratio", "tracks", "segments", "kind", "type", "transition"]
) | st.text(max_size=6)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**15), max_value=10**15)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["35%", "1.5s", "250ms", "00:01:02.5", "audio", "title", "bgm", "7", "-3"])
)
JSON = st.recursive(
    SCALARS,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(KEYS, kids, max_size=5),
    max_leaves=30,
)
SEGMENT = st.dictionaries(KEYS, JSON, max_size=5) | st.fixed_dictionaries(
    {"id": st.sampled_from(["sg_1", "sg_2", "sg_3"]), "st": SCALARS, "d": SCALARS},
    optional={"m": st.dictionaries(KEYS, SCALARS, max_size=5)},
)
TRACK = st.fixed_dictionaries(
    {"tt": st.sampled_from([0, 1, 7, 3, "1", "text", None, 2.5, True]), "sg": st.lists(SEGMENT, max_size=4) | JSON},
    optional={"m": st.dictionaries(KEYS, SCALARS, max_size=3), "x-extra": JSON},
)  # fmt: skip
DRAFTS = st.dictionaries(KEYS, JSON, max_size=6) | st.fixed_dictionaries(
    {"t": st.lists(TRACK | JSON, max_size=4) | JSON},
    optional={"d": SCALARS, "m": st.dictionaries(KEYS, SCALARS, max_size=4), "extra": JSON},
)


def exercise(draft: Draft) -> None:
    """Every view must work on any JSON object, however odd."""
    assert draft.summary().startswith(f"Timeline ({len(draft)} track")
    assert isinstance(draft.duration_ms, float | int)
    assert isinstance(draft.ready_for_export, bool)
    assert repr(draft).startswith("<Draft ")
    for track in draft:
        assert isinstance(track.type, int)
        assert track.describe() and track.label and track.name
        for segment in track.segments:
            assert segment.duration_ms >= 0
            assert segment.end_ms >= segment.start_ms
            assert segment.volume is None or segment.volume >= 0
            repr(segment)
    assert draft.diff(draft) == []
    other = Draft.from_json(example_draft())
    assert isinstance(draft.diff(other), list)
    assert isinstance(other.diff(draft), list)


@settings(max_examples=300, deadline=None)
@given(DRAFTS)
def test_round_trip_holds_for_any_json_object(obj: dict[str, Any]) -> None:
    original = copy.deepcopy(obj)
    draft = Draft.from_json(obj)
    assert draft.to_json() == original
    assert json.loads(json.dumps(draft.to_json())) == json.loads(json.dumps(original))
    exercise(draft)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=10), JSON, max_size=6))
def test_round_trip_holds_for_arbitrary_keys(obj: dict[str, Any]) -> None:
    assert Draft.from_json(obj).to_json() == obj


def realistic_drafts() -> list[dict[str, Any]]:
    camel = {
        "tracks": [
            {"type": "video", "segments": [{"startTime": 0, "duration": 4000, "url": "a.mp4"}]},
            {"type": "audio", "segments": [{"start": "0s", "end": "4s", "vol": "80%"}]},
        ],
        "duration": 4000,
        "version": 3,
        "m": {"title": "camel", "aspectRatio": "9:16"},
    }
    server = example_draft()
    server["t"][0]["sg"][0]["m"]["effects"] = [{"kind": "ken_burns", "zoom": 1.2}]
    server["t"].append({"tt": 9, "sg": [{"id": "x", "st": 0, "d": 10}], "m": {"locked": True}})
    server["schema"] = {"v": 2, "nested": [None, 1.5, "∞", {"a": []}]}
    return [example_draft(), camel, server, {"t": []}, {}]


@pytest.mark.parametrize("raw", realistic_drafts())
def test_round_trip_on_realistic_drafts(raw: dict[str, Any]) -> None:
    draft = Draft.from_json(raw)
    assert draft.to_json() == raw
    assert Draft.from_json(json.dumps(raw)).to_json() == raw
    exercise(draft)


def test_decoding_copies_and_to_json_hands_out_copies() -> None:
    raw = example_draft()
    draft = Draft.from_json(raw)
    raw["t"].clear()
    assert len(draft) == 3
    out = draft.to_json()
    out["t"][0]["sg"].clear()
    assert draft.tracks[0].segments and draft.to_json()["t"][0]["sg"]


# --- the documented summary -----------------------------------------------------------------


def documented_draft() -> dict[str, Any]:
    return {
        "t": [
            {"tt": 0, "sg": [{"id": "sg_1", "st": 0, "d": 10000, "m": {"src": "/mnt/userdata/c.mp4"}}],
             "m": {"name": "city timelapse"}},
            {"tt": 1, "sg": [{"id": "sg_2", "st": 0, "d": 10000,
                              "m": {"name": "Lo-fi", "src": None, "volume": 0.35, "role": "bgm"}}]},
            {"tt": 7, "sg": [{"id": "sg_3", "st": 0, "d": 3000,
                              "m": {"text": "Urban Dreams", "role": "title", "font_size": 72}}]},
        ],
        "d": 10000,
        "m": {"title": "Urban Dreams", "width": 1920, "height": 1080, "fps": 30},
    }  # fmt: skip


def test_documented_example_summarises_exactly() -> None:
    assert Draft.from_json(documented_draft()).summary() == DOCUMENTED


def test_emulator_example_draft_summarises_exactly() -> None:
    draft = Draft.from_json(example_draft())
    assert draft.summary() == DOCUMENTED
    assert draft.duration_ms == 10000 and draft.ready_for_export and len(draft) == 3
    assert draft.title == "Urban Dreams" and draft.aspect_ratio == "16:9" and draft.fps == 30


def test_summary_labels_names_and_times() -> None:
    raw = {
        "t": [
            {"tt": 0, "sg": [{"d": 2500, "m": {"name": "a.jpg"}}, {"d": 4500}]},
            {"tt": 0, "sg": [{"st": 0, "d": 1000}, {"d": 1000}]},
            {"tt": 1, "sg": [{"st": 2500, "d": 4500, "m": {"name": "Narration", "role": "voiceover", "volume": 100}}]},
            {"tt": 1, "sg": [{"st": 0, "d": 7000}], "m": {"name": "Beat", "volume": 0.5}},
            {"tt": 7, "sg": [{"st": 0, "d": 1000, "m": {"text": "Hi", "role": "subtitle"}},
                             {"st": 1000, "d": 1000, "m": {"text": "there", "role": "subtitle"}}]},
            {"tt": 7, "sg": [{"st": 500, "d": 1500, "m": {"text": "Note\nthis"}}]},
            {"tt": 5, "sg": []},
        ]
    }  # fmt: skip
    assert Draft.from_json(raw).summary() == (
        "Timeline (7 tracks): 1. Video: a.jpg (0-7s) 2. Video: 2 clips (0-2s) "
        "3. Audio: Narration (2.5-7s, 100%) 4. BGM: Beat (0-7s, 50%) "
        '5. Subtitle: 2 clips (0-2s) 6. Title: "Note this" (0.5-2s) 7. Type 5: 0 clips (empty)'
    )
    assert Draft.from_json({"t": [{"tt": 0, "sg": [{"d": 1000}]}]}).summary() == (
        "Timeline (1 track): 1. Video: 1 clip (0-1s)"
    )
    assert Draft.empty().summary() == "Timeline (0 tracks): empty"


@pytest.mark.parametrize(
    ("role", "label"),
    [(None, "Title"), ("title", "Title"), ("Subtitle", "Subtitle"), ("captions", "Subtitle"),
     ("watermark", "Text")],
)  # fmt: skip
def test_a_text_track_reads_title_unless_a_role_says_otherwise(
    role: str | None, label: str
) -> None:
    meta = {"text": "Urban Dreams", **({"role": role} if role else {})}
    track = Draft.from_json({"t": [{"tt": 7, "sg": [{"st": 0, "d": 3000, "m": meta}]}]}).tracks[0]
    assert track.label == label
    assert track.describe() == f'{label}: "Urban Dreams" (0-3s)'


# --- liberal reading ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segment",
    [
        {"st": 1500}, {"start": 1500}, {"start_ms": 1500}, {"startTime": 1500}, {"s": 1500},
        {"offset": 1500}, {"m": {"st": 1500}}, {"m": {"start": "1500"}}, {"start_s": 1.5},
        {"start": "1.5s"}, {"startTime": "1500ms"}, {"start": "00:00:01.5"}, {"st": 1500.0},
    ],
)  # fmt: skip
def test_start_is_read_under_every_common_spelling(segment: dict[str, Any]) -> None:
    seg = Segment.from_json({**segment, "d": 1000})
    assert seg.start_ms == 1500 and seg.start == 1.5
    assert seg.end_ms == 2500 and seg.end == 2.5 and seg.duration == 1.0


@pytest.mark.parametrize(
    "segment",
    [{"d": 2000}, {"duration": 2000}, {"m": {"duration_ms": 2000}}, {"duration_s": 2},
     {"end": 3000}, {"end_s": 3}, {"endTime": "3s"}],
)  # fmt: skip
def test_duration_is_read_or_derived_from_the_end(segment: dict[str, Any]) -> None:
    assert Segment.from_json({"st": 1000, **segment}).duration_ms == 2000


def test_segments_without_a_start_run_back_to_back() -> None:
    track = Track({"tt": 0, "sg": [{"d": 2000}, {"d": 3000}, {"st": 10000, "d": 1000}, {"d": 500}]})
    assert [(s.start_ms, s.end_ms) for s in track.segments] == [
        (0, 2000), (2000, 5000), (10000, 11000), (11000, 11500)
    ]  # fmt: skip
    assert Draft.from_json({"t": [track.raw]}).duration_ms == 11500


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.35, 0.35), (35, 0.35), ("35%", 0.35), ("0.35", 0.35), ("35", 0.35), (1, 1.0),
     (100, 1.0), (0, 0.0), (150, 1.5), (-1, None), ("loud", None), (True, None), (None, None)],
)  # fmt: skip
def test_volume_is_normalised_to_0_1(value: object, expected: float | None) -> None:
    for segment in ({"volume": value}, {"m": {"volume": value}}, {"m": {"vol": value}}):
        got = Segment.from_json(segment).volume
        assert got == pytest.approx(expected) if expected is not None else got is None


def test_segment_metadata_views() -> None:
    seg = Segment.from_json(
        {"id": 7, "st": 0, "d": 10, "m": {"name": "Lo-fi", "src": "https://x/y.mp3",
                                          "media_id": "m_1", "role": "bgm", "kind": "audio"}}
    )  # fmt: skip
    assert (seg.id, seg.name, seg.src, seg.media_id, seg.role, seg.kind) == (
        "7", "Lo-fi", "https://x/y.mp3", "m_1", "bgm", "audio"
    )  # fmt: skip
    text = Segment.from_json({"m": {"content": "Hello"}}, index=2)
    assert text.text == "Hello" and text.label == '"Hello"' and text.name is None
    assert Segment.from_json({"url": "/mnt/userdata/a/b.mp4"}).label == "b.mp4"
    assert Segment.from_json({}, index=4).label == "clip 5"


def test_track_type_keeps_unknown_numbers() -> None:
    assert TrackType.coerce(0) is TrackType.VIDEO and TrackType.coerce("1") is TrackType.AUDIO
    assert (
        TrackType.coerce(7.0) is TrackType.TEXT and TrackType.coerce("subtitle") is TrackType.TEXT
    )
    unknown = TrackType.coerce(3)
    assert unknown == 3 and type(unknown) is int
    assert TrackType.coerce("nope") is None and TrackType.coerce(True) is None
    assert TrackType.AUDIO.label == "audio"
    assert Track({"tt": 3}).type == 3 and Track({"tt": 3}).label == "Type 3"


def test_track_type_is_inferred_when_absent() -> None:
    assert Track({"sg": [{"m": {"text": "Hi"}}]}).type is TrackType.TEXT
    assert Track({"sg": [{"m": {"volume": 0.5}}]}).type is TrackType.AUDIO
    assert Track({"sg": [{"m": {"src": "a.jpg"}}]}).type is TrackType.VIDEO
    assert Track({"tt": None, "sg": [{"m": {"role": "bgm"}}]}).label == "BGM"


@pytest.mark.parametrize(
    "raw",
    [
        {}, {"t": None}, {"t": 5}, {"t": "tracks"}, {"t": {}}, {"m": None, "d": "abc"},
        {"t": [None, 1, "x", [], {"sg": None}, {"sg": "no"}, {"sg": [None, 3, {"st": None, "d": None, "m": None}]}]},
        {"t": [{"tt": [], "sg": [{"st": [1], "d": {"x": 1}, "m": {"volume": {}, "text": 5, "name": None}}]}]},
        {"t": {"a": {"tt": 1, "sg": [{"st": 0, "d": 100}]}}, "d": None, "m": {"width": "wide"}},
        {"t": [{"tt": 0, "sg": [{"st": -500, "d": -10, "m": {"name": "   "}}]}], "d": 1e308},
        {"unknown": {"deep": [1, 2, {"x": None}]}, "t": [{"tt": 7, "sg": [{"end": 1e308, "st": -1e308}]}]},
    ],
)  # fmt: skip
def test_missing_null_and_unexpected_fields_decode_without_error(raw: dict[str, Any]) -> None:
    draft = Draft.from_json(raw)
    assert draft.to_json() == raw
    exercise(draft)
    draft.to_svg()


def test_dict_of_tracks_and_null_parts() -> None:
    draft = Draft.from_json({"t": {"a": {"tt": 1, "sg": [{"st": 0, "d": 100}]}}})
    assert len(draft) == 1 and draft.tracks[0].label == "BGM"
    odd = Draft.from_json({"t": [None, {"tt": 0, "sg": [None, {"d": 5}]}]})
    assert len(odd) == 1 and odd.tracks[0].index == 1 and odd.tracks[0].segments[0].index == 1


def test_draft_basics() -> None:
    assert Draft.from_json(None) == Draft.empty() == Draft({"t": []})
    assert not Draft.empty().ready_for_export and len(Draft.empty()) == 0
    assert not Draft.from_json({"t": [{"tt": 0, "sg": []}]}).ready_for_export
    assert Draft.from_json({"d": 4000, "t": [{"sg": [{"d": 9000}]}]}).duration_ms == 4000
    assert Draft.from_json({"t": [{"sg": [{"d": 9000}]}]}).duration == 9.0
    for bad in ([1, 2], "[1, 2]", "{not json", b"\xff", "[" * 100_000, 7):
        with pytest.raises(ValidationError, match="JSON object"):
            Draft.from_json(bad)  # type: ignore[arg-type]


def test_repr_is_short_and_pretty_printing_uses_it() -> None:
    draft = Draft.from_json(example_draft())
    assert repr(draft) == "<Draft 3 tracks, 10.0s>"
    assert repr(draft.tracks[1]) == "<Track 1 BGM: Lo-fi (0-10s, 35%)>"
    assert repr(draft.tracks[0].segments[0]) == "<Segment sg_1 0-3.33s city_1.jpg>"
    printed: list[str] = []

    class Printer:
        def text(self, value: str) -> None:
            printed.append(value)

    draft._repr_pretty_(Printer(), False)
    assert printed == [repr(draft)]


def test_evolve_makes_a_new_draft_with_fresh_views() -> None:
    draft = Draft.from_json(example_draft())
    raw = draft.to_json()
    raw["t"] = raw["t"][:1]
    changed = attrs.evolve(draft, raw=raw)
    assert len(changed) == 1 and len(draft) == 3 and changed != draft
    assert attrs.evolve(draft) == draft
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        draft.raw = {}  # type: ignore[misc]


# --- emulator builders ----------------------------------------------------------------------


MEDIA = [
    {"filename": "a.jpg", "file_type": "image", "cdn_url": "http://127.0.0.1:1/cdn/a.jpg"},
    {"filename": "b.mp4", "file_type": "video/mp4", "cdn_url": "http://127.0.0.1:1/cdn/b.mp4", "hash": "abc"},
    {"filename": "c.png", "file_type": "image", "cdn_url": "http://127.0.0.1:1/cdn/c.png"},
]  # fmt: skip


def test_video_track_shares_time_evenly_in_the_emulator_form() -> None:
    track = video_track(MEDIA, 10000)
    segments = track["sg"]
    assert [(s["st"], s["d"]) for s in segments] == [(0, 3334), (3334, 3333), (6667, 3333)]
    first = segments[0]["m"]
    assert first["name"] == "a.jpg" and first["src"] == MEDIA[0]["cdn_url"]
    assert first["kind"] == "image" and segments[1]["m"]["kind"] == "video"
    assert first["media_id"].startswith("m_") and first["transition"] == "fade"
    assert first["transition_ms"] == 500
    assert video_track(MEDIA, 900, transition="none")["sg"][0]["m"]["transition_ms"] == 0
    assert track["tt"] == 0 and track["m"] == {"name": "3 clips"}
    assert video_track(MEDIA[:1], 1000)["m"] == {}
    assert video_track([], 1000)["sg"] == []


def test_make_draft_numbers_segments_and_sets_the_duration() -> None:
    raw = make_draft([video_track(MEDIA, 9000, name="trip"), bgm_track("Lo-fi", 35, 12000),
                      title_track("Hi")], title="Trip", width=1080, height=1920)  # fmt: skip
    ids = [s["id"] for t in raw["t"] for s in t["sg"]]
    assert ids == ["sg_1", "sg_2", "sg_3", "sg_4", "sg_5"]
    assert raw["d"] == 12000 and raw["m"] == {
        "title": "Trip",
        "width": 1080,
        "height": 1920,
        "fps": 30,
    }
    assert raw["t"][1]["sg"][0]["m"] == {
        "name": "Lo-fi",
        "src": None,
        "volume": 0.35,
        "role": "bgm",
    }
    assert raw["t"][2]["sg"][0]["m"] == {
        "text": "Hi",
        "role": "title",
        "font_size": 72,
        "position": "center",
    }
    assert list(raw["t"][0]["sg"][0]) == ["id", "st", "d", "m"]
    draft = Draft.from_json(raw)
    assert draft.aspect_ratio == "9:16"
    assert draft.summary() == (
        'Timeline (3 tracks): 1. Video: trip (0-9s) 2. BGM: Lo-fi (0-12s, 35%) 3. Title: "Hi" (0-3s)'
    )


def test_normalize_draft_keeps_ids_and_continues_numbering() -> None:
    raw = example_draft()
    raw["t"].append(bgm_track("Rain", 0.2, 15000))
    out = normalize_draft(raw)
    assert out["t"][3]["sg"][0]["id"] == "sg_6" and out["d"] == 15000
    assert [s["id"] for s in out["t"][0]["sg"]] == ["sg_1", "sg_2", "sg_3"]
    assert "id" not in raw["t"][3]["sg"][0]
    assert Draft.from_json(example_draft()).diff(Draft.from_json(out)) == [
        "Duration 10s -> 15s", "Added BGM track Rain (0-15s, 20%)"
    ]  # fmt: skip
