"""Cold ``import nemovideo`` time, next to ``import aiohttp`` (which it needs anyway).

Notebooks pay the import on every kernel start. Each figure is the median of ``--repeat`` fresh
interpreters running ``python -X importtime -c "import <module>"``; the cumulative microseconds of the
top-level module come from the importtime report (stderr). Ratio = aiohttp time / nemovideo time
(so 1.0 means nemovideo costs nothing on top of aiohttp).

Usage::

    python benchmarks/bench_import.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

from _common import ROOT, table


def import_us(module: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise RuntimeError(f"no importtime line for {module}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    ours = statistics.median(import_us("nemovideo") for _ in range(args.repeat))
    base = statistics.median(import_us("aiohttp") for _ in range(args.repeat))
    rows = [
        (
            "import (cold, median)",
            f"{ours / 1000:.0f} ms",
            f"{base / 1000:.0f} ms",
            f"{base / ours:.2f}x",
        )
    ]
    print(table(rows, ("benchmark", "nemovideo", "raw aiohttp", "ratio")))


if __name__ == "__main__":
    main()
