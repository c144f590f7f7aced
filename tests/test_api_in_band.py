"""What sessions take from Deepgram's own messages (issue 18, items 4 and 11).

Request ids in `Results`, `Metadata` and `TurnInfo` are treated as the
handshake's: scrubbed of the key, cut and kept on one line. A session's
failure can be awaited (`wait_failed`), so a caller whose audio stalled
learns of it at once.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import DeepgramServerError
from custom_components.deepgram.api.redact import MAX_REQUEST_ID, REDACTED
from tests.api_helpers import websocket_route
from tests.conftest import API_KEY, OddServer
from tests.deepgram_server.testing import wait_for
from tests.test_api_hardening import FLUX_SAMPLES, LIVE_SAMPLES, PATHS, session_for

ECHO = "first line\nsecond line "
"""A request id spanning lines, before the echoed Authorization header."""


def _with_request_id(sample: dict[str, Any], request_id: str) -> str:
    message = copy.deepcopy(sample)
    if message["type"] == "Results":
        message["metadata"]["request_id"] = request_id
    else:
        message["request_id"] = request_id
    return json.dumps(message)


def _assert_fit_to_show(request_id: str | None) -> None:
    assert request_id is not None
    assert API_KEY not in request_id
    assert REDACTED in request_id
    assert "\n" not in request_id
    assert request_id.startswith("first line?second line Token ")
    assert len(request_id) <= MAX_REQUEST_ID + 1  # and the ellipsis


@pytest.mark.parametrize(
    ("path", "sample"),
    [
        ("/v1/listen", LIVE_SAMPLES[0]),  # Results
        ("/v1/listen", LIVE_SAMPLES[1]),  # Metadata
        ("/v2/listen", FLUX_SAMPLES[0]),  # TurnInfo
    ],
    ids=["Results", "Metadata", "TurnInfo"],
)
async def test_in_band_request_ids_are_scrubbed_cut_and_on_one_line(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    path: str,
    sample: dict[str, Any],
) -> None:
    """A request id in a message echoing the key: the session never keeps it raw."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        auth = request.headers["Authorization"]
        echo = f"{ECHO}{auth} " + "y" * 300
        await ws.send_str(_with_request_id(sample, echo))
        await ws.close(code=1011, message=b"boom")

    session = session_for(
        path, await odd_server(websocket_route(path, behaviour)), http
    )
    session.start()
    await wait_for(lambda: session.error is not None)
    await session.close()
    _assert_fit_to_show(session.request_id)
    assert isinstance(session.error, DeepgramServerError)
    _assert_fit_to_show(session.error.request_id)


@pytest.mark.parametrize("path", PATHS)
async def test_wait_failed_wakes_when_the_server_ends_the_session(
    odd_server: OddServer, http: aiohttp.ClientSession, path: str
) -> None:
    """No audio is sent, yet the waiter learns of the 1011 close and raises it."""

    async def behaviour(request: web.Request, ws: web.WebSocketResponse) -> None:
        await asyncio.sleep(0.2)
        await ws.close(code=1011, message=b"boom")

    session = session_for(
        path, await odd_server(websocket_route(path, behaviour)), http
    )
    session.start()
    waiter = asyncio.create_task(session.wait_failed())
    await asyncio.sleep(0)
    assert not waiter.done()
    async with asyncio.timeout(10):
        with pytest.raises(DeepgramServerError, match="close 1011"):
            await waiter
    await session.close()
