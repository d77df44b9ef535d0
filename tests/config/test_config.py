"""Configuration mistakes fail early, and name the key, its source and what was expected."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

import nemovideo
from nemovideo import ClientConfig


def _write(config_dir: Path, data: Any) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "config.json"
    path.write_text(json.dumps(data))
    return path


def test_tilde_in_config_dir_is_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    _write(home / "nemo", {"skill_version": "7.0.0"})

    from_env = ClientConfig.from_env({"NEMO_CONFIG_DIR": "~/nemo"})
    assert from_env.config_dir == home / "nemo"
    assert from_env.skill_version == "7.0.0", "config.json was read from the expanded dir"
    assert ClientConfig.from_env({}, config_dir="~/nemo").config_dir == home / "nemo"
    assert ClientConfig(config_dir="~/other").config_dir == home / "other"
    assert ClientConfig(config_dir=Path("~/other")).config_dir == home / "other"
    assert ClientConfig().evolve(config_dir="~/x").config_dir == home / "x"
    assert not (tmp_path / "~").exists()


async def test_client_with_tilde_config_dir_writes_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nemovideo.testing import Emulator

    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    async with (
        Emulator() as emu,
        nemovideo.NemoClient(base_url=emu.url, config_dir="~/.nemo") as client,
    ):
        await client.credits()
    assert (home / ".nemo" / "client_id").is_file()
    assert list((home / ".nemo").glob("token-*.json"))
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("request_timeout", "10", "a finite number of seconds > 0, got str '10'"),
        ("request_timeout", None, "a finite number of seconds > 0, got NoneType None"),
        ("request_timeout", 0, "a finite number of seconds > 0, got int 0"),
        ("retry_backoff", -1, "a finite number of seconds >= 0, got int -1"),
        ("poll_interval", [1], "a finite number of seconds >= 0, got list [1]"),
        ("max_polls", 2.5, "an integer > 0, got float 2.5"),
        ("max_polls", True, "an integer > 0, got bool True"),
        ("max_retries", "2", "an integer >= 0, got str '2'"),
        ("skill_version", 2, "a non-empty string without control characters, got int 2"),
        ("client_id", 5, "a string without spaces or control characters, or null, got int 5"),
        ("base_url", 5, "an http(s) URL, got int 5"),
        ("web_url", "ftp://x", "an http(s) URL, got str 'ftp://x'"),
        ("allow_insecure_http", "yes", "true or false, got str 'yes'"),
    ],
)
def test_wrong_value_in_config_file_names_file_key_and_type(
    tmp_path: Path, key: str, value: Any, expected: str
) -> None:
    path = _write(tmp_path, {key: value})
    with pytest.raises(nemovideo.ValidationError) as caught:
        ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)})
    assert str(caught.value) == f"{key} (config file {path}) must be {expected}"


def test_overriding_argument_does_not_hide_a_broken_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {"request_timeout": "10"})
    with pytest.raises(nemovideo.ValidationError, match=f"request_timeout \\(config file {path}"):
        ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)}, request_timeout=5)


def test_wrong_value_in_environment_names_the_variable(tmp_path: Path) -> None:
    env = {"NEMO_CONFIG_DIR": str(tmp_path), "NEMO_API_URL": "ftp://api.example"}
    with pytest.raises(nemovideo.ValidationError) as caught:
        ClientConfig.from_env(env)
    assert str(caught.value) == (
        "base_url (environment variable NEMO_API_URL) must be an http(s) URL, "
        "got str 'ftp://api.example'"
    )
    env = {"NEMO_CONFIG_DIR": str(tmp_path), "NEMO_WEB_URL": "nemovideo.com"}
    with pytest.raises(nemovideo.ValidationError, match=r"web_url \(environment variable NEMO_WEB"):
        ClientConfig.from_env(env)


def test_environment_strings_are_taken_as_they_are(tmp_path: Path) -> None:
    """The variables all name string settings; a trailing slash and ``~`` are normalised."""
    env = {
        "NEMO_CONFIG_DIR": str(tmp_path),
        "NEMO_API_URL": "https://env.example/",
        "NEMO_WEB_URL": "https://web.example",
        "NEMO_CLIENT_ID": "cid-1",
        "SKILL_SOURCE": "cursor",
        "NEMO_TOKEN": "nmv_usr_env",
    }
    cfg = ClientConfig.from_env(env)
    assert (cfg.base_url, cfg.web_url, cfg.client_id) == (
        "https://env.example",
        "https://web.example",
        "cid-1",
    )
    assert (cfg.skill_platform, cfg.token, cfg.config_dir) == ("cursor", "nmv_usr_env", tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("request_timeout", float("nan"), "a finite number of seconds > 0, got float nan"),
        ("request_timeout", float("inf"), "a finite number of seconds > 0, got float inf"),
        ("stream_timeout", float("-inf"), "a finite number of seconds > 0, got float -inf"),
        ("settle_wait", float("nan"), "a finite number of seconds >= 0, got float nan"),
        ("rate_limit_wait", float("inf"), "a finite number of seconds >= 0, got float inf"),
        ("request_timeout", "10", "a finite number of seconds > 0, got str '10'"),
        ("max_upload_bytes", 1.5e6, "an integer > 0, got float 1500000.0"),
        ("config_dir", 3, "a path without NUL characters or lone surrogates, got int 3"),
        ("skill_name", None, "a non-empty string without control characters, got NoneType None"),
    ],
)
def test_wrong_argument_is_a_validation_error_naming_argument(
    tmp_path: Path, key: str, value: Any, expected: str
) -> None:
    message = f"{key} (argument) must be {expected}"
    with pytest.raises(nemovideo.ValidationError) as caught:
        ClientConfig(**{key: value})
    assert str(caught.value) == message
    with pytest.raises(nemovideo.ValidationError) as caught:
        ClientConfig().evolve(**{key: value})
    assert str(caught.value) == message
    if value is not None:
        with pytest.raises(nemovideo.ValidationError) as caught:
            ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)}, **{key: value})
        assert str(caught.value) == message
        with pytest.raises(nemovideo.ValidationError) as caught:
            nemovideo.NemoClient(**{"config_dir": tmp_path, key: value})
        assert str(caught.value) == message


def test_wrong_token_type_never_shows_the_value(tmp_path: Path) -> None:
    secret = 987654321987
    with pytest.raises(nemovideo.ValidationError) as caught:
        ClientConfig(token=secret)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "token (argument) must be a string without spaces or control characters (check for a "
        "pasted newline), or null, got int"
    )
    _write(tmp_path, {"token": [str(secret)]})
    with pytest.raises(nemovideo.ValidationError) as caught:
        ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)})
    assert str(secret) not in str(caught.value)
    assert "token (config file" in str(caught.value)


def test_good_values_keep_working(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"request_timeout": 5, "retry_backoff": 0.25, "max_polls": 4, "token": None,
         "allow_insecure_http": True, "base_url": "http://api.example"},
    )  # fmt: skip
    cfg = ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)}, settle_wait=0)
    assert (cfg.request_timeout, cfg.retry_backoff, cfg.max_polls) == (5, 0.25, 4)
    assert cfg.settle_wait == 0 and cfg.token is None and cfg.allow_insecure_http
    with pytest.raises(TypeError, match="unknown configuration option"):
        ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)}, request_timout=5)


def test_unknown_keys_in_config_file_warn_and_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(
        tmp_path,
        {"skill_version": "3.0.0", "request_timout": 5, "future_option": {"a": 1},
         "config_dir": "/elsewhere"},
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="nemovideo.config"):
        cfg = ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)})
    assert cfg.skill_version == "3.0.0"
    assert cfg.request_timeout == 60 and cfg.config_dir == tmp_path
    warnings = [r.getMessage() for r in caplog.records if r.name == "nemovideo.config"]
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert f"Ignoring unknown key 'request_timout' in config file {path}" in warnings
    assert f"Ignoring unknown key 'future_option' in config file {path}" in warnings
    assert any("config_dir" in w and str(path) in w for w in warnings)
    assert len(warnings) == 3

    caplog.clear()
    _write(tmp_path, {"skill_version": "3.0.0"})
    with caplog.at_level(logging.WARNING, logger="nemovideo.config"):
        ClientConfig.from_env({"NEMO_CONFIG_DIR": str(tmp_path)})
    assert not caplog.records
