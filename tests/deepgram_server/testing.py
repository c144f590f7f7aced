"""Small client-side helpers for tests that talk to :class:`FakeDeepgram`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import io
import json
import socket
import time
from typing import Any
import wave

import aiohttp
from yarl import URL

from .server import FakeDeepgram
from .speak_audio import (
    DecodedPiece,
    decode_pieces as _decode_pieces,
    decode_speech as _decode_speech,
)

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2  # linear16 mono
LIVE_QUERY: dict[str, str] = {
    "model": "nova-3",
    "language": "en-US",
    "encoding": "linear16",
    "sample_rate": str(SAMPLE_RATE),
    "channels": "1",
}

FLUX_QUERY: dict[str, str] = {
    "model": "flux-general-en",
    "encoding": "linear16",
    "sample_rate": str(SAMPLE_RATE),
}

SPEAK_QUERY: dict[str, str] = {
    "model": "aura-2-thalia-en",
    "encoding": "linear16",
    "sample_rate": str(SAMPLE_RATE),
}
SPEAK_V2_QUERY: dict[str, str] = {
    "model": "flux-haley-en",
    "encoding": "linear16",
    "sample_rate": str(SAMPLE_RATE),
}
type SpeechEvent = dict[str, Any] | bytes
"""What a speak socket sent: a JSON message, or one binary audio frame."""


def silence(seconds: float) -> bytes:
    """``seconds`` of 16 kHz 16-bit mono silence."""
    return bytes(int(BYTES_PER_SECOND * seconds) // 2 * 2)


def wav_file(pcm: bytes, rate: int = SAMPLE_RATE) -> bytes:
    """A mono 16-bit WAV file holding ``pcm``."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def wav_silence(seconds: float, rate: int = SAMPLE_RATE) -> bytes:
    """A mono 16-bit WAV file of ``seconds`` of silence."""
    return wav_file(bytes(int(rate * seconds) * 2), rate)


def listen_url(
    server: FakeDeepgram, base_query: Mapping[str, str] | None = None, /, **extra: str
) -> URL:
    """``ws://.../v1/listen`` with ``LIVE_QUERY`` (or ``base_query``) + ``extra``."""
    params = dict(LIVE_QUERY if base_query is None else base_query)
    params.update(extra)
    return URL(server.ws_url).with_query(params)


def flux_url(server: FakeDeepgram, /, **extra: str) -> URL:
    """``ws://.../v2/listen`` with ``FLUX_QUERY`` + ``extra``."""
    return URL(server.flux_url).with_query({**FLUX_QUERY, **extra})


FLUSH = json.dumps({"type": "Flush"})
CLEAR = json.dumps({"type": "Clear"})
CLOSE = json.dumps({"type": "Close"})


def speak(text: str) -> str:
    """A ``Speak`` message, as a client sends it."""
    return json.dumps({"type": "Speak", "text": text})


def speak_url(server: FakeDeepgram, /, **extra: str) -> URL:
    """``ws://.../v1/speak`` with ``SPEAK_QUERY`` + ``extra``."""
    return URL(server.speak_url).with_query({**SPEAK_QUERY, **extra})


def speak_v2_url(server: FakeDeepgram, /, **extra: str) -> URL:
    """``ws://.../v2/speak`` with ``SPEAK_V2_QUERY`` + ``extra``."""
    return URL(server.speak_v2_url).with_query({**SPEAK_V2_QUERY, **extra})


def auth_header(key: str = "dg-test-key", scheme: str = "Token") -> dict[str, str]:
    """``{"Authorization": "<scheme> <key>"}``."""
    return {"Authorization": f"{scheme} {key}"}


async def stream(
    ws: aiohttp.ClientWebSocketResponse, seconds: float, chunk: float = 0.1
) -> None:
    """Send ``seconds`` of silence in ``chunk``-second binary frames."""
    frame = silence(chunk)
    sent = 0.0
    while sent + 1e-9 < seconds:
        await ws.send_bytes(frame)
        sent += chunk


async def read_until_closed(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0
) -> list[dict[str, Any]]:
    """Every JSON message until the server closes the socket."""
    out: list[dict[str, Any]] = []
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type is aiohttp.WSMsgType.TEXT:
            out.append(json.loads(msg.data))
        elif msg.type in {
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
        }:
            return out
        else:
            raise AssertionError(f"unexpected frame {msg.type}")


async def read_until(
    ws: aiohttp.ClientWebSocketResponse,
    message_type: str,
    timeout: float = 5.0,
) -> list[dict[str, Any]]:
    """JSON messages up to and including the first of ``message_type``."""
    out: list[dict[str, Any]] = []
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"socket ended before {message_type}: {msg.type}")
        message = json.loads(msg.data)
        out.append(message)
        if message.get("type") == message_type:
            return out


async def read_speech(
    ws: aiohttp.ClientWebSocketResponse,
    until: str | None = None,
    timeout: float = 5.0,
) -> list[SpeechEvent]:
    """Messages and audio frames in order, up to the first ``until`` message.

    With ``until=None``: until the server closes the socket.
    """
    out: list[SpeechEvent] = []
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type is aiohttp.WSMsgType.BINARY:
            out.append(msg.data)
        elif msg.type is aiohttp.WSMsgType.TEXT:
            message = json.loads(msg.data)
            out.append(message)
            if until is not None and message.get("type") == until:
                return out
        elif until is None:
            return out
        else:
            raise AssertionError(f"socket ended before {until}: {msg.type}")


def decode_speech(
    audio: bytes, sample_rate: int, encoding: str = "linear16"
) -> list[str]:
    """The texts a speak socket's audio says, in order, each piece once.

    ``audio`` is every frame received joined (any split), raw or as a WAV
    file; a piece cut off (``Clear``, a dropped socket) still counts once its
    marker arrived (:func:`decode_pieces` tells whole pieces apart).
    """
    return _decode_speech(audio, sample_rate, encoding)


def decode_pieces(
    audio: bytes, sample_rate: int, encoding: str = "linear16"
) -> list[DecodedPiece]:
    """The pieces in ``audio``: text, start and duration in seconds, ``complete``."""
    return _decode_pieces(audio, sample_rate, encoding)


def speech_messages(events: list[SpeechEvent]) -> list[dict[str, Any]]:
    """The JSON messages among ``events``."""
    return [event for event in events if isinstance(event, dict)]


def speech_audio(events: list[SpeechEvent]) -> bytes:
    """The audio frames among ``events``, joined."""
    return b"".join(event for event in events if isinstance(event, bytes))


def speech_timeline(events: list[SpeechEvent]) -> list[str]:
    """``events`` as message types and ``"audio"`` (runs of frames as one)."""
    out: list[str] = []
    for event in events:
        name = "audio" if isinstance(event, bytes) else str(event.get("type"))
        if name != "audio" or not out or out[-1] != "audio":
            out.append(name)
    return out


def unused_port() -> int:
    """A 127.0.0.1 TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def unreachable_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{unused_port()}"


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `predicate` (plain state of a client or server) until it holds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling plain attributes
            await asyncio.sleep(0.01)


async def cancel_and_time(task: asyncio.Task[Any]) -> float:
    """Cancel `task` and wait for it to end; the seconds that took.

    The cancellation must propagate: a task that swallows it fails the check.
    """
    task.cancel()
    started = time.monotonic()
    try:
        await task
    except asyncio.CancelledError:
        return time.monotonic() - started
    raise AssertionError("the cancellation must propagate")


def deepgram_tasks() -> list[asyncio.Task[object]]:
    """Tasks of the client still running (their names start with 'deepgram')."""
    return [
        t
        for t in asyncio.all_tasks()
        if t.get_name().startswith("deepgram") and not t.done()
    ]


def client_sockets_to(port: int) -> int:
    """TCP sockets of this machine connected to 127.0.0.1:`port` (client side).

    Read from /proc/net/tcp: a socket whose remote port is `port` in any
    state but TIME_WAIT (06) and CLOSE (07), i.e. one a process still holds.
    """
    count = 0
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for line in table:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == port and fields[3] not in ("06", "07"):
                count += 1
    return count
