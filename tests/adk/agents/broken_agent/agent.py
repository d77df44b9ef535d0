"""Fails at import, as an agent with a bad dependency or a typo does."""

from __future__ import annotations

raise RuntimeError("broken_agent cannot load: missing API key")
