"""REST answers the client must not trust (issue 18, items 3, 4 and 14).

Request ids are server text like any other: scrubbed of the key, cut and
kept on one line before they reach a result, an error or a log.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramAuthError,
    DeepgramRestClient,
    Endpoint,
    LiveOptions,
)
from custom_components.deepgram.api.redact import (
    MAX_REQUEST_ID,
    REDACTED,
    Redactor,
    secrets_of,
)
from tests.conftest import API_KEY, OddServer
from tests.deepgram_server import FakeDeepgram, Faults, script_from_text
from tests.deepgram_server.testing import wav_silence

WAV_OPTIONS = LiveOptions(encoding=None, sample_rate=None, channels=None)


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake Deepgram expecting the test key, with one word of script."""
    deepgram_server.api_key = API_KEY
    deepgram_server.script = script_from_text("hello", start=0.1)
    return deepgram_server


def client(base_url: str, http: aiohttp.ClientSession) -> DeepgramRestClient:
    """A REST client with the test key."""
    return DeepgramRestClient(http, Endpoint(base_url, API_KEY))


def prerecorded(request_id: Any) -> dict[str, Any]:
    """A minimal pre-recorded answer with `request_id` in its metadata."""
    return {
        "metadata": {"request_id": request_id},
        "results": {"channels": [{"alternatives": [{"transcript": "hi"}]}]},
    }


# -- request ids (item 4) --------------------------------------------------------


def test_request_ids_are_scrubbed_cut_and_on_one_line() -> None:
    """Only a non-empty string is an id; the key, length and line breaks go."""
    scrub = Redactor(secrets_of(API_KEY))
    uuid = "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"
    assert scrub.request_id(uuid) == uuid
    assert scrub.request_id(f"  {uuid}\n") == uuid
    assert scrub.request_id(f"Token {API_KEY}") == f"Token {REDACTED}"
    assert scrub.request_id("id\nforged log line\r\x00") == "id?forged log line??"
    assert scrub.request_id("x" * 5000) == "x" * MAX_REQUEST_ID + "…"
    assert scrub.request_id("x" * MAX_REQUEST_ID) == "x" * MAX_REQUEST_ID
    for nothing in (None, "", "   ", 7, 1.5, ["id"], {"id": 1}, True):
        assert scrub.request_id(nothing) is None


async def test_a_prerecorded_request_id_echoing_the_key(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """The fake server's proxy fault: metadata.request_id is the header."""
    server.faults = Faults(echo_authorization_in_request_id=True)
    result = await client(server.base_url, http).transcribe(
        wav_silence(0.5), WAV_OPTIONS
    )
    assert result.transcript == "hello"
    assert result.request_id == f"Token {REDACTED}"
    assert API_KEY not in repr(result)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("x" * 10_000, "x" * MAX_REQUEST_ID + "…"),
        ("two\nlines", "two?lines"),
        (12345, None),
        (["id"], None),
    ],
    ids=["long", "two-lines", "number", "list"],
)
async def test_odd_prerecorded_request_ids(
    odd_server: OddServer, http: aiohttp.ClientSession, sent: Any, kept: str | None
) -> None:
    """A long, multi-line or non-string request id in the JSON answer."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(prerecorded(sent))

    base_url = await odd_server({"POST /v1/listen": answer})
    result = await client(base_url, http).transcribe(wav_silence(0.2), WAV_OPTIONS)
    assert result.transcript == "hi"
    assert result.request_id == kept


async def test_an_error_request_id_is_cut_like_any_other(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A refusal's dg-request-id header: scrubbed and cut to a request id's cap."""

    async def refuse(request: web.Request) -> web.Response:
        auth = request.headers["Authorization"]
        return web.json_response(
            {"err_msg": "Invalid credentials."},
            status=401,
            headers={"dg-request-id": f"{auth} {'x' * 500}"},
        )

    base_url = await odd_server({"GET /v1/auth/token": refuse})
    with pytest.raises(DeepgramAuthError) as info:
        await client(base_url, http).validate_key()
    request_id = info.value.request_id
    assert request_id is not None
    assert request_id.startswith(f"Token {REDACTED} xxx")
    assert request_id.endswith("x…")
    assert len(request_id) <= MAX_REQUEST_ID + 1
    assert API_KEY not in str(info.value)
