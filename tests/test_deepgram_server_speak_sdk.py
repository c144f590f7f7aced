"""Deepgram's own Python SDK (deepgram-sdk, test-only) against the speak sockets.

The SDK's generated types describe the GA API, later than the stored
asyncapi.yml; its socket clients are what many real users of Deepgram run. A
fake server they can drive, and whose messages fill every field those types
require, is faithful where the integration cannot check itself.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import typing
from typing import Any
import warnings

from pydantic import BaseModel
import pytest

from tests.conftest import API_KEY
from tests.deepgram_server import FakeDeepgram, Faults, Latency
from tests.deepgram_server.testing import SAMPLE_RATE, decode_pieces, decode_speech

with warnings.catch_warnings():
    # The SDK imports websockets' legacy client, deprecated since websockets 14.
    warnings.simplefilter("ignore", DeprecationWarning)
    from deepgram import AsyncDeepgramClient
    from deepgram.core.api_error import ApiError
    from deepgram.environment import DeepgramClientEnvironment
    from deepgram.speak.v1 import types as v1_types
    from deepgram.speak.v1.socket_client import V1SocketClientResponse
    from deepgram.speak.v2 import types as v2_types
    from deepgram.speak.v2.socket_client import V2SocketClientResponse
    from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK

# Imported by the SDK's connect: websockets' old exception name.
pytestmark = pytest.mark.filterwarnings(
    "ignore:websockets.exceptions.InvalidStatusCode is deprecated:DeprecationWarning"
)
FIXTURES = Path(__file__).parent / "fixtures"
V1_CLIENT_TYPES: list[type[BaseModel]] = [
    v1_types.SpeakV1Text,
    v1_types.SpeakV1Flush,
    v1_types.SpeakV1Clear,
    v1_types.SpeakV1Close,
]
V2_CLIENT_TYPES: list[type[BaseModel]] = [
    v2_types.SpeakV2Speak,
    v2_types.SpeakV2Flush,
    v2_types.SpeakV2Close,
    v2_types.SpeakV2Interrupt,
    v2_types.SpeakV2Configure,
]


def _message_name(model: type[BaseModel], prefix: str) -> str:
    """The ``type`` a model's messages carry (the v1 loose ones: from its name)."""
    default = model.model_fields["type"].default
    return default if isinstance(default, str) else model.__name__.removeprefix(prefix)


def _server_types(union: Any) -> list[type[BaseModel]]:
    return [member for member in typing.get_args(union) if member is not bytes]


@pytest.mark.parametrize(
    ("version", "group", "models"),
    [
        ("v1", "$defs", _server_types(V1SocketClientResponse)),
        ("v1", "client", V1_CLIENT_TYPES),
        ("v2", "$defs", _server_types(V2SocketClientResponse)),
        ("v2", "client", V2_CLIENT_TYPES),
    ],
    ids=["v1-server", "v1-client", "v2-server", "v2-client"],
)
def test_schema_fixtures_match_sdk_types(
    version: str, group: str, models: list[type[BaseModel]]
) -> None:
    """Each message the SDK knows has a schema, requiring the same fields.

    Ties the hand-written GA additions of speak_v2_messages.schema.json to
    Deepgram's own types, and shows the asyncapi.yml copies are not stale.
    """
    schemas = json.loads(
        (FIXTURES / f"speak_{version}_messages.schema.json").read_text()
    )[group]
    prefix = f"SpeakV{version[1]}"
    names = {_message_name(model, prefix) for model in models}
    assert names == set(schemas)
    for model in models:
        schema = schemas[_message_name(model, prefix)]
        required = {n for n, f in model.model_fields.items() if f.is_required()}
        assert required | {"type"} == set(schema["required"]), model.__name__
        assert set(model.model_fields) <= set(schema["properties"]), model.__name__


def test_error_codes_match_sdk() -> None:
    """The v2 Error codes are the SDK's (asyncapi.yml lacks DATA-0002)."""
    schema = json.loads((FIXTURES / "speak_v2_messages.schema.json").read_text())
    literal, _ = typing.get_args(v2_types.SpeakV2ErrorCode)
    codes = schema["$defs"]["Error"]["properties"]["code"]["enum"]
    assert codes == list(typing.get_args(literal))


# -- the SDK's socket clients against the fake server ------------------------


def _client(server: FakeDeepgram, api_key: str = API_KEY) -> AsyncDeepgramClient:
    """The SDK's async client, every URL of it pointed at the local server."""
    http = f"http://127.0.0.1:{server.port}"
    ws = f"ws://127.0.0.1:{server.port}"
    environment = DeepgramClientEnvironment(
        base=http, production=ws, agent=ws, agent_rest=http
    )
    return AsyncDeepgramClient(api_key=api_key, environment=environment)


def _assert_complete(message: BaseModel) -> None:
    """Every field the SDK's type requires came from the server (nested too).

    The SDK builds messages without validating them, so a missing field
    would otherwise go unseen.
    """
    for name, info in type(message).model_fields.items():
        if info.is_required() or name == "type":
            assert name in message.model_fields_set, (type(message).__name__, name)
        value = getattr(message, name, None)
        if isinstance(value, BaseModel):
            _assert_complete(value)


async def _receive_until(socket: Any, message_type: str) -> list[Any]:
    """What the SDK socket yields (audio bytes, typed messages) up to a type."""
    out: list[Any] = []
    async with asyncio.timeout(10):
        while True:
            message = await socket.recv()
            out.append(message)
            if isinstance(message, bytes):
                continue
            assert isinstance(message, BaseModel), message  # a type the SDK knows
            _assert_complete(message)
            if getattr(message, "type", None) == message_type:
                return out


def _audio(received: list[Any]) -> bytes:
    return b"".join(m for m in received if isinstance(m, bytes))


async def test_sdk_drives_v1_speak(server: FakeDeepgram) -> None:
    """Speak, Flush, audio, Flushed, Clear, Cleared, Close through the SDK.

    Uses the test API key the key guard looks for: the SDK's handshake logs
    must not reveal it either.
    """
    server.latency = Latency(speak_seconds_per_char=0.05, speak_realtime=1.0)
    client = _client(server)
    async with client.speak.v1.connect(
        model="aura-2-thalia-en", encoding="linear16", sample_rate="16000"
    ) as socket:
        (metadata,) = await _receive_until(socket, "Metadata")
        assert isinstance(metadata, v1_types.SpeakV1Metadata)
        assert metadata.model_name == "aura-2-thalia-en"
        await socket.send_text(v1_types.SpeakV1Text(text="Hello there. How are you?"))
        await socket.send_flush()
        received = await _receive_until(socket, "Flushed")
        assert received[-1].sequence_id == 0
        assert decode_speech(_audio(received), SAMPLE_RATE) == [
            "Hello there.",
            "How are you?",
        ]
        # A long piece, cleared while its audio is still going out.
        await socket.send_text(v1_types.SpeakV1Text(text="x" * 99 + "."))
        await socket.send_flush()
        first = await asyncio.wait_for(socket.recv(), 10)
        assert isinstance(first, bytes)
        await socket.send_clear()
        received = [first, *await _receive_until(socket, "Cleared")]
        assert received[-1].sequence_id == 2  # Flush 0, Flush 1, Clear 2
        assert [p.complete for p in decode_pieces(_audio(received), SAMPLE_RATE)] == [
            False
        ]
        await socket.send_close()
        with pytest.raises(ConnectionClosedOK) as closed:
            await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1000
    await server.wait_for_speak_sessions_closed()
    (record,) = server.speak_sessions
    assert record.ended == "close_message"
    assert record.authorization == f"Token {API_KEY}"
    assert record.query["model"] == "aura-2-thalia-en"
    assert record.sample_rate == SAMPLE_RATE


async def test_sdk_drives_v2_speak(server: FakeDeepgram) -> None:
    """Connected, Speak, Flush, SpeechStarted, audio, SpeechMetadata, Close."""
    client = _client(server)
    async with client.speak.v2.connect(
        model="flux-haley-en", encoding="linear16", sample_rate="16000"
    ) as socket:
        (connected,) = await _receive_until(socket, "Connected")
        assert isinstance(connected, v2_types.SpeakV2Connected)
        assert connected.model_name == "flux-haley-en"
        await socket.send_speak(v2_types.SpeakV2Speak(text="Hello there. How are"))
        await socket.send_speak(v2_types.SpeakV2Speak(text=" you?"))
        await socket.send_flush()
        received = await _receive_until(socket, "SpeechMetadata")
        started = received[0]
        assert isinstance(started, v2_types.SpeakV2SpeechStarted)
        metadata = received[-1]
        assert isinstance(metadata, v2_types.SpeakV2SpeechMetadata)
        assert metadata.speech_id == started.speech_id
        flushed = [m for m in received if isinstance(m, v2_types.SpeakV2Flushed)]
        assert [m.speech_id for m in flushed] == [started.speech_id]
        audio = _audio(received)
        assert decode_speech(audio, SAMPLE_RATE) == ["Hello there.", "How are you?"]
        assert metadata.audio_duration_ms == round(len(audio) / 2 / SAMPLE_RATE * 1000)
        assert metadata.input_character_count == len("Hello there. How are you?")
        await socket.send_close()
        (session,) = await _receive_until(socket, "SessionMetadata")
        assert isinstance(session, v2_types.SpeakV2SessionMetadata)
        assert session.total_audio_duration_ms == metadata.audio_duration_ms
        with pytest.raises(ConnectionClosedOK) as closed:
            await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1000
    await server.wait_for_speak_sessions_closed()
    (record,) = server.speak_sessions
    assert record.ended == "close_message"
    assert record.authorization == f"Token {API_KEY}"
    assert record.path == "/v2/speak"


@pytest.mark.parametrize(
    ("version", "model", "key", "status"),
    [
        ("v1", "aura-2-thalia-en", "wrong-key", 401),
        ("v2", "flux-haley-en", "wrong-key", 401),
        ("v1", "flux-haley-en", API_KEY, 400),
        ("v2", "aura-2-thalia-en", API_KEY, 400),
    ],
    ids=["v1-bad-key", "v2-bad-key", "v1-flux-model", "v2-aura-model"],
)
async def test_sdk_sees_refused_handshakes(
    server: FakeDeepgram, version: str, model: str, key: str, status: int
) -> None:
    """The SDK turns the fake's refusals into ApiError with Deepgram's status."""
    client = _client(server, key)
    connect = client.speak.v1.connect if version == "v1" else client.speak.v2.connect
    with pytest.raises(ApiError) as refused:
        async with asyncio.timeout(10), connect(model=model):
            pass
    assert refused.value.status_code == status


async def test_sdk_reads_v2_warning_and_error(server: FakeDeepgram) -> None:
    """A Warning and an in-band Error parse as the SDK's types; close 1011."""
    server.faults = Faults(
        speak_warning=("SYNTHESIS_RETRYING", "Retrying."),
        speak_error=("NET-0001", "Timed out."),
    )
    client = _client(server)
    async with client.speak.v2.connect(model="flux-haley-en") as socket:
        await _receive_until(socket, "Connected")
        await socket.send_speak(v2_types.SpeakV2Speak(text="Doomed."))
        warning, error = await _receive_until(socket, "Error")
        assert isinstance(warning, v2_types.SpeakV2Warning)
        assert warning.code == "SYNTHESIS_RETRYING"
        assert isinstance(error, v2_types.SpeakV2Error)
        assert (error.code, error.description) == ("NET-0001", "Timed out.")
        with pytest.raises(ConnectionClosedError) as closed:
            await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1011, "NET-0001")


async def test_sdk_drives_v2_interrupt_and_configure(server: FakeDeepgram) -> None:
    """The GA messages: Configure answered, Interrupt cuts the turn being spoken."""
    client = _client(server)
    async with client.speak.v2.connect(model="flux-haley-en") as socket:
        await _receive_until(socket, "Connected")
        await socket.send_configure(v2_types.SpeakV2Configure(speed=1.25))
        (success,) = await _receive_until(socket, "ConfigureSuccess")
        assert isinstance(success, v2_types.SpeakV2ConfigureSuccess)
        assert success.applied.speed == 1.25
        await socket.send_configure(v2_types.SpeakV2Configure(speed=1.12))
        (failure,) = await _receive_until(socket, "ConfigureFailure")
        assert isinstance(failure, v2_types.SpeakV2ConfigureFailure)
        assert (failure.code, failure.field) == ("SPEED_INCREMENT_INVALID", "speed")
        server.latency = Latency(speak_seconds_per_char=0.05, speak_realtime=1.0)
        await socket.send_speak(v2_types.SpeakV2Speak(text="x" * 99 + ". Then more."))
        started = await _receive_until(socket, "SpeechStarted")
        first = await asyncio.wait_for(socket.recv(), 10)
        assert isinstance(first, bytes)
        offset = v2_types.SpeakV2InterruptPlaybackOffset(value=10)
        await socket.send_interrupt(v2_types.SpeakV2Interrupt(playback_offset=offset))
        received = await _receive_until(socket, "SpeechInterrupted")
        interrupted = received[-1]
        assert isinstance(interrupted, v2_types.SpeakV2SpeechInterrupted)
        assert interrupted.audio_played_ms == 10
        assert interrupted.metadata.speech_id == started[0].speech_id
        assert interrupted.text_remaining == "x" * 99 + ". Then more."
