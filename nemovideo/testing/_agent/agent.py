"""The emulator's scripted editing agent: a sentence in, a plan of edits and words out.

Deterministic and small, it understands what users really type (docs/protocol.md, "Chat")::

    "turn these images into a 15-second video with smooth transitions"   video track from uploads
    "add lo-fi BGM at 35%"                                               BGM track (replaces one)
    "add a title 'Urban Dreams'"                                          title track, 0-3 s
    "make it 10 seconds" / "trim to 8s"                                   rescale the timeline
    "make it vertical" / "change the aspect ratio to 1:1"                 canvas size
    "make a video" (nothing uploaded) / "change the music" (2+ tracks)    asks (ask_question)
    "remove the music" / "remove the title"                               drop those tracks
    "generate a 5-second clip of waves on a beach"                        a generated clip

Several may share one sentence ("...a 10-second video with lo-fi music and the title 'X'"): the
steps run in order, video first, then music and title (the two-stage generation). Arranging the
uploads and every other change is an ``edit_multitrack`` call (editing: ``edit_cost`` once per
session); "generate ... clip(s)" without uploads to use is one ``generate_video_with_seedance``
call per clip (generation: ``generation_cost`` a clip). It talks like the real backend, as if a
GUI existed ("click the Export button"). The edits themselves live in :mod:`._edits`.

:class:`ChatControls` (``emu.chat``) tunes the stream.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from nemovideo.state import MediaInfo
from nemovideo.testing._agent.edits import (
    DEFAULT_SECONDS,
    add_bgm,
    add_generated,
    add_title,
    has_track,
    make_video,
    remove_tracks,
    set_canvas,
    set_duration,
    visual_media,
)
from nemovideo.testing._agent.phrases import plan_edit
from nemovideo.testing._agent.plan import EDIT_TOOL, GENERATE_TOOL, GENERATED_SECONDS, Plan, Step
from nemovideo.testing._agent.questions import make_what, music_question

__all__ = ["EDIT_TOOL", "GENERATE_TOOL", "Plan", "Step", "plan_reply"]

# -- reading the sentence --------------------------------------------------------------------------

_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(seconds?|secs?|s|minutes?|mins?)\b")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_QUOTED = re.compile(r"[\"“”'‘’«](.+?)[\"“”'‘’»](?:\s|$|[.,!?;])")
_UNQUOTED_TITLE = re.compile(
    r"\b(?:title|caption|heading)(?:\s+(?:called|saying|that\s+says|reading|of|as))?\s*[:\-]?\s*"
    r"(?P<text>[^,;.!?]+?)\s*(?:$|[,;.!?]|\s+and\s+(?:add|make|put|set|use)\b|\s+with\b)",
    re.IGNORECASE,
)
_RATIO = re.compile(r"\b(\d{1,2})\s*:\s*(\d{1,2})\b")
_STYLES = {
    "lo-fi": "Lo-fi",
    "lofi": "Lo-fi",
    "lo fi": "Lo-fi",
    "upbeat": "Upbeat",
    "chill": "Chill",
    "piano": "Piano",
    "jazz": "Jazz",
    "ambient": "Ambient",
    "epic": "Epic",
    "cinematic": "Cinematic",
    "acoustic": "Acoustic",
    "electronic": "Electronic",
    "happy": "Happy",
    "calm": "Calm",
}
_MUSIC = re.compile(r"\b(bgm|music|soundtrack|song|audio)\b")
_TEXTS = re.compile(r"\b(title|caption|heading|text)\b")
_REMOVE = re.compile(r"\b(remove|delete|drop|get rid of|mute|no more)\b")
_MEDIA = re.compile(r"\b(images?|photos?|pictures?|pics|clips?|uploads?|media|files?|these|them)\b")
_VIDEO = re.compile(r"\b(video|slideshow|montage|timelapse|movie|reel)\b")
_CHANGE = re.compile(r"\b(change|replace|swap|switch)\b")
_RESIZE = re.compile(r"\b(make it|trim|shorten|extend|lengthen|cut|change|set|duration|long)\b")
_SHAPES = {
    "vertical": (1080, 1920),
    "portrait": (1080, 1920),
    "square": (1080, 1080),
    "landscape": (1920, 1080),
    "horizontal": (1920, 1080),
}


def _seconds(text: str) -> float | None:
    match = _SECONDS.search(text)
    if not match:
        return None
    value = float(match.group(1))
    return value * 60 if match.group(2).startswith("m") else value


def _percent(text: str) -> float | None:
    match = _PERCENT.search(text)
    return float(match.group(1)) / 100 if match else None


def _style(text: str) -> str:
    return next((name for word, name in _STYLES.items() if word in text), "Background music")


def _fmt_s(ms: float) -> str:
    return f"{ms / 1000:g}"


def _count(media: list[dict[str, Any]]) -> str:
    kinds = {MediaInfo.from_json(m).kind for m in media}
    noun = "image" if kinds == {"image"} else "clip" if kinds == {"video"} else "file"
    return f"{len(media)} {noun}{'' if len(media) == 1 else 's'}"


def _title_text(text: str) -> str | None:
    """The title a sentence asks for: quoted text, else the words after "title" ("add a title
    Urban Dreams"), up to the end of the clause."""
    quoted = _QUOTED.search(text)
    if quoted:
        return quoted.group(1).strip()
    bare = _UNQUOTED_TITLE.search(text)
    if bare is None:
        return None
    words = bare.group("text").strip()
    first = words.split()[0].lower() if words else ""
    return None if first in {"", "a", "the", "it", "track", "text", "please"} else words


# -- planning ---------------------------------------------------------------------------------------

_GENERATE = re.compile(r"\bgenerat(?:e|ing)\b")
_CLIPS = re.compile(r"\b(clips?|videos?|footage|shots?|scenes?)\b")
_OWN_MEDIA = re.compile(r"\b(images?|photos?|pictures?|pics|uploads?|media|files?|these|them|my)\b")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_COUNT = re.compile(
    r"\b(\d+|an?|one|two|three|four|five)\s+(?:[\w-]+\s+){0,2}?(?:clips?|videos?|shots?|scenes?)\b"
)
_PROMPT = re.compile(r"\b(?:of|showing|about|featuring|with)\s+(.+?)[.!?]*$", re.IGNORECASE)
_MAX_CLIPS = 10


def _generation(text: str, low: str, has_media: bool) -> Plan | None:
    """Clips to generate from a description: "generate two 5-second clips of a beach"."""
    if not (_GENERATE.search(low) and _CLIPS.search(low)) or (has_media and _OWN_MEDIA.search(low)):
        return None
    found = _COUNT.search(low)
    word = found.group(1) if found else "1"
    count = max(1, min(_MAX_CLIPS, int(word) if word.isdigit() else _NUMBERS.get(word, 1)))
    seconds = _seconds(low) or GENERATED_SECONDS
    prompt_match = _PROMPT.search(text)
    prompt = (prompt_match.group(1) if prompt_match else text).strip()
    steps = tuple(
        Step(
            {"prompt": prompt, "duration": seconds, "clip": n + 1},
            add_generated(prompt, seconds),
            f"Generated clip {n + 1} of {count}: {_fmt_s(seconds * 1000)}s",
            GENERATE_TOOL,
        )
        for n in range(count)
    )
    noun = "clip" if count == 1 else f"{count} clips"
    return Plan(
        f"Generating {'a ' if count == 1 else ''}{noun} of {prompt} ({_fmt_s(seconds * 1000)}s "
        f"each). This takes a few minutes.",
        steps,
        f"Your generated {noun} {'is' if count == 1 else 'are'} in the timeline. Preview "
        f"{'it' if count == 1 else 'them'}, then click the Export button to download the MP4.",
    )


def _removal(low: str, state: Mapping[str, Any]) -> Plan | None:
    if not _REMOVE.search(low):
        return None
    for pattern, kind, what in ((_MUSIC, 1, "background music"), (_TEXTS, 7, "title")):
        if pattern.search(low):
            if not has_track(state, kind):
                return Plan(f"There is no {what} on the timeline, so there is nothing to remove.")
            step = Step(
                {"action": "remove_track", "track_type": kind},
                remove_tracks(kind),
                f"Removed the {what} track",
            )
            return Plan(f"Removing the {what}.", (step,), f"Done: the {what} is gone.")
    return None


def _canvas(low: str) -> Step | None:
    ratio = _RATIO.search(low)
    if ratio is not None and ("aspect" in low or "ratio" in low):
        w, h = int(ratio.group(1)), int(ratio.group(2))
        if w and h:
            width, height = (1920, 1920 * h // w) if w >= h else (1920 * w // h, 1920)
            label = f"{w}:{h}"
            return Step(
                {"action": "set_canvas", "width": width, "height": height},
                set_canvas(width, height, label),
                f"Canvas set to {label}",
            )
    for word, (width, height) in _SHAPES.items():
        if word in low:
            label = {1920: "16:9", 1080: "1:1"}[width] if width >= height else "9:16"
            return Step(
                {"action": "set_canvas", "width": width, "height": height},
                set_canvas(width, height, label),
                f"Canvas set to {label}",
            )
    return None


def plan_reply(text: str, state: Mapping[str, Any]) -> Plan:
    """What the agent does and says about ``text`` given the session ``state`` (not modified)."""
    phrased = plan_edit(text, state)
    if phrased is not None:
        return phrased
    low = text.lower()
    removal = _removal(low, state)
    if removal is not None:
        return removal
    steps: list[Step] = []
    intro: list[str] = []
    outro: list[str] = []
    seconds = _seconds(low)
    media = visual_media(state)
    wants_video = bool(_VIDEO.search(low) and (_MEDIA.search(low) or "turn" in low))
    generation = _generation(text, low, bool(media))
    if generation is not None:
        if _MUSIC.search(low) is None and _TEXTS.search(low) is None:
            return generation
        intro.append(generation.intro)
        steps.extend(generation.steps)
        outro.append(generation.outro)
    elif wants_video:
        if not media:
            return Plan(
                f'You asked: "{text}". I don\'t see any uploaded images or clips in this session '
                "yet. Click the Upload button to add your media, then ask me again."
            )
        total = round((seconds or DEFAULT_SECONDS) * 1000)
        transition = "none" if re.search(r"no transitions?|hard cuts?", low) else "fade"
        style = "smooth fade" if transition == "fade" else "no"
        intro.append(
            f"I'll turn your {_count(media)} into a "
            f"{_fmt_s(total)}-second video with {style} transitions."
        )
        steps.append(
            Step(
                {
                    "action": "create_video",
                    "media": [m.get("media_id") for m in media],
                    "duration_ms": total,
                    "transition": transition,
                },
                make_video(copy.deepcopy(media), total, transition),
                f"Video track created: {len(media)} clips, {_fmt_s(total)}s",
            )
        )
        outro.append(
            f"Your {_fmt_s(total)}-second video is ready in the timeline. Preview it, then click "
            "the Export button to download the MP4."
        )
    elif seconds is not None and _RESIZE.search(low) and has_track(state, 0):
        total = round(seconds * 1000)
        intro.append(f"Changing the video length to {_fmt_s(total)} seconds.")
        steps.append(
            Step(
                {"action": "set_duration", "duration_ms": total},
                set_duration(total),
                f"Timeline is now {_fmt_s(total)}s",
            )
        )
        outro.append(f"The video is now {_fmt_s(total)} seconds long. Check it in the timeline.")
    music_pick = music_question(state) if _CHANGE.search(low) else None
    if _MUSIC.search(low) and music_pick is not None and not steps:
        return Plan("You have more than one music track.", question=music_pick)
    if _MUSIC.search(low) and not _REMOVE.search(low):
        volume = _percent(low)
        volume = 0.5 if volume is None else volume
        name = _style(low)
        intro.append(f"Adding {name.lower()} background music at {volume:.0%} volume.")
        steps.append(
            Step(
                {"action": "add_bgm", "style": name, "volume": volume},
                add_bgm(name, volume),
                f"BGM track {name} at {volume:.0%}",
            )
        )
        outro.append(f"{name} BGM added at {volume:.0%}. Open the audio panel to fine-tune it.")
    title = _title_text(text) if _TEXTS.search(low) and not _REMOVE.search(low) else None
    if title:
        intro.append(f'Adding the title "{title}".')
        steps.append(
            Step({"action": "add_title", "text": title}, add_title(title), f'Title "{title}" added')
        )
        outro.append(f'The title "{title}" opens the video; drag it on the timeline to move it.')
    canvas = _canvas(low)
    if canvas is not None:
        intro.append(f"Changing the canvas: {canvas.result.lower()}.")
        steps.append(canvas)
        outro.append(f"{canvas.result}. Open the canvas panel to check the framing.")
    if not steps and _VIDEO.search(low) and not media:
        return Plan(
            "I can make that video; first tell me what it should show.", question=make_what()
        )
    if not steps:
        return Plan(
            f'You asked: "{text}". I can turn your uploaded images into a video, add background '
            "music, add a title, change the length or aspect ratio, or remove a track. Try "
            '"turn these images into a 15-second video with smooth transitions".'
        )
    return Plan(" ".join(intro), tuple(steps), " ".join(outro))
