"""Where the token comes from, and how it is renewed.

Sources, first wins: the ``token`` argument, ``NEMO_TOKEN``, the cached anonymous token, a new
anonymous token. Anonymous tokens are cached per API host and client id under the config dir
(mode 0600, written atomically) so that a notebook restart does not spend the quota of one anonymous
token per client per 7 days. On code 1001 an anonymous token is renewed once; however many requests
fail at the same moment, a single refresh runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs

from nemovideo._config.config import ClientConfig
from nemovideo._config.rules import header_safe
from nemovideo._http.pool import asyncio_loop
from nemovideo._util import forks
from nemovideo._util.files import FileLock, atomic_write_bytes, create_once
from nemovideo.errors import APIError, AuthenticationError, RateLimitError, TransportError

log = logging.getLogger("nemovideo.auth")

CLIENT_ID_FILE = "client_id"

FetchAnonymous = Callable[[str, bool], Awaitable[Mapping[str, Any]]]


def _valid_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


_ISO_8601 = re.compile(
    r"(?P<year>\d{4})-?(?P<month>\d{2})-?(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2})(?::?(?P<minute>\d{2})(?::?(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)


_MILLISECONDS = 1e11  # an epoch past this (the year 5138 in seconds) is read as milliseconds


def _parse_time(value: Any) -> float | None:
    """An expiry as a POSIX time: epoch seconds (or milliseconds), or an
    ISO 8601 string read the same on every Python; ``None`` for anything else.

    Read liberally and never raise: an integer of 400 digits, ``NaN``, a year 9999 with a negative
    offset, a list are all "unknown" (``None``), not an ``OverflowError``. ``datetime.fromisoformat``
    on 3.10 refuses ``Z``, ``+0000`` and fractions that are not 3 or 6 digits, so the string is
    parsed here. A date alone is midnight, and no offset means UTC. The value is information only:
    the server judges expiry (``AnonymousToken.usable``).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:
            return None
        if not math.isfinite(seconds) or seconds > _MILLISECONDS * 1000:
            return None
        return seconds / 1000 if seconds > _MILLISECONDS else seconds
    if not isinstance(value, str):
        return None
    match = _ISO_8601.fullmatch(value.strip())
    if match is None:
        return None
    part = match.groupdict()
    offset = timedelta(0)
    zone = part["zone"]
    if zone and zone not in "Zz":
        hours, minutes = int(zone[1:3]), int(zone[-2:]) if len(zone) > 3 else 0
        if minutes >= 60:
            return None
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
    try:
        when = datetime(
            int(part["year"]),
            int(part["month"]),
            int(part["day"]),
            int(part["hour"] or 0),
            int(part["minute"] or 0),
            int(part["second"] or 0),
            int((part["fraction"] or "").ljust(6, "0")[:6]),
            tzinfo=timezone(offset),
        )
        return when.timestamp()
    except (ValueError, OverflowError):
        return None


@attrs.frozen(eq=False)
class AnonymousToken:
    """A token handed out by ``/api/auth/anonymous-token``; ``token`` is kept out of ``repr``."""

    token: str = attrs.field(repr=False)
    user_id: str | None
    expires_at: float | None

    def usable(self, now: float | None = None) -> bool:
        """Whether to send this token: always, until the server answers 1001.

        The server is the judge of expiry (PROTOCOL.md): an ``expires_at`` that looks past by the
        client's clock (the server's zone or clock off, or this machine's clock days fast) is no
        reason to drop a token, because the API issues one token per client id and refuses a
        second with 429 while the first is valid. ``expires_at`` is kept for display
        (``expired_by_clock``) and the 1001 renewal replaces the token when it really ends.
        """
        return True

    def unexpired(self, now: float | None = None) -> bool:
        """Still worth sending: the same rule as ``usable`` (the server decides)."""
        return True

    def expired_by_clock(self, now: float | None = None) -> bool:
        """Whether ``expires_at`` is past by this machine's clock (information, not a verdict)."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at

    @classmethod
    def from_cache(cls, data: object) -> AnonymousToken | None:
        """A cached token, or ``None`` when the file holds the wrong types (an integer token, a
        list, a token unfit for a header): such a cache is replaced, never a raw ``TypeError``."""
        if not isinstance(data, Mapping):
            return None
        token, user_id = data.get("token"), data.get("user_id")
        if not isinstance(token, str) or not token or not header_safe(token):
            return None
        return cls(
            token=token,
            user_id=user_id if isinstance(user_id, str) and header_safe(user_id) else None,
            expires_at=_parse_time(data.get("expires_at")),
        )

    @classmethod
    def from_response(cls, data: Mapping[str, Any]) -> AnonymousToken:
        """Read the token answer; a token unfit for a header is refused and never cached."""
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise AuthenticationError("The anonymous-token answer carried no token.")
        if not header_safe(token):
            raise APIError(
                "The anonymous-token answer carried a token with spaces or control characters "
                "(or over 4096 characters); it was not used or cached. Try again later, or set "
                "NEMO_TOKEN.",
                http_status=200,
            )
        user_id = data.get("user_id")
        return cls(
            token=token,
            user_id=user_id if isinstance(user_id, str) and header_safe(user_id) else None,
            expires_at=_parse_time(data.get("expires_at")),
        )


_unwritable: set[Path] = set()


def cannot_write(config_dir: Path, exc: OSError) -> None:
    """Note that ``config_dir`` cannot be written: one warning per directory and process.

    Containers and serverless functions often have a read-only home. The client then keeps its
    client id and anonymous token in memory: it works, but a new process asks for a new token.
    """
    if config_dir in _unwritable:
        return
    _unwritable.add(config_dir)
    log.warning(
        "The config dir %s cannot be written (%s): the client id and the anonymous token are "
        "kept in memory for this process only. Set NEMO_CONFIG_DIR (or config_dir=) to a "
        "writable directory to keep them across runs, or NEMO_TOKEN to use a token of your own.",
        config_dir,
        exc.strerror or type(exc).__name__,
    )


class ClientIdStore:
    """The client id: argument or ``NEMO_CLIENT_ID``, else a UUID persisted under the config dir."""

    def __init__(self, config: ClientConfig) -> None:
        self._explicit = config.client_id
        self._path = config.config_dir / CLIENT_ID_FILE
        self._value: str | None = config.client_id

    @property
    def path(self) -> Path:
        return self._path

    def get(self) -> str:
        """The id, created once under the config dir; a broken file is replaced, not trusted.

        A file that is binary, not a UUID, or a dangling symlink is replaced atomically with a
        fresh UUID (and a log line says so). A config dir that cannot be written gives an id for
        this process only, with a warning: the client still works, but its anonymous token
        quota is not kept across runs.
        """
        if self._value:
            return self._value
        try:
            self._value = self._load_or_create()
        except OSError as exc:
            cannot_write(self._path.parent, exc)
            self._value = str(uuid.uuid4())
        return self._value

    def _load_or_create(self) -> str:
        path, fresh = self._path, str(uuid.uuid4())
        try:
            stored = path.read_text(encoding="ascii").strip()
            why = "not a UUID"
        except FileNotFoundError:
            if not path.is_symlink():  # no file yet: create it, agreeing with a racing process
                return create_once(path, fresh.encode()).decode("ascii", "replace").strip()
            stored, why = "", "a dangling symlink"
        except UnicodeDecodeError:
            stored, why = "", "binary"
        if _valid_uuid(stored):
            return stored
        log.warning("Replacing the client id file %s (it was %s) with a new id", path, why)
        atomic_write_bytes(path, fresh.encode())
        return fresh

    def renew(self) -> str:
        """Make a new id (the server refused the old one as missing)."""
        new = str(uuid.uuid4())
        if not self._explicit:
            try:
                atomic_write_bytes(self._path, new.encode())
            except OSError as exc:
                cannot_write(self._path.parent, exc)
        self._value = new
        return new


class TokenProvider:
    """Hands the transport a token and renews anonymous ones exactly once per expiry."""

    def __init__(self, config: ClientConfig) -> None:
        self._config = config
        self._explicit: str | None = config.token or None
        self._current: AnonymousToken | None = None
        self._lock = asyncio.Lock()
        self._generation = forks.generation
        self.client_ids = ClientIdStore(config)

    def __repr__(self) -> str:
        source = "explicit" if self._explicit else "anonymous"
        return f"<TokenProvider {source} token, user_id={self.user_id!r}>"

    @property
    def user_id(self) -> str | None:
        return self._current.user_id if self._current else None

    @property
    def renewable(self) -> bool:
        return self._explicit is None

    def _cache_path(self) -> Path:
        key = f"{self._config.base_url}|{self.client_ids.get()}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self._config.config_dir / f"token-{digest}.json"

    def _load_cached(self) -> AnonymousToken | None:
        path = self._cache_path()
        try:
            cached = AnonymousToken.from_cache(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            cached = None
        if cached is None:
            log.warning("Ignoring unreadable token cache %s", path)
            return None
        return cached

    def _store(self, tok: AnonymousToken) -> None:
        if self._config.config_dir in _unwritable:
            return
        payload = {
            "token": tok.token,
            "user_id": tok.user_id,
            "expires_at": tok.expires_at,
            "base_url": self._config.base_url,
        }
        try:
            atomic_write_bytes(self._cache_path(), json.dumps(payload).encode())
        except OSError as exc:
            cannot_write(self._config.config_dir, exc)

    def ready(self) -> str | None:
        """The token to send now when it needs no fetch, no lock and no wait (the common case,
        answered without a coroutine); ``None``: ask :meth:`token`."""
        if self._explicit:
            return self._explicit
        current = self._current
        return current.token if current is not None and current.usable() else None

    async def token(self, fetch: FetchAnonymous) -> str:
        """The token to send now, fetching an anonymous one if there is none."""
        if self._explicit:
            return self._explicit
        current = self._current
        if current is not None and current.usable():
            return current.token
        asyncio_loop()
        async with self._renewal_lock():
            if self._current is not None and self._current.usable():
                return self._current.token
            cached = await asyncio.to_thread(self._load_cached)
            if cached is not None and cached.usable():
                self._current = cached
                return cached.token
            async with self._process_lock():
                cached = await asyncio.to_thread(self._load_cached) or cached
                if cached is not None and cached.usable():
                    self._current = cached  # another process renewed it while we waited
                    return cached.token
                return await self._fetch(fetch, fallback=cached or self._current)

    def _renewal_lock(self) -> asyncio.Lock:
        """The lock one renewal at a time holds; a new one in a forked child, where the
        parent's may be held by a thread that does not exist there (``_util.forks``)."""
        if self._generation != forks.generation:
            self._generation = forks.generation
            self._lock = asyncio.Lock()
        return self._lock

    def lock_wait(self) -> float:
        """How long to wait for another process's renewal: the longest one can take.

        The holder makes at most two token fetches (the second with a new client id), each of
        up to two tries of ``request_timeout`` with a ``rate_limit_wait`` between them after a
        429. Past that it is stuck (stopped in a debugger, say), and waiting on would hang this
        client with it.
        """
        return 2 * (2 * self._config.request_timeout + self._config.rate_limit_wait)

    @contextlib.asynccontextmanager
    async def _process_lock(self) -> AsyncIterator[None]:
        """Hold the lock file shared with other processes on this config dir; without a writable
        one there is nothing to share, and this process's asyncio lock is enough."""
        if self._config.config_dir in _unwritable:
            yield
            return
        lock = FileLock(self._cache_path().with_suffix(".lock"))
        wait = self.lock_wait()
        try:
            await lock.acquire(timeout=wait)
        except TimeoutError:
            raise TransportError(
                f"Gave up after {wait:g} s waiting for another process to renew the anonymous "
                f"token (lock file {lock.path}); that process seems stuck. Stop it, or give "
                "this client its own config_dir or a NEMO_TOKEN."
            ) from None
        except OSError as exc:  # a read-only config dir: nothing to share with other processes
            cannot_write(self._config.config_dir, exc)
        try:
            yield
        finally:
            lock.release()

    def explicit_rejected(self, http_status: int | None = None) -> AuthenticationError:
        """The error for a rejected token the caller chose, which the SDK must not replace."""
        return AuthenticationError(
            "The token given by argument or NEMO_TOKEN was rejected (invalid or expired). "
            "Set a valid token, or unset it to use an anonymous one.",
            code=1001,
            http_status=http_status,
        )

    async def refresh(self, stale: str, fetch: FetchAnonymous) -> str:
        """Renew after a 1001 on ``stale``; callers that lost the race get the winner's token."""
        if self._explicit:
            raise self.explicit_rejected()
        async with self._renewal_lock():
            if self._current is not None and self._current.token != stale:
                return self._current.token
            async with self._process_lock():
                cached = await asyncio.to_thread(self._load_cached)
                if cached is not None and cached.token != stale:
                    self._current = cached  # another process renewed it
                    return cached.token
                return await self._fetch(fetch)

    async def _fetch(self, fetch: FetchAnonymous, fallback: AnonymousToken | None = None) -> str:
        """A new anonymous token; ``fallback`` (unexpired) serves while the API refuses a new one.

        The API issues one token per client id at a time, so a renewal inside the expiry margin -
        or after another process sharing the config dir renewed - can be refused with 429.
        """
        log.info("Requesting an anonymous token")
        try:
            patient = fallback is None or not fallback.unexpired()
            data = await fetch(self.client_ids.get(), patient)
        except RateLimitError:
            # Another process may have just been issued this client's token: look again.
            fresh = await asyncio.to_thread(self._load_cached)
            usable = [t for t in (fresh, fallback) if t is not None and t.unexpired()]
            if not usable:
                raise
            log.info("The API will not issue a new token yet; using the one still valid")
            self._current = usable[0]
            return usable[0].token
        tok = AnonymousToken.from_response(data)
        self._current = tok
        await asyncio.to_thread(self._store, tok)
        return tok.token

    def note_user_id(self, user_id: str) -> None:
        if self._current is not None and self._current.user_id is None:
            self._current = attrs.evolve(self._current, user_id=user_id)
