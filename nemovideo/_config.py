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
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from yarl import URL

from .errors import DEFAULT_MAX_UPLOAD_BYTES, InsecureURLError, ValidationError

DEFAULT_API_URL = "https://mega-api-prod.nemovideo.ai"
DEFAULT_WEB_URL = "https://nemovideo.com"
DEFAULT_SKILL_NAME = "free-image-to-video-generator"
DEFAULT_SKILL_VERSION = "1.0.0"
CONFIG_FILE = "config.json"

_ENV: dict[str, str] = {
    "token": "NEMO_TOKEN",
    "base_url": "NEMO_API_URL",
    "web_url": "NEMO_WEB_URL",
    "client_id": "NEMO_CLIENT_ID",
    "skill_platform": "SKILL_SOURCE",
    "config_dir": "NEMO_CONFIG_DIR",
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


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValidationError(f"{attribute.name} must be positive, got {value!r}")


def _non_negative(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValidationError(f"{attribute.name} must be >= 0, got {value!r}")


def _strip_slash(value: str) -> str:
    return str(value).rstrip("/")


@attrs.frozen(kw_only=True)
class ClientConfig:
    """Everything the client needs to know, as one immutable value.

    Timeouts and waits are seconds. ``token`` never appears in ``repr()``.
    """

    base_url: str = attrs.field(default=DEFAULT_API_URL, converter=_strip_slash)
    web_url: str = attrs.field(default=DEFAULT_WEB_URL, converter=_strip_slash)
    token: str | None = attrs.field(default=None, repr=False)
    client_id: str | None = None
    config_dir: Path = attrs.field(factory=_default_config_dir, converter=Path)
    skill_name: str = DEFAULT_SKILL_NAME
    skill_version: str = DEFAULT_SKILL_VERSION
    skill_platform: str = attrs.field(factory=detect_platform)
    request_timeout: float = attrs.field(default=60.0, validator=_positive)
    connect_timeout: float = attrs.field(default=15.0, validator=_positive)
    max_retries: int = attrs.field(default=2, validator=_non_negative)
    retry_backoff: float = attrs.field(default=0.5, validator=_non_negative)
    retry_backoff_max: float = attrs.field(default=8.0, validator=_non_negative)
    rate_limit_wait: float = attrs.field(default=30.0, validator=_non_negative)
    poll_interval: float = attrs.field(default=30.0, validator=_non_negative)
    max_polls: int = attrs.field(default=10, validator=_positive)
    heartbeat_notice_interval: float = attrs.field(default=120.0, validator=_positive)
    stream_idle_timeout: float = attrs.field(default=600.0, validator=_positive)
    stream_timeout: float = attrs.field(default=900.0, validator=_positive)
    recovery_first_wait: float = attrs.field(default=30.0, validator=_non_negative)
    recovery_wait: float = attrs.field(default=60.0, validator=_non_negative)
    recovery_max_polls: int = attrs.field(default=5, validator=_positive)
    settle_wait: float = attrs.field(default=3.0, validator=_non_negative)
    max_upload_bytes: int = attrs.field(default=DEFAULT_MAX_UPLOAD_BYTES, validator=_positive)
    upload_concurrency: int = attrs.field(default=1, validator=_positive)
    sse_max_line_bytes: int = attrs.field(default=4 << 20, validator=_positive)
    sse_max_event_bytes: int = attrs.field(default=16 << 20, validator=_positive)
    max_response_bytes: int = attrs.field(default=32 << 20, validator=_positive)
    allow_insecure_http: bool = False

    def __attrs_post_init__(self) -> None:
        for name in ("base_url", "web_url"):
            url = URL(getattr(self, name))
            if url.scheme not in ("http", "https") or not url.host:
                raise ValidationError(f"{name} must be an http(s) URL, got {str(url)!r}")
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
        """Build a config: ``overrides`` > environment > ``<config_dir>/config.json`` > defaults."""
        env = os.environ if environ is None else environ
        unknown = set(overrides) - cls.field_names()
        if unknown:
            raise TypeError(f"unknown configuration option(s): {', '.join(sorted(unknown))}")
        from_env = {name: env[var] for name, var in _ENV.items() if env.get(var)}
        config_dir = Path(
            overrides.get("config_dir") or from_env.get("config_dir") or _default_config_dir()
        )
        values: dict[str, Any] = {}
        values.update(_read_config_file(config_dir / CONFIG_FILE))
        values.update(from_env)
        values.update({k: v for k, v in overrides.items() if v is not None})
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


def _read_config_file(path: Path) -> dict[str, Any]:
    """Settings saved by the user; a broken file is an error, not silently ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValidationError(f"Cannot read config file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"Config file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"Config file {path} must hold a JSON object")
    known = ClientConfig.field_names() - {"config_dir"}
    return {k: v for k, v in data.items() if k in known}
