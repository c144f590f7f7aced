"""One Flux TTS request (`/v2/speak`): text as it is written, Deepgram decides
where to speak.

Flux places synthesis boundaries itself (sentence ends), so the caller sends
text as the agent writes it (`send_text()`) and flushes once, when the
reply is complete (`end()`). Deepgram answers a turn with `SpeechStarted`,
its audio, `Flushed` and `SpeechMetadata`: the message is complete at the
`SpeechMetadata` that follows the last `Flush`. A turn with nothing to
speak (only whitespace or punctuation) is a `NO_SYNTHESIZABLE_TEXT`
warning and a `SpeechMetadata` with no audio: the message ends, silent.

An `Error` message fails the request with a typed error (`MESSAGE-0000`,
`DATA-*`: what was sent was refused; `BIG-*`, `NET-*`: Deepgram's side);
other warnings are logged and the speech goes on. `abort()` sends
`Interrupt` (`/v2/speak` has no `Clear`), then `Close`; the audio still in
flight is dropped.
"""

from __future__ import annotations

import logging
from typing import Final, override

from .errors import DeepgramBadRequestError, DeepgramError, DeepgramServerError
from .messages import MessageFormatError
from .speak_messages import (
    SpeakError,
    SpeakV2Connected,
    SpeakV2SpeechMetadata,
    SpeakV2WarningCode,
    SpeakWarning,
    parse_speak_v2_message,
)
from .speak_socket import SpeakSocket

_LOGGER = logging.getLogger(__name__)

INTERRUPT: Final = '{"type": "Interrupt"}'


class FluxSpeakSession(SpeakSocket):
    """A `/v2/speak` request; see the module docstring."""

    path = "/v2/speak"
    speaks_before_flush = True
    connected_message: SpeakV2Connected | None = None
    """Deepgram's `Connected` for this request, once it came."""
    last_speech: SpeakV2SpeechMetadata | None = None
    """The last turn's `SpeechMetadata`."""
    silent = False
    """The message had nothing to speak (`NO_SYNTHESIZABLE_TEXT`)."""
    _interrupted_sent = False
    """`Interrupt` was sent: a second abort (Home Assistant stopping, then
    the reader's own) does not send it again after `Close`."""

    @override
    async def _before_close_message(self, *, flush: bool) -> None:
        # An abort stops the audio first (`Interrupt`: /v2 has no `Clear`);
        # a clean close has nothing left.
        if not flush and not self._complete and not self._interrupted_sent:
            self._interrupted_sent = True
            await self._send_text(INTERRUPT)

    @override
    def _handle_text(self, text: str) -> None:
        try:
            message = parse_speak_v2_message(text)
        except MessageFormatError as err:
            self._note_malformed(str(err), text)
            return
        if isinstance(message, SpeakV2SpeechMetadata):
            self.last_speech = message
            if self._owed:
                self._flush_answered()
        elif isinstance(message, SpeakV2Connected):
            self.connected_message = message
            self.request_id = (
                self._scrub.request_id(message.request_id) or self.request_id
            )
        elif isinstance(message, SpeakWarning):
            if message.code == SpeakV2WarningCode.NO_SYNTHESIZABLE_TEXT:
                self.silent = True
                _LOGGER.debug(
                    "Deepgram had nothing to speak (request %s)", self.request_id
                )
            else:
                self._warned(message.code or "", message.description)
        elif isinstance(message, SpeakError):
            self._fail(self._error_for(message))
        else:
            # SpeechStarted, Flushed, SessionMetadata, unknown types: the
            # audio and SpeechMetadata say all the session needs.
            _LOGGER.debug("Deepgram on /v2/speak: %s", self._scrub(text[:80]))

    def _error_for(self, message: SpeakError) -> DeepgramError:
        code = message.code or ""
        reason = self._scrub(f"{code} {message.description}".strip())
        if code.startswith(("MESSAGE-", "DATA-")):
            return DeepgramBadRequestError(
                "Deepgram refused what was sent to speak",
                reason=reason,
                request_id=self.request_id,
            )
        return DeepgramServerError(
            "Deepgram could not speak the message",
            reason=reason,
            request_id=self.request_id,
        )
