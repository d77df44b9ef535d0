"""The notebook timeline: ``Draft._repr_html_`` is a valid SVG with lanes, clips to scale and a ruler."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nemovideo.draft import Draft
from nemovideo.testing.drafts import example_draft

NS = "{http://www.w3.org/2000/svg}"
VALUES = (
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8)
)
META = st.dictionaries(st.sampled_from(["name", "text", "volume", "role", "src", "title"]), VALUES)
SEGMENTS = st.lists(
    st.fixed_dictionaries({}, optional={"st": VALUES, "d": VALUES, "end": VALUES, "m": META})
    | VALUES,
    max_size=5,
)
TRACKS = st.fixed_dictionaries({}, optional={"tt": VALUES, "sg": SEGMENTS | VALUES, "m": META})
DRAFTS = st.fixed_dictionaries(
    {}, optional={"t": st.lists(TRACKS | VALUES, max_size=4) | VALUES, "d": VALUES, "m": META}
)


def parse(draft: Draft) -> ET.Element:
    return ET.fromstring(draft._repr_html_())


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def test_example_draft_draws_one_lane_per_track_with_its_clips() -> None:
    draft = Draft.from_json(example_draft())
    root = parse(draft)
    assert root.tag == f"{NS}svg"
    lanes = by_class(root, "lane")
    assert [lane.get("data-track") for lane in lanes] == ["0", "1", "2"]
    assert [lane.get("data-type") for lane in lanes] == ["0", "1", "7"]
    segments = [by_class(lane, "segment") for lane in lanes]
    assert [len(s) for s in segments] == [3, 1, 1]
    labels = ["".join(lane.itertext()) for lane in lanes]
    assert "city timelapse" in labels[0] and "city_2.jpg" in labels[0]
    assert "Lo-fi 35%" in labels[1] and '"Urban Dreams"' in labels[2]
    assert root.find(f"{NS}title") is not None and root.findtext(f"{NS}title") == draft.summary()


def test_clips_are_drawn_to_scale() -> None:
    root = parse(Draft.from_json(example_draft()))
    video, bgm, title = (by_class(lane, "segment") for lane in by_class(root, "lane"))
    full = float(bgm[0].get("width") or 0)
    assert float(title[0].get("width") or 0) == pytest.approx(full * 0.3, abs=0.2)
    assert sum(float(s.get("width") or 0) for s in video) == pytest.approx(full, abs=0.3)
    lefts = [float(s.get("x") or 0) for s in video]
    assert lefts == sorted(lefts) and lefts[0] == float(bgm[0].get("x") or 0)
    assert [s.get("data-start-ms") for s in video] == ["0", "3334", "6667"]


def test_ruler_marks_seconds() -> None:
    root = parse(Draft.from_json(example_draft()))
    (ruler,) = by_class(root, "ruler")
    marks = [t.text for t in ruler.iter(f"{NS}text")]
    assert marks == [f"{n}s" for n in range(11)]
    assert len(by_class(ruler, "tick")) == 11
    long = parse(Draft.from_json({"t": [{"tt": 0, "sg": [{"d": 95000}]}]}))
    assert [t.text for t in by_class(long, "ruler")[0].iter(f"{NS}text")][:3] == [
        "0s",
        "10s",
        "20s",
    ]


def test_text_is_escaped() -> None:
    nasty = 'a <b> & "c" \x01 </svg><script>'
    raw: dict[str, Any] = {
        "t": [{"tt": 7, "sg": [{"d": 1000, "m": {"text": nasty, "name": nasty}}], "m": {"name": nasty}}],
        "m": {"title": nasty},
    }  # fmt: skip
    svg = Draft.from_json(raw)._repr_html_()
    assert "<script>" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{NS}script"))
    assert 'a <b> & "c"' in "".join(by_class(root, "segment")[0].itertext())


def test_empty_and_unknown_tracks_render() -> None:
    empty = parse(Draft.empty())
    assert by_class(empty, "lane") == [] and by_class(empty, "empty")
    odd = parse(Draft.from_json({"t": [{"tt": 42, "sg": [{"d": 10}]}, {"tt": 0, "sg": []}]}))
    lanes = by_class(odd, "lane")
    assert [lane.get("data-type") for lane in lanes] == ["42", "0"]
    assert [len(by_class(lane, "segment")) for lane in lanes] == [1, 0]


@settings(max_examples=100, deadline=None)
@given(DRAFTS)
def test_any_draft_renders_valid_svg(obj: dict[str, Any]) -> None:
    draft = Draft.from_json(obj)
    root = parse(draft)
    assert len(by_class(root, "lane")) == len(draft)
