"""The command line most benchmarks share: ``--name value`` options, one async run, one table.

Beside ``_common`` (servers, timing, tables): this is only the ``main()`` that ``bench_download``,
``bench_requests`` and ``bench_render`` would otherwise each spell out.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from _common import table


def run_main(
    doc: str,
    bench: Callable[..., Awaitable[list[tuple[str, ...]]]],
    options: dict[str, int | float],
    header: tuple[str, ...],
    target: str | None = None,
) -> None:
    """Parse ``--<option>`` for each of ``options`` (typed and defaulted by its value), await
    ``bench(*values)`` in that order, and print its rows under ``header``, then ``target``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in options.items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    args: Any = parser.parse_args()
    rows = asyncio.run(bench(*(getattr(args, name.replace("-", "_")) for name in options)))
    print(table(rows, header))
    if target:
        print()
        print(target)
