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

from collections.abc import Mapping
from typing import Any, ClassVar

from nemovideo._error_text import (
    DEFAULT_MAX_UPLOAD_BYTES,
    REGISTERED_TOP_UP,
    SUPPORTED_FORMATS,
    parse_retry_after,
    with_hint,
)
from nemovideo._http.redact import redact


class NemoError(Exception):
    """Root of every error raised by nemovideo."""

    request_id: str | None = None

    def __init__(self, message: str) -> None:
        message = redact(message)  # servers echo what they were sent: never show a token
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


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
        self.data: Mapping[str, Any] = data or {}
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

    def __init__(self, message: str | None = None, *, registration_url: str | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
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

    def __init__(self, message: str | None = None, *, filename: str | None = None,
                 supported_formats: tuple[str, ...] = SUPPORTED_FORMATS,
                 **kwargs: Any) -> None:  # fmt: skip
        self.filename = filename
        self.supported_formats = supported_formats
        base = message or self.default_message
        if filename and filename not in base:
            base = f"{filename}: {base}"
        formats = f"Supported formats: {', '.join(supported_formats)}."
        super().__init__(with_hint(base, formats), **kwargs)


class FileTooLargeError(APIError, ValidationError):
    """4002: the file is over the size limit (``limit_bytes``)."""

    default_message = "File too large."

    def __init__(self, message: str | None = None, *, filename: str | None = None,
                 limit_bytes: int = DEFAULT_MAX_UPLOAD_BYTES, size_bytes: int | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        self.filename = filename
        self.limit_bytes = limit_bytes
        self.size_bytes = size_bytes
        base = message or self.default_message
        if filename and filename not in base:
            base = f"{filename}: {base}"
        mb = limit_bytes / (1024 * 1024)
        hint = f"The limit is {mb:g} MB; compress the file or trim it, then upload again."
        super().__init__(with_hint(base, hint), **kwargs)


class MissingClientIdError(APIError):
    """400: the anonymous-token call lacked ``X-Client-Id``."""

    default_message = "The X-Client-Id header is missing."


class ExportBlockedError(APIError):
    """402: the account's plan does not allow export. This is not a credit problem.

    ``registration_url`` (``<web>/register?bind=<user id>``, for an anonymous user; also in the
    message) is where to register so that exports work.
    """

    default_message = "Export is not available on the free plan."

    def __init__(self, message: str | None = None, *, registration_url: str | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        self.registration_url = registration_url
        base = message or self.default_message
        said = "upgrade" in base.lower()
        if registration_url:
            where = "Register here" if said else "Register or upgrade your plan to export"
            base = with_hint(base, f"{where}: {registration_url}")
        elif not said:
            base = with_hint(base, "Register or upgrade your plan to export.")
        super().__init__(base, **kwargs)


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the advertised wait in seconds, if any."""

    default_message = "Rate limited."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        self.retry_after = retry_after
        base = message or self.default_message
        if retry_after is not None:
            base = with_hint(base, f"The server asks to wait {retry_after:g} s before retrying.")
        super().__init__(base, **kwargs)


class ServerError(APIError):
    """5xx: the server failed. Idempotent requests were already retried."""

    default_message = "The NemoVideo server failed."


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


class RenderTimeoutError(NemoError, TimeoutError):
    """The wait ended before the job finished. It may still complete: resume it by id.

    ``elapsed`` is how long the client waited (seconds), ``polls`` how many polls it made.
    """

    def __init__(
        self, job_id: str, polls: int, status: str | None, *, elapsed: float | None = None
    ) -> None:
        self.job_id = job_id
        self.polls = polls
        self.status = status
        self.elapsed = elapsed
        seconds = f"{elapsed:.1f}" if elapsed is not None and elapsed < 10 else f"{elapsed:.0f}"
        waited = f"{seconds} s ({polls} polls)" if elapsed is not None else f"{polls} polls"
        super().__init__(
            f"Render {job_id} still {status or 'unfinished'} after {waited}. Wait longer with "
            f"job.wait(timeout=...) or raise render_timeout; resume later with "
            f"client.renderer.resume({job_id!r}) or `nemovideo export --job {job_id}`."
        )


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


def error_for(
    *,
    code: int | None,
    http_status: int,
    message: str | None,
    data: Mapping[str, Any] | None = None,
    retry_after: float | None = None,
    registration_url: str | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> APIError:
    """Build the typed error for a failed answer.

    The envelope code wins over the HTTP status: a 402 whose body says 2001 is a credit problem,
    not a plan problem.
    """
    key = code if code is not None else http_status
    kwargs: dict[str, Any] = {"code": key, "http_status": http_status, "data": data}
    cls = _BY_CODE.get(key)
    if cls is None and http_status >= 500:
        cls = ServerError
    if cls is InsufficientCreditsError or cls is ExportBlockedError:
        return cls(message, registration_url=registration_url, **kwargs)
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if cls is FileTooLargeError:
        return FileTooLargeError(message, limit_bytes=max_upload_bytes, **kwargs)
    if cls is NotFoundError and message and "session" in message.lower():
        cls = SessionNotFoundError
    return (cls or APIError)(message, **kwargs)


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
