"""The recipes of docs/servers.md, run as written (issue 21): each block marked
``<!-- recipe: NAME -->`` is saved as NAME and run as real processes (gunicorn with and without
``--preload``, a Celery prefork worker on the filesystem broker, a process pool, a Dask
``LocalCluster``, FastAPI's lifespan, uvloop) against the emulator, which they find through
``NEMO_API_URL`` as a deployment would. Every process is stopped by its pid, with a time bound.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "servers.md"
_RECIPE = re.compile(r"^<!-- recipe: (\S+) -->\n```python\n(.*?)^```$", re.S | re.M)
RECIPES = dict(_RECIPE.findall(PAGE.read_text(encoding="utf-8")))


def needs(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


def test_every_recipe_is_found() -> None:
    assert PAGE.read_text(encoding="utf-8").count("<!-- recipe: ") == len(RECIPES) == 8


@pytest.fixture
def app_dir(tmp_path: Path, threaded_emulator: Emulator) -> Iterator[tuple[Path, dict[str, str]]]:
    """A directory holding every recipe, and the environment a deployment would give them."""
    for name, code in RECIPES.items():
        (tmp_path / name).write_text(code)
    env = {**os.environ, "NEMO_API_URL": threaded_emulator.url,
           "NEMO_CONFIG_DIR": str(tmp_path / "nemo"), "PYTHONPATH": str(tmp_path),
           "QUEUE_DIR": str(tmp_path / "queue")}  # fmt: skip
    yield tmp_path, env


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Unclosed client session" not in done.stderr, done.stderr[-3000:]
    return done.stdout


class Background:
    """A server process started for one test and stopped by its pid."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.log = cwd / f"{Path(argv[2] if len(argv) > 2 else argv[0]).name}.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self._out,
                                     stderr=subprocess.STDOUT)  # fmt: skip

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        return self.log.read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http(method: str, url: str, deadline: float) -> Any:
    """One request, retried while the server is still starting (until ``deadline``)."""
    while True:
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, method=method), timeout=30
            ) as r:
                return json.loads(r.read())
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def check_sessions(got: list[dict[str, Any]], emu: Emulator) -> None:
    ids = [g["session_id"] for g in got]
    assert len(set(ids)) == len(ids)
    for g in got:
        assert emu.session(g["session_id"]).task_name == g["task_name"]


@pytest.mark.parametrize("preload", [True, False], ids=["preload", "no-preload"])
def test_flask_under_gunicorn(
    app_dir: tuple[Path, dict[str, str]], threaded_emulator: Emulator, preload: bool
) -> None:
    needs("gunicorn", "flask")
    cwd, env = app_dir
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--workers", "3", "--threads", "4",
            "--bind", f"127.0.0.1:{port}", "--timeout", "60", "flask_app:app"]  # fmt: skip
    server = Background([*argv, "--preload"] if preload else argv, cwd, env)
    try:
        deadline = time.monotonic() + 60
        base = f"http://127.0.0.1:{port}"
        got = [http("POST", f"{base}/sessions", deadline) for _ in range(12)]
        credits = [http("GET", f"{base}/credits", deadline) for _ in range(12)]
    finally:
        log = server.stop()
    assert all(c["available"] == 100 for c in credits), log
    assert all(g["task_name"].startswith("worker ") for g in got)
    check_sessions(got, threaded_emulator)
    assert "Traceback" not in log and "WORKER TIMEOUT" not in log, log


def test_celery_prefork_with_the_filesystem_broker(
    app_dir: tuple[Path, dict[str, str]], threaded_emulator: Emulator
) -> None:
    needs("celery")
    cwd, env = app_dir
    worker = Background([sys.executable, "-m", "celery", "-A", "celery_tasks", "worker",
                         "--pool", "prefork", "--concurrency", "2", "--loglevel", "INFO",
                         "--without-heartbeat", "--without-gossip", "--without-mingle"],
                        cwd, env)  # fmt: skip
    caller = """
import json
from celery_tasks import credits, new_session
sessions = [new_session.delay(f"celery {n}") for n in range(6)]
balance = credits.delay()
print(json.dumps({"sessions": [r.get(timeout=90) for r in sessions],
                  "credits": balance.get(timeout=90)}))
"""
    try:
        out = run([sys.executable, "-c", caller], cwd, env, timeout=150)
    finally:
        log = worker.stop()
    got = json.loads(out)
    assert nemovideo.Credits.from_dict(got["credits"]).available == 100
    check_sessions(got["sessions"], threaded_emulator)
    assert "Traceback" not in log, log


DJANGO = """
import asyncio, json, sys
import django
from django.conf import settings
from django.urls import path

views = __import__(sys.argv[1])
settings.configure(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="x",
                   MIDDLEWARE=[], INSTALLED_APPS=[])
urlpatterns = [path("credits", views.credits), path("sessions", views.new_session)]
django.setup()
from django.test import AsyncClient, Client

def names(n):
    return [f"{sys.argv[1]} {i}" for i in range(n)]

if sys.argv[2] == "asgi":
    async def main():
        http = AsyncClient()
        sessions = [(await http.get("/sessions", {"name": name})).json() for name in names(3)]
        credits = (await http.get("/credits")).json()
        await views.nemo().aclose()  # a server's worker would just end
        return sessions, credits
    sessions, credits = asyncio.run(main())
else:
    http = Client()
    sessions = [http.get("/sessions", {"name": name}).json() for name in names(3)]
    credits = http.get("/credits").json()
print(json.dumps({"sessions": sessions, "credits": credits}))
"""


@pytest.mark.parametrize(("views", "server"), [("django_asgi_views", "asgi"),
                                               ("django_wsgi_views", "wsgi")])  # fmt: skip
def test_django_views(
    app_dir: tuple[Path, dict[str, str]], threaded_emulator: Emulator, views: str, server: str
) -> None:
    needs("django")
    cwd, env = app_dir
    got = json.loads(run([sys.executable, "-c", DJANGO, views, server], cwd, env))
    assert got["credits"]["available"] == 100
    ids = [s["session_id"] for s in got["sessions"]]
    assert len(set(ids)) == 3
    for n, sid in enumerate(ids):
        assert threaded_emulator.session(sid).task_name == f"{views} {n}"


def test_the_asgi_pattern_fails_under_wsgi_as_the_guide_says(
    app_dir: tuple[Path, dict[str, str]],
) -> None:
    needs("django")
    cwd, env = app_dir
    done = subprocess.run([sys.executable, "-c", DJANGO, "django_asgi_views", "wsgi"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0 and "opened on another event loop" in done.stderr


def test_a_process_pool(app_dir: tuple[Path, dict[str, str]], threaded_emulator: Emulator) -> None:
    cwd, env = app_dir
    got = json.loads(run([sys.executable, "pool_export.py"], cwd, env))
    assert len({g["session_id"] for g in got}) == 8 and {g["available"] for g in got} == {100}
    for n, g in enumerate(got):
        assert threaded_emulator.session(g["session_id"]).task_name == f"video {n}"


def test_dask_on_a_local_cluster(
    app_dir: tuple[Path, dict[str, str]], threaded_emulator: Emulator
) -> None:
    needs("distributed")
    cwd, env = app_dir
    got = json.loads(run([sys.executable, "dask_batch.py"], cwd, env, timeout=180))
    assert [g["task_name"] for g in got] == [f"clip {n}" for n in range(6)]
    check_sessions(got, threaded_emulator)


def test_fastapi_lifespan(
    app_dir: tuple[Path, dict[str, str]], threaded_emulator: Emulator
) -> None:
    needs("fastapi", "httpx")
    cwd, env = app_dir
    driver = """
import json
from fastapi.testclient import TestClient
from fastapi_app import app
with TestClient(app) as http:
    sessions = [http.post("/sessions").json() for _ in range(3)]
    print(json.dumps({"credits": http.get("/credits").json(), "sessions": sessions}))
"""
    got = json.loads(run([sys.executable, "-c", driver], cwd, env))
    assert got["credits"]["available"] == 100
    assert len({s["session_id"] for s in got["sessions"]}) == 3


def test_uvloop(app_dir: tuple[Path, dict[str, str]]) -> None:
    """Not in the [dev] extra: with uvloop installed, pproxy (tests/http/test_proxy.py) fails to
    start (uvloop's get_event_loop refuses), so this runs where uvloop is installed."""
    needs("uvloop")
    cwd, env = app_dir
    assert run([sys.executable, "uvloop_main.py"], cwd, env).strip() == "100"


def test_trio_is_refused_with_a_nemo_error(tmp_path: Path) -> None:
    needs("trio")
    import trio

    async def main() -> None:
        async with nemovideo.NemoClient(base_url="http://127.0.0.1:9", config_dir=tmp_path) as c:
            await c.credits()

    with pytest.raises(nemovideo.NemoError, match="trio"):
        trio.run(main)


def test_without_any_asyncio_loop_the_error_is_a_nemo_error(tmp_path: Path) -> None:
    """What trio (or any other runner) sees, shown with a bare coroutine."""
    client = nemovideo.NemoClient(base_url="http://127.0.0.1:9", config_dir=tmp_path, token="t1")
    call = client.credits()
    with pytest.raises(nemovideo.NemoError, match="no asyncio event loop"):
        call.send(None)
    call.close()
    _ = asyncio
