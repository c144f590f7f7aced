"""Constants of the Deepgram integration."""

from __future__ import annotations

import logging
from typing import Any, Final

from .api import DEFAULT_BASE_URL, DEFAULT_MODEL, DEFAULT_SPEAK_MODEL

DOMAIN: Final = "deepgram"
LOGGER = logging.getLogger(__package__)

SUBENTRY_STT: Final = "stt"
SUBENTRY_FLUX: Final = "flux"
SUBENTRY_TTS: Final = "tts"
"""A voice profile: one text-to-speech entity."""
LISTENING_SUBENTRIES: Final = frozenset({SUBENTRY_STT, SUBENTRY_FLUX})
DEFAULT_TITLE: Final = "Deepgram"
DEFAULT_STT_NAME: Final = "Deepgram nova-3"
DEFAULT_URL: Final = DEFAULT_BASE_URL

# Config entry data (CONF_API_KEY and CONF_URL come from homeassistant.const).
SECTION_ADVANCED: Final = "advanced"

# STT subentry data.
CONF_MODEL: Final = "model"
CONF_MULTILINGUAL: Final = "multilingual"
CONF_PUNCTUATE: Final = "punctuate"
CONF_SMART_FORMAT: Final = "smart_format"
CONF_NUMERALS: Final = "numerals"
CONF_PROFANITY_FILTER: Final = "profanity_filter"
CONF_KEYTERMS: Final = "keyterms"
CONF_HOME_TERMS: Final = "home_terms"
CONF_ENDPOINTING: Final = "endpointing"
CONF_FILLER_WORDS: Final = "filler_words"
CONF_MIP_OPT_OUT: Final = "mip_opt_out"
CONF_END_OF_SPEECH: Final = "end_of_speech"
CONF_UTTERANCE_END_MS: Final = "utterance_end_ms"

# Defaults chosen for voice commands matched by Home Assistant's intents:
# punctuation is harmless (hassil ignores it), numerals turn "fifty" into
# "50" which number slots match, smart_format is off because it rewrites
# words ("west" -> "W", "fifty percent" -> "50%") in ways sentences do not
# expect, filler words ("um") would break sentence matching.
RECOMMENDED_STT_OPTIONS: Final[dict[str, Any]] = {
    CONF_MODEL: DEFAULT_MODEL,
    CONF_MULTILINGUAL: False,
    CONF_PUNCTUATE: True,
    CONF_SMART_FORMAT: False,
    CONF_NUMERALS: True,
    CONF_PROFANITY_FILTER: False,
    CONF_KEYTERMS: [],
    CONF_HOME_TERMS: True,
    CONF_ENDPOINTING: 300,
    CONF_FILLER_WORDS: False,
    CONF_MIP_OPT_OUT: False,
    # Deepgram decides when a command is complete (see end_of_speech.py and
    # the benchmark in docs/benchmark.md); 1000 ms is Deepgram's minimum.
    CONF_END_OF_SPEECH: "deepgram",
    CONF_UTTERANCE_END_MS: 1000,
}

# Flux profile data (subentry type "flux"); keyterms and mip_opt_out as above.
CONF_EOT_THRESHOLD: Final = "eot_threshold"
CONF_EAGER_EOT_THRESHOLD: Final = "eager_eot_threshold"
CONF_EOT_TIMEOUT_MS: Final = "eot_timeout_ms"
CONF_LANGUAGE_HINTS: Final = "language_hints"

# Deepgram's own defaults; the eager end of turn is off (None).
RECOMMENDED_FLUX_OPTIONS: Final[dict[str, Any]] = {
    CONF_MODEL: "flux-general-en",
    CONF_EOT_THRESHOLD: 0.7,
    CONF_EAGER_EOT_THRESHOLD: None,
    CONF_EOT_TIMEOUT_MS: 5000,
    CONF_KEYTERMS: [],
    CONF_HOME_TERMS: True,
    CONF_LANGUAGE_HINTS: [],
    CONF_MIP_OPT_OUT: False,
}

# Voice profile data (subentry type "tts"); mip_opt_out as above.
CONF_VOICE: Final = "voice"
CONF_SPEED: Final = "speed"
CONF_EXPRESSIVITY: Final = "expressivity"

# Deepgram's own defaults: speed 1.0, expressivity (Flux only) 0 by leaving
# it unset (None).
RECOMMENDED_TTS_OPTIONS: Final[dict[str, Any]] = {
    CONF_VOICE: DEFAULT_SPEAK_MODEL,
    CONF_SPEED: 1.0,
    CONF_EXPRESSIVITY: None,
    CONF_MIP_OPT_OUT: False,
}

# Used when Deepgram's /v1/models cannot be read.
FALLBACK_MODELS: Final[dict[str, tuple[str, ...]]] = {
    "nova-3": (
        "en",
        "en-US",
        "en-AU",
        "en-GB",
        "en-IN",
        "en-NZ",
        "de",
        "de-CH",
        "es",
        "es-419",
        "fr",
        "fr-CA",
        "it",
        "ja",
        "nl",
        "nl-BE",
        "pt",
        "pt-BR",
        "pt-PT",
        "ru",
        "hi",
        "sv",
        "sv-SE",
        "da",
        "da-DK",
        "no",
        "fi",
        "pl",
        "tr",
        "uk",
        "ko",
        "ko-KR",
        "multi",
    ),
    "nova-3-medical": (
        "en",
        "en-US",
        "en-AU",
        "en-CA",
        "en-GB",
        "en-IE",
        "en-IN",
        "en-NZ",
    ),
    "nova-2": (
        "bg",
        "ca",
        "zh",
        "zh-CN",
        "zh-TW",
        "zh-HK",
        "cs",
        "da",
        "da-DK",
        "nl",
        "en",
        "en-US",
        "en-AU",
        "en-GB",
        "en-NZ",
        "en-IN",
        "et",
        "fi",
        "nl-BE",
        "fr",
        "fr-CA",
        "de",
        "de-CH",
        "el",
        "hi",
        "hu",
        "id",
        "it",
        "ja",
        "ko",
        "ko-KR",
        "lv",
        "lt",
        "ms",
        "no",
        "pl",
        "pt",
        "pt-BR",
        "pt-PT",
        "ro",
        "ru",
        "sk",
        "es",
        "es-419",
        "sv",
        "sv-SE",
        "th",
        "th-TH",
        "tr",
        "uk",
        "vi",
        "multi",
    ),
    "flux-general-en": ("en",),
    "flux-general-multi": (
        "multi",
        "en",
        "es",
        "fr",
        "de",
        "hi",
        "ru",
        "pt",
        "ja",
        "it",
        "nl",
    ),
}

EVENT_TRANSCRIPT: Final = "deepgram_transcript"
ISSUE_PAYMENT_REQUIRED: Final = "payment_required"
ISSUE_MODEL_NOT_ALLOWED: Final = "model_not_allowed"

# Bounds of a pipeline run's session (seconds).
CONNECT_TIMEOUT: Final = 5.0
FINALIZE_TIMEOUT: Final = 1.5
CLOSE_TIMEOUT: Final = 5.0
ABORT_TIMEOUT: Final = 1.0
END_TURN_TIMEOUT: Final = 1.0
"""Flux: wait for the EndOfTurn answering ForceEndTurn, then the last Update."""
STALL_TIMEOUT: Final = 3.0
"""Flux: seconds without audio after which the turn is ended (no KeepAlive)."""
# A run ends itself (returning what was heard) after this long without audio
# (a satellite that stalled without ending the stream), and after this long in
# all: Home Assistant's voice activity detector ends a command after 15 s of
# speech, so 60 s only cuts off a source that never ends.
AUDIO_IDLE_TIMEOUT: Final = 15.0
MAX_RUN_SECONDS: Final = 60.0
"""A run lasts at most this long and sends Deepgram at most this much audio."""
AUDIO_LEAD_SECONDS: Final = 10.0
"""How far live audio may run ahead of the clock and still count as live.

A satellite streams at real time, yet ahead of the run's clock: it forwards
at once the audio it buffered before the wake word was confirmed (a few
seconds at most) and what queued while the pipeline started this run,
networks deliver in bursts and a satellite's clock may run a little fast.
Audio that reaches `MAX_RUN_SECONDS` no further ahead than this is a source
that never ended: the run ends quietly with what was heard, as at
the time bound. Further ahead, it is a recording pushed faster than real
time (a file posted to `/api/stt`) and the run fails, saying so. Either way
no more than `MAX_RUN_SECONDS` of audio is sent: this decides only which.
"""
SESSION_HISTORY: Final = 20

CONSOLE_URL = "https://console.deepgram.com/"
"""Where users manage keys and credits (a placeholder in texts: no URLs in them)."""
