"""Everything crosses a process boundary (issue 21): every error class and every public value
through ``pickle``, through a ``spawn`` ``ProcessPoolExecutor``, and through JSON as
``to_dict()``; a client, session or job refuses to be pickled with a ``NemoError`` that says what
to send instead.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest

import nemovideo
from nemovideo import errors
from nemovideo.chat import (
    ChatReply,
    DraftUpdatedEvent,
    ErrorEvent,
    HeartbeatEvent,
    RawEvent,
)
from nemovideo.state import GeneratedMedia
from nemovideo.sync import SyncNemoClient
from nemovideo.testing import Emulator, sample_images, threaded_emulator

from ..conftest import FAST
from ._workers import echo, raise_it

TOKEN = "nmv_usr_" + "e" * 32


def every_error() -> list[errors.NemoError]:
    """One instance of every error class, each attribute set, the token echoed into each field."""
    api = {"code": 4242, "http_status": 418, "request_id": "req_1",
           "data": {"echo": f"Bearer {TOKEN}", "nested": [TOKEN, {"k": TOKEN}]}}  # fmt: skip
    made: list[errors.NemoError] = [
        errors.NemoError(f"plain {TOKEN}"),
        errors.ValidationError("bad input"),
        errors.InsecureURLError("http://example.com"),
        errors.ClientClosedError("closed"),
        errors.TransportError("reset"),
        errors.StreamTimeoutError("quiet"),
        errors.StreamDecodeError("broken"),
        errors.ChatRecoveryError("lost"),
        errors.APIError(f"echo {TOKEN}", **api),
        errors.AuthenticationError(**api),
        errors.AgentError("failed", **api),
        errors.NotFoundError(**api),
        errors.SessionNotFoundError(**api),
        errors.InsufficientCreditsError(registration_url="https://x/register?bind=anon_1", **api),
        errors.UnsupportedFileError(filename="a.exe", supported_formats=("mp4",), **api),
        errors.FileTooLargeError(filename="big.mp4", limit_bytes=10, size_bytes=20, **api),
        errors.MissingClientIdError(**api),
        errors.ExportBlockedError(**api),
        errors.RateLimitError(retry_after=3.5, **api),
        errors.ServerError(**api),
        errors.DownloadError("disk full", path="/tmp/out.mp4"),
        errors.RenderFailedError("render_1", f"crashed with {TOKEN}"),
        errors.RenderTimeoutError("render_2", 7, "processing", elapsed=12.5),
    ]
    transport = errors.TransportError("refused")
    transport.never_sent = True
    made.append(transport)
    for error in made:
        error.request_id = error.request_id or "req_2"
    return made


def error_classes() -> set[type]:
    return {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.NemoError)
    }


def test_the_list_covers_every_error_class() -> None:
    assert {type(e) for e in every_error()} == error_classes()


def masked(value: Any) -> Any:
    """``value`` as it must look after a pickle: the token masked wherever it was."""
    text = json.dumps(value).replace(f"Bearer {TOKEN}", "Bearer ***")
    return json.loads(text.replace(TOKEN, "nmv_usr_***"))


def same_error(got: BaseException, sent: errors.NemoError) -> None:
    assert type(got) is type(sent)
    assert str(got) == masked(str(sent))
    assert set(vars(got)) == set(vars(sent))
    for key, value in vars(sent).items():
        if isinstance(value, (str, dict)):
            assert getattr(got, key) == masked(value), key
        else:
            assert getattr(got, key) == value, key
    assert TOKEN[8:] not in repr(vars(got))


@pytest.mark.parametrize("error", every_error(), ids=lambda e: type(e).__name__)
def test_every_error_round_trips_through_pickle_with_the_token_masked(
    error: errors.NemoError,
) -> None:
    data = pickle.dumps(error)
    assert TOKEN.encode() not in data and TOKEN[8:].encode() not in data
    same_error(pickle.loads(data), error)


@pytest.fixture(scope="module")
def spawn_pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def test_every_error_raised_in_a_spawned_worker_arrives_whole(
    spawn_pool: ProcessPoolExecutor,
) -> None:
    futures = [(error, spawn_pool.submit(raise_it, error)) for error in every_error()]
    for sent, future in futures:
        got = future.exception(timeout=60)
        assert got is not None
        same_error(got, sent)


# -- values -------------------------------------------------------------------------------


def everything_a_script_gets(emu: Emulator, config_dir: Path) -> list[Any]:
    """Real values from a blocking client: credits, uploads, replies (a question, a refusal
    included), state, the render's status and result, and the events of a stream."""
    emu.render.width, emu.render.height, emu.render.fps = 64, 36, 5
    with SyncNemoClient(base_url=emu.url, config_dir=config_dir, **FAST) as client:
        session = client.create_session()
        asked = session.send("make a video")
        media = session.upload(sample_images())
        reply = session.send("turn these images into a 4-second video")
        with session.chat("add lo-fi BGM at 35%") as stream:
            events = list(stream)
        job = session.export()
        result = job.wait()
        state = session.state()
        credits = client.credits()
    assert asked.question is not None and job.last is not None
    made = [  # the event kinds this conversation does not produce, as a stream would give them
        ErrorEvent("refused", code="SAFETY", event_id="e1", raw={"errorCode": "SAFETY"}),
        ErrorEvent("Boom", fatal=True),
        HeartbeatEvent(event_id="h1"),
        RawEvent(event_id="r1", raw={"odd": [1, 2.5, None]}),
        DraftUpdatedEvent(state.draft, changes=("Added Video track",)),
        GeneratedMedia.from_json({"url": "https://cdn.example/a.mp4", "type": "video"}),
    ]
    return [credits, *media, asked, asked.question, *asked.question.questions,
            *asked.question.questions[0].options, reply, *reply.events, *events, state,
            state.draft, *state.video_infos, state.canvas_config, job.last, result,
            *made]  # fmt: skip


@pytest.fixture(scope="module")
def values(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    with threaded_emulator() as emu:
        yield everything_a_script_gets(emu, tmp_path_factory.mktemp("cfg"))


def test_the_values_cover_every_public_value_kind(values: list[Any]) -> None:
    kinds = {type(v).__name__ for v in values}
    assert kinds >= {"Credits", "UploadedMedia", "ChatReply", "QuestionEvent", "Question",
                     "Option", "TextEvent", "ToolCallEvent", "ToolResultEvent", "SessionState",
                     "Draft", "MediaInfo", "CanvasConfig", "RenderStatus", "RenderResult",
                     "ErrorEvent", "HeartbeatEvent", "RawEvent", "DraftUpdatedEvent",
                     "GeneratedMedia"}  # fmt: skip


def test_every_value_pickles(values: list[Any]) -> None:
    for value in values:
        assert pickle.loads(pickle.dumps(value)) == value, type(value).__name__


def test_every_value_crosses_a_spawned_worker(
    values: list[Any], spawn_pool: ProcessPoolExecutor
) -> None:
    assert spawn_pool.submit(echo, values).result(timeout=60) == values


def test_every_value_has_json_ready_data_that_rebuilds_it(values: list[Any]) -> None:
    for value in values:
        data = value.to_dict()
        again = json.loads(json.dumps(data, allow_nan=False))
        assert again == data, type(value).__name__
        rebuilt = type(value).from_dict(again)
        assert rebuilt == value, type(value).__name__
        assert rebuilt.to_dict() == data


def test_a_chat_reply_lists_its_events_by_type(values: list[Any]) -> None:
    reply = next(v for v in values if isinstance(v, ChatReply) and v.events)
    data = reply.to_dict()
    assert data["text"] == reply.text and data["draft"] == reply.draft.to_json()
    assert [e["type"] for e in data["events"]] == [type(e).__name__ for e in reply.events]


def test_from_dict_refuses_what_is_not_its_form() -> None:
    with pytest.raises(nemovideo.ValidationError):
        nemovideo.Credits.from_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(nemovideo.ValidationError):
        nemovideo.RenderResult.from_dict({"url": "x"})


# -- what does not cross --------------------------------------------------------------------


async def test_a_client_session_and_job_say_to_send_ids(
    emulator: Emulator, nemo_client: nemovideo.NemoClient
) -> None:
    session = await nemo_client.create_session()
    job = nemovideo.RenderJob(nemo_client.renderer, "render_1")
    for thing, kind in ((nemo_client, "NemoClient"), (session, "Session"), (job, "RenderJob"),
                        (nemo_client.renderer, "Renderer")):  # fmt: skip
        with pytest.raises(nemovideo.NemoError) as caught:
            pickle.dumps(thing)
        text = str(caught.value)
        assert kind in text and "client.session(session_id)" in text
        assert "client.renderer.resume(job_id)" in text and "session.id" in text


def test_a_sync_client_and_its_objects_say_to_send_ids(tmp_path: Path) -> None:
    with SyncNemoClient(base_url="http://127.0.0.1:9", config_dir=tmp_path) as client:
        for thing in (client, client.session("1234567890"), client.renderer):
            with pytest.raises(nemovideo.NemoError, match=r"client\.session"):
                pickle.dumps(thing)


def test_attrs_values_stay_frozen_after_the_mixin() -> None:
    credits = nemovideo.Credits(1, 2, 3)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        credits.available = 5  # type: ignore[misc]


@pytest.mark.parametrize("error", every_error(), ids=lambda e: type(e).__name__)
def test_every_error_has_json_ready_data_that_rebuilds_it(error: errors.NemoError) -> None:
    data = error.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert TOKEN[8:] not in text and data["type"] == type(error).__name__
    again = nemovideo.NemoError.from_dict(json.loads(text))
    assert type(again) is type(error) and str(again) == masked(str(error))
    assert again.to_dict() == data


def test_render_errors_survive_celerys_json_result_serializer() -> None:
    """Celery's default JSON serializer rebuilds an error as ``cls(*args)``."""
    if importlib.util.find_spec("celery") is None:
        pytest.skip("celery is not installed")
    from celery import Celery
    from celery.backends.base import Backend

    backend = Backend(Celery("pickling"))
    failed = errors.RenderFailedError("render_1", f"out of GPU memory {TOKEN}")
    late = errors.RenderTimeoutError("render_2", 7, "processing", elapsed=12.5)
    for sent in (failed, late):
        data = backend.prepare_exception(sent, "json")
        assert TOKEN[8:] not in json.dumps(data)
        got = backend.exception_to_python(json.loads(json.dumps(data)))
        assert type(got) is type(sent) and got.job_id == sent.job_id
    assert got.polls == 7 and got.status == "processing"
