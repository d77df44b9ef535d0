"""The client does not carry the emulator: no module outside ``nemovideo.testing`` imports it (or
``aiohttp.web``) when it is imported, so ``nemovideo credits`` starts without either."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator

from ..conftest import communicate

PACKAGE = Path(nemovideo.__file__).parent
KNOWN: dict[str, str] = {}


def _module_level_imports(tree: ast.Module) -> list[str]:
    """Names imported when the module runs: not inside a function or an ``if TYPE_CHECKING``."""
    found: list[str] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                sep = "" if base.endswith(".") else "."
                found.extend(f"{base}{sep}{alias.name}" for alias in node.names)
                found.append(base)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, (ast.Try, ast.With)):
                visit(node.body)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return found


def _offending(name: str) -> bool:
    return name.startswith((".testing", "nemovideo.testing", "aiohttp.web"))


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(p.name, marks=pytest.mark.xfail(strict=True, reason=KNOWN[p.name]))
        if p.name in KNOWN
        else p.name
        for p in sorted(PACKAGE.glob("*.py"))
    ],
)
def test_no_client_module_imports_the_emulator(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    bad = [n for n in _module_level_imports(tree) if _offending(n)]
    assert bad == [], f"{module} imports {bad} at module level"


async def test_nemovideo_credits_imports_neither(emulator: Emulator, tmp_path: Path) -> None:
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(m for m in sys.modules\n"
        "    if m.startswith('nemovideo.testing') or m.startswith('aiohttp.web')))))\n"
        "from nemovideo.cli import main\n"
        "sys.exit(main(['credits']))\n"
    )
    env = {**os.environ, "NEMO_API_URL": emulator.url, "NEMO_CONFIG_DIR": str(tmp_path)}
    env.pop("NEMO_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await communicate(proc, 120)
    assert proc.returncode == 0, err.decode()
    *shown, imported = out.decode().strip().splitlines()
    assert json.loads(imported) == []
    assert "100" in "\n".join(shown)
    assert len(emulator.requests_to("/api/credits/balance/simple", "GET")) == 1
