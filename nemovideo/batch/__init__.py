"""Batches that survive anything: many videos from a manifest, a journal, exactly once.

    async with nemovideo.NemoClient() as client:
        async for result in client.batch("jobs.jsonl", concurrency=4):
            print(result.job_id, result.status, result.path)

The same from a shell: ``nemovideo batch jobs.jsonl --concurrency 4`` (run it again to resume).
The guide is ``docs/batch.md``. Modules: ``manifest`` (the job list, checked whole), ``journal``
(SQLite, the durable record of every step), ``runner`` (the exactly-once state machine),
``shard`` (splitting across machines).
"""

from __future__ import annotations

from nemovideo.batch.journal import SCHEMA_VERSION, JobRow, Journal, JournalError, read_journal
from nemovideo.batch.manifest import (
    BatchJob,
    Manifest,
    ManifestError,
    load_manifest,
    manifest_from_jobs,
)
from nemovideo.batch.runner import BatchResult, JobAttentionError, JournaledError, run_batch
from nemovideo.batch.shard import parse_shard, run_shard, shard_jobs, shard_of

__all__ = [
    "SCHEMA_VERSION",
    "BatchJob",
    "BatchResult",
    "JobAttentionError",
    "JobRow",
    "Journal",
    "JournalError",
    "JournaledError",
    "Manifest",
    "ManifestError",
    "load_manifest",
    "manifest_from_jobs",
    "parse_shard",
    "read_journal",
    "run_batch",
    "run_shard",
    "shard_jobs",
    "shard_of",
]
