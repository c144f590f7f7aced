"""One Aura or Aura-2 speak request (`/v1/speak`): the client decides when to speak.

Deepgram speaks nothing on `/v1/speak` until it gets a `Flush`: the caller
(`speak_reply.py`, with the schedule of `speak_schedule.py`) sends text
with `send_text()` and flushes when a group of sentences is complete; every
`Flush` is answered by `Flushed` once its audio has all been sent, and the
message is complete at the `Flushed` of the last one (`end()`).

`clear()` drops what Deepgram holds and stops its audio (`Clear`, answered
by `Cleared`); audio still in flight for the cleared text is dropped here,
and the message ends. `abort()` sends `Clear`, then `Close`, within about a
second. `/v1/speak` has no in-band error: failures come as close frames
(`socket.py` types them); a `Warning` (too many flushes) is logged and the
speech goes on.
"""

from __future__ import annotations

import logging
from typing import Final, override

from .errors import DeepgramServerError
from .messages import MessageFormatError
from .speak_messages import (
    SpeakError,
    SpeakV1Cleared,
    SpeakV1Flushed,
    SpeakV1Metadata,
    SpeakWarning,
    parse_speak_v1_message,
)
from .speak_socket import SpeakSocket

_LOGGER = logging.getLogger(__name__)

CLEAR: Final = '{"type": "Clear"}'


class AuraSession(SpeakSocket):
    """A `/v1/speak` request; see the module docstring."""

    path = "/v1/speak"
    metadata: SpeakV1Metadata | None = None
    """Deepgram's `Metadata` for this request, once it came."""
    _clearing = False
    """`Clear` was sent and not yet answered: audio is dropped."""

    async def clear(self) -> None:
        """Drop what Deepgram holds and stop its audio; the message ends.

        Audio received but not yet read is dropped too.
        """
        self._drop_queued()
        if not self._clearing:
            self._clearing = True
            await self._send_text(CLEAR)
        self._message_complete()

    @override
    async def _before_close_message(self, *, flush: bool) -> None:
        # An abort stops the audio first; a clean close has nothing left.
        if not flush and not self._clearing:
            self._clearing = True
            await self._send_text(CLEAR)

    @override
    def _dropping_audio(self) -> bool:
        return self._clearing

    @override
    def _handle_text(self, text: str) -> None:
        try:
            message = parse_speak_v1_message(text)
        except MessageFormatError as err:
            self._note_malformed(str(err), text)
            return
        if isinstance(message, SpeakV1Flushed):
            self._flush_answered()
        elif isinstance(message, SpeakV1Cleared):
            self._clearing = False
        elif isinstance(message, SpeakV1Metadata):
            self.metadata = message
            self.request_id = (
                self._scrub.request_id(message.request_id) or self.request_id
            )
        elif isinstance(message, SpeakWarning):
            self._warned(message.code or "", message.description)
        elif isinstance(message, SpeakError):
            self._fail(
                DeepgramServerError(
                    "Deepgram reported an error",
                    reason=self._scrub(
                        f"{message.code or ''} {message.description}".strip()
                    ),
                    request_id=self.request_id,
                )
            )
        else:
            _LOGGER.debug(
                "Ignoring a /v1/speak message of unknown type: %s",
                self._scrub(text[:80]),
            )
