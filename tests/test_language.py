"""Pipeline language tags and what is sent to Deepgram."""

from __future__ import annotations

import pytest

from custom_components.deepgram.const import FALLBACK_MODELS
from custom_components.deepgram.language import deepgram_language, supported_languages

NOVA3 = FALLBACK_MODELS["nova-3"]


def test_supported_languages_cover_pipeline_tags() -> None:
    """Exact tags Home Assistant pipelines use are listed, not only bases."""
    tags = supported_languages(NOVA3)
    for tag in ("en", "en-US", "en-GB", "de", "de-DE", "de-CH", "fr-FR", "it-IT"):
        assert tag in tags
    assert "multi" not in tags
    assert tags == sorted(set(tags))


def test_norwegian_aliases() -> None:
    """Home Assistant says nb/nn, Deepgram says no."""
    tags = supported_languages(("no",))
    assert {"no", "no-NO", "nb", "nb-NO", "nn", "nn-NO"} <= set(tags)
    assert deepgram_language("nb-NO", ("no",), multilingual=False) == "no"


def test_unknown_base_language_gets_its_own_region() -> None:
    """A language without a region table is offered as xx and xx-XX."""
    assert supported_languages(("fi",)) == ["fi", "fi-FI"]


@pytest.mark.parametrize(
    ("pipeline", "sent"),
    [
        ("en-US", "en-US"),
        ("EN-us", "en-US"),
        ("de-DE", "de"),
        ("fr-CA", "fr-CA"),
        ("pt-BR", "pt-BR"),
        ("es-MX", "es"),
    ],
)
def test_language_mapping(pipeline: str, sent: str) -> None:
    """Exact tag when the model has it, else its base language."""
    assert deepgram_language(pipeline, NOVA3, multilingual=False) == sent


def test_regional_only_model() -> None:
    """A model with only regional tags gets one of them for the base language."""
    assert deepgram_language("en-ZA", ("en-AU", "en-GB"), multilingual=False) == "en-AU"


def test_language_the_model_lacks_is_passed_as_base() -> None:
    """Deepgram decides (and says clearly) about a language it does not list."""
    assert deepgram_language("xx-YY", NOVA3, multilingual=False) == "xx"


def test_multilingual_always_sends_multi() -> None:
    """A multilingual profile sends multi whatever the pipeline language."""
    assert deepgram_language("de-DE", NOVA3, multilingual=True) == "multi"
