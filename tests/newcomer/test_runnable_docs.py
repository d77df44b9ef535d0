"""Every Python block of README.md and docs/*.md marked ``<!-- runnable -->`` runs as written.

A newcomer pastes a block into ``main.py`` and runs it. Here each marked block is written to an empty
directory and run as a real process, against an emulator started the way the README says
(``nemovideo emulator &`` and ``NEMO_API_URL``), with a time bound; identical blocks (the README's
sample is also the docs home page's) run once. The marker convention is in CONTRIBUTING.md.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemovideo.testing.mp4probe import probe_mp4

from ._proc import emulator_process

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = "<!-- runnable -->"
_BLOCK = re.compile(r"^<!-- runnable -->\n```python\n(.*?)^```$", re.S | re.M)


def marked_blocks() -> dict[str, list[str]]:
    """Each distinct marked block's code, with the pages it appears on."""
    found: dict[str, list[str]] = {}
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks = _BLOCK.findall(text)
        assert len(blocks) == text.count(MARKER), f"{page.name}: a marker not right above ```python"
        for code in blocks:
            found.setdefault(code, []).append(page.relative_to(ROOT).as_posix())
    return found


BLOCKS = marked_blocks()


def _ids() -> list[str]:
    return [f"{pages[0]}#{n}" for n, pages in enumerate(BLOCKS.values())]


def test_the_pages_a_newcomer_reads_first_have_runnable_samples() -> None:
    pages = {page for pages in BLOCKS.values() for page in pages}
    assert {"README.md", "docs/index.md", "docs/quickstart.md", "docs/testing.md"} <= pages
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    extra = [line for line in readme.splitlines() if line.startswith("nemovideo emulator &")]
    assert extra == [
        "nemovideo emulator & export NEMO_API_URL=http://127.0.0.1:8765     # the one extra line"
    ], "the README documents one extra line to go offline"


@pytest.mark.parametrize("code", list(BLOCKS), ids=_ids())
def test_a_marked_block_is_a_whole_program(code: str) -> None:
    tree = ast.parse(code)  # a top-level await / async with is a SyntaxError in a .py file
    top = [type(node).__name__ for node in tree.body]
    assert "AsyncWith" not in top and "Await" not in top
    defined = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    defined |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree)
                if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}  # fmt: skip
    defined |= {
        n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    defined |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    builtins = set(dir(__builtins__)) if not isinstance(__builtins__, dict) else set(__builtins__)
    assert used - defined - builtins == set(), "every name is imported or defined"


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with emulator_process() as url:
        yield url


@pytest.mark.timeout(240)
@pytest.mark.parametrize("code", list(BLOCKS), ids=_ids())
def test_a_marked_block_runs_against_the_emulator(code: str, api_url: str, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env.update(NEMO_API_URL=api_url, NEMO_CONFIG_DIR=str(tmp_path / "config"))
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for video in tmp_path.glob("*.mp4"):
        assert probe_mp4(video).has_video, video
    if "download(" in code:
        saved = [p for p in tmp_path.glob("*.*") if p.suffix in (".mp4", ".webm", ".mov", ".gif")]
        assert saved, "the block's video was saved where it said"
