"""Events a custom agent may yield: ADK forwards them as they are, partial or not."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.events import Event
from google.genai import types

CALL_ID = "call-custom-1"


class CustomStream(BaseAgent):
    async def _run_async_impl(self, ctx: InvocationContext) -> AsyncGenerator[Event, None]:
        def make(parts: list[types.Part], *, partial: bool | None = None,
                 role: str = "model") -> Event:  # fmt: skip
            return Event(invocation_id=ctx.invocation_id, author=self.name, partial=partial,
                         content=types.Content(role=role, parts=parts))  # fmt: skip

        for piece in ("Looking at ", "your timeline"):  # no final event repeats these
            yield make([types.Part(text=piece)], partial=True)
        for piece in ("I'll add ", "lo-fi music."):
            yield make([types.Part(text=piece)], partial=True)
        yield make([types.Part(text="I'll add lo-fi music.")])
        args = {"action": "add_bgm", "style": "Lo-fi", "volume": 0.35}
        call = types.FunctionCall(id=CALL_ID, name="edit_multitrack", args=args)
        yield make([types.Part(function_call=call)])
        response = types.FunctionResponse(
            id=CALL_ID, name="edit_multitrack", response={"status": "success"}
        )
        yield make([types.Part(function_response=response)], role="user")
        yield make([types.Part(text="Done: lo-fi BGM at 35%.")])


root_agent = CustomStream(name="custom_stream")
