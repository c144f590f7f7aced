"""What both speak sockets do alike: refusals, the key, the connect bound, a
close mid-message (Aura on `/v1/speak`, Flux TTS on `/v2/speak`).

Each family's own behaviour (Clear or Interrupt, its flush, its warnings)
is tested in `test_api_speak.py` and `test_api_flux_speak.py`.
"""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest

from custom_components.deepgram.api import (
    AuraSession,
    DeepgramError,
    DeepgramServerError,
    DeepgramTimeoutError,
    FluxSpeakSession,
)
from custom_components.deepgram.api.speak_socket import SpeakSocket
from tests.api_helpers import HANDSHAKE_REFUSALS
from tests.deepgram_server import FakeDeepgram, Faults
from tests.speak_helpers import REPLY, deltas, speak_session, spoken

KINDS = [
    pytest.param((AuraSession, "aura-2-thalia-en"), id="aura"),
    pytest.param((FluxSpeakSession, "flux-haley-en"), id="flux"),
]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> tuple[type[SpeakSocket], str]:
    """A speak socket's class and a voice it speaks."""
    return request.param  # type: ignore[no-any-return]


def open_session(
    kind: tuple[type[SpeakSocket], str],
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    *,
    key: str | None = None,
    **kwargs: float,
) -> SpeakSocket:
    socket_class, voice = kind
    return speak_session(socket_class, voice, server, http, key=key, **kwargs)


@pytest.mark.parametrize(("status", "error"), HANDSHAKE_REFUSALS)
async def test_handshake_refusal_is_typed(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    kind: tuple[type[SpeakSocket], str],
    status: int,
    error: type[DeepgramError],
) -> None:
    """A refused handshake is the same typed error as when listening."""
    deepgram_server.faults = Faults(handshake_status=status)
    session = open_session(kind, deepgram_server, http)
    with pytest.raises(error) as caught:
        await spoken(session, deltas(REPLY))
    assert caught.value.status == status


async def test_wrong_key_is_an_auth_error_without_the_key(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    kind: tuple[type[SpeakSocket], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    session = open_session(kind, deepgram_server, http, key="wrong-secret-key")
    with pytest.raises(DeepgramError) as caught:
        await spoken(session, deltas(REPLY))
    assert caught.value.status == 401
    assert "wrong-secret-key" not in caplog.text
    assert "wrong-secret-key" not in str(caught.value)


async def test_connect_bound(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    kind: tuple[type[SpeakSocket], str],
) -> None:
    """A handshake never answered ends within the connect bound."""
    deepgram_server.faults = Faults(stall_handshake=True)
    session = open_session(kind, deepgram_server, http, connect_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DeepgramTimeoutError, match=r"within 0\.3 s"):
        await spoken(session, deltas(REPLY))
    assert time.monotonic() - started < 3


async def test_close_mid_message_is_a_typed_error(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    kind: tuple[type[SpeakSocket], str],
) -> None:
    """A 1011 close in the middle of the audio ends the reply with an error."""
    deepgram_server.faults = Faults(speak_close_after_audio_bytes=3200)
    session = open_session(kind, deepgram_server, http)
    with pytest.raises(DeepgramServerError) as caught:
        await spoken(session, deltas(REPLY))
    assert caught.value.status == 1011
