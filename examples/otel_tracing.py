"""OpenTelemetry spans for every HTTP request the client makes, via ``NemoClient(trace_configs=...)``.

``trace_configs`` hands aiohttp ``TraceConfig`` objects to the client's own session, so
OpenTelemetry's aiohttp instrumentation (or your own metrics) sees each request, retry and
download. The SDK itself does not depend on OpenTelemetry; install it next to it::

    pip install opentelemetry-sdk opentelemetry-instrumentation-aiohttp-client
    python examples/otel_tracing.py           # offline: against the bundled emulator
    NEMO_API_URL=https://mega-api-prod.nemovideo.ai python examples/otel_tracing.py

Prints one line per finished span (method, status code, duration, URL)
and, without those packages, says what to install instead of failing.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp

import nemovideo

NEEDS = "opentelemetry-sdk opentelemetry-instrumentation-aiohttp-client"


def _modules() -> tuple[ModuleType, ModuleType, ModuleType] | None:
    """The OpenTelemetry modules this example uses, or None when they are not installed."""
    try:
        return (
            importlib.import_module("opentelemetry.sdk.trace"),
            importlib.import_module("opentelemetry.sdk.trace.export.in_memory_span_exporter"),
            importlib.import_module("opentelemetry.instrumentation.aiohttp_client"),
        )
    except ImportError:
        return None


def tracing() -> tuple[aiohttp.TraceConfig, Any] | None:
    """A TraceConfig that records spans, and the exporter that keeps them (None: not installed)."""
    modules = _modules()
    if modules is None:
        return None
    sdk_trace, in_memory, aiohttp_client = modules
    exporter = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(sdk_trace.export.SimpleSpanProcessor(exporter))
    config: aiohttp.TraceConfig = aiohttp_client.create_trace_config(tracer_provider=provider)
    return config, exporter


def describe(span: Any) -> str:
    """``GET 200 3.1 ms http://127.0.0.1:8765/api/credits/balance/simple``."""
    attrs = dict(span.attributes or {})
    status = attrs.get("http.response.status_code", attrs.get("http.status_code", "-"))
    url = attrs.get("url.full", attrs.get("http.url", ""))
    took = (span.end_time - span.start_time) / 1e6
    return f"{span.name:<8} {status} {took:6.1f} ms {url}"


async def run(client: nemovideo.NemoClient) -> int | None:
    """Do a little work through ``client``: a balance, a session, its state."""
    credits = await client.credits()
    session = await client.create_session(task_name="traced")
    await session.state()
    return credits.available


async def main() -> int:
    traced = tracing()
    if traced is None:
        print(f"This example needs OpenTelemetry: pip install {NEEDS}", file=sys.stderr)
        return 2
    trace_config, exporter = traced
    if os.environ.get("NEMO_API_URL"):
        async with nemovideo.NemoClient(trace_configs=[trace_config]) as client:
            print(f"Credits: {await run(client)}")
    else:
        from nemovideo.testing import Emulator

        with tempfile.TemporaryDirectory(prefix="nemovideo-example-") as tmp:
            async with (
                Emulator() as emu,
                nemovideo.NemoClient(
                    base_url=emu.url, config_dir=Path(tmp), trace_configs=[trace_config]
                ) as client,
            ):
                print(
                    f"[offline: NemoVideo emulator at {emu.url}; set NEMO_API_URL for the real API]"
                )
                print(f"Credits: {await run(client)}")
    spans = exporter.get_finished_spans()
    print(f"{len(spans)} spans:")
    for span in spans:
        print("  " + describe(span))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
