"""Run every ``benchmarks/bench_*.py`` and write ``benchmarks/RESULTS.md`` (``make bench``).

Each benchmark prints its own figures with ratios against raw aiohttp measured in the same run;
this runner adds the machine and date, and keeps each script's output under its own heading so a
change in one benchmark's format never breaks the report.

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
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, cwd=HERE
        )
        took = time.perf_counter() - started
        print(proc.stdout, end="", flush=True)
        report += ["", f"## {script.stem.removeprefix('bench_')} ({took:.0f} s)", ""]
        if proc.returncode:
            failed += 1
            print(proc.stderr, file=sys.stderr)
            report += [f"FAILED (exit {proc.returncode}):", "", "```", proc.stderr[-2000:], "```"]
        else:
            report.append(proc.stdout.strip())
    args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"Wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
