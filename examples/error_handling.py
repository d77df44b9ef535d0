"""Error handling: what goes wrong, which exception says so, and what the SDK already did about it.

Every error derives from ``nemovideo.NemoError``; each documented failure has its own class with the
extra a caller needs (``supported_formats``, ``limit_bytes``, ``retry_after``,
``registration_url``). This walks through them in order:

1. a text file and a 200 MB+ file are refused before a byte is uploaded;
2. an empty instruction and an export of an empty draft are refused before anything is sent;
3. a 429 is waited out and retried by the SDK; one that persists raises ``RateLimitError``;
4. an edit without credits raises ``InsufficientCreditsError`` with a link to register.

Steps 3 and 4 need a server that misbehaves on cue, so they run only against the emulator (its
fault injection and credit controls); against the real API they are skipped::

    python examples/error_handling.py [OUT_DIR]    # offline, against the bundled emulator
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import _offline

import nemovideo
from nemovideo.testing import sample_images

if TYPE_CHECKING:
    from nemovideo.testing import Emulator


def explain(error: nemovideo.NemoError) -> None:
    print(f"  {type(error).__name__}: {error}")


@contextlib.contextmanager
def bad_inputs(limit: int) -> Iterator[tuple[Path, Path]]:
    """A text file, and a (sparse, so free) video one byte over the upload limit, in a temporary
    directory that is removed afterwards (nothing is left in the output directory)."""
    with tempfile.TemporaryDirectory(prefix="nemovideo-bad-") as tmp:
        notes, huge = Path(tmp) / "notes.txt", Path(tmp) / "huge.mp4"
        notes.write_text("not a video\n")
        with huge.open("wb") as fh:
            fh.truncate(limit + 1)
        yield notes, huge


async def bad_input(client: nemovideo.NemoClient) -> list[nemovideo.NemoError]:
    """Mistakes the SDK catches itself, before the first byte goes out."""
    session = await client.create_session(task_name="errors")
    caught: list[nemovideo.NemoError] = []
    with bad_inputs(client.config.max_upload_bytes) as (notes, huge):
        for bad in (notes, huge):
            try:
                await session.upload([*sample_images(), bad])
            except nemovideo.UnsupportedFileError as e:
                explain(e)
                print(f"  -> {e.filename}: not one of the {len(e.supported_formats)} formats")
                caught.append(e)
            except nemovideo.FileTooLargeError as e:
                explain(e)
                print(f"  -> {e.filename}: {e.size_bytes:,} bytes, limit {e.limit_bytes:,}")
                caught.append(e)
    try:
        await session.send("   ")
    except nemovideo.ValidationError as e:
        explain(e)
        caught.append(e)
    try:
        await session.export()
    except nemovideo.ValidationError as e:
        explain(e)
        caught.append(e)
    return caught


async def rate_limits(client: nemovideo.NemoClient, emu: Emulator) -> list[nemovideo.NemoError]:
    """One 429 is absorbed (the SDK waits ``Retry-After`` and retries once); two are not."""
    emu.faults.rate_limit(times=1, retry_after=0.05, path="/api/credits")
    balance = await client.credits()
    print(f"  a 429 was retried for you: {balance.available} credits")
    emu.faults.rate_limit(times=2, retry_after=0.05, path="/api/credits")
    try:
        await client.credits()
    except nemovideo.RateLimitError as e:
        explain(e)
        print(f"  -> the server asked to wait {e.retry_after} s before trying again")
        return [e]
    return []


async def no_credits(client: nemovideo.NemoClient, emu: Emulator) -> list[nemovideo.NemoError]:
    """An edit costs credits; with none left the chat request is refused before any work."""
    session = await client.create_session(task_name="errors")
    await session.upload(sample_images())
    user, before = client.user_id, (await client.credits()).available
    emu.set_credits(user, 0)
    try:
        await session.send("turn these images into a 10-second video")
    except nemovideo.InsufficientCreditsError as e:
        explain(e)
        print(f"  -> register for more credits: {e.registration_url}")
        return [e]
    finally:
        if before is not None:  # a balance the server did not state is left as it is
            emu.set_credits(user, before)
    return []


async def run(
    client: nemovideo.NemoClient, out_dir: Path, emulator: Emulator | None = None
) -> list[nemovideo.NemoError]:
    """Provoke each error; return the ones caught, in order."""
    caught: list[nemovideo.NemoError] = []
    print("Bad input, refused by the SDK:")
    caught += await bad_input(client)
    if emulator is None:
        print("(rate limiting and credits need the emulator's fault injection: skipped)")
        return caught
    print("Rate limiting:")
    caught += await rate_limits(client, emulator)
    print("Out of credits:")
    caught += await no_credits(client, emulator)
    return caught


async def _main() -> None:
    async with _offline.connect() as (client, emulator):
        try:
            caught = await run(client, _offline.output_dir(), emulator)
        except nemovideo.NemoError as e:  # anything unexpected, still one except clause
            print(f"Unexpected {type(e).__name__}: {e}")
            raise SystemExit(1) from e
    print(f"Caught {len(caught)} errors, all of them nemovideo.NemoError subclasses.")


if __name__ == "__main__":
    asyncio.run(_main())
