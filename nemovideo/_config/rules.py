"""What each configuration option accepts, as small reusable rules.

A rule is an attrs validator that blames the constructor ``argument``; ``ClientConfig.from_env()``
calls ``check`` with the real source instead (a ``config.json`` path, an environment variable), so
a bad value is reported where it came from.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from yarl import URL

from nemovideo.errors import ValidationError


def is_loopback(host: str | None) -> bool:
    """True for ``localhost`` (and its subdomains) and loopback IP literals; any other name is
    the real network."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.scheme in ("http", "https") and bool(url.host)


@attrs.frozen(eq=False)
class Rule:
    """What one option accepts; as an attrs validator it blames the constructor ``argument``.

    ``from_env()`` calls ``check`` with the real source instead, so a bad value in ``config.json``
    or the environment is reported with the file or variable it came from.
    """

    expected: str
    accepts: Callable[[Any], bool]
    secret: bool = False

    def __call__(self, _instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        self.check(attribute.name, value, "argument")

    def check(self, name: str, value: Any, source: str) -> None:
        if self.accepts(value):
            return
        got = type(value).__name__ if self.secret else f"{type(value).__name__} {value!r}"
        raise ValidationError(f"{name} ({source}) must be {self.expected}, got {got}")


_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f\s\ud800-\udfff]")


def header_safe(value: Any) -> bool:
    """Fit for an HTTP header as it is: no CR/LF/NUL or other control character, no space."""
    return value is None or (
        isinstance(value, str) and 0 < len(value) <= 4096 and not _HEADER_UNSAFE.search(value)
    )


TEXT = Rule("a string", lambda v: isinstance(v, str))
SECRET = Rule(
    "a string without spaces or control characters (check for a pasted newline), or null",
    header_safe,
    secret=True,
)
HEADER_TEXT = Rule("a string without spaces or control characters, or null", header_safe)
LABEL = Rule(
    "a non-empty string without control characters",
    lambda v: isinstance(v, str) and 0 < len(v) <= 256 and not re.search(r"[\x00-\x1f\x7f]", v),
)
URL_RULE = Rule("an http(s) URL", _is_http_url)


def local_path_ok(value: object) -> bool:
    """A path the OS can take: no NUL, and encodable by the file system's encoding (a lone
    surrogate such as ``"\\ud800"`` is not; one that ``os.fsdecode`` made from a non-UTF-8
    name is, and names that very file)."""
    if not isinstance(value, (str, os.PathLike)):
        return False
    text = os.fspath(value)
    if not isinstance(text, str) or "\x00" in text:
        return False
    try:
        os.fsencode(text)
    except UnicodeError:
        return False
    return True


PATH = Rule(
    "a path without NUL characters or lone surrogates",
    lambda v: isinstance(v, Path) and local_path_ok(v),
)
FLAG = Rule("true or false", lambda v: isinstance(v, bool))
SECONDS = Rule("a finite number of seconds >= 0", lambda v: _is_number(v) and v >= 0)
POSITIVE_SECONDS = Rule("a finite number of seconds > 0", lambda v: _is_number(v) and v > 0)
COUNT = Rule("an integer >= 0", lambda v: _is_count(v) and v >= 0)
POSITIVE_COUNT = Rule("an integer > 0", lambda v: _is_count(v) and v > 0)
OPTIONAL_SECONDS = Rule(
    "null or a finite number of seconds > 0", lambda v: v is None or (_is_number(v) and v > 0)
)
GROWTH = Rule("a finite number >= 1", lambda v: _is_number(v) and v >= 1)
OPTIONAL_URL = Rule("null or an http(s) URL", lambda v: v is None or _is_http_url(v))


def strip_slash(value: Any) -> Any:
    return value.rstrip("/") if isinstance(value, str) else value


def to_path(value: Any) -> Any:
    """``~`` is the user's home, as in a shell: ``NEMO_CONFIG_DIR=~/nemo`` is not ``./~/nemo``."""
    if isinstance(value, (str, os.PathLike)):
        return Path(value).expanduser()
    return value
