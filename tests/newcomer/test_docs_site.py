"""The documentation site builds strictly and reads cleanly: no reST markup leaks onto a page.

Docstrings serve ``help()`` and the site at once; ``docs/hooks.py`` turns the reST habits they keep
(``::`` before an example, ``:class:`X``` roles, the ``PROTOCOL.md`` the SDK was written from) into
what a reader of a web page expects. This builds the site the way ``make docs`` does and reads
every page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):(?:<code>|`)")


@pytest.mark.timeout(180)
def test_the_site_builds_strictly_and_no_markup_leaks(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=170,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pages = sorted(site.rglob("index.html"))
    assert len(pages) > 20
    for page in pages:
        html = page.read_text(encoding="utf-8")
        where = page.relative_to(site)
        assert not _ROLE.search(html), f"{where}: a Sphinx role leaks"
        assert not re.search(r"::\s*</p>", html), f"{where}: a reST '::' leaks"
        if "reference" in where.parts:
            assert "PROTOCOL.md" not in html, f"{where}: cites a file that is not in the repository"
    assert (site / "protocol" / "index.html").is_file()
    assert not (site / "hooks.py").exists(), "the build hook is not published"
    examples = {"client": ["again.id == session.id", "Timeline (1 track): 1. Video"],
                "chat": ["tool: edit_multitrack", "session.answer(asked.question"],
                "draft": ["BGM volume 35% -&gt; 60%"], "render": ["completed video.mp4"],
                "upload": ["UnsupportedFileError"], "sync": ["python -m nemovideo.testing"],
                "testing": ["max_retries=0"]}  # fmt: skip
    for page, shown in examples.items():
        html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
        for text in shown:
            assert text in html, f"reference/{page}: the example showing {text!r} is missing"
