"""When the emulator's agent asks instead of guessing, and what it does with the answer.

Like the real backend (docs/protocol.md, "Chat"), an ambiguous request ends the turn on an
``ask_question`` call instead of an edit:

- "make a video" with nothing uploaded: what should it show? (a generated beach or city clip, or
  "my own photos and clips", which asks for an upload);
- "change the music" with two or more audio tracks: which track(s), and what music instead.

The user's next message answers it in the vendor client's form (``"1. <prompt>: <label>, ..."``
lines, or ``"Skipped"``); :func:`plan_answer` turns that into the plan the question stood for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from nemovideo.testing._agent.plan import Plan, Step
from nemovideo.testing.drafts import bgm_track

__all__ = ["make_what", "music_question", "plan_answer"]

_LINE = re.compile(r"^\s*(\d+)\.\s*(.*?):\s*(.*)$")
_STYLES = (("lofi", "Lo-fi"), ("upbeat", "Upbeat"), ("piano", "Piano"))
_SOURCES = (
    ("beach", "Waves on a beach"),
    ("city", "A city timelapse"),
    ("upload", "My own photos and clips"),
)


def _options(pairs: Any) -> list[dict[str, str]]:
    return [{"id": key, "label": label} for key, label in pairs]


def make_what() -> dict[str, Any]:
    """The question for "make a video" with nothing to make it from."""
    return {
        "title": "What should the video be made from?",
        "questions": [
            {
                "id": "source",
                "prompt": "What should the video show?",
                "options": _options(_SOURCES),
                "allow_multiple": False,
            }
        ],
    }


def _audio_tracks(state: Mapping[str, Any]) -> list[tuple[int, str]]:
    draft = state.get("draft")
    tracks = draft.get("t") if isinstance(draft, Mapping) else None
    found: list[tuple[int, str]] = []
    for n, track in enumerate(tracks or []):
        if isinstance(track, dict) and track.get("tt") == 1:
            meta = track.get("m")
            meta = meta if isinstance(meta, dict) else {}
            found.append((n, str(meta.get("name") or f"Audio track {len(found) + 1}")))
    return found


def music_question(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """The question for "change the music" when the draft has two or more audio tracks."""
    tracks = _audio_tracks(state)
    if len(tracks) < 2:
        return None
    which = [(f"track_{n}", f"{label} (track {n + 1})") for n, label in tracks]
    return {
        "title": "Which music should I change?",
        "questions": [
            {
                "id": "track",
                "prompt": "Which music track should I change?",
                "options": _options(which),
                "allow_multiple": True,
            },
            {
                "id": "style",
                "prompt": "What music instead?",
                "options": _options(_STYLES),
                "allow_multiple": False,
            },
        ],
    }


def _picked(text: str, asked: Mapping[str, Any]) -> dict[str, list[str]] | None:
    """Question id -> the option ids the answer names; None when ``text`` is no answer."""
    questions = [q for q in asked.get("questions") or [] if isinstance(q, Mapping)]
    picks: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None or not 1 <= int(match.group(1)) <= len(questions):
            continue
        question = questions[int(match.group(1)) - 1]
        labels = {o["label"].casefold(): o["id"] for o in question.get("options") or []}
        chosen = [labels.get(p.strip().casefold()) for p in match.group(3).split(",")]
        picks[str(question.get("id"))] = [c for c in chosen if c]
    return picks or None


def _replace_music(tracks: list[int], style: str) -> Callable[[dict[str, Any]], None]:
    def edit(state: dict[str, Any]) -> None:
        draft = state["draft"]
        for n in tracks:
            old = draft["t"][n]
            segments = old.get("sg") or [{}]
            meta = segments[0].get("m") or {}
            duration = int(segments[0].get("d") or draft.get("d") or 10_000)
            draft["t"][n] = bgm_track(style, float(meta.get("volume", 0.5)), duration)

    return edit


def plan_answer(
    text: str,
    asked: Mapping[str, Any],
    state: Mapping[str, Any],
    replan: Callable[[str, Mapping[str, Any]], Plan],
) -> Plan | None:
    """The plan that answers ``asked`` given the user's ``text``; None when it is no answer.

    ``replan`` is the agent's reading of a sentence (``plan_reply``), for an answer that turns
    into a request of its own ("generate a clip of ...").
    """

    if text.strip().casefold() == "skipped":
        return Plan("OK, I left everything as it was.")
    picks = _picked(text, asked)
    if picks is None:
        return None
    if "source" in picks:
        source = (picks["source"] or ["upload"])[0]
        if source == "upload":
            return Plan("Click the Upload button to add your photos and clips, then ask again.")
        return replan(f"generate a 5-second clip of {dict(_SOURCES)[source].lower()}", state)
    tracks = [int(key.split("_")[1]) for key in picks.get("track", []) if key.startswith("track_")]
    style = dict(_STYLES).get((picks.get("style") or ["lofi"])[0], "Lo-fi")
    if not tracks:
        return Plan("I did not change the music: no track was picked.")
    step = Step(
        {"action": "replace_bgm", "tracks": tracks, "style": style},
        _replace_music(tracks, style),
        f"Music changed to {style}",
    )
    return Plan(f"Changing the music to {style}.", (step,), f"Done: the music is now {style}.")
