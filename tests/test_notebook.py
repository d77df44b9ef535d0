"""``examples/notebook.ipynb`` runs top to bottom in a real IPython kernel, as a user would run it.

The kernel is this venv's interpreter (a kernelspec written by ``ipykernel`` for ``sys.executable``,
put first on ``JUPYTER_PATH``), started in a temporary directory with no ``NEMO_*`` settings, so the
notebook talks to its own emulator and its download lands in ``out/`` there. The committed file is
only read: outputs live in memory and are checked there.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from nemovideo.testing.mp4probe import probe_mp4

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "notebook.ipynb"
DOWNLOAD = "nemovideo-notebook.mp4"


def _read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]


def _html_outputs(nb: Any) -> list[str]:
    html: list[str] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html.extend(str(data[key]) for key in ("text/html", "image/svg+xml") if key in data)
    return html


def _stream_text(nb: Any) -> str:
    return "".join(
        str(output.get("text", ""))
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )


@pytest.fixture
def kernel_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment for the kernel; returns its working directory."""
    for name in list(os.environ):
        if name.startswith("NEMO_"):
            monkeypatch.delenv(name)
    jupyter = tmp_path / "jupyter"
    write_kernel_spec(jupyter / "kernels" / "python3")
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    work = tmp_path / "work"
    work.mkdir()
    return work


def test_committed_notebook_has_no_outputs() -> None:
    nb = _read(NOTEBOOK)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.timeout(60)
def test_notebook_runs_in_a_real_kernel(kernel_env: Path) -> None:
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] == sys.executable
    committed = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    nb = _read(NOTEBOOK)

    NotebookClient(
        nb,
        timeout=40,
        startup_timeout=30,
        kernel_name="python3",
        resources={"metadata": {"path": str(kernel_env)}},
    ).execute()

    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    html = _html_outputs(nb)
    assert any("<svg" in h for h in html), "the draft did not draw its timeline"
    players = [h for h in html if "<video" in h]
    assert players, "the downloaded video is not shown"
    assert all("data:video/mp4;base64," in h and "127.0.0.1" not in h for h in players), (
        "the player plays the downloaded file, not the emulator's URL (dead once it stops)"
    )
    assert "Lo-fi" in _stream_text(nb), "the BGM reply's changes were not printed"

    assert sorted(p.name for p in kernel_env.iterdir()) == ["out"], "only out/ is written"
    info = probe_mp4(kernel_env / "out" / DOWNLOAD)
    assert info.has_video and info.codec == "avc1"
    assert (info.width, info.height) == (1920, 1080)
    assert abs(info.duration_s - 15) < 0.5
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == committed
