"""A flooding server: what a session keeps and takes stays bounded.

Past a bound (finals, words, text received) the session fails with a
`DeepgramProtocolError` naming it, lets go of what it kept and parses nothing
more; below the bounds a flood changes nothing of the transcript. Malformed
messages make one warning and one summary, not a line each.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import aiohttp
import pytest

from custom_components.deepgram.api import (
    DeepgramProtocolError,
    FluxSession,
    LiveSession,
    Results,
    ServerMessage,
    intake as intake_module,
    live as live_module,
)
from custom_components.deepgram.api.intake import Intake
from custom_components.deepgram.api.messages import parse_message
from custom_components.deepgram.api.redact import Redactor
from tests.api_helpers import flux, live, pcm, send
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


def test_intake_counts_up_to_the_bound_and_fails_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bound itself is taken; one character more fails the session once,
    and from then on nothing is taken or counted."""
    monkeypatch.setattr(intake_module, "MAX_RECEIVED_CHARS", 10)
    errors: list[DeepgramProtocolError] = []
    intake = Intake(Redactor(()), errors.append)
    assert intake.take("x" * 4, "req")
    assert intake.take("x" * 6, "req")
    assert intake.received_chars == 10
    assert not errors
    assert not intake.take("x", "req")
    (error,) = errors
    assert error.message == (
        "Deepgram sent more than this client takes in one session (10 characters)"
    )
    assert error.request_id == "req"
    assert not intake.take("", "req")
    assert not intake.take("x" * 100, "req")
    assert intake.received_chars == 11
    assert len(errors) == 1


async def test_live_text_past_the_bound_ends_the_session(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past MAX_RECEIVED_CHARS (lowered): an error naming it; nothing parsed after."""
    monkeypatch.setattr(intake_module, "MAX_RECEIVED_CHARS", 1_000)
    server.faults = Faults(flood_empty_finals=50)
    parsed: list[ServerMessage] = []
    session = live(server, http, on_message=parsed.append)
    await send(session, pcm(0.1))
    with pytest.raises(DeepgramProtocolError) as info:
        await session.finalize(timeout=5)
    assert info.value.message == (
        "Deepgram sent more than this client takes in one session (1,000 characters)"
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
    """Flux too: past MAX_RECEIVED_CHARS the turn ends with that error."""
    monkeypatch.setattr(intake_module, "MAX_RECEIVED_CHARS", 1_000)
    deepgram_server.script = script_from_text(
        "Turn on the kitchen light.", start=0.5, end=1.8, words_per_segment=5
    )
    session = flux(deepgram_server, http)
    await send(session, pcm(2.5))
    with pytest.raises(DeepgramProtocolError, match=r"\(1,000 characters\)"):
        await asyncio.wait_for(session.wait_for_turn_end(), 5)
    assert sent_chars(deepgram_server) > 1_000
    await assert_nothing_left(session, deepgram_server.port)


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
    intake = Intake(Redactor(()), errors.append)
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
