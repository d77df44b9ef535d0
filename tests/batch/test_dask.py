"""The documented recipe: a manifest's shards as tasks on Dask distributed (a ``LocalCluster`` of
worker processes here), each with its own journal, merged by ``--report``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nemovideo.batch import run_shard
from nemovideo.testing import FAST_SETTINGS, Emulator

from .conftest import assert_exactly_once, run_cli, write_manifest

distributed = pytest.importorskip("distributed")


@pytest.mark.timeout(240)
async def test_shards_as_dask_tasks(emu: Emulator, tmp_path: Path) -> None:
    ids = [f"sku-{n}" for n in range(6)]
    manifest = write_manifest(tmp_path, ids)
    out = tmp_path / "videos"
    options = {**FAST_SETTINGS, "base_url": emu.url, "config_dir": str(tmp_path / "cfg")}

    def on_the_cluster() -> list[list[dict[str, object]]]:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster,\
                distributed.Client(cluster) as dask:  # fmt: skip
            futures = [dask.submit(run_shard, str(manifest), (i, 3), client_options=options,
                                   out_dir=str(out), pure=False)
                       for i in (1, 2, 3)]  # fmt: skip
            return dask.gather(futures)  # type: ignore[no-any-return]

    shards = await asyncio.to_thread(on_the_cluster)
    done = sorted(r["job_id"] for shard in shards for r in shard if r["status"] == "done")
    assert done == sorted(ids)
    assert_exactly_once(emu, out, ids)
    journals = [str(tmp_path / f"jobs.jsonl.shard-{i}-of-3.journal.db") for i in (1, 2, 3)]
    code, stdout, _ = await run_cli(emu, tmp_path, "batch", "--report", *journals)
    assert code == 0 and "6 jobs in 3 of 3 shard(s): 6 done" in stdout
