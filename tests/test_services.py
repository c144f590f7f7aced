"""The `deepgram.transcribe` action: inputs and response data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import shutil

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.deepgram import services
from custom_components.deepgram.const import (
    CONF_MULTILINGUAL,
    DOMAIN,
    EVENT_TRANSCRIPT,
    RECOMMENDED_STT_OPTIONS,
)
from tests.conftest import entry_with_profiles, set_up_entry
from tests.deepgram_server import FakeDeepgram, script_from_text
from tests.deepgram_server.testing import wav_silence
from tests.services_helpers import (
    COMPONENT,
    ENTITY_ID,
    OGG,
    WAV,
    WAV_SECONDS,
    Transcribe,
    call_transcribe,
    posts,
)


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

    [request] = posts(server)
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
    sent = posts(server)
    assert [r.headers["Content-Type"] for r in sent] == ["audio/ogg", "audio/ogg"]
    assert {r.sha256 for r in sent} == {hashlib.sha256(OGG.read_bytes()).hexdigest()}


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

    [request] = posts(server)
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
    [request] = posts(server)
    assert request.query["language"] == "de"
    assert response["language"] == "de"
    assert response["text"] == ""
    assert response["confidence"] is None


async def test_unknown_extension_is_sent_undeclared(
    server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """A file whose name says no audio type goes as application/octet-stream;
    Deepgram detects the format from the bytes."""
    path = allowed / "recording.bin"
    shutil.copy(WAV, path)
    response = await transcribe(path=str(path))
    [request] = posts(server)
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert response["duration"] == pytest.approx(WAV_SECONDS, abs=1e-3)


async def test_multilingual_profile(
    hass: HomeAssistant, server: FakeDeepgram, allowed: Path
) -> None:
    """A multilingual profile sends language=multi and reports the words' language."""
    mixed = {**RECOMMENDED_STT_OPTIONS, CONF_MULTILINGUAL: True}
    await set_up_entry(hass, entry_with_profiles(server, {"Mixed": mixed}))
    server.script = script_from_text("Hola, hello.", start=0.2)
    server.detected_language = "es"
    path = allowed / "mixed.wav"
    path.write_bytes(wav_silence(1.0))

    response = await call_transcribe(hass, path=str(path), profile="stt.mixed")

    [request] = posts(server)
    assert request.query["language"] == "multi"
    assert response["language"] == "es"


async def test_response_is_required(
    hass: HomeAssistant, server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """The action only returns data: calling it without asking is refused."""
    path = allowed / "memo.wav"
    path.write_bytes(wav_silence(0.5))
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "transcribe", {"path": str(path)}, blocking=True
        )
    assert posts(server) == []


async def test_action_described_and_translated(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """services.yaml names every field of the schema; strings translate each."""
    loaded = await async_get_all_descriptions(hass)
    assert loaded[DOMAIN]["transcribe"]["response"] == {"optional": False}
    described = load_yaml_dict(COMPONENT / "services.yaml")
    assert set(loaded[DOMAIN]["transcribe"]["fields"]) == set(
        described["transcribe"]["fields"]
    )
    strings = json.loads((COMPONENT / "strings.json").read_text())
    fields = set(described["transcribe"]["fields"])
    schema_keys = {str(key) for key in services.SCHEMA.validators[1].schema}
    assert fields == schema_keys
    translated = strings["services"]["transcribe"]
    assert translated["name"]
    assert translated["description"]
    assert set(translated["fields"]) == fields
    for field in translated["fields"].values():
        assert field["name"]
        assert field["description"]
