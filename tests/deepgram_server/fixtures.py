"""Pytest fixture serving a :class:`FakeDeepgram` for one test."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from .server import DEFAULT_API_KEY, FakeDeepgram


@pytest.fixture
async def deepgram_server(socket_enabled: None) -> AsyncGenerator[FakeDeepgram]:
    """A started fake Deepgram (key ``dg-test-key``), stopped after the test."""
    server = FakeDeepgram(api_key=DEFAULT_API_KEY)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
