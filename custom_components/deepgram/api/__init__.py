"""Deepgram client: the protocol layer, with no Home Assistant imports.

`LiveSession` streams audio over one WebSocket per request (`/v1/listen`),
`FluxSession` the same for Flux (`/v2/listen`, turn events),
`DeepgramRestClient` checks keys, lists models and transcribes files.
Both take an `aiohttp.ClientSession` and an `Endpoint` (base URL and key).
"""

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
from .transcript import Transcript

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "FLUX_MODELS",
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
    "DeepgramTimeoutError",
    "Endpoint",
    "ErrorMessage",
    "FluxError",
    "FluxMessage",
    "FluxOptions",
    "FluxSession",
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
    "SpeechStarted",
    "Transcript",
    "TurnEvent",
    "TurnInfo",
    "UtteranceEnd",
    "Word",
    "has_credentials",
    "is_flux",
    "is_nova3_or_flux",
    "is_valid_key",
    "normalize_base_url",
    "parse_flux_message",
    "parse_message",
    "redact_url",
    "supports_multi",
]
