"""SessionState and its small wrappers: liberal decoding, typed views, raw kept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nemovideo.draft import Draft
from nemovideo.state import CanvasConfig, GeneratedMedia, MediaInfo, SessionState
from nemovideo.testing.drafts import example_draft

VIDEO_INFO = {
    "filename": "city.mp4",
    "file_type": "video",
    "cdn_url": "https://cdn.example/city.mp4",
    "duration": 12.5,
    "width": 1920,
    "height": 1080,
    "fps": 29.97,
    "hash": "9f86d081884c7d65",
    "codec": "h264",
}


def full_data() -> dict[str, Any]:
    return {
        "session_id": "5529798706024415232",
        "task_id": "task_1",
        "task_name": "project",
        "state": {
            "draft": example_draft(),
            "video_infos": [VIDEO_INFO, {"filename": "a.png", "file_type": "image/png"}],
            "canvas_config": {"width": 1080, "height": 1920, "background": "#000"},
            "generated_media": [
                {"url": "https://cdn.example/gen.mp4", "prompt": "city"},
                {"cdn_url": "https://cdn.example/song", "type": "music"},
            ],
            "video_analyses": {"city.mp4": {"scenes": 4}},
            "custom": True,
        },
    }


def test_full_state_decodes_into_typed_views() -> None:
    data = full_data()
    state = SessionState.from_json(data)
    assert (state.session_id, state.task_id, state.task_name) == (
        "5529798706024415232", "task_1", "project"
    )  # fmt: skip
    assert isinstance(state.draft, Draft)
    assert state.draft.to_json() == example_draft()
    assert state.draft.summary().startswith("Timeline (3 tracks): 1. Video: city timelapse")
    assert state.raw == data
    assert state.video_analyses == {"city.mp4": {"scenes": 4}}
    assert len(state.video_infos) == 2 and len(state.generated_media) == 2
    assert repr(state).startswith("<SessionState session_id='5529798706024415232' <Draft 3 tracks")


def test_media_info_keeps_raw_and_reads_fields() -> None:
    info = MediaInfo.from_json(VIDEO_INFO)
    assert info == MediaInfo(
        filename="city.mp4", file_type="video", url="https://cdn.example/city.mp4", duration=12.5,
        width=1920, height=1080, fps=29.97, hash="9f86d081884c7d65", raw=VIDEO_INFO,
    )  # fmt: skip
    assert info.kind == "video" and info.raw["codec"] == "h264"
    assert "raw" not in repr(info)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({"file_type": "image/jpeg"}, "image"),
        ({"file_type": "jpg"}, "image"),
        ({"filename": "x.MOV"}, "video"),
        ({"url": "https://h/x.mp3?sig=1"}, "audio"),
        ({"file_type": "audio"}, "audio"),
        ({"filename": "notes.txt"}, None),
        ({}, None),
    ],
)
def test_media_kind_is_inferred(raw: dict[str, Any], kind: str | None) -> None:
    assert MediaInfo.from_json(raw).kind == kind


def test_media_info_tolerates_odd_values() -> None:
    info = MediaInfo.from_json({"filename": None, "duration": "7.5", "width": "720", "fps": "x"})
    assert (info.filename, info.duration, info.width, info.fps) == (None, 7.5, 720, None)


def test_canvas_config_computes_the_aspect_ratio() -> None:
    assert CanvasConfig.from_json({"width": 1080, "height": 1920}).aspect_ratio == "9:16"
    given = CanvasConfig.from_json({"aspect_ratio": "16:9", "x": 1})
    assert (
        given.aspect_ratio == "16:9"
        and given.width is None
        and given.raw == {"aspect_ratio": "16:9", "x": 1}
    )
    assert CanvasConfig.from_json({"width": 0, "height": 5}).aspect_ratio is None


def test_generated_media_reads_url_and_kind() -> None:
    state = SessionState.from_json(full_data())
    first, second = state.generated_media
    assert first == GeneratedMedia(url="https://cdn.example/gen.mp4", kind="video", raw=first.raw)
    assert first.raw["prompt"] == "city"
    assert (second.url, second.kind) == ("https://cdn.example/song", "music")


@pytest.mark.parametrize(
    "data",
    [
        None, {}, {"state": None}, {"state": {}}, {"state": "garbage"}, {"state": []},
        {"session_id": None, "state": {"draft": None, "video_infos": None, "canvas_config": None,
                                       "generated_media": None, "video_analyses": None}},
        {"state": {"draft": 5, "video_infos": [None, 3, "x"], "canvas_config": [1],
                   "generated_media": {"a": {"url": "u"}}, "video_analyses": ["x"]}},
    ],
)  # fmt: skip
def test_missing_and_null_fields_decode_to_defaults(data: Any) -> None:
    state = SessionState.from_json(data)
    assert isinstance(state.draft, Draft) and len(state.draft) == 0
    assert isinstance(state.canvas_config, CanvasConfig)
    assert isinstance(state.video_analyses, dict)
    assert all(isinstance(m, MediaInfo) for m in state.video_infos)
    assert state.draft.summary() == "Timeline (0 tracks): empty"


def test_absent_draft_is_the_empty_draft() -> None:
    assert SessionState.from_json({}).draft == Draft.empty()
    assert SessionState.from_json({"state": {"draft": {}}}).draft.to_json() == {}


def test_state_at_top_level_camel_case_and_json_strings() -> None:
    data = {
        "sessionId": 42,
        "taskId": "t",
        "draft": json.dumps(example_draft()),
        "videoInfos": {"m1": VIDEO_INFO},
        "canvasConfig": {"width": 1920, "height": 1080},
        "generatedMedia": [{"url": "https://h/x.png"}],
    }
    state = SessionState.from_json(data)
    assert (state.session_id, state.task_id, state.task_name) == ("42", "t", None)
    assert state.draft.to_json() == example_draft()
    assert state.video_infos[0].filename == "city.mp4"
    assert state.canvas_config.aspect_ratio == "16:9"
    assert state.generated_media[0].kind == "image"
    nested = SessionState.from_json({"state": json.dumps({"draft": example_draft()})})
    assert len(nested.draft) == 3


# --- any JSON, hostile numbers ----------------------------------------------------------------

HOSTILE = st.sampled_from(
    [float("nan"), float("inf"), "NaN", "Infinity", "1e999", 1e308, 10**400, "9" * 5000, "",
     True, "35%", [], {}, None, "{not json", "[" * 5000]
) | st.builds(lambda: 10**5000)  # fmt: skip
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | HOSTILE,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=12) | st.sampled_from(
        ["state", "draft", "video_infos", "canvas_config", "generated_media", "width", "height",
         "duration", "fps", "session_id", "filename", "url", "t", "sg", "m"]), kids, max_size=6),
    max_leaves=40,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_any_json_decodes_to_a_state_and_never_raises(value: Any) -> None:
    for data in (value, {"state": value}, {"state": {"draft": value, "video_infos": [value],
                                                     "canvas_config": value}}):  # fmt: skip
        state = SessionState.from_json(data)
        assert isinstance(state.draft, Draft)
        state.draft.summary()
        repr(state)
        for media in state.video_infos:
            assert media.duration is None or media.duration == media.duration
            assert media.width is None or isinstance(media.width, int)
            assert media.kind in (None, "video", "image", "audio")
        assert state.canvas_config.width is None or isinstance(state.canvas_config.width, int)
