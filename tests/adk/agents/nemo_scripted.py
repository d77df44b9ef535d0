"""Shared by the test agents: a scripted offline model, registered with ADK's model registry.

No LLM and no network: ``ScriptedLlm`` answers from a script chosen by its model name
(``scripted/<script>``). Each script is a list of model turns; the turn played is the number of
function responses already in the request, so a tool call is followed by the words after it.
The user's answer to ``ask_question`` (``"1. ..."`` or ``"Skipped"``) counts as a response too.
With ``stream=True`` (``RunAgentRequest.streaming``) a turn is played as ADK's streaming models
do: ``partial=True`` chunks (text deltas, then each function call), then one ``partial=False``
response holding the whole turn (ADK 2.x progressive SSE forwards both).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from typing import Any

from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.models.registry import LLMRegistry
from google.genai import types

Turn = list[Any]  # str (text, streamed as deltas) or ("call", name, args)

QUESTION = {
    "title": "Which video should I make?",
    "questions": [
        {
            "id": "style",
            "prompt": "Pick a style",
            "options": [{"id": "lofi", "label": "Lo-fi"}, {"id": "epic", "label": "Epic"}],
            "allow_multiple": False,
        },
        {
            "id": "extras",
            "prompt": "Add extras",
            "options": [{"id": "title", "label": "A title"}, {"id": "bgm", "label": "Music"}],
            "allow_multiple": True,
        },
    ],
}

SCRIPTS: dict[str, list[Turn]] = {
    "edit": [
        [
            "I'll add lo-fi music at 35% volume.",
            ("call", "edit_multitrack", {"action": "add_bgm", "style": "Lo-fi", "volume": 0.35}),
        ],
        ["Lo-fi BGM added at 35%. Open the audio panel to fine-tune it."],
    ],
    "raise": [
        ["Exporting", ("call", "explode", {"what": "render"})],
        ["never reached"],
    ],
    "slow": [
        [("call", "slow_render", {"seconds": 0})],
        ["The slow render finished."],
    ],
    "artifact": [
        ["Saving the draft.", ("call", "save_draft", {"name": "draft.json"})],
        ["Saved draft.json."],
    ],
    "ask": [
        ["I need to know a bit more.", ("call", "ask_question", QUESTION)],
        ["Thanks, making it now."],
    ],
    "refuse": [],
}


def _chunks(text: str) -> list[str]:
    words = text.split(" ")
    step = max(1, -(-len(words) // 3))
    pieces = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
    return [p + (" " if i < len(pieces) - 1 else "") for i, p in enumerate(pieces)]


def _part(item: Any) -> types.Part:
    if isinstance(item, str):
        return types.Part(text=item)
    _, name, args = item
    return types.Part(function_call=types.FunctionCall(name=name, args=dict(args)))


class ScriptedLlm(BaseLlm):
    """Plays ``SCRIPTS[<script>]``; the script ``refuse`` answers as a safety block would."""

    model: str = "scripted/edit"

    @classmethod
    def supported_models(cls) -> list[str]:
        return [r"scripted/.*"]

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        script = SCRIPTS[self.model.split("/", 1)[1]]
        if not script:
            yield LlmResponse(
                error_code="SAFETY",
                error_message='Blocked: the request "broke" the content policy.',
                finish_reason=types.FinishReason.SAFETY,
            )
            return
        answered = sum(
            1
            for content in llm_request.contents
            for part in content.parts or ()
            if part.function_response is not None
        )
        last = llm_request.contents[-1] if llm_request.contents else None
        said = "".join(p.text or "" for p in (last.parts or ())) if last is not None else ""
        if said.startswith(("1. ", "Skipped")):  # the user answered ask_question
            answered += 1
        turn = script[min(answered, len(script) - 1)]
        if stream:
            for item in turn:
                pieces = _chunks(item) if isinstance(item, str) else [item]
                for piece in pieces:
                    yield LlmResponse(
                        content=types.Content(role="model", parts=[_part(piece)]), partial=True
                    )
        yield LlmResponse(
            content=types.Content(role="model", parts=[_part(item) for item in turn]),
            partial=False,
            turn_complete=True,
        )


def slow_ms() -> float:
    """How long ``slow_render`` stays silent: ``NEMO_ADK_SLOW_MS`` (default 300 ms)."""
    return float(os.environ.get("NEMO_ADK_SLOW_MS", "300")) / 1000


LLMRegistry.register(ScriptedLlm)
