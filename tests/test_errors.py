"""Every documented code maps to its class, from a body or a status, with a message that helps."""

from __future__ import annotations

import pytest

import nemovideo
from nemovideo.testing import Emulator

CASES = [
    (1002, nemovideo.SessionNotFoundError),
    (2001, nemovideo.InsufficientCreditsError),
    (4001, nemovideo.UnsupportedFileError),
    (4002, nemovideo.FileTooLargeError),
    (400, nemovideo.MissingClientIdError),
    (402, nemovideo.ExportBlockedError),
    (429, nemovideo.RateLimitError),
    (503, nemovideo.ServerError),
    (1001, nemovideo.AuthenticationError),
]


@pytest.mark.parametrize("style", ["body", "status"])
@pytest.mark.parametrize(("code", "cls"), CASES)
async def test_each_code_maps_to_its_class(
    emulator: Emulator, nemo_client: nemovideo.NemoClient, style: str, code: int, cls: type
) -> None:
    await nemo_client.credits()
    emulator.error_style = style
    # Enough failures to outlast every retry the client is allowed for this code.
    emulator.faults.error(code, times=10, path="/api/credits")
    before = len(emulator.requests_to("/api/credits"))
    with pytest.raises(cls) as info:
        await nemo_client.credits()
    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, nemovideo.APIError) and isinstance(exc, nemovideo.NemoError)
    assert exc.code == code
    assert exc.http_status == (200 if style == "body" else exc.http_status)
    if style == "status":
        assert exc.http_status >= 400
    assert str(exc)
    attempts = len(emulator.requests_to("/api/credits")) - before
    expected = {429: 2, 503: nemo_client.config.max_retries + 1, 1001: 2}.get(code, 1)
    assert attempts == expected
    if code == 2001:
        assert exc.registration_url.endswith(f"/register?bind={nemo_client.user_id}")
        assert exc.registration_url in str(exc)
    if code == 4001:
        assert "png" in exc.supported_formats and "Supported formats" in str(exc)
    if code == 4002:
        assert exc.limit_bytes == 200 * 1024 * 1024 and "compress" in str(exc)
    if code == 402:
        assert "upgrade" in str(exc).lower() and not isinstance(
            exc, nemovideo.InsufficientCreditsError
        )


def test_hints_follow_the_server_message_as_a_new_sentence() -> None:
    exc = nemovideo.InsufficientCreditsError(
        "Insufficient credits", registration_url="https://nemovideo.com/register?bind=anon_1"
    )
    assert str(exc) == (
        "Insufficient credits. Register to get more credits: "
        "https://nemovideo.com/register?bind=anon_1"
    )
    assert str(nemovideo.ExportBlockedError("Export needs a plan.")).endswith(
        "plan. Register or upgrade your plan to export."
    )


def test_rate_limit_and_blocked_export_messages_say_it_once() -> None:
    assert "wait 12 s" in str(nemovideo.RateLimitError("Too many requests", retry_after=12))
    blocked = str(nemovideo.ExportBlockedError("Free plan: register or upgrade to export."))
    assert blocked.lower().count("upgrade") == 1
