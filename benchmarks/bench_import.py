"""Cold import time of ``nemovideo``, next to ``import aiohttp`` (which it needs anyway).

Notebooks pay the import on every kernel start. Each figure is the median of ``--repeat`` fresh
interpreters (taken in turn) timing the statements with ``perf_counter`` inside the interpreter, so
start-up is left out. The ``nemovideo`` rows also touch ``nemovideo.NemoClient``: names loaded on
first use (PEP 562) must not flatter the figure, and every app makes a client. The second row adds
what a chat and an export load on first use (``ChatStream``, ``RenderJob``). The last row times
``import aiohttp`` and then what ``import nemovideo`` adds in one interpreter, by CPU time, so that
a busy machine (other processes taking the core) does not tilt the ratio.

Both sides import cached bytecode, as from an installed wheel: the interpreters share a fresh
``PYTHONPYCACHEPREFIX`` filled by one untimed run. (With ``PYTHONDONTWRITEBYTECODE=1``, set in some
environments, a source checkout would otherwise be compiled on every run while aiohttp's ``.pyc``
files came with its wheel.) Ratio = aiohttp time / nemovideo time, so 1.0 means nemovideo costs
nothing on top of aiohttp. For the per-module breakdown::

    python -X importtime -c "import aiohttp, nemovideo" 2>&1 | sort -t'|' -k2 -n | tail

Usage::

    python benchmarks/bench_import.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from _common import ROOT, table

CASES = {
    "aiohttp": "import aiohttp",
    "client": "import nemovideo; nemovideo.NemoClient",
    "flow": "import nemovideo; nemovideo.NemoClient; nemovideo.ChatStream; nemovideo.RenderJob",
}
PROBE = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
#: CPU seconds of ``import aiohttp``, then of what ``import nemovideo`` adds, in one interpreter.
SPLIT = (
    "import time; c = time.process_time; t0 = c(); import aiohttp; t1 = c(); "
    "import nemovideo; nemovideo.NemoClient; print(t1 - t0, c() - t1)"
)


def run(code: str, env: dict[str, str]) -> list[float]:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    return [float(x) for x in proc.stdout.split()]


def import_s(statements: str, env: dict[str, str]) -> float:
    return run(PROBE.format(statements), env)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        import_s("; ".join(CASES.values()), env)
        times: dict[str, list[float]] = {name: [] for name in CASES}
        split: list[list[float]] = []
        for n in range(args.repeat):
            order = list(CASES) if n % 2 == 0 else list(CASES)[::-1]
            for name in order:
                times[name].append(import_s(CASES[name], env))
            split.append(run(SPLIT, env))
    base, client, flow = (statistics.median(times[name]) * 1000 for name in CASES)
    ratios = sorted(aio / (aio + ours) for aio, ours in split)
    aio_cpu, ours_cpu = (statistics.median(s[i] for s in split) * 1000 for i in (0, 1))
    rows = [
        ("import nemovideo (cold, median)", f"{client:.0f} ms", f"{base:.0f} ms",
         f"{base / client:.2f}x"),
        ("  + chat and export loaded", f"{flow:.0f} ms", f"{base:.0f} ms", f"{base / flow:.2f}x"),
        ("import nemovideo (cold, CPU time, one process: aiohttp, then what nemovideo adds)",
         f"{aio_cpu + ours_cpu:.0f} ms (+{ours_cpu:.1f} ms)", f"{aio_cpu:.0f} ms",
         f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"),
    ]  # fmt: skip
    print(table(rows, ("benchmark", "nemovideo", "raw aiohttp", "ratio")))


if __name__ == "__main__":
    main()
