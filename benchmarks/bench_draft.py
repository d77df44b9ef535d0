"""Draft decoding and diffing of a 10,000-segment timeline, next to ``json.loads`` of its text.

``json.loads`` is the floor: every client must at least parse the state's text, so the ratio says
what the typed view costs on top of it. A chat turn that ends without text decodes the new draft
and diffs it against the one before, on the event loop; this is that cost on a long project.

Rows (ratio = nemovideo time / ``json.loads`` time, so lower is better; measured in one run,
interleaved, median and spread of ``--rounds`` rounds, each side the best of ``--repeat`` runs).
Times are the thread's CPU time (``time.thread_time``): the work is single-threaded and CPU-bound,
so this is the wall time of a quiet machine, and a busy one (other processes taking the core) does
not charge its waits to whichever side happened to be running:

- ``Draft.from_json`` of the decoded dict vs ``json.loads`` of its text;
- ``Draft.from_json`` of the JSON text (parse included) vs ``json.loads`` of the same text;
- ``from_json`` then ``summary()``, which decodes every segment's timing (segments are decoded on
  first use, so ``from_json`` alone does not);
- ``Draft.diff`` of two freshly decoded drafts (1% of segments edited) vs ``json.loads`` of both;
- decode both and diff (what ``reply.changes`` costs end to end) vs ``json.loads`` of both;
- ``to_json`` (the copy handed to a caller or posted for rendering) vs ``json.loads`` of its text.

Usage::

    python benchmarks/bench_draft.py [--segments 10000] [--rounds 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from _common import table

from nemovideo.draft import Draft

CASES = (
    "from_json(dict)", "from_json(text)", "from_json + summary()", "diff", "decode both + diff",
    "to_json",
)  # fmt: skip


def make_draft(segments: int) -> dict[str, Any]:
    """An emulator-form draft: 60% video clips, 20% music, 20% text, every segment with an id."""
    video, audio = segments * 6 // 10, segments * 2 // 10
    text = segments - video - audio
    tracks: list[dict[str, Any]] = []
    counter = 0

    def seg(start: int, dur: int, meta: dict[str, Any]) -> dict[str, Any]:
        nonlocal counter
        counter += 1
        return {"id": f"sg_{counter}", "st": start, "d": dur, "m": meta}

    tracks.append({"tt": 0, "m": {"name": "long cut"}, "sg": [
        seg(i * 1000, 1000, {"name": f"clip_{i}.jpg", "src": f"/mnt/userdata/clip_{i}.jpg",
                             "media_id": f"m_{i:08x}", "kind": "image", "transition": "fade",
                             "transition_ms": 500})
        for i in range(video)]})  # fmt: skip
    tracks.append({"tt": 1, "m": {"name": "Lo-fi"}, "sg": [
        seg(i * 3000, 3000, {"name": f"song {i}", "src": None, "volume": 0.35, "role": "bgm"})
        for i in range(audio)]})  # fmt: skip
    tracks.append({"tt": 7, "m": {"name": "captions"}, "sg": [
        seg(i * 3000, 2000, {"text": f"line {i}", "role": "subtitle", "font_size": 48,
                             "position": "bottom"})
        for i in range(text)]})  # fmt: skip
    end = max(video * 1000, audio * 3000, text * 3000)
    return {
        "t": tracks,
        "d": end,
        "m": {"title": "bench", "width": 1920, "height": 1080, "fps": 30},
    }


def edit(draft: dict[str, Any]) -> dict[str, Any]:
    """1% of the segments changed (volume, text, timing, a transition), one added, one removed."""
    out = copy.deepcopy(draft)
    video, audio, text = (t["sg"] for t in out["t"])
    for i in range(0, len(audio), 100):
        audio[i]["m"]["volume"] = 0.6
    for i in range(0, len(text), 100):
        text[i]["m"]["text"] = f"changed {i}"
    for i in range(0, len(video), 200):
        video[i]["d"] = 1500
        video[i + 1]["m"]["transition"] = "none"
    video.pop(len(video) // 2)
    text.append({"id": "sg_new", "st": 0, "d": 1000, "m": {"text": "new", "role": "subtitle"}})
    return out


def best(
    fn: Callable[[Any], object], repeat: int, setup: Callable[[], Any] = lambda: None
) -> float:
    """Best of ``repeat`` timed calls of ``fn(setup())`` (the setup is not timed)."""
    times = []
    for _ in range(repeat):
        arg = setup()
        gc.collect()
        start = time.thread_time()
        fn(arg)
        times.append(time.thread_time() - start)
    return min(times)


Case = tuple[Callable[[Any], object], Callable[[], Any]]


def measure(segments: int, rounds: int, repeat: int) -> dict[str, list[tuple[float, float]]]:
    """Per case, ``rounds`` pairs of (nemovideo seconds, json.loads seconds), taken in turn."""
    old_raw = make_draft(segments)
    new_raw = edit(old_raw)
    old_text, new_text = json.dumps(old_raw), json.dumps(new_raw)
    assert Draft.from_json(old_raw).to_json() == old_raw
    lines = Draft.from_json(old_raw).diff(Draft.from_json(new_raw))
    assert len(lines) > segments // 100, lines[:5]
    one: Case = (lambda _: json.loads(old_text), lambda: None)
    both: Case = (lambda _: (json.loads(old_text), json.loads(new_text)), lambda: None)
    cases: dict[str, tuple[Case, Case]] = {
        "from_json(dict)": ((lambda _: Draft.from_json(old_raw), lambda: None), one),
        "from_json(text)": ((lambda _: Draft.from_json(old_text), lambda: None), one),
        "from_json + summary()": ((lambda _: Draft.from_json(old_raw).summary(), lambda: None), one),
        "diff": (
            (lambda pair: pair[0].diff(pair[1]),
             lambda: (Draft.from_json(old_raw), Draft.from_json(new_raw))),
            both,
        ),
        "decode both + diff": (
            (lambda _: Draft.from_json(old_raw).diff(Draft.from_json(new_raw)), lambda: None),
            both,
        ),
        "to_json": ((lambda draft: draft.to_json(), lambda: Draft.from_json(old_raw)), one),
    }  # fmt: skip
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, ((ours, ours_setup), (floor, floor_setup)) in cases.items():
            t_floor = best(floor, repeat, floor_setup)
            t_ours = best(ours, repeat, ours_setup)
            t_floor = min(t_floor, best(floor, repeat, floor_setup))
            results[name].append((t_ours, t_floor))
    return results


def rows(results: dict[str, list[tuple[float, float]]], segments: int) -> list[tuple[str, ...]]:
    out = []
    for name in CASES:
        pairs = results[name]
        ratios = [ours / floor for ours, floor in pairs]
        ours_ms = statistics.median(p[0] for p in pairs) * 1000
        floor_ms = statistics.median(p[1] for p in pairs) * 1000
        label = f"{name}, {segments:,} segments"
        out.append((label, f"{ours_ms:.1f} ms", f"{floor_ms:.1f} ms",
                    f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = measure(args.segments, args.rounds, args.repeat)
    print(
        table(
            rows(results, args.segments),
            ("benchmark", "nemovideo", "json.loads", "ratio (median, spread; lower is better)"),
        )
    )
    print()
    print("targets (issue 27): diff <= 1.0x json.loads of both texts; from_json <= 1.25x")


if __name__ == "__main__":
    main()
