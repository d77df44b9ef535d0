"""How a ``nemovideo`` command ends: the exit codes and the code each SDK error maps to.

Kept apart from ``cli`` (argument parsing, ``main``) so the commands behind it (``_cli_commands``,
``_cli_demo``, ``_cli_repl``) can return these codes without importing the module that imports
them.
"""

from __future__ import annotations

from nemovideo.errors import (
    AuthenticationError,
    ChatRecoveryError,
    ExportBlockedError,
    InsufficientCreditsError,
    MissingClientIdError,
    NemoError,
    NotFoundError,
    RenderFailedError,
    RenderTimeoutError,
    ServerError,
    TransportError,
    ValidationError,
)

__all__ = [
    "EXIT_AUTH",
    "EXIT_CREDITS",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_SERVER",
    "EXIT_USAGE",
    "exit_code_for",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_AUTH, EXIT_CREDITS, EXIT_SERVER, EXIT_NOT_FOUND = 3, 4, 5, 6
EXIT_INTERRUPTED = 130

_EXIT_CODES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    (ValidationError, EXIT_USAGE),
    ((AuthenticationError, MissingClientIdError), EXIT_AUTH),
    ((InsufficientCreditsError, ExportBlockedError), EXIT_CREDITS),
    (NotFoundError, EXIT_NOT_FOUND),
    (
        (ServerError, TransportError, ChatRecoveryError, RenderFailedError, RenderTimeoutError),
        EXIT_SERVER,
    ),
)


def exit_code_for(exc: NemoError) -> int:
    """The process exit code for an SDK error (see ``nemovideo.cli``'s docstring)."""
    for types, code in _EXIT_CODES:
        if isinstance(exc, types):
            return code
    if getattr(exc, "http_status", None) and exc.http_status >= 500:  # type: ignore[attr-defined]
        return EXIT_SERVER
    return EXIT_FAILURE
