"""Token expiry timestamps read the same on every supported Python.

Python 3.10's ``datetime.fromisoformat`` refuses ``Z``, ``+0000`` and fractions of other than 3
or 6 digits; an expiry it could not read used to mean "never expires", so a dead token was kept.
Run this file under 3.10 as well: ``/tmp/v310/bin/python -m pytest tests/http/test_token_expiry.py``.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from nemovideo._http.auth import AnonymousToken, _parse_time
from nemovideo.testing import Emulator, fast_client

BASE = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()
HOUR = 3600.0

READABLE: list[tuple[str, float]] = [
    ("2025-01-02T03:04:05Z", BASE),
    ("2025-01-02T03:04:05z", BASE),
    ("2025-01-02T03:04:05+00:00", BASE),
    ("2025-01-02T03:04:05+0000", BASE),
    ("2025-01-02T03:04:05+00", BASE),
    ("2025-01-02T03:04:05-00:00", BASE),
    ("2025-01-02T03:04:05", BASE),
    ("2025-01-02 03:04:05", BASE),
    ("2025-01-02t03:04:05Z", BASE),
    ("2025-01-02 03:04:05 +0000", BASE),
    ("  2025-01-02T03:04:05Z\n", BASE),
    ("20250102T030405Z", BASE),
    ("20250102T030405+0000", BASE),
    ("2025-01-02T03:04:05.1Z", BASE + 0.1),
    ("2025-01-02T03:04:05.12Z", BASE + 0.12),
    ("2025-01-02T03:04:05.123Z", BASE + 0.123),
    ("2025-01-02T03:04:05.1234Z", BASE + 0.1234),
    ("2025-01-02T03:04:05.12345+00:00", BASE + 0.12345),
    ("2025-01-02T03:04:05.123456Z", BASE + 0.123456),
    ("2025-01-02T03:04:05.1234567Z", BASE + 0.123456),
    ("2025-01-02T03:04:05.123456789+0000", BASE + 0.123456),
    ("2025-01-02T03:04:05,5Z", BASE + 0.5),
    ("2025-01-02T03:04:05.5", BASE + 0.5),
    ("2025-01-02T05:04:05+02:00", BASE),
    ("2025-01-02T05:04:05+0200", BASE),
    ("2025-01-02T05:04:05+02", BASE),
    ("2025-01-02T08:34:05.250+05:30", BASE + 0.25),
    ("2025-01-01T22:04:05-05:00", BASE),
    ("2025-01-01T22:04:05-0500", BASE),
    ("2025-01-02T03:04Z", BASE - 5),
    ("2025-01-02T03:04", BASE - 5),
    ("2025-01-02T03Z", BASE - 4 * 60 - 5),
    ("2025-01-02", BASE - 3 * HOUR - 4 * 60 - 5),
    ("20250102", BASE - 3 * HOUR - 4 * 60 - 5),
    ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=timezone.utc).timestamp()),
]

UNREADABLE: list[Any] = [
    None,
    "",
    "   ",
    "soon",
    "2025-13-02T03:04:05Z",
    "2025-02-30T03:04:05Z",
    "2025-01-02T24:00:00Z",
    "2025-01-02T03:60:00Z",
    "2025-01-02T03:04:05+05:75",
    "2025-01-02T03:04:05+24:00",
    "2025-01-02T03:04:05.Z",
    "2025-01-02T03:04:05Zjunk",
    "2025-01-02T03:04:05 UTC",
    "1735787045",
    "02/01/2025",
    "２０２５-01-02",
    True,
    float("nan"),
    float("inf"),
    [2025, 1, 2],
    {"at": 1},
]


@pytest.mark.parametrize(("text", "expected"), READABLE)
def test_iso_8601_forms_parse_to_the_same_instant(text: str, expected: float) -> None:
    parsed = _parse_time(text)
    assert parsed is not None
    assert math.isclose(parsed, expected, rel_tol=0, abs_tol=1e-6), (text, parsed - expected)


@pytest.mark.parametrize("value", UNREADABLE, ids=repr)
def test_unreadable_expiry_is_none(value: Any) -> None:
    assert _parse_time(value) is None


def test_epoch_numbers_pass_through() -> None:
    assert _parse_time(1735787045) == 1735787045.0
    assert _parse_time(1735787045.5) == 1735787045.5
    assert _parse_time(0) == 0.0


def test_agrees_with_fromisoformat_where_every_python_reads_the_string() -> None:
    """The forms 3.10 already read give the answer they always gave (aware ones, at least)."""
    for text in ("2025-01-02T03:04:05+00:00", "2025-01-02T08:34:05.250+05:30",
                 "2025-01-01T22:04:05.123456-05:00"):  # fmt: skip
        assert _parse_time(text) == datetime.fromisoformat(text).timestamp()


def test_expired_z_token_is_read_but_the_server_judges() -> None:
    """On 3.10 an expiry with ``.1Z`` once read as None. It is read; yet a token past its expiry
    by this machine's clock is still sent: the server judges expiry (answering 1001)."""
    tok = AnonymousToken.from_response({"token": "t", "expires_at": "2020-01-02T03:04:05.1Z"})
    assert tok.expires_at is not None
    assert tok.expired_by_clock()
    assert tok.usable()
    fresh = AnonymousToken.from_response({"token": "t", "expires_at": "2999-01-02T03:04:05+0000"})
    assert fresh.usable() and not fresh.expired_by_clock()


def _token_cache(config_dir: Path) -> Path:
    """The one file a client with an explicit client id keeps in its config dir: the token cache."""
    (path,) = config_dir.glob("*.json")
    return path


async def test_cached_string_expiry_is_read_too(emulator: Emulator, tmp_path: Path) -> None:
    """A cache file holding an ISO string (hand-edited, or from another tool) is not eternal.

    A client caches its token; the cache is rewritten with a past ``Z`` expiry and the server's
    token expired. The next client sends the cached token (the server judges expiry, whatever
    this machine's clock says), is answered 1001, renews once and replays. A future ``.5Z``
    expiry is read and the cached token used as is.
    """
    async with fast_client(emulator, tmp_path, client_id="cid") as first:
        await first.credits()
    path = _token_cache(tmp_path)
    stale = json.loads(path.read_text())["token"]
    path.write_text(json.dumps({"token": stale, "expires_at": "2020-01-02T03:04:05Z"}))
    emulator.faults.expire_tokens()
    async with fast_client(emulator, tmp_path, client_id="cid") as second:
        await second.credits()
    assert len(emulator.requests_to("/api/auth/anonymous-token")) == 2
    credits = emulator.requests_to("/api/credits")
    assert len(credits) == 3, "the cached token was sent, answered 1001, and replayed once"
    assert credits[1].headers["Authorization"] == f"Bearer {stale}"
    fresh = credits[-1].headers["Authorization"].removeprefix("Bearer ")
    assert fresh != stale

    path.write_text(json.dumps({"token": fresh, "expires_at": "2999-01-02T03:04:05.5Z"}))
    async with fast_client(emulator, tmp_path, client_id="cid") as third:
        await third.credits()
    assert len(emulator.requests_to("/api/auth/anonymous-token")) == 2, "the cached one served"
    assert emulator.requests[-1].headers["Authorization"] == f"Bearer {fresh}"


# -- any size or shape (hostile answers, round two) --------------------------------------------

SHAPES: list[Any] = [
    "2020-01-01T00:00:00Z",  # past by any clock
    "1999-12-31",
    10**400,  # an integer float() cannot hold
    -(10**400),
    "9" * 400,
    1e308,
    -5,
    0,
    "9999-12-31T23:59:59-23:59",  # past datetime's range once the offset is applied
    "0000-01-01T00:00:00Z",
    "not a date",
    {"seconds": 5},
    [2025],
    None,
    True,
    1_700_000_000_000,  # milliseconds
]


@pytest.mark.parametrize("expires_at", SHAPES, ids=[repr(s)[:20] for s in SHAPES])
def test_any_expiry_reads_as_a_time_or_unknown(expires_at: Any) -> None:
    value = _parse_time(expires_at)
    assert value is None or (isinstance(value, float) and -1e12 < value < 1e12)


def test_milliseconds_are_read_and_absurd_numbers_are_unknown() -> None:
    assert _parse_time(1_700_000_000_000) == 1_700_000_000.0
    assert _parse_time(10**400) is None and _parse_time(1e300) is None
