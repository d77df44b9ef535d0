"""What the vendor's own texts say: anonymous tokens cannot render (an export answered 402 is an
``ExportBlockedError`` naming the registration URL and the claim link, never retried); the
anonymous-token 429 is a 7-day quota (fail at once naming it and ``NEMO_TOKEN``, unless
``Retry-After`` is short); a 2001 carrying a registration URL uses it. The emulator speaks each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo.testing import Emulator, fast_client
from nemovideo.testing.drafts import example_draft

from ._hostile import SESSION_ID, Hostile, client_for, envelope, expect_error, json_text, reply

TOKEN_PATH = "/api/auth/anonymous-token"
SUBMIT = "/api/render/proxy/lambda"
CREDITS = "/api/credits/balance/simple"
WEB = "https://web.test"
TOKEN = envelope({"token": "nmv_usr_anon", "user_id": "anon_0123456789abcdef"})


def anonymous(srv: Hostile, tmp_path: Path, **options: Any) -> nemovideo.NemoClient:
    srv.on("POST", TOKEN_PATH, TOKEN)
    return client_for(srv, tmp_path, None, client_id="cid", web_url=WEB, **options)


@pytest.mark.parametrize(
    "answer",
    [json_text('{"code": 402, "message": "Export blocked"}', status=402),
     json_text('{"code": 402, "message": "Export blocked"}'),
     reply(402, b"Payment Required", {"Content-Type": "text/plain"}),
     json_text('{"success": false, "error": "payment required"}', status=402)],
    ids=["402-envelope", "402-code-on-200", "402-plain", "402-render-envelope"],
)  # fmt: skip
async def test_an_export_answered_402_is_blocked_with_both_links_and_not_retried(
    hostile: Hostile, tmp_path: Path, answer: Any
) -> None:
    hostile.on("POST", SUBMIT, answer)
    async with anonymous(hostile, tmp_path) as client:
        error = await expect_error(client.session(SESSION_ID).export(draft=example_draft()))
    assert isinstance(error, nemovideo.ExportBlockedError), repr(error)
    assert error.registration_url == f"{WEB}/register?bind=anon_0123456789abcdef"
    assert error.claim_url is not None and SESSION_ID in error.claim_url
    assert error.registration_url in str(error) and error.claim_url in str(error)
    assert hostile.count("POST", SUBMIT) == 1, "a 402 is never retried"


async def test_a_402_with_its_own_registration_url_uses_it(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.on("POST", SUBMIT, json_text(json.dumps({"code": 402, "message": "no render scope",
        "data": {"registration_url": "https://vendor.test/register?bind=x"}}), status=402))  # fmt: skip
    async with anonymous(hostile, tmp_path) as client:
        error = await expect_error(client.session(SESSION_ID).export(draft=example_draft()))
    assert isinstance(error, nemovideo.ExportBlockedError), repr(error)
    assert error.registration_url == "https://vendor.test/register?bind=x"


@pytest.mark.parametrize("retry_after", [None, "604800", "3600"])
async def test_the_anonymous_token_429_is_a_quota_that_fails_at_once(
    hostile: Hostile, tmp_path: Path, retry_after: str | None
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    hostile.on("POST", TOKEN_PATH, reply(429, b'{"code": 429, "message": "Too many requests"}',
                                         {"Content-Type": "application/json", **headers}))  # fmt: skip
    async with client_for(hostile, tmp_path, None, rate_limit_wait=5.0) as client:
        error = await expect_error(client.credits(), limit=3.0)
    assert isinstance(error, nemovideo.RateLimitError), repr(error)
    assert "7-day" in str(error) and "NEMO_TOKEN" in str(error)
    assert hostile.count("POST", TOKEN_PATH) == 1
    assert hostile.count("GET", CREDITS) == 0


async def test_a_short_retry_after_on_the_token_call_is_waited(
    hostile: Hostile, tmp_path: Path
) -> None:
    from ._hostile import outcome, sequence

    hostile.on("POST", TOKEN_PATH, sequence(
        reply(429, b'{"code": 429}', {"Content-Type": "application/json", "Retry-After": "0.01"}),
        TOKEN))  # fmt: skip
    hostile.on("GET", CREDITS, envelope({"available": 1, "frozen": 0, "total": 1}))
    async with client_for(hostile, tmp_path, None) as client:
        result = await outcome(client.credits())
    assert isinstance(result, nemovideo.Credits), repr(result)
    assert hostile.count("POST", TOKEN_PATH) == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [({"code": 2001, "message": "No credits",
       "data": {"registration_url": "https://vendor.test/r?bind=a"}}, "https://vendor.test/r?bind=a"),
     ({"code": 2001, "message": "No credits", "registrationUrl": "https://vendor.test/x"},
      "https://vendor.test/x"),
     ({"code": 2001, "message": "No credits; register at https://vendor.test/register?bind=z."},
      "https://vendor.test/register?bind=z"),
     ({"code": 2001, "message": "No credits", "data": {"registration_url": "javascript:alert(1)"}},
      f"{WEB}/register?bind=anon_0123456789abcdef"),
     ({"code": 2001, "message": "No credits"}, f"{WEB}/register?bind=anon_0123456789abcdef")],
    ids=["data", "top-level", "in-message", "not-http", "none"],
)  # fmt: skip
async def test_a_2001_uses_the_registration_url_it_carries(
    hostile: Hostile, tmp_path: Path, body: dict[str, Any], expected: str
) -> None:
    from ._hostile import state_answer

    hostile.on("GET", "/api/state/", state_answer())
    hostile.on("GET", CREDITS, json_text(json.dumps(body)))
    async with anonymous(hostile, tmp_path) as client:
        error = await expect_error(client.credits())
    assert isinstance(error, nemovideo.InsufficientCreditsError), repr(error)
    assert error.registration_url == expected and expected in str(error)
    assert hostile.count("GET", CREDITS) == 1


# -- the emulator speaks each ---------------------------------------------------------------


async def test_the_emulator_blocks_anonymous_exports(emulator: Emulator, tmp_path: Path) -> None:
    emulator.block_anonymous_exports()
    async with fast_client(emulator, tmp_path / "cfg") as client:
        session = await client.create_session()
        error = await expect_error(session.export(draft=example_draft()))
    assert isinstance(error, nemovideo.ExportBlockedError), repr(error)
    assert error.registration_url and error.registration_url.endswith(f"bind={client.user_id}")
    assert error.claim_url and session.id in error.claim_url
    assert len(emulator.requests_to(SUBMIT, "POST")) == 1


async def test_the_emulator_limits_anonymous_tokens_per_ip(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.limit_anonymous_tokens(2)
    for n in range(2):
        async with fast_client(emulator, tmp_path / f"cfg{n}") as client:
            await client.credits()
    async with fast_client(emulator, tmp_path / "cfg3", rate_limit_wait=5.0) as client:
        error = await expect_error(client.credits(), limit=3.0)
    assert isinstance(error, nemovideo.RateLimitError), repr(error)
    assert "7-day" in str(error) and "NEMO_TOKEN" in str(error)
    assert error.retry_after is not None and error.retry_after > 24 * 3600
    assert len(emulator.requests_to(TOKEN_PATH, "POST")) == 3


async def test_the_emulators_2001_carries_the_registration_url(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.store.web_url = "https://register.test"
    emulator.set_credits(None, 0)
    async with fast_client(emulator, tmp_path / "cfg") as client:
        session = await client.create_session()
        error = await expect_error(session.send("generate a video of a cat"))
    assert isinstance(error, nemovideo.InsufficientCreditsError), repr(error)
    assert error.registration_url == f"https://register.test/register?bind={client.user_id}"
