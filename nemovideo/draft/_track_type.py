"""``TrackType``: the kinds of timeline track the protocol documents (``tt``: 0, 1, 7).

Its own module because the draft's readers and its SVG drawing both need it, and neither should
import the whole ``draft`` module for one enum; ``nemovideo.draft.TrackType`` is the public name.
"""

from __future__ import annotations

import enum

from nemovideo._util.numbers import finite_float
from nemovideo.draft import _read as rd

__all__ = ["TrackType"]


class TrackType(enum.IntEnum):
    """Track types the protocol documents. Unknown numbers are kept as plain ``int``."""

    VIDEO = 0
    AUDIO = 1
    TEXT = 7

    @classmethod
    def coerce(cls, value: object) -> TrackType | int | None:
        """``1``, ``"1"``, ``1.0`` or ``"audio"`` -> ``TrackType.AUDIO``; ``3`` -> ``3``; junk -> None."""
        if isinstance(value, str):
            word = value.strip().lower()
            if word in rd.TYPE_WORDS:
                return cls(rd.TYPE_WORDS[word])
        number = finite_float(value)
        if number is None or number != int(number):
            return None
        try:
            return cls(int(number))
        except ValueError:
            return int(number)

    @property
    def label(self) -> str:
        """The lowercase name (``"video"``, ``"audio"``, ``"text"``), for display and logs."""
        return self.name.lower()
