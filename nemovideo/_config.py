"""Client configuration: one frozen value, built from arguments, environment, files and defaults.

Precedence, highest first: keyword arguments > environment (``NEMO_TOKEN``, ``NEMO_API_URL``,
``NEMO_WEB_URL``, ``NEMO_CLIENT_ID``, ``SKILL_SOURCE``, ``NEMO_CONFIG_DIR``) > ``config.json`` in the
config dir > defaults. Example::

    config = ClientConfig.from_env(request_timeout=10)
    async with NemoClient(config=config) as client:
        ...
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypedDict

import attrs
from yarl import URL

from .errors import DEFAULT_MAX_UPLOAD_BYTES, InsecureURLError, ValidationError

DEFAULT_API_URL = "https://mega-api-prod.nemovideo.ai"
DEFAULT_WEB_URL = "https://nemovideo.com"
DEFAULT_SKILL_NAME = "free-image-to-video-generator"
DEFAULT_SKILL_VERSION = "1.0.0"
CONFIG_FILE = "config.json"

log = logging.getLogger("nemovideo.config")

_ENV: dict[str, str] = {
    "token": "NEMO_TOKEN",
    "base_url": "NEMO_API_URL",
    "web_url": "NEMO_WEB_URL",
    "client_id": "NEMO_CLIENT_ID",
    "skill_platform": "SKILL_SOURCE",
    "config_dir": "NEMO_CONFIG_DIR",
    "poll_interval": "NEMO_POLL_INTERVAL",
    "render_timeout": "NEMO_RENDER_TIMEOUT",
    "proxy": "NEMO_PROXY",
}


def _default_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "nemovideo"


def detect_platform(environ: Mapping[str, str] | None = None) -> str:
    """Guess the agent platform for ``X-Skill-Platform`` when ``SKILL_SOURCE`` is unset."""
    env = os.environ if environ is None else environ
    if any(k.startswith("CLAWHUB") for k in env):
        return "clawhub"
    if any(k.startswith("CURSOR_") for k in env) or env.get("TERM_PROGRAM") == "cursor":
        return "cursor"
    return "unknown"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
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


@attrs.frozen
class _Rule:
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


_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f\s]")


def _header_safe(value: Any) -> bool:
    """Fit for an HTTP header as it is: no CR/LF/NUL or other control character, no space."""
    return value is None or (
        isinstance(value, str) and 0 < len(value) <= 4096 and not _HEADER_UNSAFE.search(value)
    )


_TEXT = _Rule("a string", lambda v: isinstance(v, str))
_SECRET = _Rule(
    "a string without spaces or control characters (check for a pasted newline), or null",
    _header_safe,
    secret=True,
)
_HEADER_TEXT = _Rule("a string without spaces or control characters, or null", _header_safe)
_LABEL = _Rule(
    "a non-empty string without control characters",
    lambda v: isinstance(v, str) and 0 < len(v) <= 256 and not re.search(r"[\x00-\x1f\x7f]", v),
)
_URL = _Rule("an http(s) URL", _is_http_url)
_PATH = _Rule("a path", lambda v: isinstance(v, Path))
_FLAG = _Rule("true or false", lambda v: isinstance(v, bool))
_SECONDS = _Rule("a finite number of seconds >= 0", lambda v: _is_number(v) and v >= 0)
_POSITIVE_SECONDS = _Rule("a finite number of seconds > 0", lambda v: _is_number(v) and v > 0)
_COUNT = _Rule("an integer >= 0", lambda v: _is_count(v) and v >= 0)
_POSITIVE_COUNT = _Rule("an integer > 0", lambda v: _is_count(v) and v > 0)
_OPTIONAL_SECONDS = _Rule(
    "null or a finite number of seconds > 0", lambda v: v is None or (_is_number(v) and v > 0)
)
_GROWTH = _Rule("a finite number >= 1", lambda v: _is_number(v) and v >= 1)
_OPTIONAL_URL = _Rule("null or an http(s) URL", lambda v: v is None or _is_http_url(v))


def _strip_slash(value: Any) -> Any:
    return value.rstrip("/") if isinstance(value, str) else value


def _to_path(value: Any) -> Any:
    """``~`` is the user's home, as in a shell: ``NEMO_CONFIG_DIR=~/nemo`` is not ``./~/nemo``."""
    if isinstance(value, (str, os.PathLike)):
        return Path(value).expanduser()
    return value


@attrs.frozen(kw_only=True)
class ClientConfig:
    """Everything the client needs to know, as one immutable value.

    Timeouts and waits are seconds. ``token`` never appears in ``repr()``.
    """

    base_url: str = attrs.field(default=DEFAULT_API_URL, converter=_strip_slash, validator=_URL)
    web_url: str = attrs.field(default=DEFAULT_WEB_URL, converter=_strip_slash, validator=_URL)
    token: str | None = attrs.field(default=None, repr=False, validator=_SECRET)
    client_id: str | None = attrs.field(default=None, validator=_HEADER_TEXT)
    config_dir: Path = attrs.field(factory=_default_config_dir, converter=_to_path, validator=_PATH)
    skill_name: str = attrs.field(default=DEFAULT_SKILL_NAME, validator=_LABEL)
    skill_version: str = attrs.field(default=DEFAULT_SKILL_VERSION, validator=_LABEL)
    skill_platform: str = attrs.field(factory=detect_platform, validator=_LABEL)
    request_timeout: float = attrs.field(default=60.0, validator=_POSITIVE_SECONDS)
    connect_timeout: float = attrs.field(default=15.0, validator=_POSITIVE_SECONDS)
    max_retries: int = attrs.field(default=2, validator=_COUNT)
    retry_backoff: float = attrs.field(default=0.5, validator=_SECONDS)
    retry_backoff_max: float = attrs.field(default=8.0, validator=_SECONDS)
    rate_limit_wait: float = attrs.field(default=30.0, validator=_SECONDS)
    poll_interval: float = attrs.field(default=30.0, validator=_SECONDS)
    poll_initial_interval: float = attrs.field(default=2.0, validator=_SECONDS)
    poll_backoff: float = attrs.field(default=1.5, validator=_GROWTH)
    render_timeout: float = attrs.field(default=600.0, validator=_POSITIVE_SECONDS)
    max_polls: int = attrs.field(default=1000, validator=_POSITIVE_COUNT)
    heartbeat_notice_interval: float = attrs.field(default=120.0, validator=_POSITIVE_SECONDS)
    stream_idle_timeout: float = attrs.field(default=600.0, validator=_POSITIVE_SECONDS)
    stream_timeout: float = attrs.field(default=900.0, validator=_POSITIVE_SECONDS)
    recovery_first_wait: float = attrs.field(default=30.0, validator=_SECONDS)
    recovery_wait: float = attrs.field(default=60.0, validator=_SECONDS)
    recovery_max_polls: int = attrs.field(default=5, validator=_POSITIVE_COUNT)
    settle_wait: float = attrs.field(default=3.0, validator=_SECONDS)
    max_upload_bytes: int = attrs.field(default=DEFAULT_MAX_UPLOAD_BYTES, validator=_POSITIVE_COUNT)
    upload_concurrency: int = attrs.field(default=1, validator=_POSITIVE_COUNT)
    sse_max_line_bytes: int = attrs.field(default=4 << 20, validator=_POSITIVE_COUNT)
    sse_max_event_bytes: int = attrs.field(default=16 << 20, validator=_POSITIVE_COUNT)
    max_response_bytes: int = attrs.field(default=32 << 20, validator=_POSITIVE_COUNT)
    download_timeout: float | None = attrs.field(default=None, validator=_OPTIONAL_SECONDS)
    proxy: str | None = attrs.field(default=None, validator=_OPTIONAL_URL)
    trust_env: bool = attrs.field(default=True, validator=_FLAG)
    allow_insecure_http: bool = attrs.field(default=False, validator=_FLAG)

    def __attrs_post_init__(self) -> None:
        api = URL(self.base_url)
        if api.scheme == "http" and not is_loopback(api.host) and not self.allow_insecure_http:
            raise InsecureURLError(
                f"Refusing plain http:// API URL {self.base_url!r}: the token would travel "
                "unencrypted. Use https, a loopback host, or allow_insecure_http=True."
            )

    @property
    def has_explicit_token(self) -> bool:
        """True when a token was configured (argument, ``NEMO_TOKEN`` or config file).

        Without one the client falls back to its cached anonymous token, and only then may it
        renew that token by itself on an auth error; an explicit token is never replaced.
        """
        return bool(self.token)

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Every option name, so callers can validate keyword arguments before building.

        ``from_env()`` uses it to reject a misspelt option instead of silently ignoring it.
        """
        return frozenset(a.name for a in attrs.fields(cls))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ClientConfig:
        """Build a config: ``overrides`` > environment > ``<config_dir>/config.json`` > defaults.

        Every value is checked where it came from, so a mistake names its source::

            ValidationError: request_timeout (config file /home/me/.config/nemovideo/config.json)
            must be a finite number of seconds > 0, got str '10'

        Unknown keys in ``config.json`` are logged and skipped (a newer SDK may have written
        them); unknown keyword arguments raise ``TypeError``.
        """
        env = os.environ if environ is None else environ
        unknown = set(overrides) - cls.field_names()
        if unknown:
            raise TypeError(f"unknown configuration option(s): {', '.join(sorted(unknown))}")
        given = {k: v for k, v in overrides.items() if v is not None}
        from_env = {name: _env_value(name, env[var]) for name, var in _ENV.items() if env.get(var)}
        if given.get("config_dir"):
            config_dir = _checked("config_dir", given["config_dir"], "argument")
        elif "config_dir" in from_env:
            config_dir = _checked("config_dir", from_env["config_dir"], _env_source("config_dir"))
        else:
            config_dir = _default_config_dir()
        path = config_dir / CONFIG_FILE
        values: dict[str, Any] = {}
        for name, value in _read_config_file(path).items():
            values[name] = _checked(name, value, f"config file {path}")
        for name, value in from_env.items():
            values[name] = _checked(name, value, _env_source(name))
        for name, value in given.items():
            values[name] = _checked(name, value, "argument")
        values["config_dir"] = config_dir
        if "skill_platform" not in values:
            values["skill_platform"] = detect_platform(env)
        return cls(**values)

    def evolve(self, **changes: Any) -> ClientConfig:
        """A copy with ``changes`` applied and validated again; the original is untouched.

        Handy in tests, to derive a fast-polling config from a shared one::

            fast = config.evolve(poll_interval=0.01, max_polls=3)
        """
        return attrs.evolve(self, **changes)


class ConfigOptions(TypedDict, total=False):
    """The keyword options of ``NemoClient(...)``, ``with_options(...)`` and ``from_env(...)``.

    One key per :class:`ClientConfig` field (a test keeps the two equal), so a type checker
    catches ``NemoClient(request_timout=5)``.
    """

    base_url: str
    web_url: str
    token: str | None
    client_id: str | None
    config_dir: str | os.PathLike[str]
    skill_name: str
    skill_version: str
    skill_platform: str
    request_timeout: float
    connect_timeout: float
    max_retries: int
    retry_backoff: float
    retry_backoff_max: float
    rate_limit_wait: float
    poll_interval: float
    poll_initial_interval: float
    poll_backoff: float
    render_timeout: float
    max_polls: int
    heartbeat_notice_interval: float
    stream_idle_timeout: float
    stream_timeout: float
    recovery_first_wait: float
    recovery_wait: float
    recovery_max_polls: int
    settle_wait: float
    max_upload_bytes: int
    upload_concurrency: int
    sse_max_line_bytes: int
    sse_max_event_bytes: int
    max_response_bytes: int
    download_timeout: float | None
    proxy: str | None
    trust_env: bool
    allow_insecure_http: bool


def _env_value(name: str, text: str) -> Any:
    """An environment string as the option's type: ``NEMO_POLL_INTERVAL=5`` is 5.0 seconds.

    Only the environment gets this: ``config.json`` has real JSON numbers, so a string there is
    still reported as the mistake it is.
    """
    default = attrs.fields_dict(ClientConfig)[name].default
    if isinstance(default, float) and not isinstance(default, bool):
        try:
            return float(text.strip())
        except ValueError:
            return text
    return text


def _env_source(name: str) -> str:
    return f"environment variable {_ENV[name]}"


def _checked(name: str, value: Any, source: str) -> Any:
    """``value`` converted as the field converts it, or a ValidationError naming ``source``."""
    field = attrs.fields_dict(ClientConfig)[name]
    if field.converter is not None:
        value = field.converter(value)  # type: ignore[operator]
    if isinstance(field.validator, _Rule):
        field.validator.check(name, value, source)
    return value


def _read_config_file(path: Path) -> dict[str, Any]:
    """Settings saved by the user; a broken file is an error, not silently ignored.

    Keys this version does not know are skipped with a warning rather than refused, so a
    ``config.json`` written for a newer SDK still works with an older one.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValidationError(f"Cannot read config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValidationError(
            f"Config file {path} is not UTF-8 text; save it as UTF-8 JSON or delete it."
        ) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ValidationError(f"Config file {path} is not valid JSON: {reason}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"Config file {path} must hold a JSON object")
    known = ClientConfig.field_names() - {"config_dir"}
    for key in data:
        if key == "config_dir":
            log.warning("Ignoring config_dir in config file %s: the file is read from it", path)
        elif key not in known:
            log.warning("Ignoring unknown key %r in config file %s", key, path)
    return {k: v for k, v in data.items() if k in known}
