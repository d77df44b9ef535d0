"""What to tell a user about an error they can act on, in plain words (the Assistant's advice),
and about uploads that are not on the timeline yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nemovideo.errors import (
    ExportBlockedError,
    FileTooLargeError,
    InsufficientCreditsError,
    NemoError,
    RenderFailedError,
    RenderTimeoutError,
    ServerError,
    TransportError,
    UnsupportedFileError,
)

if TYPE_CHECKING:
    from nemovideo.state import SessionState

__all__ = ["advice_for", "media_line"]


def media_line(state: SessionState) -> str | None:
    """One line on the session's uploaded files, for a status that would otherwise say only
    "Timeline (0 tracks): empty"; None when nothing was uploaded.

    >>> from nemovideo.state import SessionState
    >>> media_line(SessionState.from_json({"state": {"video_infos": [{"filename": "a.jpg"}]}}))
    'Media (1 uploaded): a.jpg. Not on the timeline yet: say what video to make of it.'
    """
    names = [m.filename or "unnamed" for m in state.video_infos]
    if not names:
        return None
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    line = f"Media ({len(names)} uploaded): {shown}."
    if not state.draft.ready_for_export:
        it = "it" if len(names) == 1 else "them"
        line += f" Not on the timeline yet: say what video to make of {it}."
    return line


def advice_for(
    exc: NemoError, *, registration_url: str | None = None, web_url: str = "https://nemovideo.com"
) -> str:
    """Plain-language advice for an error a user can act on.

    ``registration_url`` (``<web>/register?bind=<user id>``, for an anonymous user) is offered
    when credits run out or the plan blocks export; ``web_url`` otherwise.
    """
    if isinstance(exc, InsufficientCreditsError):
        url = exc.registration_url or registration_url
        if url:
            return f"You are out of credits. Register to get more: {url}"
        return f"You are out of credits. Top up at {web_url} to continue."
    if isinstance(exc, ExportBlockedError):
        url = exc.registration_url or registration_url
        where = f"register here: {url}" if url else f"see {web_url}"
        return f"Your plan cannot export videos: register or upgrade to export ({where})."
    if isinstance(exc, (UnsupportedFileError, FileTooLargeError)):
        return f"I could not upload that file. {exc}"
    if isinstance(exc, RenderFailedError):
        reason = exc.reason or "no reason given"
        return f'The render failed ({reason}). Say "export" to try again.'
    if isinstance(exc, RenderTimeoutError):
        return (
            f"The render (job {exc.job_id}) is taking longer than expected and may still finish. "
            'Say "export" to try again later.'
        )
    if isinstance(exc, (TransportError, ServerError)):
        return f"NemoVideo could not be reached or failed ({exc}). Try again in a moment."
    return f"That did not work: {exc}"
