"""The emulator's scripted editing agent: a sentence in, a plan of edits and words out.

Deterministic and small, it understands what users really type (PROTOCOL "Chat stream")::

    "turn these images into a 15-second video with smooth transitions"   video track from uploads
    "add lo-fi BGM at 35%"                                               BGM track (replaces one)
    "add a title 'Urban Dreams'"                                          title track, 0-3 s
    "make it 10 seconds" / "trim to 8s"                                   rescale the timeline
    "make it vertical" / "change the aspect ratio to 1:1"                 canvas size
    "remove the music" / "remove the title"                               drop those tracks

Several may share one sentence ("...a 10-second video with lo-fi music and the title 'X'"): the
steps run in order, video first, then music and title (the two-stage generation). It talks like
the real backend, as if a GUI existed ("click the Export button"). Drafts are written in the
emulator's form (HELPERS.md) with the builders of :mod:`._drafts`.

:class:`ChatControls` (``chat_controls(emu)``) tunes the stream: timing, heartbeat form, dialect,
silent edits, dropped connections, heartbeat-only streams, in-stream errors.
"""

from __future__ import annotations

import asyncio
import copy
import re
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..state import MediaInfo
from ._drafts import bgm_track, normalize_draft, title_track, video_track

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["ChatControls", "Plan", "Step", "chat_controls", "plan_reply"]

EDIT_TOOL = "edit_multitrack"
DEFAULT_SECONDS = 10
TITLE_MS = 3000


@attrs.define
class ChatControls:
    """How the emulator's ``/run_sse`` behaves; change the fields at any time.

    ``delay`` is the pause between frames and ``work_steps`` the heartbeats sent while a tool
    "runs" (tests use milliseconds). ``heartbeat`` is ``"event"`` (``event: heartbeat``),
    ``"empty"`` (an empty ``data:``) or ``"comment"``; ``dialect`` ``"adk"`` or ``"simple"``.
    One-shot faults reset themselves after firing: ``drop_after`` (cut the connection after that
    many frames; the edit still completes server-side, ``finish_delay`` later) and
    ``stream_error`` (end with an ADK ``{"error": ...}`` frame instead of the edit; unescaped
    when ``unescaped_error``). ``silent`` answers edits with no text; ``heartbeats_only`` sends
    heartbeats until the client leaves; ``trailing_issue`` appends "I encountered a temporary
    issue". Counters: ``streams``, ``dropped``, ``disconnects`` (clients that left mid-stream).
    ``two_stage`` makes generation with music or a title run in two stages, as the real backend's
    can: the video in the stream, then the music and title as a long-running tool call that the
    stream closes on, applied ``stage_two_delay`` seconds later.
    """

    delay: float = 0.01
    work_steps: int = 2
    heartbeat: str = "event"
    dialect: str = "adk"
    silent: bool = False
    heartbeats_only: bool = False
    trailing_issue: bool = False
    drop_after: int | None = None
    finish_delay: float = 0.0
    stream_error: str | None = None
    unescaped_error: bool = False
    edit_cost: int = 50
    two_stage: bool = False
    stage_two_delay: float = 0.05
    streams: int = 0
    dropped: int = 0
    disconnects: int = 0
    charged_sessions: set[str] = attrs.Factory(set)
    background: set[asyncio.Task[None]] = attrs.Factory(set)


_CONTROLS: weakref.WeakKeyDictionary[Emulator, ChatControls] = weakref.WeakKeyDictionary()


def chat_controls(emu: Emulator) -> ChatControls:
    """The chat controls of ``emu`` (``emu.chat`` when the emulator has that attribute)."""
    own = getattr(emu, "chat", None)
    if isinstance(own, ChatControls):
        return own
    return _CONTROLS.setdefault(emu, ChatControls())


Edit = Callable[[dict[str, Any]], None]


@attrs.frozen
class Step:
    """One tool call: its arguments, the edit it makes to the session state, what it reports."""

    args: Mapping[str, Any]
    edit: Edit
    result: str
    tool: str = EDIT_TOOL


@attrs.frozen
class Plan:
    """The whole answer to one message. ``steps`` empty: a text-only answer, which costs nothing."""

    intro: str
    steps: tuple[Step, ...] = ()
    outro: str = ""

    @property
    def edits(self) -> bool:
        return bool(self.steps)


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
    "lo-fi": "Lo-fi", "lofi": "Lo-fi", "lo fi": "Lo-fi", "upbeat": "Upbeat", "chill": "Chill",
    "piano": "Piano", "jazz": "Jazz", "ambient": "Ambient", "epic": "Epic", "cinematic": "Cinematic",
    "acoustic": "Acoustic", "electronic": "Electronic", "happy": "Happy", "calm": "Calm",
}  # fmt: skip
_MUSIC = re.compile(r"\b(bgm|music|soundtrack|song|audio)\b")
_TEXTS = re.compile(r"\b(title|caption|heading|text)\b")
_REMOVE = re.compile(r"\b(remove|delete|drop|get rid of|mute|no more)\b")
_MEDIA = re.compile(r"\b(images?|photos?|pictures?|pics|clips?|uploads?|media|files?|these|them)\b")
_VIDEO = re.compile(r"\b(video|slideshow|montage|timelapse|movie|reel)\b")
_RESIZE = re.compile(r"\b(make it|trim|shorten|extend|lengthen|cut|change|set|duration|long)\b")
_SHAPES = {"vertical": (1080, 1920), "portrait": (1080, 1920), "square": (1080, 1080),
           "landscape": (1920, 1080), "horizontal": (1920, 1080)}  # fmt: skip


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


def _media(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    infos = state.get("video_infos") or []
    return [
        dict(m)
        for m in infos
        if isinstance(m, Mapping) and MediaInfo.from_json(m).kind in ("image", "video")
    ]


def _count(media: list[dict[str, Any]]) -> str:
    kinds = {MediaInfo.from_json(m).kind for m in media}
    noun = "image" if kinds == {"image"} else "clip" if kinds == {"video"} else "file"
    return f"{len(media)} {noun}{'' if len(media) == 1 else 's'}"


def _draft(state: dict[str, Any]) -> dict[str, Any]:
    draft = state.get("draft")
    if not isinstance(draft, dict):
        draft = {"t": [], "d": 0, "m": {"title": "project", "width": 1920, "height": 1080}}
        state["draft"] = draft
    draft.setdefault("t", [])
    return draft


def _total_ms(state: Mapping[str, Any]) -> int:
    draft = state.get("draft")
    given = draft.get("d") if isinstance(draft, Mapping) else None
    return int(given) if isinstance(given, int | float) and given > 0 else DEFAULT_SECONDS * 1000


def _is_track(track: Any, kind: int) -> bool:
    return isinstance(track, dict) and track.get("tt") == kind


# -- edits (each mutates a session state in place) --------------------------------------------------


def _fit(draft: dict[str, Any], total_ms: int) -> None:
    """Stretch BGM to ``total_ms``, clip text to it, and renormalise."""
    for track in draft["t"]:
        for seg in track.get("sg") or []:
            if _is_track(track, 1):
                seg["st"], seg["d"] = 0, total_ms
            elif _is_track(track, 7):
                seg["st"] = min(seg.get("st", 0), max(total_ms - 1000, 0))
                seg["d"] = min(seg.get("d", TITLE_MS), total_ms - seg["st"])


def _commit(state: dict[str, Any], draft: dict[str, Any]) -> None:
    state["draft"] = normalize_draft(draft)


def make_video(media: list[dict[str, Any]], total_ms: int, transition: str) -> Edit:
    def edit(state: dict[str, Any]) -> None:
        draft = _draft(state)
        track = video_track(media, total_ms, transition)
        at = next((i for i, t in enumerate(draft["t"]) if _is_track(t, 0)), 0)
        draft["t"] = [t for t in draft["t"] if not _is_track(t, 0)]
        draft["t"].insert(min(at, len(draft["t"])), track)
        _fit(draft, total_ms)
        _commit(state, draft)

    return edit


def set_duration(total_ms: int) -> Edit:
    def edit(state: dict[str, Any]) -> None:
        draft = _draft(state)
        for track in draft["t"]:
            if _is_track(track, 0) and track.get("sg"):
                count = len(track["sg"])
                share, extra = divmod(total_ms, count)
                start = 0
                for i, seg in enumerate(track["sg"]):
                    seg["st"], seg["d"] = start, share + (1 if i < extra else 0)
                    start += seg["d"]
        _fit(draft, total_ms)
        _commit(state, draft)

    return edit


def add_bgm(name: str, volume: float) -> Edit:
    def edit(state: dict[str, Any]) -> None:
        draft = _draft(state)
        draft["t"] = [t for t in draft["t"] if not _is_track(t, 1)]
        draft["t"].append(bgm_track(name, volume, _total_ms(state)))
        _commit(state, draft)

    return edit


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


def add_title(text: str) -> Edit:
    def edit(state: dict[str, Any]) -> None:
        draft = _draft(state)
        draft["t"] = [t for t in draft["t"] if not _is_track(t, 7)]
        draft["t"].append(title_track(text, min(TITLE_MS, _total_ms(state))))
        draft.setdefault("m", {})["title"] = text
        _commit(state, draft)

    return edit


def remove_tracks(kind: int) -> Edit:
    def edit(state: dict[str, Any]) -> None:
        draft = _draft(state)
        draft["t"] = [t for t in draft["t"] if not _is_track(t, kind)]
        _commit(state, draft)

    return edit


def set_canvas(width: int, height: int, ratio: str) -> Edit:
    def edit(state: dict[str, Any]) -> None:
        draft = _draft(state)
        draft.setdefault("m", {}).update(width=width, height=height)
        state["canvas_config"] = {"width": width, "height": height, "aspect_ratio": ratio}
        _commit(state, draft)

    return edit


# -- planning ---------------------------------------------------------------------------------------


def _has(state: Mapping[str, Any], kind: int) -> bool:
    draft = state.get("draft")
    tracks = draft.get("t") if isinstance(draft, Mapping) else None
    return any(_is_track(t, kind) for t in tracks or [])


def _removal(low: str, state: Mapping[str, Any]) -> Plan | None:
    if not _REMOVE.search(low):
        return None
    for pattern, kind, what in ((_MUSIC, 1, "background music"), (_TEXTS, 7, "title")):
        if pattern.search(low):
            if not _has(state, kind):
                return Plan(f"There is no {what} on the timeline, so there is nothing to remove.")
            step = Step({"action": "remove_track", "track_type": kind},
                        remove_tracks(kind), f"Removed the {what} track")  # fmt: skip
            return Plan(f"Removing the {what}.", (step,), f"Done: the {what} is gone.")
    return None


def _canvas(low: str) -> Step | None:
    ratio = _RATIO.search(low)
    if ratio is not None and ("aspect" in low or "ratio" in low):
        w, h = int(ratio.group(1)), int(ratio.group(2))
        if w and h:
            width, height = (1920, 1920 * h // w) if w >= h else (1920 * w // h, 1920)
            label = f"{w}:{h}"
            return Step({"action": "set_canvas", "width": width, "height": height},
                        set_canvas(width, height, label), f"Canvas set to {label}")  # fmt: skip
    for word, (width, height) in _SHAPES.items():
        if word in low:
            label = {1920: "16:9", 1080: "1:1"}[width] if width >= height else "9:16"
            return Step({"action": "set_canvas", "width": width, "height": height},
                        set_canvas(width, height, label), f"Canvas set to {label}")  # fmt: skip
    return None


def plan_reply(text: str, state: Mapping[str, Any]) -> Plan:
    """What the agent does and says about ``text`` given the session ``state`` (not modified)."""
    low = text.lower()
    removal = _removal(low, state)
    if removal is not None:
        return removal
    steps: list[Step] = []
    intro: list[str] = []
    outro: list[str] = []
    seconds = _seconds(low)
    media = _media(state)
    wants_video = bool(_VIDEO.search(low) and (_MEDIA.search(low) or "turn" in low))
    if wants_video:
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
    elif seconds is not None and _RESIZE.search(low) and _has(state, 0):
        total = round(seconds * 1000)
        intro.append(f"Changing the video length to {_fmt_s(total)} seconds.")
        steps.append(Step({"action": "set_duration", "duration_ms": total},
                          set_duration(total), f"Timeline is now {_fmt_s(total)}s"))  # fmt: skip
        outro.append(f"The video is now {_fmt_s(total)} seconds long. Check it in the timeline.")
    if _MUSIC.search(low) and not _REMOVE.search(low):
        volume = _percent(low)
        volume = 0.5 if volume is None else volume
        name = _style(low)
        intro.append(f"Adding {name.lower()} background music at {volume:.0%} volume.")
        steps.append(Step({"action": "add_bgm", "style": name, "volume": volume},
                          add_bgm(name, volume), f"BGM track {name} at {volume:.0%}"))  # fmt: skip
        outro.append(f"{name} BGM added at {volume:.0%}. Open the audio panel to fine-tune it.")
    title = _title_text(text) if _TEXTS.search(low) and not _REMOVE.search(low) else None
    if title:
        intro.append(f'Adding the title "{title}".')
        steps.append(Step({"action": "add_title", "text": title}, add_title(title),
                          f'Title "{title}" added'))  # fmt: skip
        outro.append(f'The title "{title}" opens the video; drag it on the timeline to move it.')
    canvas = _canvas(low)
    if canvas is not None:
        intro.append(f"Changing the canvas: {canvas.result.lower()}.")
        steps.append(canvas)
        outro.append(f"{canvas.result}. Open the canvas panel to check the framing.")
    if not steps:
        return Plan(
            f'You asked: "{text}". I can turn your uploaded images into a video, add background '
            "music, add a title, change the length or aspect ratio, or remove a track. Try "
            '"turn these images into a 15-second video with smooth transitions".'
        )
    return Plan(" ".join(intro), tuple(steps), " ".join(outro))
