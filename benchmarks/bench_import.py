"""Cold import time of ``nemovideo``, next to ``import aiohttp`` (which it needs anyway).

Notebooks pay the import on every kernel start. Each figure is the median of ``--repeat`` fresh
interpreters (taken in turn) timing the statements with ``perf_counter`` inside the interpreter, so
start-up is left out. The ``nemovideo`` rows also touch ``nemovideo.NemoClient``: names loaded on
first use (PEP 562) must not flatter the figure, and every app makes a client. The second row adds
what a chat and an export load on first use (``ChatStream``, ``RenderJob``).

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


def import_s(statements: str, env: dict[str, str]) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(statements)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return float(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        import_s("; ".join(CASES.values()), env)
        times: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.repeat):
            for name, statements in CASES.items():
                times[name].append(import_s(statements, env))
    base, client, flow = (statistics.median(times[name]) * 1000 for name in CASES)
    rows = [
        ("import nemovideo (cold, median)", f"{client:.0f} ms", f"{base:.0f} ms",
         f"{base / client:.2f}x"),
        ("  + chat and export loaded", f"{flow:.0f} ms", f"{base:.0f} ms", f"{base / flow:.2f}x"),
    ]  # fmt: skip
    print(table(rows, ("benchmark", "nemovideo", "raw aiohttp", "ratio")))


if __name__ == "__main__":
    main()
