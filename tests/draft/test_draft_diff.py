"""Draft diffs in a user's words, and decoding that never raises on hostile input (issues 13, 16, 17)."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nemovideo.draft import Draft
from nemovideo.errors import ValidationError
from nemovideo.testing.drafts import bgm_track, example_draft, make_draft, video_track

from .test_draft import KEYS, SCALARS, exercise

# --- diff -----------------------------------------------------------------------------------


def edited(change: Any) -> Draft:
    raw = example_draft()
    change(raw)
    return Draft.from_json(raw)


BASE = Draft.from_json(example_draft())


def _set(path: list[Any], value: Any) -> Any:
    def apply(raw: dict[str, Any]) -> None:
        node: Any = raw
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return apply


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set(["t", 1, "sg", 0, "m", "volume"], 0.5), ["BGM volume 35% -> 50%"]),
        (_set(["t", 1, "sg", 0, "m", "volume"], 50), ["BGM volume 35% -> 50%"]),
        (_set(["t", 2, "sg", 0, "m", "text"], "City Nights"),
         ['Title text "Urban Dreams" -> "City Nights"']),
        (_set(["t", 2, "sg", 0, "st"], 1000), ["Title moved 0s -> 1s"]),
        (_set(["t", 2, "sg", 0, "d"], 4500), ["Title duration 3s -> 4.5s"]),
        (_set(["t", 0, "sg", 1, "d"], 5000), ["Video city_2.jpg duration 3.33s -> 5s"]),
        (_set(["t", 0, "sg", 0, "m", "transition"], "none"),
         ['Video city_1.jpg transition "fade" -> "none"']),
        (_set(["m", "title"], "Night City"), ['Project title "Urban Dreams" -> "Night City"']),
        (_set(["m", "height"], 1920), ["Aspect 16:9 -> 1:1"]),
        (_set(["m", "width"], 1280) , ["Aspect 16:9 -> 32:27"]),
        (_set(["d"], 12000), ["Duration 10s -> 12s"]),
        (lambda raw: raw["t"].pop(2), ['Removed Title track "Urban Dreams" (0-3s)']),
        (lambda raw: raw["t"].append(bgm_track("Rain", 20, 5000)),
         ["Added BGM track Rain (0-5s, 20%)"]),
        (lambda raw: raw["t"][0]["sg"].pop(1), ["Video: removed city_2.jpg (3.33-6.67s)"]),
        (lambda raw: raw["t"][0]["sg"].append({"id": "sg_9", "st": 10000, "d": 2000, "m": {"name": "d.jpg"}}),
         ["Video: added d.jpg (10-12s)"]),
        (lambda raw: raw["t"][0]["sg"][2]["m"].update(src="/mnt/userdata/night.jpg", name="night.jpg"),
         ["Video city_3.jpg replaced by night.jpg"]),
    ],
)  # fmt: skip
def test_diff_describes_each_kind_of_change(change: Any, expected: list[str]) -> None:
    assert BASE.diff(edited(change)) == expected


def test_diff_of_equal_drafts_is_empty_and_reverse_reads_backwards() -> None:
    assert BASE.diff(Draft.from_json(example_draft())) == []
    louder = edited(_set(["t", 1, "sg", 0, "m", "volume"], 0.5))
    assert louder.diff(BASE) == ["BGM volume 50% -> 35%"]


def test_diff_matches_segments_by_id_then_by_position() -> None:
    swapped = example_draft()
    sg = swapped["t"][0]["sg"]
    sg[0], sg[1] = sg[1], sg[0]
    assert BASE.diff(Draft.from_json(swapped)) == []
    anonymous: dict[str, Any] = {
        "t": [{"tt": 7, "sg": [{"d": 1000, "m": {"text": "a"}}, {"d": 1000, "m": {"text": "b"}}]}]
    }
    changed = copy.deepcopy(anonymous)
    changed["t"][0]["sg"][1]["m"]["text"] = "c"
    assert Draft.from_json(anonymous).diff(Draft.from_json(changed)) == [
        'Title clip 2 text "b" -> "c"'
    ]  # fmt: skip


def _bgm_at(volume: float, name: str = "Lo-fi", segment_id: str = "sg_4") -> dict[str, Any]:
    raw = example_draft()
    raw["t"][1] = bgm_track(name, volume, 10_000)
    raw["t"][1]["sg"][0]["id"] = segment_id
    return raw


def test_a_volume_change_reads_as_one_volume_line_whatever_the_ids_and_names() -> None:
    before = Draft.from_json(_bgm_at(0.3))
    assert before.diff(Draft.from_json(_bgm_at(0.6))) == ["BGM volume 30% -> 60%"]
    recreated = Draft.from_json(_bgm_at(0.6, segment_id="sg_9"))
    assert before.diff(recreated) == ["BGM volume 30% -> 60%"]
    restyled = Draft.from_json(_bgm_at(0.6, name="Upbeat", segment_id="sg_9"))
    assert before.diff(restyled) == ['BGM renamed "Lo-fi" -> "Upbeat"', "BGM volume 30% -> 60%"]


def test_tracks_pair_by_type_and_role_not_by_name_or_order() -> None:
    raw = example_draft()
    raw["t"].insert(0, raw["t"].pop(2))
    raw["t"][0]["m"]["name"] = "opening"
    assert BASE.diff(Draft.from_json(raw)) == ['Title renamed "title" -> "opening"']
    voice = example_draft()
    voice["t"].append(bgm_track("Narration", 1.0, 4000))
    voice["t"][3]["sg"][0]["m"]["role"] = "voiceover"
    assert BASE.diff(Draft.from_json(voice)) == ["Added Audio track Narration (0-4s, 100%)"]


def test_segments_pair_by_id_then_by_position() -> None:
    raw = example_draft()
    raw["t"][0]["sg"][2]["id"] = "sg_new"
    raw["t"][0]["sg"][2]["m"]["transition"] = "none"
    assert BASE.diff(Draft.from_json(raw)) == ['Video city_3.jpg transition "fade" -> "none"']
    raw["t"][0]["sg"][2]["m"]["transition"] = "fade"
    raw["t"][0]["sg"].insert(0, raw["t"][0]["sg"].pop(1))
    assert BASE.diff(Draft.from_json(raw)) == [], (
        "ids pair sg_1 and sg_2; sg_new sits where sg_3 was"
    )
    raw["t"][0]["sg"].pop(0)
    raw["t"][0]["sg"].append({"id": "sg_9", "st": 10000, "d": 2000, "m": {"name": "d.jpg"}})
    assert BASE.diff(Draft.from_json(raw)) == [
        "Video: added d.jpg (10-12s)", "Video: removed city_2.jpg (3.33-6.67s)"
    ]  # fmt: skip


def test_diff_of_long_mostly_equal_drafts_reports_only_the_edits() -> None:
    clips = [
        {"filename": f"c{i}.jpg", "file_type": "image", "cdn_url": f"/c{i}.jpg"} for i in range(300)
    ]
    raw = make_draft([video_track(clips, 300_000), bgm_track("Lo-fi", 0.35, 300_000)])
    edited_raw = copy.deepcopy(raw)
    edited_raw["t"][0]["sg"][150]["m"]["transition"] = "none"
    edited_raw["t"][1]["sg"][0]["m"]["volume"] = 0.5
    assert Draft.from_json(raw).diff(Draft.from_json(edited_raw)) == [
        'Video c150.jpg transition "fade" -> "none"', "BGM volume 35% -> 50%"
    ]  # fmt: skip


def test_diff_pairs_tracks_by_type_when_one_is_removed_before_others() -> None:
    without_video = edited(lambda raw: raw["t"].pop(0))
    assert BASE.diff(without_video) == ["Removed Video track city timelapse (0-10s)"]


def test_diff_from_empty_lists_everything_added() -> None:
    lines = Draft.empty().diff(BASE)
    assert 'Added Title track "Urban Dreams" (0-3s)' in lines
    assert "Added BGM track Lo-fi (0-10s, 35%)" in lines
    assert "Added Video track city timelapse (0-10s)" in lines


# --- hostile numbers, any JSON, docstring examples ------------------------------------------

HOSTILE = st.sampled_from(
    [float("nan"), float("inf"), -float("inf"), "NaN", "Infinity", "1e999", 1e308, 10**400,
     "9" * 5000, "", " ", True, "35%", "-0", [], {}, None]
) | st.builds(lambda: -(10**5000))  # fmt: skip
ANY_JSON = st.recursive(
    SCALARS | HOSTILE,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(KEYS, kids, max_size=5),
    max_leaves=40,
)
HOSTILE_SEGMENT = st.dictionaries(KEYS, SCALARS | HOSTILE, max_size=8).map(
    lambda seg: {**seg, "m": dict(seg)}
)
HOSTILE_DRAFT = st.fixed_dictionaries(
    {"t": st.lists(st.fixed_dictionaries({"tt": SCALARS | HOSTILE, "sg": st.lists(HOSTILE_SEGMENT, max_size=4)},
                                         optional={"m": HOSTILE_SEGMENT, "id": HOSTILE}), max_size=4)},
    optional={"d": HOSTILE, "m": st.dictionaries(KEYS, HOSTILE, max_size=6)},
)  # fmt: skip


def same(a: Any, b: Any) -> bool:
    """Equal JSON trees, NaN equal to NaN (``==`` says no, the round trip must say yes)."""
    if isinstance(a, float) and isinstance(b, float) and a != a:
        return b != b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(HOSTILE_DRAFT)
def test_hostile_numbers_read_as_unknown_and_never_raise(raw: dict[str, Any]) -> None:
    draft = Draft.from_json(raw)
    assert same(draft.to_json(), raw)
    exercise(draft)
    draft.to_svg()
    for value in (draft.width, draft.height, draft.fps, draft.duration_ms):
        assert value is None or (isinstance(value, int | float) and value == value)


@settings(max_examples=300, deadline=None)
@given(ANY_JSON)
def test_any_json_decodes_to_a_draft_or_a_clear_validation_error(value: Any) -> None:
    inputs: list[Any] = [value]
    with contextlib.suppress(ValueError):
        inputs.append(json.dumps(value))
    for given_value in inputs:
        try:
            draft = Draft.from_json(given_value)
        except ValidationError as exc:
            assert not isinstance(value, dict) and "JSON object" in str(exc)
        else:
            assert isinstance(value, dict) or value is None
            exercise(draft)


def test_mutating_the_input_or_the_output_never_reaches_the_draft() -> None:
    raw = example_draft()
    draft = Draft.from_json(raw)
    summary = draft.summary()
    raw["t"][1]["sg"][0]["m"]["volume"] = 0.9
    raw["m"]["title"] = "changed"
    out = draft.to_json()
    out["t"][0]["sg"][0]["m"]["name"] = "changed"
    out["t"].pop()
    assert draft.summary() == summary and draft.title == "Urban Dreams"
    assert draft.to_json() == example_draft() and draft.to_json() is not draft.to_json()
    text = Draft.from_json(json.dumps(raw))
    assert text.tracks[1].volume == 0.9
