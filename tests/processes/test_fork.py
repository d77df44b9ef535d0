"""Fork safety (issue 21): a client made before ``fork()`` works in every child with the child's
own loop, thread and connections, in real processes against the emulator.

Each script below forks children that each create a session under a name of their own and read
it back: the ids are distinct and every answer names the child's own request (a child reading
the parent's or a sibling's answer would see another name). Every child also arms
``signal.alarm`` so a hang ends as a failure, and the test bounds the whole run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from nemovideo.testing import Emulator

from ..conftest import FAST, communicate

COMMON = """
import asyncio, json, os, signal, sys, threading
from pathlib import Path
import nemovideo
from nemovideo.sync import SyncNemoClient

url, config_dir, options = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
CHILDREN = 4


def fork_children(work):
    '''Fork CHILDREN processes running work(n); their JSON results, in order.'''
    pipes = []
    for n in range(CHILDREN):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            signal.alarm(30)
            try:
                out = {"ok": work(n)}
            except BaseException as exc:
                out = {"error": f"{type(exc).__name__}: {exc}"}
            os.write(write, json.dumps(out).encode())
            os._exit(0)
        os.close(write)
        pipes.append((pid, read))
    results = []
    for pid, read in pipes:
        with os.fdopen(read, "rb") as f:
            results.append(json.loads(f.read() or b'{"error": "no answer"}'))
        os.waitpid(pid, 0)
    return results


def own_session(client, n):
    '''Create a session named for this child and read it back: (id, name read, credits).'''
    session = client.create_session(task_name=f"child {n} of {os.getpid()}")
    state = client.session(session.id).state()
    assert state.session_id == session.id, (state.session_id, session.id)
    assert state.task_name == f"child {n} of {os.getpid()}", state.task_name
    return [session.id, state.task_name, client.credits().available]
"""

SYNC_AFTER_A_CALL = (
    COMMON
    + """
client = SyncNemoClient(base_url=url, config_dir=config_dir, **options)   # module level
before = client.credits().available            # the parent has a pooled connection now
results = fork_children(lambda n: own_session(client, n))
after = own_session(client, "parent")           # the parent's client is untouched
client.close()
print(json.dumps({"before": before, "results": results, "after": after,
                  "threads": [t.name for t in threading.enumerate()]}))
"""
)

SYNC_DURING_A_CALL = (
    COMMON
    + """
client = SyncNemoClient(base_url=url, config_dir=config_dir, **options)
client.credits()
session = client.create_session()
inside = threading.Event()
uploaded = []

def upload():
    # progress runs inside the client's loop: the thread is in the middle of the call
    media = session.upload(sys.argv[4], progress=lambda done, total: inside.set())
    uploaded.append(media[0].name)

uploader = threading.Thread(target=upload)
uploader.start()
assert inside.wait(30)
results = fork_children(lambda n: own_session(client, n))
uploader.join(30)
client.close()
print(json.dumps({"results": results, "uploaded": uploaded}))
"""
)

ASYNC_AFTER_A_CALL = (
    COMMON
    + """
config = nemovideo.ClientConfig(base_url=url, config_dir=config_dir, **options)
client = nemovideo.NemoClient(config=config)     # module level, as a preloaded app has it

async def warm():
    return (await client.credits()).available

async def child(n):
    session = await client.create_session(task_name=f"child {n} of {os.getpid()}")
    state = await client.session(session.id).state()
    assert state.session_id == session.id and state.task_name == f"child {n} of {os.getpid()}"
    credits = await client.credits()
    await client.aclose()
    return [session.id, state.task_name, credits.available]

loop = asyncio.new_event_loop()                 # the parent's loop, as a preloading app has it
before = loop.run_until_complete(warm())        # the pool is bound to that loop now
results = fork_children(lambda n: asyncio.run(child(n)))
after = loop.run_until_complete(warm())          # the parent's client is untouched
loop.run_until_complete(client.aclose())
loop.close()
print(json.dumps({"before": before, "results": results, "after": after}))
"""
)

INJECTED_SESSION = (
    COMMON
    + """
import aiohttp

async def make():
    session = aiohttp.ClientSession()
    client = nemovideo.NemoClient(base_url=url, config_dir=config_dir, http_session=session,
                                  **options)
    await client.credits()
    return session, client

loop = asyncio.new_event_loop()
session, client = loop.run_until_complete(make())

async def child(n):
    try:
        await client.credits()
    except nemovideo.NemoError as exc:
        return str(exc)
    return "no error"

results = fork_children(lambda n: asyncio.run(child(n)))
after = loop.run_until_complete(client.credits()).available
loop.run_until_complete(client.aclose())
loop.run_until_complete(session.close())
loop.close()
print(json.dumps({"results": results, "after": after}))
"""
)


async def run_script(tmp_path: Path, emu: Emulator, script: str, *extra: str) -> dict[str, Any]:
    path = tmp_path / "forks.py"
    path.write_text(script)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(path), emu.url, str(tmp_path / "cfg"), json.dumps(FAST), *extra,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await communicate(proc, 90)
    assert proc.returncode == 0, stderr.decode()
    assert b"Unclosed" not in stderr and b"Traceback" not in stderr, stderr.decode()
    got: dict[str, Any] = json.loads(stdout)
    return got


def check_children(results: list[dict[str, Any]], emu: Emulator) -> None:
    assert all("ok" in r for r in results), results
    ids = [r["ok"][0] for r in results]
    assert len(set(ids)) == len(ids) == 4
    for n, (sid, name, credits) in enumerate(r["ok"] for r in results):
        assert name.startswith(f"child {n} of ") and credits == 100
        assert emu.session(sid).task_name == name


async def test_a_sync_client_used_before_fork_works_in_every_child(
    emulator: Emulator, tmp_path: Path
) -> None:
    got = await run_script(tmp_path, emulator, SYNC_AFTER_A_CALL)
    assert got["before"] == 100
    check_children(got["results"], emulator)
    assert got["after"][1] == "child parent of " + got["after"][1].rsplit(" ", 1)[1]
    assert got["threads"] == ["MainThread"]


async def test_a_fork_while_another_thread_is_inside_a_call(
    emulator: Emulator, tmp_path: Path
) -> None:
    sample = Path(__file__).parents[2] / "nemovideo" / "samples" / "city_1.jpg"
    emulator.faults.delay(1.0, path="/api/upload")  # keeps the parent's upload in flight
    got = await run_script(tmp_path, emulator, SYNC_DURING_A_CALL, str(sample))
    check_children(got["results"], emulator)
    assert got["uploaded"] == ["city_1.jpg"], "the parent's call finished as if nothing happened"


async def test_an_async_client_used_before_fork_works_in_every_child(
    emulator: Emulator, tmp_path: Path
) -> None:
    got = await run_script(tmp_path, emulator, ASYNC_AFTER_A_CALL)
    assert got["before"] == got["after"] == 100
    check_children(got["results"], emulator)


async def test_an_injected_session_used_after_fork_says_to_make_one_per_worker(
    emulator: Emulator, tmp_path: Path
) -> None:
    got = await run_script(tmp_path, emulator, INJECTED_SESSION)
    assert got["after"] == 100, "the parent keeps its session"
    for result in got["results"]:
        text = result["ok"]
        assert "forked" in text and "post_fork" in text and "worker_process_init" in text
