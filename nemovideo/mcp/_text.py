"""What the tools say: replies and errors as plain text a model can act on.

Server text is untrusted (a draft name, a reply, a file name the server echoes): ``clean`` drops
control and escape sequences before anything reaches the client. Every ``NemoError`` becomes one
paragraph: the SDK's message (already free of secrets, with its hint) and the next step in terms
of these tools.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from yarl import URL

import nemovideo
from nemovideo import (
    ChatRecoveryError,
    ExportBlockedError,
    InsufficientCreditsError,
    NemoError,
    RenderFailedError,
    RenderTimeoutError,
    SessionNotFoundError,
    StreamTimeoutError,
)

if TYPE_CHECKING:
    from nemovideo import ChatReply, Session

__all__ = ["clean", "error_text", "reply_text"]

_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


_NEXT = {
    "export": "(Next step, when the user wants the file: the export tool renders and saves it.)",
    "state": "(The state tool shows the timeline.)",
    "credits": "(The credits tool shows the balance.)",
    "upload": "(Add media with the upload tool.)",
}
"""What the agent's GUI talk ("click Export") means in terms of these tools."""


def clean(text: object, limit: int = 20_000) -> str:
    """``text`` without terminal escapes or control characters (newlines and tabs stay), capped."""
    out = _CONTROL.sub("", str(text))
    return out if len(out) <= limit else out[: limit - 1] + "…"


def registration_link(client: nemovideo.NemoClient) -> str | None:
    """Where an anonymous user registers to get credits (``<web>/register?bind=<user id>``)."""
    uid = client.user_id
    if uid and uid.startswith("anon"):
        return str(URL(client.config.web_url + "/register").with_query(bind=uid))
    return None


def error_text(exc: NemoError, session: Session | None, client: nemovideo.NemoClient) -> str:
    """The SDK's message for ``exc`` and what the model (or its user) can do next."""
    text = clean(exc)
    if isinstance(exc, InsufficientCreditsError):
        link = exc.registration_url or registration_link(client)
        if link and link not in text:
            text += f" Register to get more credits: {link}"
        text += " Tell the user; retrying will not help until credits are added."
    elif isinstance(exc, ExportBlockedError):
        if session is not None:
            text += (
                " Open the project in the web app, sign in and export it there, or claim it into "
                f"an account first: {session.claim_url}"
            )
    elif isinstance(exc, RenderTimeoutError):
        text = (
            f"The render (job {exc.job_id}) is still running on the server. Call export again "
            f'with job_id="{exc.job_id}" to wait for it and download it; do not start a new one.'
        )
    elif isinstance(exc, RenderFailedError):
        text += " Call export again to retry, or change the timeline with chat first."
    elif isinstance(exc, (StreamTimeoutError, ChatRecoveryError)):
        text += (
            " The message was NOT sent again. Call state in a moment to see whether the edit "
            "arrived before sending anything else."
        )
    elif isinstance(exc, SessionNotFoundError):
        text += " Call new_session to start a project (or pass a valid session_id)."
    request_id = getattr(exc, "request_id", None)
    if request_id:
        text += f" (request id {clean(request_id, 200)})"
    return f"{type(exc).__name__}: {text}"


def reply_text(reply: ChatReply) -> str:
    """A chat reply for a model: the text with GUI talk translated, the changes, the question."""
    lines: list[str] = []
    if reply.text:
        shown = nemovideo.translate_gui(reply.text)
        if shown.text:
            lines.append(clean(shown.text))
        if shown.action in _NEXT:
            lines.append(_NEXT[shown.action])
    if reply.recovered:
        lines.append(
            "The connection dropped before the answer ended, so the result was read from the "
            "project (the message was not sent twice)."
        )
    if reply.changes:
        lines.append("What changed in the timeline:")
        lines.extend(f"- {clean(change)}" for change in reply.changes)
    elif not lines and reply.question is None:
        lines.append("The agent finished without a reply or a change to the timeline.")
    for err in reply.errors:
        kind = "The request was refused" if err is reply.refusal else "The agent reported a problem"
        lines.append(f"{kind}: {clean(err.message)}")
    if reply.question is not None:
        lines.append("The agent asks:")
        lines.append(clean(str(reply.question)))
        lines.append(
            "Ask the user, then call answer with the option numbers (one entry per question), "
            "or with no choices to skip."
        )
    if reply.pending:
        lines.append(
            "Part of this is still being made (music and titles can take minutes); call state "
            "in a moment to see it in the timeline."
        )
    return "\n".join(lines)
