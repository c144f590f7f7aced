"""The model catalog served on ``GET /v1/models`` and used to validate queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .speak_voices import V1_SPEAK_PATH, V2_SPEAK_PATH, Voice, voices_on


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """One speech-to-text model entry of ``GET /v1/models``.

    A query's ``model`` matches an entry by ``canonical_name``, ``name`` or
    ``architecture`` (in that order of preference), case-insensitively.
    """

    name: str
    canonical_name: str
    architecture: str
    languages: tuple[str, ...]
    version: str
    uuid: str
    batch: bool = True
    streaming: bool = True
    formatted_output: bool = True

    def offers(self, language: str) -> bool:
        """Whether the model offers this language (case-insensitive)."""
        wanted = language.lower()
        return any(lang.lower() == wanted for lang in self.languages)

    def as_json(self) -> dict[str, Any]:
        """The entry as ``GET /v1/models`` lists it."""
        return {
            "name": self.name,
            "canonical_name": self.canonical_name,
            "architecture": self.architecture,
            "languages": list(self.languages),
            "version": self.version,
            "uuid": self.uuid,
            "batch": self.batch,
            "streaming": self.streaming,
            "formatted_output": self.formatted_output,
        }

    def model_info(self) -> dict[str, str]:
        """``metadata.model_info`` of a ``Results`` message."""
        return {"name": self.name, "version": self.version, "arch": self.architecture}


NOVA3_LANGUAGES = (
    "en", "en-US", "en-GB", "en-AU", "en-IN", "en-NZ",
    "de", "de-CH", "es", "es-419", "fr", "fr-CA", "it", "nl", "nl-BE",
    "pt", "pt-BR", "pt-PT", "ja", "ru", "hi", "multi",
)  # fmt: skip

NOVA2_LANGUAGES = (
    "multi", "bg", "ca", "zh", "zh-CN", "zh-Hans", "zh-TW", "zh-Hant", "zh-HK",
    "cs", "da", "da-DK", "nl", "nl-BE", "en", "en-US", "en-AU", "en-GB",
    "en-NZ", "en-IN", "et", "fi", "fr", "fr-CA", "de", "de-CH", "el", "hi",
    "hu", "id", "it", "ja", "ko", "ko-KR", "lv", "lt", "ms", "no", "pl", "pt",
    "pt-BR", "pt-PT", "ro", "ru", "sk", "es", "es-419", "sv", "sv-SE", "th",
    "th-TH", "tr", "uk", "vi",
)  # fmt: skip

FLUX_MULTI_LANGUAGES = (
    "multi", "en", "es", "fr", "de", "hi", "ru", "pt", "ja", "it", "nl",
)  # fmt: skip

WHISPER_LANGUAGES = (
    "en", "de", "es", "fr", "it", "nl", "pt", "ja", "ko", "zh", "ru", "sv",
    "da", "no", "pl", "fi", "uk",
)  # fmt: skip


def default_catalog() -> list[CatalogModel]:
    """A fresh copy of the default catalog (tests may replace or edit it)."""
    return [
        CatalogModel(
            name="nova-3",
            canonical_name="nova-3-general",
            architecture="nova-3",
            languages=NOVA3_LANGUAGES,
            version="2025-10-01.14020",
            uuid="c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c",
        ),
        CatalogModel(
            name="nova-2",
            canonical_name="nova-2-general",
            architecture="nova-2",
            languages=NOVA2_LANGUAGES,
            version="2024-01-18.26916",
            uuid="30089e05-99d1-4376-b32e-c263170674af",
        ),
        CatalogModel(
            name="general",
            canonical_name="base-general",
            architecture="base",
            languages=("en", "en-US", "de", "es", "fr"),
            version="2024-01-26.8851",
            uuid="1ed36bac-f71c-4f3f-a31f-02fd6525c489",
        ),
        CatalogModel(
            name="flux-general-en",
            canonical_name="flux-general-en",
            architecture="flux",
            languages=("en",),
            version="2025-09-01.0",
            uuid="6a0f1b3e-5a7b-4b8e-9d0a-1f2e3d4c5b6a",
            batch=False,
        ),
        CatalogModel(
            name="flux-general-multi",
            canonical_name="flux-general-multi",
            architecture="flux",
            languages=FLUX_MULTI_LANGUAGES,
            version="2026-03-01.0",
            uuid="8e4c2a1d-3b5f-4c6e-9a7b-0d1e2f3a4b5c",
            batch=False,
        ),
        CatalogModel(
            name="whisper-large",
            canonical_name="whisper-large",
            architecture="whisper",
            languages=WHISPER_LANGUAGES,
            version="2023-07-10.0",
            uuid="4d892fb6-7f3b-4b30-a7b4-3c0a5a1f4d7e",
            streaming=False,
        ),
    ]


def find_model(catalog: Sequence[CatalogModel], model: str) -> CatalogModel | None:
    """The catalog entry a query's ``model`` value selects, if any."""
    wanted = model.lower()
    for attribute in ("canonical_name", "name", "architecture"):
        for entry in catalog:
            if str(getattr(entry, attribute)).lower() == wanted:
                return entry
    return None


def catalog_json(
    catalog: Sequence[CatalogModel], voices: Sequence[Voice] = ()
) -> dict[str, Any]:
    """The ``GET /v1/models`` document: every STT model, the ``/v1/speak`` voices."""
    return {
        "stt": [entry.as_json() for entry in catalog],
        "tts": [voice.as_json() for voice in voices_on(V1_SPEAK_PATH, voices)],
    }


def catalog_v2_json(
    catalog: Sequence[CatalogModel], voices: Sequence[Voice]
) -> dict[str, Any]:
    """The ``GET /v2/models`` document: what the ``/v2`` sockets serve.

    Its shape is a guess: Deepgram's notes name ``GET /v2/models`` as the
    Flux TTS voice list, but neither its API reference nor its SDKs' types
    (searched late 2026) describe the answer. It is taken to mirror
    ``/v1/models`` (``stt`` and ``tts`` lists of the same entries) for the
    models of ``/v2/listen`` (Flux STT) and ``/v2/speak`` (Flux TTS).
    """
    return {
        "stt": [entry.as_json() for entry in catalog if entry.architecture == "flux"],
        "tts": [voice.as_json() for voice in voices_on(V2_SPEAK_PATH, voices)],
    }
