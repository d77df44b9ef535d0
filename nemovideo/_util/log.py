"""Logs a user can switch on: ``NEMO_LOG=info|debug`` prints the SDK's logs to stderr, tokens redacted.

    $ NEMO_LOG=debug python my_script.py
    2025-06-01 12:00:00.123 DEBUG nemovideo.transport: GET /api/credits/balance/simple -> 200 in 4 ms [req_4f0c…]

Like ``OPENAI_LOG``: unset, the SDK adds no handler and its loggers (``nemovideo`` and children)
follow the application's logging setup. Set, one stderr handler goes on the ``nemovideo`` logger,
once per process, however many clients are made.

Redaction is the one the error messages use (``nemovideo._http.redact``): the client's own token (each
client registers it with :func:`register_secret`) and anything token-shaped (``nmv_usr_…``,
``clm_…``, ``Bearer …``) becomes ``***``. The handler's :class:`RedactingFilter` applies it to the
message, its arguments, the request fields and any traceback before a line is written.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping

from nemovideo._http.redact import redact, register_secret
from nemovideo.errors import ValidationError

__all__ = [
    "LEVELS",
    "LogFormatter",
    "RedactingFilter",
    "redact",
    "register_secret",
    "setup_from_env",
]

LEVELS: Mapping[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
"""The values ``NEMO_LOG`` accepts (any case)."""

FIELDS = ("method", "path", "status", "elapsed_ms", "attempt", "retry_in", "request_id")
"""The ``extra=`` keys the transport puts on a request's log records."""

_lock = threading.Lock()


class RedactingFilter(logging.Filter):
    """Redacts a record in place (message, arguments, request fields, traceback); never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        for name in FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str):
                record.__dict__[name] = redact(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class LogFormatter(logging.Formatter):
    """One line per record: time, level, logger, message, and the request fields it lacks::

    2025-06-01 12:00:00.123 DEBUG nemovideo.transport: GET /api/credits/balance/simple -> 200 in 4 ms [req_9c1e…]
    2025-06-01 12:00:00.130 INFO nemovideo.transport: GET /api/credits/balance/simple: 503 …; retrying in 0.50 s request_id=req_41d0…

    The transport's messages already name the method, path, status and time; a record from
    elsewhere that carries the fields (``extra=``) but not the text gets them written out.
    """

    default_msec_format = "%s.%03d"

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = with_request_fields(record.message, record.__dict__)
        return super().formatMessage(record)


def with_request_fields(message: str, fields: Mapping[str, object]) -> str:
    """``message`` plus whichever request fields (:data:`FIELDS`) it does not show yet.

    ``GET /path 503 12ms`` goes in front when the message does not name the path;
    ``attempt=2 request_id=…`` go at the end when their values are not in it.
    """
    path = fields.get("path")
    if isinstance(path, str) and path not in message:
        head = [str(fields[k]) for k in ("method", "path", "status") if fields.get(k) is not None]
        elapsed = fields.get("elapsed_ms")
        if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool):
            head.append(f"{elapsed:.0f}ms")
        message = " ".join([*head, message]) if message else " ".join(head)
    tail = [
        f"{k}={fields[k]}"
        for k in ("attempt", "request_id")
        if fields.get(k) is not None and str(fields[k]) not in message
    ]
    return " ".join([message, *tail]) if tail else message


class _EnvHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``NEMO_LOG`` adds, told apart from the application's own."""


def setup_from_env(environ: Mapping[str, str] | None = None) -> logging.Handler | None:
    """Honour ``NEMO_LOG``: add the stderr handler to the ``nemovideo`` logger, once.

    Called by every ``NemoClient()``; idempotent (a second call finds the handler and returns it).
    Returns the handler, or None when ``NEMO_LOG`` is unset or empty.

    :raises ValidationError: ``NEMO_LOG`` holds something other than debug, info, warning, error.
    """
    env = os.environ if environ is None else environ
    value = env.get("NEMO_LOG", "").strip().lower()
    if not value:
        return None
    if value not in LEVELS:
        raise ValidationError(
            f"NEMO_LOG (environment variable) must be one of {', '.join(LEVELS)}, got {value!r}"
        )
    logger = logging.getLogger("nemovideo")
    with _lock:
        for handler in logger.handlers:
            if type(handler).__name__ == _EnvHandler.__name__:
                return handler
        handler = _EnvHandler(sys.stderr)
        handler.setFormatter(LogFormatter())
        handler.addFilter(RedactingFilter())
        logger.addHandler(handler)
        logger.setLevel(LEVELS[value])
    return handler
