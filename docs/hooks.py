"""MkDocs hook: docstrings are written for both ``help()`` and this site; tidy what only reST means.

Docstrings use a few reST habits (a paragraph ending in ``::`` before an example, ``:class:`X```
roles). On the site, ``::`` becomes ``:`` and a role becomes plain code showing the last name of
the path, so no markup meant for Sphinx reaches a reader. A docstring's mention of the protocol
notes the SDK was written from (``PROTOCOL.md``) links to this site's page on the wire protocol.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj):<code>~?\.?([\w.]+?)</code>")
_LITERAL = re.compile(r"::(\s*</p>)")
_PROTOCOL = re.compile(r"\bPROTOCOL(?:\.md)?(?='s|\b)")


def _short(match: re.Match[str]) -> str:
    return f"<code>{match.group(1).rsplit('.', 1)[-1]}</code>"


def on_page_content(html: str, *, page: Any, **_: Any) -> str:
    html = _LITERAL.sub(r":\1", _ROLE.sub(_short, html))
    if page.file.src_uri.startswith("reference/"):
        link = '<a href="../../protocol/">the wire protocol</a>'
        html = _PROTOCOL.sub(link, html)
    return html
