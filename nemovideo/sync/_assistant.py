"""``SyncAssistant``: the blocking view of the skill's conversation layer.

Its own module so that ``SyncNemoClient`` does not load the Assistant (and its ~200 routing
patterns) until ``client.assistant()`` is called::

    with SyncNemoClient() as client:
        print(client.assistant().handle("余额").text)
"""

from __future__ import annotations

from nemovideo.assistant._assistant import Assistant
from nemovideo.sync._loop import View, blocking

__all__ = ["SyncAssistant"]


class SyncAssistant(View):
    """The skill's conversation (see ``Assistant``): ``client.assistant().handle("余额")``."""

    _async: Assistant

    handle = blocking(Assistant.handle)
