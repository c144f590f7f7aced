"""Handshake of the fake Deepgram: auth, query validation and refusals."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.deepgram_server import NO_ANSWER, FakeDeepgram, Faults, Latency
from tests.deepgram_server.testing import LIVE_QUERY, auth_header, listen_url

EXPECTED_ERR_CODES = {
    401: "INVALID_AUTH",
    402: "ASR_PAYMENT_REQUIRED",
    403: "INSUFFICIENT_PERMISSIONS",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
    400: "Bad Request",
}


async def _refused(
    server: FakeDeepgram, headers: dict[str, str], **query: str
) -> aiohttp.WSServerHandshakeError:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await session.ws_connect(listen_url(server, **query), headers=headers)
    return caught.value


async def _accepted(server: FakeDeepgram, headers: dict[str, str], **query: str) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(
            listen_url(server, **query), headers=headers
        ) as ws:
            request_id = ws._response.headers["dg-request-id"]
            await ws.close()
    return request_id


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token"])
async def test_auth_schemes_accepted(
    deepgram_server: FakeDeepgram,
    scheme: str,
) -> None:
    """Token and Bearer carry the key; the answer has dg-request-id."""
    request_id = await _accepted(deepgram_server, auth_header(scheme=scheme))
    (handshake,) = deepgram_server.handshakes
    assert (handshake.status, handshake.request_id) == (101, request_id)
    assert deepgram_server.sessions[0].request_id == request_id


@pytest.mark.parametrize(
    "headers",
    [{}, auth_header("wrong"), {"Authorization": "dg-test-key"}],
    ids=["missing", "wrong-key", "no-scheme"],
)
async def test_bad_auth_401(
    deepgram_server: FakeDeepgram,
    headers: dict[str, str],
) -> None:
    """A wrong or missing key: 401 INVALID_AUTH with Deepgram's headers and body."""
    async with aiohttp.ClientSession() as session:
        async with session.get(listen_url(deepgram_server), headers=headers) as resp:
            assert resp.status == 401
            body = await resp.json()
            request_id = resp.headers["dg-request-id"]
            assert resp.headers["dg-error"] == "Invalid credentials."
    assert body == {
        "err_code": "INVALID_AUTH",
        "err_msg": "Invalid credentials.",
        "request_id": request_id,
    }
    error = await _refused(deepgram_server, headers)
    assert error.status == 401
    assert [h.status for h in deepgram_server.handshakes] == [401, 401]
    assert deepgram_server.sessions == []


async def test_self_hosted_needs_no_key(socket_enabled: None) -> None:
    """api_key=None accepts requests without Authorization."""
    server = FakeDeepgram(api_key=None)
    await server.start()
    try:
        await _accepted(server, {})
        assert server.sessions[0].authorization is None
    finally:
        await server.stop()


@pytest.mark.parametrize("status", sorted(EXPECTED_ERR_CODES))
async def test_handshake_status_faults(
    deepgram_server: FakeDeepgram,
    status: int,
) -> None:
    """Each refusal status has Deepgram's err_code, dg-error and dg-request-id."""
    deepgram_server.faults = Faults(handshake_status=status)
    async with aiohttp.ClientSession() as session:
        async with session.get(
            listen_url(deepgram_server), headers=auth_header()
        ) as resp:
            assert resp.status == status
            body = await resp.json()
            assert resp.headers["dg-error"]
            assert body["request_id"] == resp.headers["dg-request-id"]
    assert body["err_code"] == EXPECTED_ERR_CODES[status]
    assert body["err_msg"]
    error = await _refused(deepgram_server, auth_header())
    assert error.status == status
    assert deepgram_server.handshakes[-1].status == status


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"model": "nova-9"}, "model"),
        ({"model": "whisper-large"}, "model"),
        ({"model": "flux-general-en"}, "model"),
        ({"language": "xx"}, "language"),
        ({"model": "nova-3", "language": "sv"}, "language"),
        ({"encoding": "linear16", "sample_rate": ""}, "sample_rate"),
        ({"encoding": "wav"}, "encoding"),
        ({"model": "nova-2", "keyterm": "kitchen"}, "keyterm"),
        ({"model": "nova-3", "keyterm": "tea " * 501}, "keyterm"),
        ({"model": "nova-3", "keywords": "kitchen:2"}, "keywords"),
        ({"interim_results": "yes"}, "interim_results"),
        ({"utterance_end_ms": "soon"}, "utterance_end_ms"),
    ],
)
async def test_query_validation_400(
    deepgram_server: FakeDeepgram,
    query: dict[str, str],
    parameter: str,
) -> None:
    """Bad queries: 400 with dg-error naming the parameter and a JSON body."""
    params = {**LIVE_QUERY, **query}
    params = {k: v for k, v in params.items() if v}
    async with aiohttp.ClientSession() as session:
        async with session.get(
            listen_url(deepgram_server, params), headers=auth_header()
        ) as resp:
            assert resp.status == 400
            assert parameter in resp.headers["dg-error"]
            body = await resp.json()
            assert body["request_id"] == resp.headers["dg-request-id"]
    assert ("err_code" in body and "err_msg" in body) or (
        {"category", "message", "details"} <= set(body)
    )
    assert deepgram_server.handshakes[-1].status == 400


@pytest.mark.parametrize(
    "query",
    [
        {"model": "nova-3", "language": "multi"},
        {"model": "nova-2", "language": "multi"},
        {"model": "nova-2", "language": "sv", "keywords": "kök:2"},
        {"model": "nova-3", "language": "en-us"},
        {"model": "nova-3-general", "language": "de"},
        {"model": "nova-3", "keyterm": "kitchen light", "some_future_param": "1"},
        {"endpointing": "false", "utterance_end_ms": "1000"},
    ],
)
async def test_valid_queries_accepted(
    deepgram_server: FakeDeepgram,
    query: dict[str, str],
) -> None:
    """Known models/languages, multi, keyterm/keywords and unknown params pass."""
    await _accepted(deepgram_server, auth_header(), **query)


async def test_repeated_keyterms_recorded(
    deepgram_server: FakeDeepgram,
) -> None:
    """Repeated query keys are kept in the record."""
    url = listen_url(deepgram_server).update_query(
        [("keyterm", "kitchen light"), ("keyterm", "living room")]
    )
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, headers=auth_header()) as ws:
            await ws.close()
    await deepgram_server.wait_for_sessions_closed()
    record = deepgram_server.sessions[0]
    assert record.query.getall("keyterm") == ["kitchen light", "living room"]


async def test_plain_get_is_not_an_upgrade(
    deepgram_server: FakeDeepgram,
) -> None:
    """A valid plain GET (no upgrade) is refused with 400."""
    async with aiohttp.ClientSession() as session:
        async with session.get(
            listen_url(deepgram_server), headers=auth_header()
        ) as resp:
            assert resp.status == 400
            assert "dg-request-id" in resp.headers


async def test_refuse_drops_connection(
    deepgram_server: FakeDeepgram,
) -> None:
    """refuse: the connection ends without an HTTP answer."""
    deepgram_server.faults = Faults(refuse=True)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.ws_connect(listen_url(deepgram_server), headers=auth_header())
    assert deepgram_server.handshakes[0].status == NO_ANSWER


async def test_stall_handshake(
    deepgram_server: FakeDeepgram,
) -> None:
    """stall_handshake: the upgrade is never answered (client times out)."""
    deepgram_server.faults = Faults(stall_handshake=True)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await session.ws_connect(
                    listen_url(deepgram_server), headers=auth_header()
                )
    assert deepgram_server.handshakes[0].status == NO_ANSWER


async def test_handshake_latency(
    deepgram_server: FakeDeepgram,
) -> None:
    """rtt/2 is added before the handshake answer (refusals too)."""
    deepgram_server.latency = Latency(rtt=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _refused(deepgram_server, {})
    assert loop.time() - started >= 0.08
