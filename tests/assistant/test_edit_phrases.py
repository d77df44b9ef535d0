"""Natural phrasings of the documented edits: routed to chat, understood by the emulator agent,
applied in place, and reported in a user's words (issue 13).

Each row is a sentence, the state it is said in (``fresh``: uploads only; ``edited``: a 10 s video,
Lo-fi BGM at 30% and the title "Urban Dreams"), and what the draft must show afterwards.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from nemovideo.draft import Draft, TrackType
from nemovideo.intents import route
from nemovideo.testing import Emulator, fast_client
from nemovideo.testing._agent.agent import Plan, plan_reply
from nemovideo.testing._agent.phrases import plan_edit
from nemovideo.testing._server.store import initial_state
from nemovideo.testing.drafts import bgm_track, make_draft, title_track, video_track

IMAGES = [
    {"media_id": f"m_{n}", "filename": f"city_{n}.jpg", "file_type": "image",
     "cdn_url": f"http://127.0.0.1:1/files/city_{n}.jpg"}
    for n in (1, 2, 3)
]  # fmt: skip


def fresh() -> dict[str, Any]:
    state = initial_state()
    state["video_infos"] = copy.deepcopy(IMAGES)
    return state


def edited() -> dict[str, Any]:
    state = fresh()
    state["draft"] = make_draft(
        [video_track(IMAGES, 10_000), bgm_track("Lo-fi", 0.3, 10_000), title_track("Urban Dreams")],
        title="Urban Dreams",
    )
    return state


def understand(text: str, state: dict[str, Any]) -> Plan:
    """What the agent plans: the phrase table first, then its own reading (``_agent.plan_reply``)."""
    return plan_edit(text, state) or plan_reply(text, state)


def apply(text: str, state: dict[str, Any]) -> dict[str, Any]:
    plan = understand(text, state)
    assert plan.edits, f"{text!r} was not understood: {plan.intro}"
    for step in plan.steps:
        step.edit(state)
    return state


def _track(draft: Draft, kind: TrackType) -> Any:
    return next((t for t in draft.tracks if t.type == kind), None)


def observed(state: dict[str, Any], what: str) -> Any:
    draft = Draft.from_json(state["draft"])
    if what in ("video", "duration"):
        return round(draft.duration_ms)
    if what == "volume":
        return _track(draft, TrackType.AUDIO).volume
    if what == "title":
        return _track(draft, TrackType.TEXT).segments[0].text
    if what == "canvas":
        canvas = state["canvas_config"]
        return (canvas["width"], canvas["height"])
    assert what == "removed"
    return sorted({int(t.type) for t in draft.tracks})


PHRASES: list[tuple[str, str, str, Any]] = [
    # a video from the uploads, of a length
    ("make a 6 second video", "fresh", "video", 6000),
    ("make a 6-second video", "fresh", "video", 6000),
    ("create a 20 sec slideshow", "fresh", "video", 20000),
    ("I want a 30 second video", "fresh", "video", 30000),
    ("a 12s montage please", "fresh", "video", 12000),
    ("make a one minute video", "fresh", "video", 60000),
    ("make a video of ten seconds", "fresh", "video", 10000),
    ("turn these images into a 15-second video with smooth transitions", "fresh", "video", 15000),
    # the length of the video there
    ("make it 8 seconds", "edited", "duration", 8000),
    ("make it 8 seconds long", "edited", "duration", 8000),
    ("shorten it to 5s", "edited", "duration", 5000),
    ("trim to 8s", "edited", "duration", 8000),
    ("make the video 12 seconds", "edited", "duration", 12000),
    ("change the length to 20 seconds", "edited", "duration", 20000),
    ("set the duration to 7 seconds", "edited", "duration", 7000),
    ("extend it to 25 seconds", "edited", "duration", 25000),
    ("make a 6 second video", "edited", "duration", 6000),
    ("make it half a minute", "edited", "duration", 30000),
    # the music's volume (30% before)
    ("set the BGM volume to 60%", "edited", "volume", 0.6),
    ("music at 60%", "edited", "volume", 0.6),
    ("music volume 60%", "edited", "volume", 0.6),
    ("turn the music up to 80%", "edited", "volume", 0.8),
    ("turn the music down to 20%", "edited", "volume", 0.2),
    ("louder music", "edited", "volume", 0.5),
    ("make the music louder", "edited", "volume", 0.5),
    ("turn up the music", "edited", "volume", 0.5),
    ("can you make the song a bit louder please", "edited", "volume", 0.5),
    ("quieter music", "edited", "volume", 0.1),
    ("make the music softer", "edited", "volume", 0.1),
    ("lower the music", "edited", "volume", 0.1),
    ("turn down the bgm", "edited", "volume", 0.1),
    ("bgm 40%", "edited", "volume", 0.4),
    ("set music to 45 percent", "edited", "volume", 0.45),
    ("background music at half volume", "edited", "volume", 0.5),
    ("music at full volume", "edited", "volume", 1.0),
    # the title
    ("title: Summer sale", "edited", "title", "Summer sale"),
    ("Title: Summer sale", "fresh", "title", "Summer sale"),
    ("add the title Summer Sale", "edited", "title", "Summer Sale"),
    ('put "Grand Opening" as the title', "edited", "title", "Grand Opening"),
    ("change the title to Night City", "edited", "title", "Night City"),
    ("rename the title to Night City", "edited", "title", "Night City"),
    ("title it Summer sale", "edited", "title", "Summer sale"),
    ("the title should say Big News", "edited", "title", "Big News"),
    ("call it Summer sale", "edited", "title", "Summer sale"),
    ("heading: Big news", "edited", "title", "Big news"),
    ("add a title 'Urban Nights'", "edited", "title", "Urban Nights"),
    # the canvas
    ("make it for TikTok", "edited", "canvas", (1080, 1920)),
    ("9:16 please", "edited", "canvas", (1080, 1920)),
    ("make it vertical", "edited", "canvas", (1080, 1920)),
    ("square please", "edited", "canvas", (1080, 1080)),
    ("widescreen please", "edited", "canvas", (1920, 1080)),
    # removing a track
    ("remove the music", "edited", "removed", [0, 7]),
    ("no music", "edited", "removed", [0, 7]),
    ("take out the music", "edited", "removed", [0, 7]),
    ("without the title", "edited", "removed", [0, 1]),
    ("get rid of the title", "edited", "removed", [0, 1]),
]
STATES = {"fresh": fresh, "edited": edited}


def test_the_phrase_table_is_big_and_covers_every_documented_edit() -> None:
    assert len(PHRASES) >= 40
    assert {what for _, _, what, _ in PHRASES} == {
        "video", "duration", "volume", "title", "canvas", "removed"
    }  # fmt: skip


@pytest.mark.parametrize(("sentence", "start", "what", "expected"), PHRASES)
def test_natural_phrasings_are_understood(
    sentence: str, start: str, what: str, expected: Any
) -> None:
    assert route(sentence).action == "chat", "an edit goes to the agent, never to a command"
    state = apply(sentence, STATES[start]())
    got = observed(state, what)
    assert got == (pytest.approx(expected) if what == "volume" else expected)


@pytest.mark.parametrize(
    ("sentence", "changes"),
    [
        ("set the BGM volume to 60%", ["BGM volume 30% -> 60%"]),
        ("music at 60%", ["BGM volume 30% -> 60%"]),
        ("louder music", ["BGM volume 30% -> 50%"]),
        ("title: Summer sale",
         ['Project title "Urban Dreams" -> "Summer sale"', 'Title text "Urban Dreams" -> "Summer sale"']),
        ("make it 8 seconds", None),
    ],
)  # fmt: skip
def test_edits_happen_in_place_and_read_as_a_user_would_say_them(
    sentence: str, changes: list[str] | None
) -> None:
    state = edited()
    before = Draft.from_json(state["draft"])
    ids = [s["id"] for t in state["draft"]["t"] for s in t["sg"]]
    after = Draft.from_json(apply(sentence, state)["draft"])
    assert [s["id"] for t in state["draft"]["t"] for s in t["sg"]] == ids, "same clips, same ids"
    lines = before.diff(after)
    if changes is not None:
        assert lines == changes
    else:
        assert lines[0] == "Duration 10s -> 8s" and not any(
            "Added" in x or "Removed" in x for x in lines
        )


def test_the_agent_adding_music_where_there_is_some_changes_that_track() -> None:
    state = edited()
    before = Draft.from_json(state["draft"])
    after = Draft.from_json(apply("add upbeat music at 40%", state)["draft"])
    assert before.diff(after) == ['BGM renamed "Lo-fi" -> "Upbeat"', "BGM volume 30% -> 40%"]


@pytest.mark.parametrize(
    "sentence",
    ["what's the weather", "make a 10 second video from my photos with lo-fi music at 35%",
     "generate a 5-second clip of waves", "add lo-fi music", "louder", "title"],
)  # fmt: skip
def test_other_sentences_are_left_to_the_agent(sentence: str) -> None:
    assert plan_edit(sentence, edited()) is None


def test_a_phrase_about_something_missing_says_so_and_changes_nothing() -> None:
    state = fresh()
    plan = understand("louder music", state)
    assert not plan.edits and "no background music" in plan.intro
    assert not understand("no music", state).edits
    assert not understand("make it 8 seconds", initial_state()).edits


async def test_a_volume_change_over_the_wire_reads_as_one_line(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.chat.delay = 0.001
    async with fast_client(emulator, tmp_path / "config") as client:
        session = await client.create_session()
        emulator.session(session.id).state["video_infos"] = copy.deepcopy(IMAGES)
        await session.send("turn these images into a 10-second video")
        await session.send("add lo-fi BGM at 30%")
        reply = await session.send("set the BGM volume to 60%")
        assert reply.changes == ("BGM volume 30% -> 60%",)
        reply = await session.send("louder music")
        assert reply.changes == ("BGM volume 60% -> 80%",)
        reply = await session.send("title: Summer sale")
        assert reply.changes[-1] == 'Added Title track "Summer sale" (0-3s)'
        assert (await session.state()).draft.summary() == (
            "Timeline (3 tracks): 1. Video: 3 clips (0-10s) 2. BGM: Lo-fi (0-10s, 80%) "
            '3. Title: "Summer sale" (0-3s)'
        )
