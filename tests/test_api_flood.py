"""A flooding server: what a session keeps and takes stays bounded.

Past a bound (finals, words, bytes received in any frame: text, binary,
ping) the session fails with a `DeepgramProtocolError` naming it, lets go of
what it kept and parses nothing more; below the bounds a flood changes nothing
of the transcript. Malformed messages make one warning and one summary, not a
line each; unexpected binary frames one debug line and one summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re

import aiohttp
from aiohttp import web
import pytest
from yarl import URL

from custom_components.deepgram.api import (
    DeepgramProtocolError,
    Endpoint,
    FluxOptions,
    FluxSession,
    LiveOptions,
    LiveSession,
    Results,
    ServerMessage,
    live as live_module,
)
from custom_components.deepgram.api.intake import (
    MIN_FRAME_BYTES,
    Intake,
    frame_bytes,
)
from custom_components.deepgram.api.messages import parse_message
from custom_components.deepgram.api.redact import Redactor
from custom_components.deepgram.api.stream import MAX_MESSAGE_BYTES
from tests.api_helpers import flux, live, pcm, send
from tests.conftest import API_KEY, OddServer
from tests.deepgram_server import FakeDeepgram, Faults, script_from_text
from tests.deepgram_server.testing import (
    client_sockets_to,
    deepgram_tasks,
    wait_for,
)

COMMAND = "turn on the kitchen light now"


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake Deepgram with six words of script."""
    deepgram_server.script = script_from_text(
        COMMAND, start=0.1, end=1.3, words_per_segment=2
    )
    return deepgram_server


async def assert_nothing_left(session: LiveSession | FluxSession, port: int) -> None:
    """No task of the session and no socket to the server is left."""
    await session.close()
    await wait_for(lambda: not deepgram_tasks(), timeout=2)
    await wait_for(lambda: client_sockets_to(port) == 0, timeout=2)


def sent_chars(server: FakeDeepgram) -> int:
    """The characters of text the server sent in its first session."""
    record = server.sessions[0]
    return sum(len(json.dumps(m)) for m in record.sent) + sum(
        len(raw) for raw in record.sent_raw
    )


# -- finals ---------------------------------------------------------------------


async def test_twenty_thousand_empty_finals_end_the_session_at_the_bound(
    server: FakeDeepgram, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 000 empty finals: a clear error naming MAX_FINALS once it is passed;
    nothing is kept and no message after it is even parsed."""
    server.faults = Faults(flood_empty_finals=20_000)
    parsed: list[ServerMessage] = []
    parses = 0

    def parse(text: str) -> ServerMessage | None:
        nonlocal parses
        parses += 1
        return parse_message(text)

    monkeypatch.setattr(live_module, "parse_message", parse)
    session = live(server, http, on_message=parsed.append)
    await send(session, pcm(0.1))
    with pytest.raises(DeepgramProtocolError) as info:
        await session.finalize(timeout=30)
    assert info.value.message == (
        "Deepgram sent more final results than this client keeps (5,000)"
    )
    assert info.value.request_id == server.sessions[0].request_id
    assert session.error is info.value
    assert not session.transcript.finals
    assert session.transcript.text == ""
    # Every final up to the bound, then nothing more is taken in.
    await wait_for(lambda: len(server.sessions[0].sent) > 20_000, timeout=30)
    finals = [m for m in parsed if isinstance(m, Results) and m.is_final]
    assert len(finals) == live_module.MAX_FINALS
    assert len(parsed) == live_module.MAX_FINALS
    await assert_nothing_left(session, server.port)
    assert server.sessions[0].got_close_stream
    # The one past the bound was the last parsed: not the rest of the flood,
    # the answer to Finalize or the Metadata.
    assert parses == live_module.MAX_FINALS + 1


async def test_a_flood_below_the_bound_leaves_the_transcript_as_it_was(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """4 000 empty finals before the command's words: the same transcript."""
    server.faults = Faults(flood_empty_finals=4_000)
    session = live(server, http)
    await send(session, pcm(1.5))
    transcript = await session.finalize(timeout=30)
    assert transcript.text == COMMAND
    assert transcript.final_text == COMMAND
    assert len(transcript.finals) > 4_000
    assert session.error is None
    await assert_nothing_left(session, server.port)


# -- words ----------------------------------------------------------------------


async def test_more_words_than_the_bound_end_the_session(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past MAX_WORDS (lowered to 3 for six words): an error naming it."""
    monkeypatch.setattr(live_module, "MAX_WORDS", 3)
    session = live(server, http)
    await send(session, pcm(1.5))
    with pytest.raises(DeepgramProtocolError) as info:
        await session.finalize(timeout=5)
    assert info.value.message == "Deepgram sent more words than this client keeps (3)"
    assert session.transcript.word_count == 0
    await assert_nothing_left(session, server.port)


async def test_words_at_the_bound_are_kept(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Exactly MAX_WORDS words (six) are still a result."""
    monkeypatch.setattr(live_module, "MAX_WORDS", 6)
    session = live(server, http)
    await send(session, pcm(1.5))
    transcript = await session.finalize(timeout=5)
    assert transcript.text == COMMAND
    assert transcript.word_count == 6
    await assert_nothing_left(session, server.port)


# -- text received --------------------------------------------------------------


def test_intake_counts_up_to_the_bound_and_fails_once() -> None:
    """The bound itself is taken; one character more fails the session once,
    and from then on nothing is taken or counted."""
    errors: list[DeepgramProtocolError] = []
    intake = Intake(Redactor(()), errors.append, 10)
    assert intake.take(4, "req")
    assert intake.take(6, "req")
    assert intake.received_bytes == 10
    assert not errors
    assert not intake.take(1, "req")
    (error,) = errors
    assert error.message == (
        "Deepgram sent more than this client takes in one session (10 bytes)"
    )
    assert error.request_id == "req"
    assert not intake.take(0, "req")
    assert not intake.take(100, "req")
    assert intake.received_bytes == 11
    assert len(errors) == 1


def test_a_frame_counts_its_bytes_and_at_least_min_frame_bytes() -> None:
    """Text counts its UTF-8 bytes (not characters), binary its length; an
    empty or small frame counts MIN_FRAME_BYTES."""
    assert frame_bytes("a" * 100) == 100
    assert frame_bytes("é" * 100) == 200
    assert frame_bytes(bytes(100)) == 100
    assert frame_bytes("") == frame_bytes(b"") == frame_bytes("é") == MIN_FRAME_BYTES


async def test_live_text_past_the_bound_ends_the_session(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past max_received_bytes (lowered): an error naming it; nothing parsed after."""
    monkeypatch.setattr(LiveSession, "max_received_bytes", 1_000)
    server.faults = Faults(flood_empty_finals=50)
    parsed: list[ServerMessage] = []
    session = live(server, http, on_message=parsed.append)
    await send(session, pcm(0.1))
    with pytest.raises(DeepgramProtocolError) as info:
        await session.finalize(timeout=5)
    assert info.value.message == (
        "Deepgram sent more than this client takes in one session (1,000 bytes)"
    )
    await wait_for(lambda: len(server.sessions[0].sent) >= 50)
    # Messages of a few hundred characters: a few fit, the rest are not read.
    assert 0 < len(parsed) < 5
    await assert_nothing_left(session, server.port)


async def test_flux_text_past_the_bound_ends_the_session(
    deepgram_server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Flux too: past max_received_bytes the turn ends with that error."""
    monkeypatch.setattr(FluxSession, "max_received_bytes", 1_000)
    deepgram_server.script = script_from_text(
        "Turn on the kitchen light.", start=0.5, end=1.8, words_per_segment=5
    )
    session = flux(deepgram_server, http)
    await send(session, pcm(2.5))
    with pytest.raises(DeepgramProtocolError, match=r"\(1,000 bytes\)"):
        await asyncio.wait_for(session.wait_for_turn_end(), 5)
    assert sent_chars(deepgram_server) > 1_000
    await assert_nothing_left(session, deepgram_server.port)


# -- binary frames and pings --------------------------------------------------


class Flooder:
    """A listen socket that floods binary frames or pings until CloseStream."""

    def __init__(self, frame: str, payload: bytes) -> None:
        """Flood `frame`s ("binary" or "ping") carrying `payload`."""
        self.frame = frame
        self.payload = payload
        self.sent = 0
        self.pongs = 0
        self.port = 0

    async def serve(self, odd_server: OddServer, path: str) -> str:
        """Serve the flood at `path` on `odd_server`; its base URL."""

        async def listen(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse(autoping=False)
            await ws.prepare(request)
            flood = asyncio.create_task(self._flood(ws))
            try:
                async for msg in ws:  # until the client's CloseStream
                    if msg.type is aiohttp.WSMsgType.PONG:
                        self.pongs += 1
                    elif (
                        msg.type is aiohttp.WSMsgType.TEXT and "CloseStream" in msg.data
                    ):
                        break
            finally:
                flood.cancel()
                await asyncio.wait({flood})
            await ws.close()
            return ws

        base = await odd_server({f"GET {path}": listen})
        self.port = URL(base).port or 0
        return base

    async def _flood(self, ws: web.WebSocketResponse) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                if self.frame == "binary":
                    await ws.send_bytes(self.payload)
                else:
                    await ws.ping(self.payload)
                self.sent += 1
                await asyncio.sleep(0)


async def flooded_session(
    flooder: Flooder,
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    bound: int,
) -> tuple[LiveSession | FluxSession, list[bytes]]:
    """A session on `path` to `flooder`, taking at most `bound` bytes, once it
    failed; and the binary frames it handled."""
    base = await flooder.serve(odd_server, path)
    kind = LiveSession if path == "/v1/listen" else FluxSession
    monkeypatch.setattr(kind, "max_received_bytes", bound)
    handled: list[bytes] = []
    handle_binary = kind._handle_binary

    def recording(self: LiveSession | FluxSession, data: bytes) -> None:
        handled.append(data[:1])  # not the frames themselves: memory stays low
        handle_binary(self, data)

    monkeypatch.setattr(kind, "_handle_binary", recording)
    endpoint = Endpoint(base, API_KEY)
    session: LiveSession | FluxSession = (
        LiveSession(http, endpoint, LiveOptions())
        if kind is LiveSession
        else FluxSession(http, endpoint, FluxOptions())
    )
    await session.connect()
    await wait_for(lambda: session.error is not None, timeout=30)
    return session, handled


@pytest.mark.parametrize("path", ["/v1/listen", "/v2/listen"])
@pytest.mark.parametrize(
    ("frame", "payload", "bound"),
    [
        ("binary", bytes(MAX_MESSAGE_BYTES), 1024 * 1024),
        ("ping", b"p" * 125, 64 * 1024),
    ],
    ids=["binary", "ping"],
)
async def test_a_flood_of_binary_frames_or_pings_ends_the_session_at_the_bound(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    path: str,
    frame: str,
    payload: bytes,
    bound: int,
) -> None:
    """256 KiB binary frames or 125-byte pings without end: each counts
    against the bound (lowered to 1 MiB, 64 KiB); past it, the clear error, and no
    frame after it is handled (no binary frame taken, no pong sent). The
    binary frames make one debug line and one summary; nothing is left
    running."""
    caplog.set_level(logging.DEBUG, logger="custom_components.deepgram")
    flooder = Flooder(frame, payload)
    session, handled = await flooded_session(
        flooder, odd_server, http, monkeypatch, path, bound
    )
    error = session.error
    assert isinstance(error, DeepgramProtocolError)
    assert error.message == (
        f"Deepgram sent more than this client takes in one session ({bound:,} bytes)"
    )
    # The flood goes on: nothing of it is handled any more.
    taken = bound // len(payload)
    await wait_for(lambda: flooder.sent > 2 * taken, timeout=30)
    await assert_nothing_left(session, flooder.port)
    assert session.error is error
    if frame == "binary":
        assert len(handled) == taken == 4
        assert [
            r.getMessage() for r in caplog.records if "binary" in r.getMessage()
        ] == [
            "Ignoring a binary frame from Deepgram (262144 bytes)",
            "Ignored 3 more binary frames from Deepgram (request None)",
        ]
    else:
        assert not handled
        assert flooder.pongs == taken


async def test_empty_pings_count_too(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ping without payload counts MIN_FRAME_BYTES: a flood of them ends
    at the bound too."""
    flooder = Flooder("ping", b"")
    session, _ = await flooded_session(
        flooder, odd_server, http, monkeypatch, "/v1/listen", 100 * MIN_FRAME_BYTES
    )
    assert isinstance(session.error, DeepgramProtocolError)
    assert session.error.message == (
        "Deepgram sent more than this client takes in one session (6,400 bytes)"
    )
    await wait_for(lambda: flooder.sent > 200, timeout=30)
    await assert_nothing_left(session, flooder.port)
    assert flooder.pongs == 100


# -- malformed messages ---------------------------------------------------------


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The messages of every warning (or worse) the integration logged."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components")
    ]


async def test_twenty_thousand_malformed_messages_make_two_lines(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The first is logged, the rest summarised in one line at the close; the
    session goes on and its transcript is the command."""
    server.faults = Faults(flood_malformed=20_000)
    session = live(server, http)
    await send(session, pcm(1.5))
    transcript = await session.finalize(timeout=30)
    assert transcript.text == COMMAND
    (first,) = warnings(caplog)
    assert re.fullmatch(
        r"Ignoring a malformed message from Deepgram \(Not JSON: .+\): '\{not json 0'",
        first,
    )
    await session.close()
    assert session.error is None
    assert warnings(caplog)[1:] == [
        "Ignored 19999 more malformed messages from Deepgram "
        f"(request {server.sessions[0].request_id})"
    ]


@pytest.mark.parametrize(
    ("count", "summary"), [(1, None), (2, "message"), (3, "2 more")]
)
async def test_flux_summarises_malformed_messages_too(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    count: int,
    summary: str | None,
) -> None:
    """One malformed message: one warning; more: one summary line (singular
    for one more)."""
    server.faults = Faults(flood_malformed=count)
    session = flux(server, http)
    await send(session, pcm(2.5))
    await asyncio.wait_for(session.wait_for_turn_end(), 5)
    await session.close()
    logged = warnings(caplog)
    assert re.fullmatch(r"Ignoring a malformed message .*'\{not json 0'", logged[0])
    if summary is None:
        assert logged[1:] == []
    else:
        request = server.sessions[0].request_id
        more = (
            "1 more malformed message " if count == 2 else "2 more malformed messages "
        )
        assert logged[1:] == [f"Ignored {more}from Deepgram (request {request})"]


def test_a_summary_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """Summarising again logs only what came since; the first is never summarised."""
    errors: list[DeepgramProtocolError] = []
    intake = Intake(Redactor(()), errors.append, 10)
    intake.summarise("req")
    intake.note_malformed("Not JSON", "{x")
    intake.summarise("req")
    intake.note_malformed("Not JSON", "{y")
    intake.note_malformed("Not JSON", "{z")
    intake.summarise("req")
    intake.summarise("req")
    intake.note_malformed("Not JSON", "{w")
    intake.summarise(None)
    assert warnings(caplog) == [
        "Ignoring a malformed message from Deepgram (Not JSON): '{x'",
        "Ignored 2 more malformed messages from Deepgram (request req)",
        "Ignored 1 more malformed message from Deepgram (request None)",
    ]
    assert intake.malformed == 4
    assert not errors
