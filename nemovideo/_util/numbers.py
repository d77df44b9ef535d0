"""Numbers from the server, read liberally and never trusted.

A server value that should be a number may arrive as ``3``, ``3.0``, ``"3"``, ``"35%"``, ``NaN``,
``Infinity``, ``1e999`` (``inf`` once decoded), ``"NaN"``, a 5,000-digit integer, ``true`` or an
object. Each reader here answers a finite number or ``None`` ("unknown"), and never raises:
``OverflowError`` and ``ValueError`` stop at this module.

>>> finite_float("35%"), finite_float(float("nan")), finite_float(10**400), finite_float(True)
(35.0, None, None, None)
>>> whole("2001.0"), whole(-3.7), whole("1e999")
(2001, -3, None)
"""

from __future__ import annotations

import math

#: Anything beyond this magnitude is read as unknown: no count, size or time the API sends is
#: larger, and it keeps ``int()`` of a float exact and cheap.
LIMIT = 2.0**63


def finite_float(value: object) -> float | None:
    """``value`` as a finite float, or ``None``; strings may carry spaces and a trailing ``%``."""
    if isinstance(value, float):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -LIMIT < value < LIMIT:
            return None
        result = float(value)
    elif isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        if not text or len(text) > 64:
            return None
        try:
            result = float(text)
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(result) or not -LIMIT < result < LIMIT:
        return None
    return result


def whole(value: object) -> int | None:
    """``value`` as an int (fractions truncated toward zero), or ``None`` when unknown."""
    if type(value) is int and -LIMIT < value < LIMIT:  # the common answer, decided at once
        return value
    number = finite_float(value)
    return None if number is None else int(number)


def code_of(value: object) -> int | None:
    """An envelope ``code`` in any JSON form (``2001``, ``2001.0``, ``"2001"``) as an int.

    A fractional code (``2001.5``) is no code at all: ``None``.
    """
    if type(value) is int and -LIMIT < value < LIMIT:
        return value
    number = finite_float(value)
    if number is None or number != int(number):
        return None
    return int(number)
