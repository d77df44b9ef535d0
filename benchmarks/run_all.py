"""Run every ``benchmarks/bench_*.py`` and write ``benchmarks/RESULTS.md`` (``make bench``).

Each benchmark prints its own figures with ratios against raw aiohttp measured in the same run;
this runner adds the machine and date, and keeps each script's output under its own heading so a
change in one benchmark's format never breaks the report. On top it puts one table of the open
performance issue's figures (``FIGURES``): each beside the issue's "measured now" column and its
target, read from the rows the scripts printed (a row no script printed reads "(not in this
run)", so a renamed row shows up rather than failing the run).

Usage::

    python benchmarks/run_all.py [--only requests,import] [--out benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ISSUE = 27
#: (figure, the issue's "measured now", target, script, its row's first cell starts with, column)
FIGURES: list[tuple[str, str, str, str, str, int]] = [
    ("`chat()` events/s vs httpx + httpx-sse, 100k ADK events", "1.11x", ">= 1.2x",
     "chat_compare", "chat() events/s vs httpx-sse, 100,000 events", 1),
    ("`chat()` vs the hand-rolled `iter_any` + split + `json.loads` loop", "0.95x", ">= 1.0x",
     "chat_compare", "chat() vs iter_any floor, 100,000 events", 1),
    ("`send()` of a 100k-event long-text reply: RSS growth beyond the reply's text", "49 MB",
     "< 20 MB", "chat_compare", "RSS growth beyond the reply's text", 1),
    ("  the reply's text (not counted)", "about 9 M characters, 23 MB", "",
     "chat_compare", "the reply's text", 1),
    ("1,000 concurrent chat streams, wall vs raw aiohttp POST + state GET", "0.83x", ">= 0.95x",
     "scale", "1000 concurrent chat streams, wall, vs raw + state read", 3),
    ("  errors (all rounds)", "0", "0", "scale", "errors (all rounds)", 1),
    ("emulator render of the 15 s demo draft vs the hand \"scale each still once\" ffmpeg command",
     "1.08x the time", "<= 0.9x the time", "render", "render 15 s demo draft, 1080p30, wall", 3),
    ("  the same, ffmpeg CPU time", "", "<= 0.9x the time",
     "render", "render 15 s demo draft, 1080p30, ffmpeg CPU", 3),
    ("`Draft.diff` of two 10k-segment drafts / `json.loads` of both texts", "0.9x", "<= 1.0x",
     "draft", "diff, 10,000 segments", 3),
    ("`Draft.from_json` (a mapping) / `json.loads`", "1.5x", "<= 1.25x",
     "draft", "from_json(dict), 10,000 segments", 3),
    ("`Draft.from_json` (JSON text) / `json.loads`", "1.5x", "<= 1.25x",
     "draft", "from_json(text), 10,000 segments", 3),
    ("`import nemovideo` (cold) vs `import aiohttp`", "0.81x", ">= 0.9x",
     "import", "import nemovideo (cold, median)", 3),
    ("  the same, process CPU time", "", ">= 0.9x", "import", "import nemovideo (cold, CPU", 3),
]  # fmt: skip


def cell(outputs: dict[str, str], script: str, prefix: str, column: int) -> str:
    """The ``column``-th cell of the first table row of ``script``'s output whose first cell
    starts with ``prefix`` (leading spaces aside)."""
    if script not in outputs:
        return "(not run)"
    for line in outputs[script].splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0].startswith(prefix) and len(cells) > column:
                return cells[column]
    return "(not in this run)"


def figures_table(outputs: dict[str, str]) -> list[str]:
    lines = [
        f'## Issue {ISSUE}: every figure beside the issue\'s "measured now"',
        "",
        f"| figure | measured now (issue {ISSUE}) | this run | target |",
        "|---|---|---|---|",
    ]
    for label, now, target, script, prefix, column in FIGURES:
        lines.append(f"| {label} | {now} | {cell(outputs, script, prefix, column)} | {target} |")
    return lines


def machine() -> str:
    import aiohttp

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated names, e.g. requests,import")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = [
        "# Benchmark results",
        "",
        f"{now} on {machine()}. Ratios compare nemovideo with raw aiohttp doing the same work in",
        "the same run (above 1.0 = nemovideo faster). Regenerate with `make bench`.",
    ]
    failed = 0
    outputs: dict[str, str] = {}
    sections: list[str] = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, cwd=HERE
        )
        took = time.perf_counter() - started
        print(proc.stdout, end="", flush=True)
        name = script.stem.removeprefix("bench_")
        sections += ["", f"## {name} ({took:.0f} s)", ""]
        if proc.returncode:
            failed += 1
            print(proc.stderr, file=sys.stderr)
            sections += [f"FAILED (exit {proc.returncode}):", "", "```", proc.stderr[-2000:], "```"]
        else:
            outputs[name] = proc.stdout
            sections.append(proc.stdout.strip())
    summary = figures_table(outputs)
    print("\n".join(summary))
    report += ["", *summary, *sections]
    args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"Wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
