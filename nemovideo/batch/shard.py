"""Splitting a manifest across machines: ``--shard I/N`` keeps the jobs whose id hashes to ``I``.

The split depends only on each job's id (SHA-256 of it, modulo ``N``), so it is the same on every
machine and every run, and a job stays in its shard when lines are added or reordered::

    mine = shard_jobs(manifest.jobs, (2, 4))    # the second of four shards (1-based)

Each shard keeps its own journal; ``nemovideo batch --report a.db b.db ...`` merges them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from nemovideo.errors import ValidationError

__all__ = ["parse_shard", "run_shard", "shard_jobs", "shard_of"]

_J = TypeVar("_J")


def parse_shard(value: object) -> tuple[int, int]:
    """``"2/4"`` or ``(2, 4)`` as ``(2, 4)``; ``ValidationError`` unless ``1 <= I <= N``."""
    if isinstance(value, str):
        left, _, right = value.partition("/")
        try:
            pair = (int(left), int(right))
        except ValueError:
            raise ValidationError(f"shard {value!r} must read I/N, such as 1/4") from None
    elif isinstance(value, Sequence) and len(value) == 2:
        pair = (value[0], value[1])
    else:
        raise ValidationError(f"shard must be (i, n) or 'i/n', got {value!r}")
    i, n = pair
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in pair) or not 1 <= i <= n:
        raise ValidationError(f"shard {i}/{n}: need 1 <= I <= N (the first of four is 1/4)")
    return i, n


def shard_of(job_id: str, count: int) -> int:
    """The shard (1-based) a job id belongs to among ``count``."""
    digest = hashlib.sha256(job_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def shard_jobs(jobs: Iterable[_J], shard: tuple[int, int], *, key: str = "id") -> list[_J]:
    """The jobs of shard ``(i, n)``, in manifest order."""
    i, n = parse_shard(shard)
    return [job for job in jobs if shard_of(str(getattr(job, key)), n) == i]


def run_shard(
    jobs: str,
    shard: tuple[int, int] | str,
    *,
    client_options: dict[str, Any] | None = None,
    **batch_options: Any,
) -> list[dict[str, Any]]:
    """Run one shard of a manifest to the end in this process and return each job's
    ``BatchResult.to_dict()``: a plain, picklable task for Dask, Ray or ``multiprocessing``::

        futures = [dask_client.submit(run_shard, "jobs.jsonl", (i, 4)) for i in range(1, 5)]

    ``client_options`` go to ``SyncNemoClient`` (default: the environment's settings);
    ``batch_options`` to ``client.batch`` (``journal``, ``out_dir``, ``concurrency``...). The
    shard's journal defaults to ``<manifest>.shard-I-of-N.journal.db``: on a cluster, give each
    task a path every run of that shard will see again (a shared disk, or the same worker).
    """
    from nemovideo.sync import SyncNemoClient

    with SyncNemoClient(**(client_options or {})) as client:
        return [r.to_dict() for r in client.batch(jobs, shard=parse_shard(shard), **batch_options)]
