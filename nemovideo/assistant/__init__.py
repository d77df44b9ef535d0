"""The skill's conversation as a library: one sentence in, the right action out.

``Assistant`` routes what a user says (``intents.route``) to an action - export, credits, state,
upload, or a chat message to the backend agent - runs it on one session, and answers in plain
language. Apps get the published skill's behaviour without re-implementing it::

    async with NemoClient() as client:
        assistant = client.assistant()
        reply = await assistant.handle("turn these images into a 15-second video",
                                       files=["a.jpg", "b.jpg"])
        print(reply.text)            # what to show the user
        reply = await assistant.handle("export 1080p mp4")
        print(reply.path)            # the downloaded MP4

Why a separate layer: the client methods raise typed errors and never guess; a conversation needs the
opposite - an expired session is replaced (and the user told), 2001 becomes a registration link, the
backend's GUI talk ("click the Export button") becomes what the client will do. Nothing here ever
re-sends a chat message: a dropped stream is recovered by polling state inside ``chat``.
"""

from __future__ import annotations

from nemovideo.assistant._assistant import Assistant, AssistantReply
from nemovideo.assistant._intents import GuiTranslation, Intent, route, translate_gui

__all__ = ["Assistant", "AssistantReply", "GuiTranslation", "Intent", "route", "translate_gui"]
