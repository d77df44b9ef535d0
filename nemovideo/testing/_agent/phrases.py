"""How people phrase the documented edits, for the emulator's scripted agent.

:mod:`._agent` reads the canonical sentences ("turn these images into a 15-second video", "add
lo-fi BGM at 35%"); people also type "make a 6 second video", "music at 60%", "louder music",
"title: Summer sale", "make it for TikTok". ``plan_edit`` answers those that ask for one kind of
edit and returns ``None`` for anything else, so the agent's own reading still applies::

    plan = plan_edit("music at 60%", state)        # Plan: set_volume 0.6 on the BGM there
    plan = plan_edit(text, state) or plan_reply(text, state)

Each rule is a row of a table (a pattern and what it means), so adding a phrasing is adding a row.
Every edit changes the draft in place (:mod:`._edits`): the reply's ``changes`` then read "BGM
volume 30% -> 60%".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from nemovideo.assistant._intents import normalize
from nemovideo.draft._model import Track
from nemovideo.testing._agent.edits import (
    Edit,
    add_title,
    bgm_of,
    has_track,
    make_video,
    remove_tracks,
    set_canvas,
    set_duration,
    set_volume,
    visual_media,
)
from nemovideo.testing._agent.plan import Plan, Step

__all__ = ["STEP_POINTS", "plan_edit"]

STEP_POINTS = 0.2
"""How much "louder" or "quieter" moves the music: 20 percentage points."""

_WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "a": 1,
    "an": 1,
    "half a": 0.5,
}
_NUMBER = (
    r"(\d+(?:\.\d+)?|"
    + "|".join(sorted(map(re.escape, _WORD_NUMBERS), key=len, reverse=True))
    + ")"
)
_DURATION = re.compile(_NUMBER + r"[\s-]*(seconds?|secs?|s|minutes?|mins?)\b")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s*cent\b)")
_MUSIC = re.compile(r"\b(bgm|music|soundtrack|song|tune|background\s+track)\b")
_VOLUME = re.compile(
    r"\b(volume|level|louder|quieter|softer|up|down|lower|raise|boost|loud|quiet|half|full|max)\b"
)
_LOUDER = re.compile(r"\b(louder|up|raise|boost|increase|more|higher|loud)\b")
_QUIETER = re.compile(r"\b(quieter|softer|down|lower|reduce|decrease|less|quiet|soft)\b")
_LEVELS = ((re.compile(r"\bhalf\b"), 0.5), (re.compile(r"\b(full|max(imum)?)\b"), 1.0))
_REMOVE = re.compile(r"\b(remove|delete|drop|get rid of|mute|no more|take (?:out|off)|lose)\b")
_WITHOUT = re.compile(
    r"^(?:(?:and|but|with|please)\s+)?(?:no|without)\s+(?:the\s+)?(music|bgm|title|text)\b"
)
_STYLED = re.compile(
    r"\b(lo-?fi|lo fi|upbeat|chill|piano|jazz|ambient|epic|cinematic|acoustic|electronic|happy|calm)\b"
)
_GENERATE = re.compile(r"\bgenerat")
_OWN_MEDIA = re.compile(r"\b(images?|photos?|pictures?|pics|uploads?|files?|these|them|my)\b")
_VIDEO = re.compile(r"\b(video|slideshow|montage|movie|reel|clip)\b")
_LENGTH = re.compile(
    r"\b(make it|make the video|trim|shorten|shorter|extend|lengthen|longer|cut|length|duration|long|set it)\b"
)
_QUOTED = re.compile(r"[\"“”‘’«]([^\"“”‘’«»]+)[\"“”‘’»]|(?:^|\s)'([^']+)'(?=$|[\s.,!?;])")
_TITLE_RULES = tuple(
    re.compile(rule, re.IGNORECASE)
    for rule in (
        r"^(?:the\s+)?(?:title|heading)\s*[:=]\s*(?P<text>.+)$",
        r"\b(?:change|rename|set|switch|update)\s+(?:the\s+)?(?:title|heading)\s+(?:to|as)\s+(?P<text>.+)$",
        r"\b(?:the\s+)?title\s+(?:should|must|will)\s+(?:say|read|be)\s+(?P<text>.+)$",
        r"\btitle\s+it\s+(?P<text>.+)$",
        r"\b(?:call|name)\s+(?:it|the\s+video|this|the\s+project)\s+(?P<text>.+)$",
        r"\b(?:add|put|use|make)\s+(?:a\s+|the\s+)?(?:title|heading)\s+(?:of\s+|saying\s+|that\s+says\s+|called\s+|named\s+)?(?P<text>.+)$",
        r"^(?:put|use|make)\s+(?P<text>.+?)\s+(?:as|the)\s+(?:the\s+)?title$",
    )
)
_FOR = r"\b(?:for|as|into|like|make it)\s+(?:an?\s+|the\s+)?(?:instagram\s+)?"
_CANVAS = (
    (
        re.compile(
            _FOR + r"(tiktok|reels?|shorts|stor(?:y|ies)|phones?)\b|\b(vertical|portrait)\b"
        ),
        1080,
        1920,
    ),
    (re.compile(_FOR + r"(youtube|tv)\b|\b(widescreen|landscape|horizontal)\b"), 1920, 1080),
    (re.compile(_FOR + r"instagram(?: posts?| feed)?\b|\bsquare\b"), 1080, 1080),
)
_RATIO = re.compile(
    r"^(?:make it\s+|in\s+|as\s+|to\s+)?(\d{1,2})\s*[:x×/]\s*(\d{1,2})(?:\s+(?:please|format|aspect))?$"
)
_POLITE = re.compile(
    r"^(?:(?:please|can you|could you|can u|pls|ok|okay|now|just|and|then)\s+)+|(?:\s+(?:please|pls|thanks|thank you|now))+$|[.!?]+$"
)


def _amount(word: str) -> float:
    return float(word) if word[0].isdigit() else float(_WORD_NUMBERS[word])


def _seconds(low: str) -> float | None:
    found = _DURATION.search(low)
    if found is None or (found.group(2) == "s" and not found.group(1)[0].isdigit()):
        return None
    value = _amount(found.group(1))
    return value * 60 if found.group(2).startswith("m") else value


def _percent(low: str) -> float | None:
    found = _PERCENT.search(low)
    return min(float(found.group(1)), 100.0) / 100 if found else None


def _title(text: str) -> str | None:
    """The title a sentence sets: quoted text after a title word, else the words a rule names."""
    body = _POLITE.sub("", text.strip())
    low = body.lower()
    if not re.search(r"\b(title|heading|call|name)\b", low):
        return None
    quoted = _QUOTED.search(body) if re.search(r"\b(title|heading)\b", low) else None
    if quoted:
        return (quoted.group(1) or quoted.group(2)).strip()
    for rule in _TITLE_RULES:
        found = rule.search(body)
        if found:
            words = found.group("text").strip(" .,!?;:")
            if words and words.split()[0].lower() not in {"a", "the", "it", "track", "please"}:
                return words
    return None


def _kinds(low: str, text: str) -> dict[str, Any]:
    """Which kinds of edit the sentence asks for, each with what it needs."""
    kinds: dict[str, Any] = {}
    seconds = _seconds(low)
    if seconds is not None and (_VIDEO.search(low) or _LENGTH.search(low)):
        kinds["duration"] = seconds
    music = _MUSIC.search(low)
    if (music and _REMOVE.search(low)) or _WITHOUT.search(low):
        kinds["remove"] = 1 if "music" in low or "bgm" in low else 7
    elif music and (_PERCENT.search(low) or _VOLUME.search(low)):
        kinds["volume"] = _percent(low)
    title = _title(text)
    if title and not _REMOVE.search(low):
        kinds["title"] = title
    elif not music and _REMOVE.search(low) and re.search(r"\b(title|heading|text)\b", low):
        kinds["remove"] = 7
    for pattern, w, h in _CANVAS:
        if pattern.search(low):
            kinds["canvas"] = (w, h)
    ratio = _RATIO.match(_POLITE.sub("", low))
    if ratio and int(ratio.group(1)) and int(ratio.group(2)):
        w, h = int(ratio.group(1)), int(ratio.group(2))
        kinds["canvas"] = (1920, 1920 * h // w) if w >= h else (1920 * w // h, 1920)
    return kinds


def _fmt(seconds: float) -> str:
    return f"{seconds:g}"


def plan_edit(text: str, state: Mapping[str, Any]) -> Plan | None:
    """The plan for a sentence asking for one kind of edit in a natural phrasing, else ``None``.

    ``None`` leaves the sentence to the agent's own reading: several edits in one sentence, a
    video from the uploads ("turn these images into..."), generation, adding a music style.
    """
    low = normalize(text)
    if _GENERATE.search(low) or (_STYLED.search(low) and "remove" not in low):
        return None
    kinds = _kinds(low, text)
    if len(kinds) != 1:
        return None
    ((kind, value),) = kinds.items()
    planner: Callable[[Any, str, Mapping[str, Any]], Plan | None] = _PLANNERS[kind]
    return planner(value, low, state)


def _plan(intro: str) -> Plan:
    return Plan(intro, (), "")


# What the agent says around each edit, by its action: before, the tool's note, after.
_SAYS: dict[str, tuple[str, str, str]] = {
    "set_duration": (
        "Changing the video length to {said} seconds.",
        "Timeline is now {said}s",
        "The video is now {said} seconds long. Check it in the timeline.",
    ),
    "create_video": (
        "I'll make a {said}-second video from your {count} uploads.",
        "Video track created: {count} clips, {said}s",
        "Your {said}-second video is ready in the timeline. Preview it, then click the Export "
        "button to download the MP4.",
    ),
    "set_volume": (
        "Setting the background music to {level:.0%}.",
        "BGM volume {before:.0%} -> {level:.0%}",
        "The music now plays at {level:.0%}. Open the audio panel to fine-tune it.",
    ),
    "add_title": (
        'Setting the title to "{title}".',
        'Title "{title}"',
        'The title "{title}" opens the video; drag it on the timeline to move it.',
    ),
    "remove_track": (
        "Removing the {what}.",
        "Removed the {what} track",
        "Done: the {what} is gone.",
    ),
    "set_canvas": (
        "Changing the canvas to {label}.",
        "Canvas set to {label}",
        "Canvas set to {label}. Open the canvas panel to check the framing.",
    ),
}


def _edit(args: Mapping[str, Any], edit: Edit, **words: Any) -> Plan:
    """One edit and what the agent says around it (``_SAYS``, filled in with ``words``)."""
    intro, note, outro = (text.format(**words) for text in _SAYS[args["action"]])
    return Plan(intro, (Step(args, edit, note),), outro)


def _duration(seconds: float, low: str, state: Mapping[str, Any]) -> Plan | None:
    if _OWN_MEDIA.search(low):
        return None
    total, said = round(seconds * 1000), _fmt(seconds)
    if not has_track(state, 0) and not _VIDEO.search(low):
        return None
    if has_track(state, 0):
        args = {"action": "set_duration", "duration_ms": total}
        return _edit(args, set_duration(total), said=said)
    media = visual_media(state)
    if not media:
        return _plan(
            "I don't see any uploaded images or clips in this session yet. Click the "
            "Upload button to add your media, then ask me again."
        )
    args = {
        "action": "create_video",
        "media": [m.get("media_id") for m in media],
        "duration_ms": total,
        "transition": "fade",
    }
    return _edit(args, make_video(media, total, "fade"), said=said, count=len(media))


def _volume(percent: float | None, low: str, state: Mapping[str, Any]) -> Plan | None:
    track = bgm_of(state)
    if track is None:
        if percent is not None:
            return None
        return _plan(
            'There is no background music yet. Ask me to add some, for example "add '
            'lo-fi music at 35%".'
        )
    before = Track(track).volume
    before = 1.0 if before is None else before
    level = percent
    if level is None:
        level = next((v for pattern, v in _LEVELS if pattern.search(low)), None)
    if level is None:
        louder, quieter = bool(_LOUDER.search(low)), bool(_QUIETER.search(low))
        if louder == quieter:
            return None
        level = min(1.0, max(0.05, round(before + (STEP_POINTS if louder else -STEP_POINTS), 2)))
    args = {"action": "set_volume", "volume": level}
    return _edit(args, set_volume(level), level=level, before=before)


def _title_plan(title: str, low: str, state: Mapping[str, Any]) -> Plan | None:
    return _edit({"action": "add_title", "text": title}, add_title(title), title=title)


def _removal(kind: int, low: str, state: Mapping[str, Any]) -> Plan | None:
    what = "background music" if kind == 1 else "title"
    if not has_track(state, kind):
        return _plan(f"There is no {what} on the timeline, so there is nothing to remove.")
    return _edit({"action": "remove_track", "track_type": kind}, remove_tracks(kind), what=what)


def _canvas(size: tuple[int, int], low: str, state: Mapping[str, Any]) -> Plan | None:
    width, height = size
    divisor = math.gcd(width, height)
    label = f"{width // divisor}:{height // divisor}"
    args = {"action": "set_canvas", "width": width, "height": height}
    return _edit(args, set_canvas(width, height, label), label=label)


_PLANNERS: dict[str, Callable[[Any, str, Mapping[str, Any]], Plan | None]] = {
    "duration": _duration,
    "volume": _volume,
    "title": _title_plan,
    "remove": _removal,
    "canvas": _canvas,
}
