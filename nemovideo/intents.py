"""Deprecated path, kept for one release: import from ``nemovideo`` (or ``nemovideo.assistant``).

from nemovideo import route, translate_gui
"""

from __future__ import annotations

from nemovideo.assistant._intents import (
    ACTIONS,
    Action,
    GuiTranslation,
    Intent,
    normalize,
    route,
    translate_gui,
)

__all__ = ["ACTIONS", "Action", "GuiTranslation", "Intent", "normalize", "route", "translate_gui"]
