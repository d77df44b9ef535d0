"""Time is the server's to judge: a token whose ``expires_at`` is past by the client's clock is used
until the server answers 1001; an ``expires_at`` of any size or shape is read liberally or as
unknown (never an ``OverflowError``), in the answer and in the cache; a cache holding the wrong types
is replaced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from tests.http.test_token_expiry import SHAPES

from ._hostile import Hostile, client_for, envelope, expect_error, outcome, sequence

TOKEN_PATH = "/api/auth/anonymous-token"
CREDITS = "/api/credits/balance/simple"
BALANCE = {"available": 100, "frozen": 0, "total": 100}


@pytest.mark.parametrize("expires_at", SHAPES, ids=[repr(s)[:20] for s in SHAPES])
async def test_a_token_of_any_expiry_is_used_until_the_server_says_1001(
    hostile: Hostile, tmp_path: Path, expires_at: Any
) -> None:
    answers = [envelope({"token": f"tok_{i}", "user_id": "anon_1", "expires_at": expires_at})
               for i in (1, 2)]  # fmt: skip
    hostile.on("POST", TOKEN_PATH, sequence(*answers, envelope(None, 429, 429)))
    hostile.on("GET", CREDITS, sequence(envelope(BALANCE), envelope(BALANCE), envelope(BALANCE),
                                        envelope(None, 1001), envelope(BALANCE)))  # fmt: skip
    async with client_for(hostile, tmp_path, None, client_id="cid") as client:
        for _ in range(4):
            result = await outcome(client.credits())
            assert isinstance(result, nemovideo.Credits), repr(result)
    assert hostile.count("POST", TOKEN_PATH) == 2, "renewed only on 1001"
    sent = [s.headers["Authorization"] for s in hostile.requests("GET", CREDITS)]
    assert sent == ["Bearer tok_1"] * 4 + ["Bearer tok_2"]

    async with client_for(hostile, tmp_path, None, client_id="cid") as again:
        assert isinstance(await outcome(again.credits()), nemovideo.Credits)
    assert hostile.count("POST", TOKEN_PATH) == 2, "the cached token was used as it is"
    assert hostile.requests("GET", CREDITS)[-1].headers["Authorization"] == "Bearer tok_2"


@pytest.mark.parametrize(
    "cache",
    [
        {"token": 12345, "expires_at": 1},
        {"token": ["a"], "user_id": 7},
        {"token": "ok\nbad", "expires_at": None},
        ["token", "x"],
        "just a string",
        42,
        {"token": "tok_cached", "user_id": {"x": 1}, "expires_at": 10**400},
    ],
    ids=["int-token", "list-token", "header-unsafe", "list", "string", "number", "odd-fields"],
)
async def test_a_token_cache_of_the_wrong_types_is_replaced(
    hostile: Hostile, tmp_path: Path, cache: Any
) -> None:
    hostile.on("POST", TOKEN_PATH, envelope({"token": "tok_new", "expires_at": None}))
    hostile.on("GET", CREDITS, envelope(BALANCE))
    async with client_for(hostile, tmp_path, None, client_id="cid") as client:
        await client.credits()
    (path,) = (tmp_path / "config").glob("token-*.json")
    path.write_text(json.dumps(cache))
    hostile.seen.clear()
    async with client_for(hostile, tmp_path, None, client_id="cid") as client:
        result = await outcome(client.credits())
    assert isinstance(result, nemovideo.Credits), repr(result)
    good = isinstance(cache, dict) and cache.get("token") == "tok_cached"
    assert hostile.count("POST", TOKEN_PATH) == (0 if good else 1)
    if not good:
        assert json.loads(path.read_text())["token"] == "tok_new", "the bad cache was replaced"


async def test_a_refused_renewal_after_1001_is_a_typed_error(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.on("POST", TOKEN_PATH, sequence(
        envelope({"token": "tok_1", "expires_at": "2001-01-01T00:00:00Z"}),
        envelope(None, 429, 429)))  # fmt: skip
    hostile.on("GET", CREDITS, sequence(envelope(BALANCE), envelope(None, 1001)))
    async with client_for(hostile, tmp_path, None, client_id="cid") as client:
        assert isinstance(await outcome(client.credits()), nemovideo.Credits)
        error = await expect_error(client.credits())
    assert isinstance(error, nemovideo.APIError), repr(error)
