"""Client configuration: one frozen value, built from arguments, environment, files and defaults.

Precedence, highest first: keyword arguments > environment (``NEMO_TOKEN``, ``NEMO_API_URL``,
``NEMO_WEB_URL``, ``NEMO_CLIENT_ID``, ``SKILL_SOURCE``, ``NEMO_CONFIG_DIR``) > ``config.json`` in the
config dir > defaults. Example::

    config = ClientConfig.from_env(request_timeout=10)
    async with NemoClient(config=config) as client:
        ...
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from yarl import URL

from nemovideo._config.rules import (
    COUNT,
    FLAG,
    GROWTH,
    HEADER_TEXT,
    LABEL,
    OPTIONAL_SECONDS,
    OPTIONAL_URL,
    PATH,
    POSITIVE_COUNT,
    POSITIVE_SECONDS,
    SECONDS,
    SECRET,
    URL_RULE,
    Rule,
    is_loopback,
    strip_slash,
    to_path,
)
from nemovideo.errors import DEFAULT_MAX_UPLOAD_BYTES, InsecureURLError, ValidationError

if TYPE_CHECKING:  # the grouped views load when first asked for (five classes: ~3 ms of import)
    from nemovideo._config.groups import ChatWaits, Limits, Polling, Retries, Timeouts

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


GROUPS = ("connection", "timeouts", "retries", "polling", "chat", "limits")


def _opt(default: Any, rule: Rule, group: str, doc: str, **kwargs: Any) -> Any:
    """A documented option: ``doc`` and ``group`` feed ``docs/configuration.md`` (kept equal by
    a test) and the grouped views (``config.timeouts``...)."""
    if callable(default) and not isinstance(default, (int, float, str)):
        kwargs["factory"] = default
    else:
        kwargs["default"] = default
    return attrs.field(validator=rule, metadata={"group": group, "doc": doc}, **kwargs)


@attrs.frozen(kw_only=True)
class ClientConfig:
    """Everything the client needs to know, as one immutable value.

    Times are seconds. ``token`` never appears in ``repr()``. Each field documents itself
    (``attrs.fields(ClientConfig).request_timeout.metadata["doc"]``); ``config.timeouts``,
    ``.retries``, ``.polling``, ``.chat`` and ``.limits`` show one group at a time::

        >>> ClientConfig(base_url="http://127.0.0.1:8080").timeouts.request
        60.0
    """

    # -- connection
    base_url: str = _opt(
        DEFAULT_API_URL,
        URL_RULE,
        "connection",
        "API host; plain `http://` only for loopback unless `allow_insecure_http`",
        converter=strip_slash,
    )
    web_url: str = _opt(
        DEFAULT_WEB_URL,
        URL_RULE,
        "connection",
        "web app, for session and registration links",
        converter=strip_slash,
    )
    token: str | None = _opt(
        None,
        SECRET,
        "connection",
        "bearer token; anonymous when unset; never shown in reprs, logs or errors",
        repr=False,
    )
    client_id: str | None = _opt(
        None,
        HEADER_TEXT,
        "connection",
        "identifies this install for anonymous tokens; default: a UUID kept in `config_dir`",
    )
    config_dir: Path = _opt(  # noqa: RUF009 (attrs field, not a dataclass default)
        _default_config_dir,
        PATH,
        "connection",
        "client id, token cache and `config.json`; default `~/.config/nemovideo`",
        converter=to_path,
    )
    skill_name: str = _opt(DEFAULT_SKILL_NAME, LABEL, "connection", "`X-Skill-Source` header")
    skill_version: str = _opt(
        DEFAULT_SKILL_VERSION, LABEL, "connection", "`X-Skill-Version` header"
    )
    skill_platform: str = _opt(
        detect_platform,
        LABEL,
        "connection",
        "`X-Skill-Platform` header; default: detected, else `unknown`",
    )
    proxy: str | None = _opt(
        None, OPTIONAL_URL, "connection", "HTTP proxy for every request, e.g. `http://proxy:3128`"
    )
    trust_env: bool = _opt(
        True,
        FLAG,
        "connection",
        "honour `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` and `~/.netrc`, as browsers and curl do",
    )
    allow_insecure_http: bool = _opt(
        False,
        FLAG,
        "connection",
        "permit `http://` to a non-loopback API host (the token would travel unencrypted)",
    )
    # -- timeouts
    request_timeout: float = _opt(
        60.0,
        POSITIVE_SECONDS,
        "timeouts",
        "whole time for one ordinary request; also the wait for each chunk of a download",
    )
    connect_timeout: float = _opt(15.0, POSITIVE_SECONDS, "timeouts", "time to open a connection")
    download_timeout: float | None = _opt(
        None,
        OPTIONAL_SECONDS,
        "timeouts",
        "whole time for one download; none by default (200 MB take what they take)",
    )
    render_timeout: float = _opt(
        600.0,
        POSITIVE_SECONDS,
        "timeouts",
        "how long `job.wait()` waits for a render, whatever the poll interval",
    )
    stream_idle_timeout: float = _opt(
        600.0,
        POSITIVE_SECONDS,
        "timeouts",
        "a chat stream with no content (heartbeats only) for this long ends in `StreamTimeoutError`",
    )
    stream_timeout: float = _opt(900.0, POSITIVE_SECONDS, "timeouts", "whole chat stream")
    # -- retries
    max_retries: int = _opt(
        2, COUNT, "retries", "retries of re-sendable requests after a 5xx or a network failure"
    )
    retry_backoff: float = _opt(
        0.5,
        SECONDS,
        "retries",
        "backoff base: waits are random up to `retry_backoff * 2**attempt` (full jitter)",
    )
    retry_backoff_max: float = _opt(8.0, SECONDS, "retries", "longest backoff wait")
    rate_limit_wait: float = _opt(
        30.0, SECONDS, "retries", "wait after a 429 without `Retry-After` (one retry)"
    )
    # -- polling
    poll_initial_interval: float = _opt(2.0, SECONDS, "polling", "first wait between render polls")
    poll_backoff: float = _opt(
        1.5,
        GROWTH,
        "polling",
        "each wait between render polls is this much longer than the last ...",
    )
    poll_interval: float = _opt(
        30.0, SECONDS, "polling", "... up to this longest wait between render polls"
    )
    max_polls: int = _opt(
        1000,
        POSITIVE_COUNT,
        "polling",
        "safety cap on the polls of one wait (`render_timeout` is the real bound)",
    )
    # -- chat
    heartbeat_notice_interval: float = _opt(
        120.0, POSITIVE_SECONDS, "chat", '"still working" notices while a chat waits'
    )
    recovery_first_wait: float = _opt(
        30.0,
        SECONDS,
        "chat",
        "after a dropped chat stream, wait this long before the first state check",
    )
    recovery_wait: float = _opt(
        60.0, SECONDS, "chat", "wait between later state checks of a dropped-stream recovery"
    )
    recovery_max_polls: int = _opt(
        5,
        POSITIVE_COUNT,
        "chat",
        "unchanged state checks before a recovery gives up (the message is never re-sent)",
    )
    settle_wait: float = _opt(
        3.0,
        SECONDS,
        "chat",
        "after a silent answer whose draft looks unchanged, read the draft once more this much later",
    )
    # -- limits
    max_upload_bytes: int = _opt(
        DEFAULT_MAX_UPLOAD_BYTES, POSITIVE_COUNT, "limits", "client-side upload size limit (200 MB)"
    )
    upload_concurrency: int = _opt(
        1,
        POSITIVE_COUNT,
        "limits",
        "files uploaded at once (above 1 the server records them in finishing order)",
    )
    sse_max_line_bytes: int = _opt(
        4 << 20, POSITIVE_COUNT, "limits", "longest chat stream line (4 MB)"
    )
    sse_max_event_bytes: int = _opt(
        16 << 20, POSITIVE_COUNT, "limits", "largest chat stream event (16 MB)"
    )
    max_response_bytes: int = _opt(
        32 << 20,
        POSITIVE_COUNT,
        "limits",
        "largest JSON answer, counted after decompression (32 MB)",
    )
    max_connections: int = _opt(
        0, COUNT, "limits", "open connections at once, all hosts together; 0: no limit"
    )
    max_connections_per_host: int = _opt(
        0, COUNT, "limits", "open connections at once to one host (the API, the CDN); 0: no limit"
    )

    def __attrs_post_init__(self) -> None:
        api = URL(self.base_url)
        if api.scheme == "http" and not is_loopback(api.host) and not self.allow_insecure_http:
            raise InsecureURLError(
                f"Refusing plain http:// API URL {self.base_url!r}: the token would travel "
                "unencrypted. Use https, a loopback host, or allow_insecure_http=True (in "
                'config.json, which the command line reads too: "allow_insecure_http": true).'
            )

    @property
    def timeouts(self) -> Timeouts:
        """The timeouts, seconds: request, connect, download, render, stream_idle, stream."""
        from nemovideo._config.groups import Timeouts

        return Timeouts(*self._group("timeouts"))

    @property
    def retries(self) -> Retries:
        """How failed requests are retried: max_retries, backoff, backoff_max, rate_limit_wait."""
        from nemovideo._config.groups import Retries

        return Retries(*self._group("retries"))

    @property
    def polling(self) -> Polling:
        """Render polling: initial interval, backoff factor, longest interval, max_polls cap."""
        from nemovideo._config.groups import Polling

        return Polling(*self._group("polling"))

    @property
    def chat(self) -> ChatWaits:
        """Chat waits: heartbeat notices, dropped-stream recovery, the settle re-read."""
        from nemovideo._config.groups import ChatWaits

        return ChatWaits(*self._group("chat"))

    @property
    def limits(self) -> Limits:
        """Size caps (bytes), upload concurrency and the connection pool's limits."""
        from nemovideo._config.groups import Limits

        return Limits(*self._group("limits"))

    def _group(self, group: str) -> list[Any]:
        """The values of ``group``'s options in declared order, the order of the group's view
        (a test pairs the names up), so no view lists the options again."""
        fields = attrs.fields(type(self))
        return [getattr(self, f.name) for f in fields if f.metadata["group"] == group]

    @classmethod
    def options_table(cls) -> str:
        """The Markdown table of every option (``docs/configuration.md`` holds it verbatim)."""
        rows = ["| option | env var | default | what it does |", "|---|---|---|---|"]
        for group in GROUPS:
            rows.append(f"| **{group}** | | | |")
            for field in attrs.fields(cls):
                if field.metadata.get("group") != group:
                    continue
                env = f"`{_ENV[field.name]}`" if field.name in _ENV else ""
                rows.append(
                    f"| `{field.name}` | {env} | {_shown_default(field)} | "
                    f"{field.metadata['doc']} |"
                )
        return "\n".join(rows) + "\n"

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


def _shown_default(field: attrs.Attribute[Any]) -> str:
    if field.name in ("config_dir", "skill_platform", "client_id", "token"):
        return {
            "config_dir": "`~/.config/nemovideo`",
            "skill_platform": "detected",
            "client_id": "a stored UUID",
            "token": "anonymous",
        }[field.name]
    value = field.default
    if isinstance(value, bool) or value is None:
        return f"`{value}`"
    if isinstance(value, int) and field.name.endswith("_bytes"):
        return f"{value / (1 << 20):g} MiB"
    if isinstance(value, float):
        return (
            f"{value:g} s"
            if field.metadata["group"] != "polling" or "interval" in field.name
            else f"x{value:g}"
        )
    return f"`{value}`"


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
    if isinstance(field.validator, Rule):
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
