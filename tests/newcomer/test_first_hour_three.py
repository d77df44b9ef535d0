"""The first hour, round three (issue 23): what a newcomer meets, driven as they would drive it.

The chat says every sentence once; exports do what was asked or say why not; the README's
install lines and the smaller points, each through the real ``nemovideo`` command or the
documented snippet.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

from nemovideo.testing import Emulator, sample_images

from ._proc import finish, run, spawn, user_env

IMAGES = " ".join(str(p) for p in sample_images())
MAKE = f"/upload {IMAGES} -- turn these images into a 4-second video"


def _small(emu: Emulator) -> None:
    emu.render.width, emu.render.height, emu.render.fps = 320, 180, 10


def _sentences(text: str) -> list[str]:
    """The sentences of a reply, split at line ends and full stops (each long enough to be
    unique on the screen)."""
    parts = re.split(r"(?<=[.!?])\s+|\n", text)
    return [p.strip() for p in parts if len(p.strip()) > 12]


async def test_chat_shows_every_sentence_of_a_reply_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    code, out, err = await run(env, "chat", "--json", "-m", MAKE)
    assert code == 0, err
    replies = [json.loads(out.splitlines()[-1])["text"]]
    question = {
        "title": "Which look do you want?",
        "questions": [{"id": "ratio", "prompt": "Aspect ratio?", "allow_multiple": False,
                       "options": [{"id": "wide", "label": "16:9"},
                                   {"id": "tall", "label": "9:16"}]}],
    }  # fmt: skip

    def converse() -> str:
        child = spawn(env, "chat", "--new")
        child.logfile_read = screen = io.StringIO()
        child.expect("> ")
        child.sendline(MAKE)
        child.expect("> ")
        emulator.chat.question = question
        child.sendline("make it look nicer")
        child.expect("\\? ")
        child.sendline("skip")
        child.expect("> ")
        child.sendline("/quit")
        finish(child)
        return screen.getvalue()

    shown = await asyncio.to_thread(converse)
    sentences = _sentences(replies[0])
    assert len(sentences) >= 3, replies
    for sentence in [*sentences, "Which look do you want?", "Answer with the option numbers"]:
        assert shown.count(sentence) == 1, (sentence, shown)
