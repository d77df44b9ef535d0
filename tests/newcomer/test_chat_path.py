"""``nemovideo chat`` as a newcomer meets it: at a terminal (a pseudo-terminal) and on a pipe.

Commands never reach the agent, a question is answered by number, the prompt has history, a
spinner turns while the agent works and no progress bar is left behind, ``/status`` lists renders
still running, and the reply streams in as it arrives.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import nemovideo
from nemovideo.testing import Emulator, sample_images

from ._proc import RATIO_QUESTION, chat_prompt, finish, run, say, user_env, visible_lines

IMAGES = " ".join(str(p) for p in sample_images())


def _small(emu: Emulator) -> None:
    emu.render.width, emu.render.height, emu.render.fps = 320, 180, 10


async def test_commands_and_their_help_never_reach_the_agent(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    lines = ["/export --help", "/upload --help", "/state -h", "/credits --help", "/bogus --help",
             "/export make it blue", "/bogus", "/export --job", "/help"]  # fmt: skip
    code, out, err = await run(env, "chat", "--json", stdin="\n".join(lines).encode())
    assert (code, err) == (0, "")
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["action"] for a in answers] == ["help"] * 5 + ["usage"] * 3 + ["help"]
    assert "/export [format] [quality]" in answers[0]["text"]
    assert "/upload PATH" in answers[1]["text"]
    assert "Unknown command /bogus" in answers[4]["text"]
    assert emulator.requests_to("/run_sse") == [], "no /command reached the agent"
    assert emulator.requests_to("/api/render") == [] and emulator.requests_to("/api/upload") == []

    code, out, err = await run(env, "chat", "-m", "/export --help")
    assert (code, err) == (0, "") and "/export --job ID" in out
    code, out, err = await run(env, "chat", "-m", "/bogus")
    assert code == 2 and out == "" and err.startswith("error: Unknown command /bogus")

    def at_a_terminal() -> str:
        child = chat_prompt(env)
        say(child, "/export --help", "/export --job ID picks up a render", "> ")
        child.sendline("/quit")
        return finish(child)[1]

    await asyncio.to_thread(at_a_terminal)
    assert emulator.requests_to("/run_sse") == [] and emulator.requests_to("/api/render") == []


async def test_a_question_is_numbered_and_the_pick_is_sent(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    emulator.chat.question = RATIO_QUESTION

    def converse() -> None:
        child = chat_prompt(env)
        # the last "? ": the prompt says an answer is awaited
        say(child, "make a video", "Which look do you want\\?", "1\\) 16:9", "2\\) 9:16", "\\? ")
        say(child, "2", "> ")
        emulator.chat.question = {
            "title": "Music?",
            "questions": [
                {"id": "mood", "prompt": "Which moods?", "allow_multiple": True,
                 "options": [{"id": "calm", "label": "Calm"}, {"id": "fun", "label": "Fun"}]},
                {"id": "volume", "prompt": "How loud?", "allow_multiple": False,
                 "options": [{"id": "low", "label": "Quiet"}, {"id": "high", "label": "Loud"}]},
            ],
        }  # fmt: skip
        say(child, "add some music", 'separated by ";"', "\\? ")
        say(child, "1,2; loud", "> ")
        child.sendline("/quit")
        finish(child)

    await asyncio.to_thread(converse)
    said = [part["text"] for record in emulator.sessions.values() for message in record.chat_log
            for part in message["parts"]]  # fmt: skip
    assert said == ["make a video", "1. Aspect ratio?: 9:16", "add some music",
                    "1. Which moods?: Calm, Fun\n2. How loud?: Loud"]  # fmt: skip


async def test_history_spinner_and_no_progress_bar_left_behind(
    emulator: Emulator, tmp_path: Path
) -> None:
    cfg = tmp_path / "cfg"
    env = user_env(emulator.url, cfg)
    emulator.chat.delay = 0.05  # slow frames: the agent takes a moment

    def converse() -> str:
        child = chat_prompt(env)
        child.sendline(f"/upload {IMAGES} -- turn these images into a 4-second video")
        child.expect("working \\(")  # the spinner turns while the agent works
        child.expect("> ")
        child.sendline("status")
        child.expect("Timeline")
        child.expect("> ")
        child.send("\x1b[A")  # up arrow: the last line again
        child.sendline("")
        child.expect("Timeline")
        child.expect("> ")
        child.sendline("/quit")
        return finish(child)[1]

    shown = await asyncio.to_thread(converse)
    assert emulator.requests_to("/run_sse", "POST")[1:] == [], "history recalled a command"
    assert "status" in (cfg / "chat-history").read_text()
    assert not [line for line in visible_lines(shown) if "upload:" in line or "working (" in line]


async def test_status_lists_a_render_that_is_still_running(
    emulator: Emulator, tmp_path: Path
) -> None:
    if not hasattr(nemovideo.Assistant, "render_jobs"):
        pytest.xfail("Assistant.render_jobs is not there yet (helper adk)")
    _small(emulator)
    env = user_env(emulator.url, tmp_path / "cfg")

    def converse() -> str:
        child = chat_prompt(env, "--out", str(tmp_path / "videos"))
        child.sendline(f"/upload {IMAGES} -- turn these images into a 4-second video")
        child.expect("> ")
        emulator.render.hold()
        child.sendline("export")
        child.expect("Rendering")
        child.sendintr()
        child.expect("Cancelled")
        child.expect("> ")
        child.sendline("/status")
        child.expect("Renders running:")
        child.expect("(render_\\S+): ")
        job_id = str(child.match.group(1))
        child.expect("> ")
        emulator.render.release()
        child.sendline(f"/export --job {job_id}")
        child.expect("Video ready! Saved to")
        child.expect("> ")
        child.sendline("/quit")
        finish(child)
        return job_id

    job_id = await asyncio.to_thread(converse)
    assert job_id.startswith("render_")
    assert len(emulator.requests_to("/api/render/proxy/lambda", "POST")) == 1
    assert [p.name for p in (tmp_path / "videos").iterdir()] == [f"{job_id}.mp4"]


async def test_the_reply_streams_in_as_it_arrives(emulator: Emulator, tmp_path: Path) -> None:
    import inspect

    if "on_text" not in inspect.signature(nemovideo.Assistant).parameters:
        pytest.xfail("Assistant(on_text=) is not there yet (helpers adk and lead)")
    env = user_env(emulator.url, tmp_path / "cfg")

    def converse() -> None:
        child = chat_prompt(env)
        child.sendline(f"/upload {IMAGES}")
        child.expect("> ")
        emulator.chat.hold()  # the agent said its first words, then works on: the stream is open
        child.sendline("turn these images into a 4-second video")
        child.expect("I'll turn your 3 images")  # on screen while the edit is still running
        emulator.chat.release()
        child.expect("> ")
        child.sendline("/quit")
        finish(child)

    await asyncio.to_thread(converse)
    assert len(emulator.requests_to("/run_sse", "POST")) == 1


async def test_chat_on_a_pipe_has_no_spinner_or_prompt(emulator: Emulator, tmp_path: Path) -> None:
    env = user_env(emulator.url, tmp_path / "cfg")
    code, out, err = await run(env, "chat", stdin=f"/upload {IMAGES}\nstatus\n".encode())
    assert code == 0 and err == ""
    assert "working (" not in out and "> " not in out and "Timeline" in out
