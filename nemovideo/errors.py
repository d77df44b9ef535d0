"""The exception hierarchy, and the only place that knows NemoVideo's error codes.

Every exception raised by ``nemovideo`` derives from [`NemoError`][nemovideo.errors.NemoError],
so one ``except`` clause catches them all, while each documented code has a class of its own so
callers can react to the one they care about::

    NemoError
    ├── ValidationError              bad input caught before a byte is sent (also a ValueError)
    │   └── InsecureURLError         plain http:// to a non-loopback API host
    ├── ClientClosedError            the client was closed (also a RuntimeError)
    ├── TransportError               the network failed (connection refused, reset, timeout)
    │   ├── StreamTimeoutError       a chat stream went quiet or ran too long (also a TimeoutError)
    │   └── StreamDecodeError        a stream broke the SSE rules or a size cap
    ├── ChatRecoveryError            a dropped chat stream could not be recovered (never re-sent)
    ├── APIError                     the server answered with a failure: .code, .http_status, .message
    │   ├── AuthenticationError      1001  token bad or expired
    │   ├── AgentError               the chat invocation failed mid-stream: .reply (partial)
    │   ├── NotFoundError            404   an id the server does not know (the message says what to check)
    │   │   └── SessionNotFoundError 1002  unknown session
    │   ├── InsufficientCreditsError 2001  .registration_url
    │   ├── UnsupportedFileError     4001  .supported_formats (also a ValidationError)
    │   ├── FileTooLargeError        4002  .limit_bytes (also a ValidationError)
    │   ├── MissingClientIdError     400   X-Client-Id missing
    │   ├── ExportBlockedError       402   the plan does not allow export: .registration_url
    │   ├── RateLimitError           429   .retry_after
    │   └── ServerError              5xx
    ├── DownloadError                the file could not be saved here: directory, disk (also an OSError)
    ├── RenderFailedError            the render job failed: .job_id, .reason
    └── RenderTimeoutError           the wait ran out; the job may go on: .job_id (also a TimeoutError)

``except TimeoutError`` catches ``StreamTimeoutError`` and ``RenderTimeoutError``; ``except
OSError`` catches ``DownloadError`` and, since Python's ``TimeoutError`` is an ``OSError``, those
two as well. Network failures are ``TransportError``, not ``OSError``.

Every error carries ``.request_id``: the id of the HTTP request that failed (the server's
``X-Request-Id`` when it sent one, else the one the client generated), ``None`` when no request
was involved. Quote it when you report a problem to NemoVideo.

Example::

    try:
        await session.export()
    except nemovideo.InsufficientCreditsError as e:
        print("Out of credits, register here:", e.registration_url)
    except nemovideo.NemoError as e:
        print("Failed:", e)
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from nemovideo._http.redact import redact
from nemovideo._util.text import printable, scrub_data

# -- what the classes are built from: the documented limits, the hint text, Retry-After -----------

SUPPORTED_FORMATS: tuple[str, ...] = (
    "mp4",
    "mov",
    "avi",
    "webm",
    "mkv",
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "mp3",
    "wav",
    "m4a",
    "aac",
)
DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
REGISTERED_TOP_UP = "Top up at https://nemovideo.com to continue."
ANONYMOUS_QUOTA = (
    "The API issues anonymous tokens within a 7-day quota (one per client id, ten per IP "
    "address) and refused another. Use a token you hold: set NEMO_TOKEN (or pass "
    "NemoClient(token=...)); or run with the client id the token was issued to."
)


def with_hint(message: str, hint: str) -> str:
    """The server's message, ended as a sentence, then the hint: "No credits. Register at ..."."""
    message = message.rstrip()
    if message and message[-1] not in ".!?。！？:":
        message += "."
    return f"{message} {hint}" if message else hint


def about_file(filename: str | None, message: str) -> str:
    """``message`` led by the file it is about ("a.jpg: File too large."), unless it names it."""
    return f"{filename}: {message}" if filename and filename not in message else message


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Read a ``Retry-After`` header: delta seconds (decimals tolerated) or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class NemoError(Exception):
    """Root of every error raised by nemovideo.

    Every error pickles with all its attributes (``code``, ``http_status``, ``job_id``,
    ``reason``...), so it crosses a process boundary whole (``ProcessPoolExecutor``, Celery,
    Ray); any token a server echoed into one of them is masked in the pickle.
    """

    request_id: str | None = None

    def __init__(self, message: str) -> None:
        # servers echo what they were sent: never show a token, and never a byte that cannot be
        # printed (a lone surrogate) or that drives a terminal (an escape sequence)
        message = printable(redact(message))
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuild without calling ``__init__`` (whose signature differs per class), from the
        message, ``args`` and the attributes, every text in them passed through ``redact``."""
        state = {name: _masked(value) for name, value in vars(self).items()}
        return _rebuild, (type(self), redact(str(self.message)), _masked(self.args)), state

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data: ``"type"`` (the class name), ``message`` and every
        attribute, the token masked; for a result that must cross JSON (a Celery task returning
        ``{"error": exc.to_dict()}``). :meth:`from_dict` rebuilds it."""
        from nemovideo._util.plain import plain

        return {
            "type": type(self).__name__,
            **{name: plain(_masked(value)) for name, value in vars(self).items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NemoError:
        """The error ``to_dict()`` described: of its ``"type"`` when that names a subclass of
        ``cls`` in ``nemovideo.errors``, else of ``cls``, with its attributes set as given."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"{cls.__name__}.from_dict needs a mapping, got {type(data)}")
        named = globals().get(str(data.get("type")))
        kind = named if isinstance(named, type) and issubclass(named, cls) else cls
        error = _rebuild(kind, redact(str(data.get("message") or "")))
        for name, value in data.items():
            if name != "type" and isinstance(name, str) and name.isidentifier():
                setattr(error, name, _masked(value))
        return error


class ValidationError(NemoError, ValueError):
    """Bad input, caught before anything was sent."""


class InsecureURLError(ValidationError):
    """A plain ``http://`` API URL for a host that is not loopback, without ``allow_insecure_http``."""


class ClientClosedError(NemoError, RuntimeError):
    """The client (or its session) was used after ``aclose()``."""


class TransportError(NemoError):
    """The network failed: the request may or may not have reached the server.

    ``never_sent`` is true when the connection never opened (refused, DNS, connect timeout), so
    the request certainly did not arrive.
    """

    never_sent: bool = False


class StreamTimeoutError(TransportError, TimeoutError):
    """A chat stream sent nothing but heartbeats for ``stream_idle_timeout``, or ran past
    ``stream_timeout``."""


class StreamDecodeError(TransportError):
    """The event stream broke the SSE rules or exceeded a size cap."""


class ChatRecoveryError(NemoError):
    """A dropped chat stream could not be recovered by polling state. The message was NOT re-sent.

    Deliberately not a ``TransportError``: a generic "retry on network errors" handler must not
    catch it and send the message again, which would charge for the edit twice.
    """


class APIError(NemoError):
    """The server answered with a failure.

    ``code`` is the envelope's code when it had one, else the HTTP status; ``http_status`` is the
    HTTP status of the answer (200 when the failure came inside a successful response).
    """

    default_message: ClassVar[str] = "The NemoVideo API reported an error."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: int | None = None,
        http_status: int | None = None,
        data: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message or self.default_message)
        self.code = code
        self.http_status = http_status
        self.data: Mapping[str, Any] = scrub_data(data, redact) if data else {}
        self.request_id = request_id

    def __repr__(self) -> str:
        rid = f", request_id={self.request_id!r}" if self.request_id else ""
        return (
            f"{type(self).__name__}(code={self.code!r}, http_status={self.http_status!r}, "
            f"message={self.message!r}{rid})"
        )


class AuthenticationError(APIError):
    """1001: the token is bad or expired. Anonymous tokens are refreshed once automatically."""

    default_message = "The token is invalid or expired."


class AgentError(APIError):
    """The chat invocation failed after the stream started (ADK's terminal ``{"error": ...}``).

    The answer is incomplete, whatever text came before: ``reply`` holds the partial
    ``ChatReply`` (text, tool calls and events received before the failure), or ``None`` when
    the failure is raised from a ``ChatStream`` before a reply was assembled. The message was
    NOT re-sent; sending it again may charge again.
    """

    default_message = "The agent failed while answering."

    def __init__(self, message: str | None = None, *, reply: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("http_status", 200)
        super().__init__(message, **kwargs)
        self.reply = reply


class NotFoundError(APIError):
    """404 without a documented code: an id the server does not know (a render job, a file).

    The message says what to check: an id belongs to the API and the user (token) that made it.
    """

    default_message = "Not found."
    hint: ClassVar[str] = (
        "Check the id: it must come from this API (NEMO_API_URL) and this user's token; "
        "a render job id is the one session.export() returned or `nemovideo export` printed."
    )

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        base = message or self.default_message
        super().__init__(base if "check" in base.lower() else with_hint(base, self.hint), **kwargs)


class SessionNotFoundError(NotFoundError):
    """1002: the session does not exist (or belongs to another user). Start a new session."""

    default_message = "Session not found."
    hint = "Create a new session with client.create_session() (on the command line: --new)."


class InsufficientCreditsError(APIError):
    """2001: no credits left. ``registration_url`` is where an anonymous user can register."""

    default_message = "Not enough credits."

    def __init__(
        self, message: str | None = None, *, registration_url: str | None = None, **kwargs: Any
    ) -> None:
        self.registration_url = registration_url
        hint = (
            f"Register to get more credits: {registration_url}"
            if registration_url
            else REGISTERED_TOP_UP
        )
        base = message or self.default_message
        super().__init__(with_hint(base, hint), **kwargs)


class UnsupportedFileError(APIError, ValidationError):
    """4001: the file's format is not supported. ``supported_formats`` lists what is."""

    default_message = "Unsupported file format."

    def __init__(
        self,
        message: str | None = None,
        *,
        filename: str | None = None,
        supported_formats: tuple[str, ...] = SUPPORTED_FORMATS,
        **kwargs: Any,
    ) -> None:
        self.filename, self.supported_formats = filename, supported_formats
        formats = f"Supported formats: {', '.join(supported_formats)}."
        base = about_file(filename, message or self.default_message)
        super().__init__(with_hint(base, formats), **kwargs)


class FileTooLargeError(APIError, ValidationError):
    """4002: the file is over the size limit (``limit_bytes``)."""

    default_message = "File too large."

    def __init__(
        self,
        message: str | None = None,
        *,
        filename: str | None = None,
        limit_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        size_bytes: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.filename, self.limit_bytes, self.size_bytes = filename, limit_bytes, size_bytes
        mb = limit_bytes / (1024 * 1024)
        hint = f"The limit is {mb:g} MB; compress the file or trim it, then upload again."
        super().__init__(
            with_hint(about_file(filename, message or self.default_message), hint), **kwargs
        )


class MissingClientIdError(APIError):
    """400: the anonymous-token call lacked ``X-Client-Id``."""

    default_message = "The X-Client-Id header is missing."


class ExportBlockedError(APIError):
    """402: export is refused: anonymous tokens have no render scope (or the plan does not allow
    it). Not a credit problem, and never retried.

    ``registration_url`` (``<web>/register?bind=<user_id>``, or the one the server sent) is where
    an anonymous user registers; ``claim_url`` opens the session in the web app, to export it
    there once signed in. The message names both when known.
    """

    default_message = "Export is not available on the free plan."

    def __init__(
        self,
        message: str | None = None,
        *,
        registration_url: str | None = None,
        claim_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.registration_url = registration_url
        self.claim_url = claim_url
        base = message or self.default_message
        if "upgrade" not in base.lower() and "regist" not in base.lower():
            base = with_hint(base, "Register or upgrade your plan to export.")
        if registration_url and registration_url not in base:
            base = with_hint(
                base, f"Anonymous tokens cannot render. Register here: {registration_url}"
            )
        if claim_url and claim_url not in base:
            base = with_hint(base, f"Then open the session to export it: {claim_url}")
        super().__init__(base, **kwargs)


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the advertised wait in seconds, if any."""

    default_message = "Rate limited."

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        self.retry_after = retry_after
        base = message or self.default_message
        if retry_after is not None:
            base = with_hint(base, f"The server asks to wait {retry_after:g} s before retrying.")
        super().__init__(base, **kwargs)


class ServerError(APIError):
    """5xx, or an envelope ``code`` in the 500s (even on HTTP 200): the server failed.
    Idempotent requests were already retried; ``retry_after`` is the wait the server asked for
    (``Retry-After``, a 503 in maintenance), if any."""

    default_message = "The NemoVideo server failed."

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class DownloadError(NemoError, OSError):
    """The file could not be written locally: the target is a directory or not writable, the
    name is too long for the file system, the disk is full. Nothing was left under the final
    name; ``path`` is where the SDK tried to save."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class RenderFailedError(NemoError):
    """The render job ended in ``failed``; ``reason`` is the server's explanation."""

    def __init__(self, job_id: str | None, reason: str | None) -> None:
        self.job_id = job_id
        self.reason = reason
        what = f"Render {job_id}" if job_id else "The render"
        super().__init__(f"{what} failed: {reason or 'no reason given'}")
        # the constructor's own arguments: what JSON task queues (Celery) rebuild an error from
        self.args = (job_id, None if reason is None else redact(reason))


class RenderTimeoutError(NemoError, TimeoutError):
    """The wait ended before the job finished. It may still complete: resume it by id.

    ``elapsed`` is how long the client waited (seconds), ``polls`` how many polls it made.
    """

    def __init__(
        self, job_id: str, polls: int, status: str | None, *, elapsed: float | None = None
    ) -> None:
        status = None if status is None else redact(status)
        self.job_id = job_id
        self.polls = polls
        self.status = status
        self.elapsed = elapsed
        if elapsed is None:
            waited = f"{polls} polls"
        else:
            waited = (
                f"{elapsed:.1f} s ({polls} polls)"
                if elapsed < 10
                else f"{elapsed:.0f} s ({polls} polls)"
            )
        super().__init__(
            f"Render {job_id} still {status or 'unfinished'} after {waited}. Wait longer with "
            f"job.wait(timeout=...) or raise render_timeout; resume later with "
            f"client.renderer.resume({job_id!r}) or `nemovideo export --job {job_id}`."
        )
        self.args = (job_id, polls, status)


def _rebuild(cls: type[NemoError], message: str, args: tuple[Any, ...] | None = None) -> NemoError:
    """An error of ``cls`` carrying ``message`` (and ``args``); pickle then restores its
    attributes."""
    error = cls.__new__(cls, message)
    Exception.__init__(error, message)
    if args is not None:
        error.args = args
    return error


def _masked(value: Any, depth: int = 0) -> Any:
    """``value`` with every string in it redacted (mappings, lists and tuples walked)."""
    if isinstance(value, str):
        return redact(value)
    if depth > 50:
        return value
    if isinstance(value, Mapping):
        return {_masked(k, depth + 1): _masked(v, depth + 1) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_masked(v, depth + 1) for v in value)
    return value


_BY_CODE: dict[int, type[APIError]] = {
    1001: AuthenticationError,
    1002: SessionNotFoundError,
    2001: InsufficientCreditsError,
    4001: UnsupportedFileError,
    4002: FileTooLargeError,
    400: MissingClientIdError,
    401: AuthenticationError,
    402: ExportBlockedError,
    404: NotFoundError,
    429: RateLimitError,
}


Subject = Literal["client_id", "session", "job"]
"""What the failed call was about, from the endpoint (not from the message text): a bare 400 is
"X-Client-Id missing" only on the anonymous-token call; a 404 is an unknown session on a call
about a session."""


def error_for(
    *,
    code: int | None,
    http_status: int,
    message: str | None,
    data: Mapping[str, Any] | None = None,
    retry_after: float | None = None,
    registration_url: str | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    subject: Subject | None = None,
) -> APIError:
    """Build the typed error for a failed answer.

    The envelope code wins over the HTTP status: a 402 whose body says 2001 is a credit problem,
    not a plan problem. ``subject`` (the endpoint's) decides what a bare 400 and a 404 mean.

    >>> type(error_for(code=None, http_status=404, message="Not found", subject="session"))
    <class 'nemovideo.SessionNotFoundError'>
    >>> type(error_for(code=None, http_status=400, message="Bad request", subject=None))
    <class 'nemovideo.APIError'>
    """
    key = code if code is not None else http_status
    kwargs: dict[str, Any] = {"code": key, "http_status": http_status, "data": data}
    cls = _BY_CODE.get(key)
    if cls is None and (http_status >= 500 or 500 <= key <= 599):
        cls = ServerError  # the code table mixes HTTP statuses into ``code``: 5xx there too
    if cls is MissingClientIdError and code is None and subject != "client_id":
        cls = APIError  # a bare 400 elsewhere is a plain bad request
    if cls is NotFoundError and subject == "session":
        cls = SessionNotFoundError
    if cls is InsufficientCreditsError:
        return InsufficientCreditsError(message, registration_url=registration_url, **kwargs)
    if cls is RateLimitError:
        if subject == "client_id":
            message = with_hint(message or "Rate limited.", ANONYMOUS_QUOTA)
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if cls is ExportBlockedError:
        return ExportBlockedError(message, registration_url=registration_url, **kwargs)
    if cls is ServerError:
        return ServerError(message, retry_after=retry_after, **kwargs)
    if cls is FileTooLargeError:
        return FileTooLargeError(message, limit_bytes=max_upload_bytes, **kwargs)
    return (cls or APIError)(message or _BARE.get(key), **kwargs)


_BARE = {400: "Bad request (400)."}


__all__ = [
    "SUPPORTED_FORMATS",
    "APIError",
    "AgentError",
    "AuthenticationError",
    "ChatRecoveryError",
    "ClientClosedError",
    "DownloadError",
    "ExportBlockedError",
    "FileTooLargeError",
    "InsecureURLError",
    "InsufficientCreditsError",
    "MissingClientIdError",
    "NemoError",
    "NotFoundError",
    "RateLimitError",
    "RenderFailedError",
    "RenderTimeoutError",
    "ServerError",
    "SessionNotFoundError",
    "StreamDecodeError",
    "StreamTimeoutError",
    "TransportError",
    "UnsupportedFileError",
    "ValidationError",
    "error_for",
    "parse_retry_after",
]
