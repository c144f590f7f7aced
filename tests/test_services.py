"""The `deepgram.transcribe` action against the local Deepgram server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import hashlib
from pathlib import Path
import shutil
from typing import Any

from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.deepgram.const import DOMAIN, EVENT_TRANSCRIPT
from tests.deepgram_server import FakeDeepgram, script_from_text
from tests.deepgram_server.testing import wav_silence

FIXTURES = Path(__file__).parent / "fixtures"
WAV = FIXTURES / "turn_on_the_kitchen_light.wav"
OGG = FIXTURES / "remember_to_buy_milk_and_eggs.ogg"
WAV_SECONDS = (WAV.stat().st_size - 44) / 32000
ENTITY_ID = "stt.deepgram_nova_3"

type Transcribe = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def allowed(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A directory listed in allowlist_external_dirs."""
    folder = tmp_path / "allowed"
    folder.mkdir()
    hass.config.allowlist_external_dirs = {str(folder)}
    return folder


@pytest.fixture
async def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """The `local` media directory of a loaded media source."""
    folder = tmp_path / "media"
    folder.mkdir()
    hass.config.media_dirs = {"local": str(folder)}
    assert await async_setup_component(hass, "media_source", {})
    return folder


@pytest.fixture
def transcribe(hass: HomeAssistant, setup_integration: MockConfigEntry) -> Transcribe:
    """Call the action and return its response data."""

    async def call(**data: Any) -> dict[str, Any]:
        response: ServiceResponse = await hass.services.async_call(
            DOMAIN, "transcribe", data, blocking=True, return_response=True
        )
        assert isinstance(response, dict)
        return response

    return call


async def test_wav_from_allowed_path(
    hass: HomeAssistant,
    server: FakeDeepgram,
    allowed: Path,
    transcribe: Transcribe,
) -> None:
    """A WAV file is streamed as is; the response has every documented field."""
    server.script = script_from_text("Turn on the kitchen light.", start=0.5, end=2.3)
    events = async_capture_events(hass, EVENT_TRANSCRIPT)
    path = allowed / "voicemail.wav"
    shutil.copy(WAV, path)

    response = await transcribe(path=str(path))

    [request] = [r for r in server.rest_requests if r.method == "POST"]
    assert response == {
        "entity_id": ENTITY_ID,
        "text": "Turn on the kitchen light.",
        "confidence": pytest.approx(0.99),
        "language": "en",
        "model": "nova-3",
        "duration": pytest.approx(WAV_SECONDS, abs=1e-3),
        "request_id": request.request_id,
        "words": [
            {"word": word, "start": start, "end": end, "confidence": 0.99}
            for word, start, end in [
                ("Turn", 0.5, 0.86),
                ("on", 0.86, 1.22),
                ("the", 1.22, 1.58),
                ("kitchen", 1.58, 1.94),
                ("light.", 1.94, 2.3),
            ]
        ],
    }
    assert request.status == 200
    assert request.headers["Content-Type"] == "audio/x-wav"
    assert request.headers["Content-Length"] == str(WAV.stat().st_size)
    assert request.sha256 == hashlib.sha256(WAV.read_bytes()).hexdigest()
    assert request.query["model"] == "nova-3"
    assert request.query["language"] == "en"
    assert request.query["tag"] == "home-assistant"
    assert "encoding" not in request.query
    assert "sample_rate" not in request.query
    assert "interim_results" not in request.query
    await hass.async_block_till_done()
    assert events == []  # the event belongs to voice commands


async def test_ogg_from_media_source(
    hass: HomeAssistant,
    server: FakeDeepgram,
    media_dir: Path,
    transcribe: Transcribe,
) -> None:
    """A media source id of a local file (also in the media selector's form)."""
    server.script = script_from_text("Remember to buy milk and eggs.", start=0.3)
    server.prerecorded_duration = 2.48
    shutil.copy(OGG, media_dir / "memo.ogg")
    media_id = "media-source://media_source/local/memo.ogg"

    as_text = await transcribe(media_content_id=media_id)
    from_selector = await transcribe(
        media_content_id={"media_content_id": media_id, "media_content_type": "audio"}
    )

    assert as_text["text"] == "Remember to buy milk and eggs."
    assert as_text["duration"] == pytest.approx(2.48)
    assert from_selector["text"] == as_text["text"]
    posts = [r for r in server.rest_requests if r.method == "POST"]
    assert [r.headers["Content-Type"] for r in posts] == ["audio/ogg", "audio/ogg"]
    assert {r.sha256 for r in posts} == {hashlib.sha256(OGG.read_bytes()).hexdigest()}


async def test_language_detection_and_speakers(
    hass: HomeAssistant,
    server: FakeDeepgram,
    allowed: Path,
    transcribe: Transcribe,
) -> None:
    """detect sends detect_language and returns what was detected; diarize
    gives each word its speaker."""
    server.script = script_from_text("Hallo. Wer ist da?", start=0.5)
    server.detected_language = "de"
    path = allowed / "door.wav"
    path.write_bytes(wav_silence(2.0))

    response = await transcribe(path=str(path), detect=True, diarize=True)

    [request] = [r for r in server.rest_requests if r.method == "POST"]
    assert request.query["detect_language"] == "true"
    assert request.query["diarize"] == "true"
    assert "language" not in request.query
    assert response["language"] == "de"
    assert [(w["word"], w["speaker"]) for w in response["words"]] == [
        ("Hallo.", 0),
        ("Wer", 1),
        ("ist", 1),
        ("da?", 1),
    ]


async def test_language_mapped_to_the_model(
    hass: HomeAssistant,
    server: FakeDeepgram,
    allowed: Path,
    transcribe: Transcribe,
) -> None:
    """A regional tag the model only knows by its base is sent as the base."""
    path = allowed / "memo.wav"
    path.write_bytes(wav_silence(0.5))
    response = await transcribe(path=str(path), language="de-AT")
    [request] = [r for r in server.rest_requests if r.method == "POST"]
    assert request.query["language"] == "de"
    assert response["language"] == "de"
    assert response["text"] == ""
    assert response["confidence"] is None
