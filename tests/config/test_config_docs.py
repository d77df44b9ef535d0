"""The configuration's documentation cannot drift from the class: the table is generated from the
field docs, every field has a group and a doc, and the typed options mirror the fields."""

from __future__ import annotations

from pathlib import Path

import attrs

import nemovideo
from nemovideo._config.config import GROUPS
from nemovideo._config.options import ConfigOptions

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_docs_hold_the_generated_options_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- options:start -->\n", "<!-- options:end -->"
    table = text[text.index(start) + len(start) : text.index(end)]
    assert table == nemovideo.ClientConfig.options_table(), (
        "docs/configuration.md is stale: paste ClientConfig.options_table() between the markers"
    )


def test_every_option_is_documented_grouped_and_typed() -> None:
    fields = attrs.fields(nemovideo.ClientConfig)
    for field in fields:
        assert field.metadata.get("group") in GROUPS, field.name
        assert len(field.metadata.get("doc", "")) > 10, field.name
    assert set(ConfigOptions.__annotations__) == {f.name for f in fields}


def test_groups_view_the_flat_options() -> None:
    config = nemovideo.ClientConfig(
        base_url="http://127.0.0.1:1", request_timeout=5, max_retries=0, poll_interval=7
    )
    assert config.timeouts.request == 5 and config.retries.max_retries == 0
    assert config.polling.interval == 7 and config.polling.initial == 2
    assert config.limits.max_upload_bytes == 200 * 1024 * 1024
    assert config.chat.settle_wait == 3


def test_each_group_view_pairs_its_options_by_name() -> None:
    """A view is built from its group's options in declared order: each view field must name the
    option it stands for, so reordering the options cannot silently swap two values."""
    config = nemovideo.ClientConfig(base_url="http://127.0.0.1:1")
    for group in GROUPS[1:]:
        view = getattr(config, group)
        options = [f for f in attrs.fields(nemovideo.ClientConfig) if f.metadata["group"] == group]
        pairs = list(zip(attrs.fields(type(view)), options, strict=True))
        for view_field, option in pairs:
            assert view_field.name in option.name, (group, view_field.name, option.name)
            assert getattr(view, view_field.name) == getattr(config, option.name)
