"""Deepgram client: the protocol layer, with no Home Assistant imports.

Listening: `LiveSession` streams audio over one WebSocket per request
(`/v1/listen`), `FluxSession` the same for Flux (`/v2/listen`, turn events).
Speaking: `AuraSession` (`/v1/speak`, Aura and Aura-2) and
`FluxSpeakSession` (`/v2/speak`, Flux TTS) take text and give back audio;
`speak_reply` drives either with an agent's reply as it is written
(`SpeakSchedule` decides when Aura flushes). Every socket builds on
`DeepgramSocket` (`socket.py`). `DeepgramRestClient` checks keys, lists
models and voices, and transcribes files. All take an
`aiohttp.ClientSession` and an `Endpoint` (base URL and key).
"""

from .aura import AuraSession
from .endpoint import (
    DEFAULT_BASE_URL,
    Endpoint,
    has_credentials,
    is_valid_key,
    normalize_base_url,
    redact_url,
)
from .errors import (
    DeepgramAuthError,
    DeepgramBadRequestError,
    DeepgramConnectionError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramKeyFormatError,
    DeepgramOptionsError,
    DeepgramPaymentRequiredError,
    DeepgramProtocolError,
    DeepgramRateLimitError,
    DeepgramRequestError,
    DeepgramRequestTooLongError,
    DeepgramServerError,
    DeepgramTimeoutError,
)
from .flux import FluxSession, FluxStats, FluxTurn
from .flux_messages import (
    ConfigureFailure,
    ConfigureSuccess,
    Connected,
    FluxError,
    FluxMessage,
    FluxWord,
    TurnEvent,
    TurnInfo,
    parse_flux_message,
)
from .flux_options import FLUX_MODELS, FluxOptions, is_flux
from .flux_speak import FluxSpeakSession
from .live import LiveSession, SessionStats
from .messages import (
    ErrorMessage,
    Metadata,
    Results,
    ServerMessage,
    SpeechStarted,
    UtteranceEnd,
    Word,
    parse_message,
)
from .options import DEFAULT_MODEL, LiveOptions, is_nova3_or_flux, supports_multi
from .rest import DeepgramRestClient, KeyInfo, ModelInfo, PrerecordedResult
from .socket import DeepgramSocket, SocketStats
from .speak_options import DEFAULT_SPEAK_MODEL, SpeakOptions, speak_family
from .speak_reply import speak_reply
from .speak_schedule import SpeakBudget, SpeakSchedule
from .speak_socket import SpeakSocket, SpeakStats
from .transcript import Transcript
from .voices import BUILTIN_VOICES, Voice, voices_or_fallback

__all__ = [
    "BUILTIN_VOICES",
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "DEFAULT_SPEAK_MODEL",
    "FLUX_MODELS",
    "AuraSession",
    "ConfigureFailure",
    "ConfigureSuccess",
    "Connected",
    "DeepgramAuthError",
    "DeepgramBadRequestError",
    "DeepgramConnectionError",
    "DeepgramError",
    "DeepgramForbiddenError",
    "DeepgramKeyFormatError",
    "DeepgramOptionsError",
    "DeepgramPaymentRequiredError",
    "DeepgramProtocolError",
    "DeepgramRateLimitError",
    "DeepgramRequestError",
    "DeepgramRequestTooLongError",
    "DeepgramRestClient",
    "DeepgramServerError",
    "DeepgramSocket",
    "DeepgramTimeoutError",
    "Endpoint",
    "ErrorMessage",
    "FluxError",
    "FluxMessage",
    "FluxOptions",
    "FluxSession",
    "FluxSpeakSession",
    "FluxStats",
    "FluxTurn",
    "FluxWord",
    "KeyInfo",
    "LiveOptions",
    "LiveSession",
    "Metadata",
    "ModelInfo",
    "PrerecordedResult",
    "Results",
    "ServerMessage",
    "SessionStats",
    "SocketStats",
    "SpeakBudget",
    "SpeakOptions",
    "SpeakSchedule",
    "SpeakSocket",
    "SpeakStats",
    "SpeechStarted",
    "Transcript",
    "TurnEvent",
    "TurnInfo",
    "UtteranceEnd",
    "Voice",
    "Word",
    "has_credentials",
    "is_flux",
    "is_nova3_or_flux",
    "is_valid_key",
    "normalize_base_url",
    "parse_flux_message",
    "parse_message",
    "redact_url",
    "speak_family",
    "speak_reply",
    "supports_multi",
    "voices_or_fallback",
]
