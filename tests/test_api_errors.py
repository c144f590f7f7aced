"""Typed errors for HTTP statuses and WebSocket closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import aiohttp
from multidict import CIMultiDict
import pytest

from custom_components.deepgram.api import (
    DeepgramAuthError,
    DeepgramBadRequestError,
    DeepgramConnectionError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramPaymentRequiredError,
    DeepgramProtocolError,
    DeepgramRateLimitError,
    DeepgramServerError,
    DeepgramTimeoutError,
    Endpoint,
    LiveOptions,
    LiveSession,
)
from custom_components.deepgram.api.errors import error_for_close, error_for_status
from custom_components.deepgram.api.redact import (
    MAX_REQUEST_ID,
    MAX_SERVER_TEXT,
    REDACTED,
    Redactor,
    secrets_of,
)
from tests.api_helpers import KEY

REQUEST_ID = "7b3f8a10-6a52-4c5e-9e0d-2f4b6a8c1d3e"


@pytest.mark.parametrize(
    ("status", "cls", "text"),
    [
        (400, DeepgramBadRequestError, "rejected the request"),
        (401, DeepgramAuthError, "rejected the API key"),
        (402, DeepgramPaymentRequiredError, "out of credits"),
        (403, DeepgramForbiddenError, "may not use this model"),
        (429, DeepgramRateLimitError, "Too many concurrent requests"),
        (500, DeepgramServerError, "server error"),
        (502, DeepgramServerError, "server error"),
        (503, DeepgramServerError, "server error"),
        (599, DeepgramServerError, "server error"),
        (404, DeepgramProtocolError, "Unexpected answer"),
        (405, DeepgramProtocolError, "Unexpected answer"),
        (418, DeepgramProtocolError, "Unexpected answer"),
        (301, DeepgramProtocolError, "Unexpected answer"),
    ],
)
def test_error_for_status(status: int, cls: type[DeepgramError], text: str) -> None:
    """Each status maps to its own type with the dg-error reason and request id."""
    headers = {"dg-error": "Reason from Deepgram", "dg-request-id": REQUEST_ID}
    error = error_for_status(status, headers)
    assert type(error) is cls
    assert error.status == status
    assert error.reason == "Reason from Deepgram"
    assert error.request_id == REQUEST_ID
    assert text in error.message
    assert f"HTTP {status}" in error.message
    assert str(error) == (
        f"{error.message}; reason: Reason from Deepgram; request id: {REQUEST_ID}"
    )


def test_status_types_are_distinct() -> None:
    """402 and 429 are reported distinctly from each other and from 401."""
    kinds = {type(error_for_status(s)) for s in (400, 401, 402, 403, 429, 500)}
    assert len(kinds) == 6
    assert all(issubclass(kind, DeepgramError) for kind in kinds)


def test_headers_are_case_insensitive_from_aiohttp() -> None:
    """aiohttp hands over a CIMultiDict: header case does not matter."""
    headers = CIMultiDict({"DG-Error": "INVALID_AUTH", "Dg-Request-Id": REQUEST_ID})
    error = error_for_status(401, headers)
    assert error.reason == "INVALID_AUTH"
    assert error.request_id == REQUEST_ID


def test_detail_is_the_reason_without_dg_error() -> None:
    """The body's reason is used when the dg-error header is missing."""
    error = error_for_status(402, {"dg-request-id": REQUEST_ID}, "No credits left")
    assert error.reason == "No credits left"
    assert error.request_id == REQUEST_ID
    header_wins = error_for_status(402, {"dg-error": "header"}, "body")
    assert header_wins.reason == "header"


def test_status_without_headers() -> None:
    """No headers at all: the error still names the status."""
    error = error_for_status(429)
    assert isinstance(error, DeepgramRateLimitError)
    assert error.reason is None
    assert error.request_id is None
    assert (
        str(error)
        == error.message
        == ("Too many concurrent requests for the Deepgram project (HTTP 429)")
    )
    empty = error_for_status(500, {"dg-error": ""})
    assert empty.reason is None
    assert "reason" not in str(empty)


@pytest.mark.parametrize(
    ("code", "cls", "text"),
    [
        (1008, DeepgramProtocolError, "could not decode the audio"),
        (1011, DeepgramServerError, "ended the stream"),
        (1006, DeepgramConnectionError, "closed unexpectedly"),
        (1001, DeepgramConnectionError, "closed unexpectedly"),
        (1000, DeepgramConnectionError, "closed unexpectedly"),
        (4000, DeepgramConnectionError, "closed unexpectedly"),
    ],
)
def test_error_for_close(code: int, cls: type[DeepgramError], text: str) -> None:
    """A close code mid-stream maps to its error with reason and request id."""
    error = error_for_close(code, "NET-0000", REQUEST_ID)
    assert type(error) is cls
    assert error.status == code
    assert error.reason == "NET-0000"
    assert error.request_id == REQUEST_ID
    assert text in str(error)
    assert f"close {code}" in str(error)
    assert "NET-0000" in str(error)
    assert REQUEST_ID in str(error)


def test_error_for_close_without_reason() -> None:
    """A close without reason or request id still describes itself."""
    error = error_for_close(1011, None, None)
    assert str(error) == "Deepgram ended the stream (close 1011)"


def test_error_hierarchy() -> None:
    """A timeout is a connection error; every error is a `DeepgramError`."""
    assert issubclass(DeepgramTimeoutError, DeepgramConnectionError)
    for cls in (
        DeepgramAuthError,
        DeepgramBadRequestError,
        DeepgramConnectionError,
        DeepgramForbiddenError,
        DeepgramPaymentRequiredError,
        DeepgramProtocolError,
        DeepgramRateLimitError,
        DeepgramServerError,
    ):
        assert issubclass(cls, DeepgramError)
        assert not issubclass(cls, DeepgramConnectionError) or cls is (
            DeepgramConnectionError
        )


def test_repr_is_type_message_and_status() -> None:
    """`repr` names the type and carries only the server's answer."""
    error = error_for_status(401, {"dg-error": "INVALID_AUTH", "dg-request-id": "r1"})
    assert repr(error) == (
        "DeepgramAuthError('Deepgram rejected the API key (HTTP 401); "
        "reason: INVALID_AUTH; request id: r1', status=401)"
    )


# -- request ids of refusals (issue 18 item 4, follow-up) -----------------------


def odd_request_id(authorization: str) -> str:
    """300 characters echoing `authorization`, with a tab in a folded line.

    What a careless proxy might send; the fold's line break is undone by the
    HTTP parser, its tab is not.
    """
    head = f"{authorization} "
    return head + "x" * (150 - len(head)) + "\r\n\t" + "y" * 147


def test_a_refusals_request_id_is_one_line_cut_and_scrubbed() -> None:
    """`error_for_status` cleans dg-request-id as a request id, not as a reason."""
    scrub = Redactor(secrets_of(KEY))
    request_id = f"Token {KEY}\n" + "x" * 290
    error = error_for_status(
        401, {"dg-request-id": request_id, "dg-error": request_id}, scrub=scrub
    )
    # Cut to 100 characters first (the key whole among them), then scrubbed.
    kept = MAX_REQUEST_ID - len(f"Token {KEY}?")
    assert error.request_id == f"Token {REDACTED}?" + "x" * kept + "…"
    reason_kept = MAX_SERVER_TEXT - len(f"Token {KEY}\n")  # a reason: 300, as is
    assert error.reason == f"Token {REDACTED}\n" + "x" * reason_kept + "…"
    plain = error_for_status(500, {"dg-request-id": "a\nb" + "c" * 200})
    assert plain.request_id == "a?b" + "c" * 97 + "…"


@pytest.fixture
async def refusing_server(socket_enabled: None) -> AsyncGenerator[str]:
    """A server refusing every upgrade with 401 and an odd dg-request-id.

    Raw HTTP: aiohttp's own server will not send a folded header.
    """

    async def refuse(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        auth = next(
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("authorization:")
        )
        writer.write(
            b"HTTP/1.1 401 Unauthorized\r\n"
            b"dg-error: INVALID_AUTH\r\n"
            b"dg-request-id: " + odd_request_id(auth).encode() + b"\r\n"
            b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_a_refused_handshakes_request_id(
    refusing_server: str, http: aiohttp.ClientSession
) -> None:
    """401 at /v1/listen with a 300-character dg-request-id echoing the key and
    holding a tab: the error's request id is one line, cut and scrubbed."""
    session = LiveSession(http, Endpoint(refusing_server, KEY), LiveOptions())
    with pytest.raises(DeepgramAuthError) as info:
        await session.connect()
    await session.close()
    request_id = info.value.request_id
    kept = MAX_REQUEST_ID - len(f"Token {KEY} ")
    assert request_id == f"Token {REDACTED} " + "x" * kept + "…"
    assert KEY not in str(info.value)
    assert KEY not in repr(session)
