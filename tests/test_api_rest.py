"""`DeepgramRestClient`: key check, model list and pre-recorded audio."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.deepgram.api import (
    DeepgramAuthError,
    DeepgramBadRequestError,
    DeepgramConnectionError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramOptionsError,
    DeepgramPaymentRequiredError,
    DeepgramProtocolError,
    DeepgramRateLimitError,
    DeepgramRestClient,
    DeepgramServerError,
    DeepgramTimeoutError,
    Endpoint,
    KeyInfo,
    LiveOptions,
    ModelInfo,
)
from tests.api_helpers import KEY, assert_secret_hidden
from tests.conftest import Handler, OddServer
from tests.deepgram_server import (
    CatalogModel,
    FakeDeepgram,
    Faults,
    Latency,
    script_from_text,
)
from tests.deepgram_server.testing import unused_port, wav_silence

WAV_OPTIONS = LiveOptions(encoding=None, sample_rate=None, channels=None)


@pytest.fixture
def server(deepgram_server: FakeDeepgram) -> FakeDeepgram:
    """The fake Deepgram with a short script."""
    deepgram_server.script = script_from_text(
        "turn on the kitchen light", start=0.2, end=1.2, words_per_segment=2
    )
    return deepgram_server


def rest(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    key: str = KEY,
    **kwargs: Any,
) -> DeepgramRestClient:
    """A REST client for the fake server."""
    return DeepgramRestClient(http, Endpoint(server.base_url, key), **kwargs)


def answer(
    body: str | bytes | Any,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Handler:
    """A handler giving a fixed answer (JSON-encoded unless text or bytes)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if isinstance(body, bytes):
            payload = body
        else:
            payload = (body if isinstance(body, str) else json.dumps(body)).encode()
        return web.Response(
            status=status, body=payload, content_type=content_type, headers=headers
        )

    return handler


# -- validate_key ------------------------------------------------------------


async def test_validate_key_with_auth_token(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A working key is checked with GET /v1/auth/token and its details read."""
    info = await rest(server, http).validate_key()
    assert info == KeyInfo(
        checked_with="/v1/auth/token", api_key_id="fake-key-id", scopes=("member",)
    )
    [request] = server.rest_requests
    assert (request.method, request.path, request.status) == (
        "GET",
        "/v1/auth/token",
        200,
    )
    assert request.headers["Authorization"] == f"Token {KEY}"


async def test_validate_key_falls_back_to_projects(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Where /v1/auth/token is missing (404), /v1/projects checks the key."""
    server.faults = Faults(auth_endpoint_missing=True)
    info = await rest(server, http).validate_key()
    assert info == KeyInfo(
        checked_with="/v1/projects", project_names=("Fake Deepgram project",)
    )
    assert [(r.path, r.status) for r in server.rest_requests] == [
        ("/v1/auth/token", 404),
        ("/v1/projects", 200),
    ]
    assert server.rest_requests[1].headers["Authorization"] == f"Token {KEY}"


async def test_validate_key_falls_back_on_405(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """A server without GET on /v1/auth/token (405) is asked /v1/projects."""
    base_url = await odd_server(
        {
            "POST /v1/auth/token": answer({}),
            "GET /v1/projects": answer(
                {
                    "projects": [
                        {"project_id": "p1", "name": "Home"},
                        {"project_id": "p2"},
                        "junk",
                        {"project_id": "p3", "name": "Office"},
                    ]
                }
            ),
        }
    )
    client = DeepgramRestClient(http, Endpoint(base_url, KEY))
    info = await client.validate_key()
    assert info.checked_with == "/v1/projects"
    assert info.project_names == ("Home", "Office")


async def test_validate_key_with_odd_details(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """Key details of the wrong type are left out rather than failing."""
    base_url = await odd_server(
        {"GET /v1/auth/token": answer({"api_key_id": 7, "scopes": "admin"})}
    )
    info = await DeepgramRestClient(http, Endpoint(base_url, KEY)).validate_key()
    assert info == KeyInfo(checked_with="/v1/auth/token")
    base_url = await odd_server(
        {"GET /v1/auth/token": answer({"scopes": ["member", 3, "usage:write"]})}
    )
    info = await DeepgramRestClient(http, Endpoint(base_url, KEY)).validate_key()
    assert info.scopes == ("member", "usage:write")
    assert info.api_key_id is None


async def test_projects_without_a_list_is_a_protocol_error(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """/v1/projects must answer a list of projects."""
    base_url = await odd_server(
        {
            "GET /v1/auth/token": answer({}, status=404),
            "GET /v1/projects": answer({"projects": {"p1": "Home"}}),
        }
    )
    with pytest.raises(DeepgramProtocolError, match="/v1/projects"):
        await DeepgramRestClient(http, Endpoint(base_url, KEY)).validate_key()


async def test_keyless_self_hosted_is_checked_with_models(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """Without a key only /v1/models is asked, without Authorization."""
    server = FakeDeepgram(api_key=None)
    await server.start()
    try:
        client = DeepgramRestClient(http, Endpoint(server.base_url))
        assert await client.validate_key() == KeyInfo(checked_with="/v1/models")
        [request] = server.rest_requests
        assert request.path == "/v1/models"
        assert "Authorization" not in request.headers
    finally:
        await server.stop()


async def test_keyless_self_hosted_that_is_down(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """The keyless check still fails when nothing answers."""
    client = DeepgramRestClient(http, Endpoint(f"http://127.0.0.1:{unused_port()}"))
    with pytest.raises(DeepgramConnectionError, match="refused the connection"):
        await client.validate_key()


async def test_wrong_key_is_an_auth_error_without_fallback(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """401 is raised with Deepgram's reason and request id; no second request."""
    with pytest.raises(DeepgramAuthError) as info:
        await rest(server, http, key="wrong").validate_key()
    assert info.value.status == 401
    assert info.value.reason == "Invalid credentials."
    assert info.value.request_id
    assert [r.path for r in server.rest_requests] == ["/v1/auth/token"]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, DeepgramBadRequestError),
        (402, DeepgramPaymentRequiredError),
        (403, DeepgramForbiddenError),
        (429, DeepgramRateLimitError),
        (500, DeepgramServerError),
        (503, DeepgramServerError),
    ],
)
async def test_rest_status_maps_to_its_error(
    server: FakeDeepgram,
    http: aiohttp.ClientSession,
    status: int,
    cls: type[DeepgramError],
) -> None:
    """Every REST call maps an error status to its typed error."""
    server.faults = Faults(rest_status=status)
    client = rest(server, http)
    for call in (client.validate_key, client.list_models):
        with pytest.raises(cls) as info:
            await call()
        assert info.value.status == status
        assert info.value.reason
        assert info.value.request_id
    with pytest.raises(cls):
        await client.transcribe(wav_silence(0.5), WAV_OPTIONS)


async def test_timeout(server: FakeDeepgram, http: aiohttp.ClientSession) -> None:
    """An answer slower than the timeout raises `DeepgramTimeoutError` in time."""
    server.latency = Latency(rtt=4.0)
    client = rest(server, http, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(DeepgramTimeoutError, match="did not answer /v1/auth/token"):
        await client.validate_key()
    assert time.monotonic() - started < 3


async def test_transcribe_timeout(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`transcribe` has its own (longer) bound, also enforced."""
    server.latency = Latency(prerecorded_base=5.0)
    client = rest(server, http, timeout=0.1)
    started = time.monotonic()
    with pytest.raises(DeepgramTimeoutError, match="/v1/listen"):
        await client.transcribe(wav_silence(0.5), WAV_OPTIONS, timeout=0.3)
    assert time.monotonic() - started < 3


async def test_refused_connection(
    socket_enabled: None, http: aiohttp.ClientSession
) -> None:
    """Nothing listening: `DeepgramConnectionError`, not a timeout."""
    client = DeepgramRestClient(
        http, Endpoint(f"http://127.0.0.1:{unused_port()}", KEY)
    )
    with pytest.raises(DeepgramConnectionError) as info:
        await client.list_models()
    assert not isinstance(info.value, DeepgramTimeoutError)


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (answer("<html>Bad gateway</html>", content_type="text/html"), "no JSON"),
        (answer("", content_type="text/plain"), "no JSON"),
        (answer(b"\xff\xfe not utf-8", content_type="text/plain"), "no JSON"),
        (answer([{"name": "nova-3"}]), "no JSON object"),
        (answer("null"), "no JSON object"),
        (answer({"tts": []}), "Unexpected answer from /v1/models"),
        (answer({"stt": {"nova-3": {}}}), "Unexpected answer from /v1/models"),
    ],
)
async def test_answers_that_are_not_what_deepgram_sends(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    handler: Handler,
    message: str,
) -> None:
    """Non-JSON or wrongly shaped answers are protocol errors."""
    base_url = await odd_server({"GET /v1/models": handler})
    client = DeepgramRestClient(http, Endpoint(base_url, KEY))
    with pytest.raises(DeepgramProtocolError, match=message):
        await client.list_models()


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (
            {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."},
            None,
            ("Invalid credentials."),
        ),
        (
            {
                "category": "INVALID_AUTH",
                "message": "Invalid credentials.",
                "details": "The key is revoked",
            },
            None,
            "Invalid credentials.",
        ),
        ({"reason": "Revoked"}, None, "Revoked"),
        ({"details": "Only details"}, None, "Only details"),
        ({"err_msg": "", "details": "After empty"}, None, "After empty"),
        ({"err_code": 401}, None, None),
        (["not", "an", "object"], None, None),
        ("Unauthorized\n", "text/plain", "Unauthorized"),
        ("   ", "text/plain", None),
        ("x" * 500, "text/plain", "x" * 300 + "…"),
    ],
)
async def test_error_reason_from_the_body_without_dg_error(
    odd_server: OddServer,
    http: aiohttp.ClientSession,
    body: Any,
    content_type: str | None,
    reason: str | None,
) -> None:
    """Without a dg-error header the reason comes from either body shape."""
    base_url = await odd_server(
        {
            "GET /v1/auth/token": answer(
                body,
                status=401,
                content_type=content_type or "application/json",
                headers={"dg-request-id": "req-9"},
            )
        }
    )
    client = DeepgramRestClient(http, Endpoint(base_url, KEY))
    with pytest.raises(DeepgramAuthError) as info:
        await client.validate_key()
    assert info.value.reason == reason
    assert info.value.request_id == "req-9"


# -- list_models -------------------------------------------------------------


async def test_list_models_keeps_streaming_models(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Whisper (batch only) is left out; no key is needed for the list."""
    models = await rest(server, http, key="").list_models()
    names = [model.name for model in models]
    assert "whisper-large" not in names
    assert names == sorted(names)
    assert {"nova-3", "nova-2", "base"} <= set(names)
    nova3 = next(model for model in models if model.name == "nova-3")
    assert nova3.architecture == "nova-3"
    assert "de" in nova3.languages
    assert "multi" in nova3.languages
    assert "Authorization" not in server.rest_requests[0].headers


async def test_list_models_keeps_flux_for_v2(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Flux streams (on /v2/listen): listed, recognisable by its architecture.

    Callers that stream on /v1/listen (the profile form) leave it out.
    """
    flux = [
        m for m in await rest(server, http).list_models() if m.name.startswith("flux")
    ]
    assert [(m.name, m.architecture) for m in flux] == [
        ("flux-general-en", "flux"),
        ("flux-general-multi", "flux"),
    ]
    assert flux[0].languages == ("en",)
    with pytest.raises(DeepgramOptionsError, match="/v2/listen"):
        LiveOptions(model=flux[0].name, language=None).validate()


async def test_list_models_merges_languages_of_the_same_model(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Entries of one model (several versions) become one, languages merged."""
    server.catalog = [
        CatalogModel(
            name="nova-2",
            canonical_name="nova-2-general",
            architecture="nova-2",
            languages=("en", "de"),
            version="1",
            uuid="u1",
        ),
        CatalogModel(
            name="nova-2",
            canonical_name="nova-2-general",
            architecture="nova-2",
            languages=("de", "fr", "en-US"),
            version="2",
            uuid="u2",
        ),
        CatalogModel(
            name="nova-2-meeting",
            canonical_name="nova-2-meeting",
            architecture="nova-2",
            languages=("en",),
            version="1",
            uuid="u3",
            streaming=False,
        ),
        CatalogModel(
            name="enhanced",
            canonical_name="enhanced-general",
            architecture="base",
            languages=("es",),
            version="1",
            uuid="u4",
        ),
    ]
    models = await rest(server, http).list_models()
    assert models == [
        ModelInfo(name="enhanced-general", architecture="base", languages=("es",)),
        ModelInfo(
            name="nova-2", architecture="nova-2", languages=("en", "de", "fr", "en-US")
        ),
    ]


async def test_general_models_are_listed_under_their_short_name(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """`nova-3-general` is offered as `nova-3`, the name the API takes."""
    models = {model.name: model for model in await rest(server, http).list_models()}
    assert set(models) == {
        "base",
        "flux-general-en",
        "flux-general-multi",
        "nova-2",
        "nova-3",
    }
    for short in ("nova-3", "nova-2", "base"):
        assert models[short].architecture == short
        LiveOptions(model=short, language=None).validate()
    assert "multi" in models["nova-3"].languages


async def test_short_name_merges_with_an_entry_of_that_name(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """An entry already named like the architecture gets the general languages."""
    base_url = await odd_server(
        {
            "GET /v1/models": answer(
                {
                    "stt": [
                        {
                            "name": "nova-3",
                            "architecture": "nova-3",
                            "streaming": True,
                            "languages": ["en", "multi"],
                        },
                        {
                            "canonical_name": "nova-3-general",
                            "architecture": "nova-3",
                            "streaming": True,
                            "languages": ["multi", "de"],
                        },
                        {
                            "canonical_name": "nova-3-medical",
                            "architecture": "nova-3",
                            "streaming": True,
                            "languages": ["en"],
                        },
                    ]
                }
            )
        }
    )
    models = await DeepgramRestClient(http, Endpoint(base_url)).list_models()
    assert models == [
        ModelInfo(
            name="nova-3", architecture="nova-3", languages=("en", "multi", "de")
        ),
        ModelInfo(name="nova-3-medical", architecture="nova-3", languages=("en",)),
    ]


async def test_list_models_skips_odd_entries(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """Entries without a name or not marked streaming (exactly true) are skipped."""
    base_url = await odd_server(
        {
            "GET /v1/models": answer(
                {
                    "stt": [
                        "nova-3",
                        {"name": "nova-3", "streaming": "true", "languages": ["en"]},
                        {"streaming": True, "languages": ["en"]},
                        {"name": "", "streaming": True},
                        {"name": 3, "streaming": True},
                        {
                            "name": "nova-3",
                            "streaming": True,
                            "architecture": 7,
                            "languages": ["en", 5, None, "en", "de"],
                        },
                        {"name": "nova-2", "canonical_name": None, "streaming": True},
                    ]
                }
            )
        }
    )
    models = await DeepgramRestClient(http, Endpoint(base_url)).list_models()
    assert models == [
        ModelInfo(name="nova-2", architecture=None, languages=()),
        ModelInfo(name="nova-3", architecture=None, languages=("en", "de")),
    ]


# -- transcribe ----------------------------------------------------------------


async def test_transcribe_wav(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A WAV file is posted as is and its transcript returned."""
    audio = wav_silence(1.5)
    options = LiveOptions(
        encoding=None, sample_rate=None, channels=None, punctuate=True, language="de"
    )
    result = await rest(server, http).transcribe(audio, options)
    assert result.transcript == "turn on the kitchen light"
    assert result.confidence == pytest.approx(0.99)
    assert [w.word for w in result.words] == [
        "turn",
        "on",
        "the",
        "kitchen",
        "light",
    ]
    assert result.duration == pytest.approx(1.5)
    assert result.request_id
    [request] = server.rest_requests
    assert (request.method, request.path, request.status) == ("POST", "/v1/listen", 200)
    assert request.body_size == len(audio)
    assert request.headers["Content-Type"] == "audio/wav"
    assert request.headers["Authorization"] == f"Token {KEY}"
    assert list(request.query.items()) == options.query()
    assert "encoding" not in request.query


async def test_transcribe_raw_pcm(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Raw PCM goes with encoding and sample_rate and its own content type."""
    result = await rest(server, http).transcribe(
        bytes(16000), LiveOptions(), content_type="application/octet-stream"
    )
    assert result.duration == pytest.approx(0.5)
    assert result.transcript == "turn on"
    [request] = server.rest_requests
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert request.query["encoding"] == "linear16"
    assert request.query["sample_rate"] == "16000"


async def test_transcribe_bad_request(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """A language the model lacks is a bad request naming the parameter."""
    with pytest.raises(DeepgramBadRequestError) as info:
        await rest(server, http).transcribe(
            wav_silence(0.5),
            LiveOptions(encoding=None, sample_rate=None, language="sw"),
        )
    assert info.value.reason is not None
    assert "language" in info.value.reason


async def test_transcribe_invalid_options_sends_nothing(
    server: FakeDeepgram, http: aiohttp.ClientSession
) -> None:
    """Invalid options are refused before any request."""
    with pytest.raises(DeepgramOptionsError):
        await rest(server, http).transcribe(
            wav_silence(0.5), LiveOptions(encoding="mp3")
        )
    assert server.rest_requests == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"metadata": {}},
        {"metadata": {}, "results": {}},
        {"metadata": {}, "results": {"channels": []}},
        {"metadata": {}, "results": {"channels": "x"}},
        {"metadata": "x", "results": {"channels": [{"alternatives": [{}]}]}},
        {"metadata": {}, "results": {"channels": [{"alternatives": []}]}},
        {"metadata": {}, "results": {"channels": [{"alternatives": [{"x": 1}]}]}},
        {"metadata": {}, "results": None},
    ],
)
async def test_transcribe_unexpected_answer(
    odd_server: OddServer, http: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    """An answer without results.channels[0].alternatives[0] is a protocol error."""
    base_url = await odd_server({"POST /v1/listen": answer(body)})
    client = DeepgramRestClient(http, Endpoint(base_url, KEY))
    with pytest.raises(DeepgramProtocolError, match="POST /v1/listen"):
        await client.transcribe(wav_silence(0.2), WAV_OPTIONS)


async def test_transcribe_minimal_answer(
    odd_server: OddServer, http: aiohttp.ClientSession
) -> None:
    """Missing duration and request id are tolerated."""
    base_url = await odd_server(
        {
            "POST /v1/listen": answer(
                {
                    "metadata": {"duration": "long"},
                    "results": {
                        "channels": [
                            {"alternatives": [{"transcript": "hi", "confidence": 1}]}
                        ]
                    },
                }
            )
        }
    )
    client = DeepgramRestClient(http, Endpoint(base_url, KEY))
    result = await client.transcribe(wav_silence(0.2), WAV_OPTIONS)
    assert result.transcript == "hi"
    assert result.confidence == 1.0
    assert result.duration == 0.0
    assert result.request_id is None
    assert result.words == ()


# -- secrets -------------------------------------------------------------------


async def test_the_key_never_shows_in_logs_or_errors(
    server: FakeDeepgram, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Successful and failing REST calls never log or raise the key."""
    caplog.set_level(logging.DEBUG)
    secret = "dg-secret-1c2b3a4d5e6f7081"
    server.api_key = secret
    client = rest(server, http, key=secret, timeout=0.3)
    await client.validate_key()
    await client.list_models()
    await client.transcribe(wav_silence(0.5), WAV_OPTIONS)
    errors: list[DeepgramError] = []
    for faults, latency in (
        (Faults(rest_status=402), Latency()),
        (Faults(rest_status=500), Latency()),
        (Faults(), Latency(rtt=4.0)),
    ):
        server.faults = faults
        server.latency = latency
        with pytest.raises(DeepgramError) as info:
            await client.validate_key()
        errors.append(info.value)
    server.faults = Faults()
    server.latency = Latency()
    with pytest.raises(DeepgramAuthError) as auth:
        await rest(server, http, key=secret + "x").validate_key()
    errors.append(auth.value)
    assert [type(e) for e in errors] == [
        DeepgramPaymentRequiredError,
        DeepgramServerError,
        DeepgramTimeoutError,
        DeepgramAuthError,
    ]
    assert_secret_hidden(secret, errors, client, log=caplog.text)
