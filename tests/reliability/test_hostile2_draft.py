"""Bounded pictures: the notebook display of a huge draft stays small (what cannot be seen is
summarised); a draft going from no size to 0x0 is not a change."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from nemovideo.draft import Draft
from nemovideo.testing.drafts import example_draft

NS = "{http://www.w3.org/2000/svg}"


def _huge(segments: int, tracks: int = 1) -> Draft:
    clips = [{"st": i * 10, "d": 10, "m": {"name": f"clip {i}"}} for i in range(segments)]
    return Draft.from_json({"t": [{"tt": n % 3, "sg": clips} for n in range(tracks)],
                            "m": {"title": "big"}})  # fmt: skip


def _classes(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


@pytest.mark.parametrize(("segments", "tracks"), [(100_000, 1), (2_000, 300)])
def test_a_huge_draft_is_a_bounded_picture(segments: int, tracks: int) -> None:
    html = _huge(segments, tracks)._repr_html_()
    assert len(html) < 500_000, f"{len(html):,} characters"
    root = ET.fromstring(html)
    drawn = [e for e in _classes(root, "segment") if "more" not in (e.get("class") or "")]
    more = _classes(root, "more")
    assert len(drawn) <= 1000
    assert sum(int(e.get("data-count") or 0) for e in more) + len(drawn) == segments * min(
        tracks, 40
    )
    if tracks > 40:
        (line,) = _classes(root, "more-tracks")
        assert f"+{tracks - 40:,} more tracks" in "".join(line.itertext())


def test_a_small_draft_is_drawn_whole() -> None:
    root = ET.fromstring(Draft.from_json(example_draft())._repr_html_())
    assert _classes(root, "more") == [] and _classes(root, "more-tracks") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [({}, {"width": 0, "height": 0}), ({"width": 0, "height": 0}, {}),
     ({"width": None}, {"width": 0, "height": None})],
)  # fmt: skip
def test_no_size_to_0x0_is_not_a_change(old: dict[str, object], new: dict[str, object]) -> None:
    before = Draft.from_json({**example_draft(), "m": {"title": "t", **old}})
    after = Draft.from_json({**example_draft(), "m": {"title": "t", **new}})
    assert not [str(c) for c in before.diff(after) if "Resolution" in str(c)]


def test_a_real_size_change_is_still_reported() -> None:
    before = Draft.from_json({**example_draft(), "m": {"title": "t"}})
    after = Draft.from_json({**example_draft(), "m": {"title": "t", "width": 1280, "height": 720}})
    lines = [str(c) for c in before.diff(after)]
    assert any("1280x720" in line or "16:9" in line for line in lines), lines
