"""What a streaming session takes from the server: bounded, and quiet in the log.

A server that floods a session (a bug, a proxy gone wrong, a hostile
endpoint) must neither keep the event loop parsing without end nor fill the
log. `Intake` counts the text a session receives against
`MAX_RECEIVED_CHARS`; past it the session fails with a clear error and parses
nothing more. A malformed message is logged once at warning; the ones after
it are only counted, and summarised in one line when the socket closes.
Shared by live (`/v1/listen`) and Flux (`/v2/listen`) sessions.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Final

from .errors import DeepgramProtocolError
from .redact import Redactor

_LOGGER = logging.getLogger(__name__)

MAX_RECEIVED_CHARS: Final = 16 * 1024 * 1024
"""Most text a session takes from the server (16 Mi characters).

A real run is seconds to a couple of minutes of speech. Deepgram sends one to
a few messages a second, each 1 to 15 kB (a result or a Flux update carries
every word of its segment or turn): well under 5 MB even for minutes of
dictation, and about 1 MB for a one-minute command. Only a flooding server
sends this much.
"""


class Intake:
    """Counts one session's received text and its malformed messages."""

    __slots__ = ("_fail", "_reported", "_scrub", "malformed", "received_chars")

    def __init__(
        self, scrub: Redactor, fail: Callable[[DeepgramProtocolError], None]
    ) -> None:
        """Count from zero; `scrub` hides the key in what is logged, `fail`
        ends the session."""
        self._scrub = scrub
        self._fail = fail
        self.received_chars = 0
        """Characters of text received, up to just past the bound."""
        self.malformed = 0
        """Malformed messages received."""
        self._reported = 0  # of them, logged (the first) or summarised

    def take(self, text: str, request_id: str | None) -> bool:
        """Count `text`: whether to read it (False once past the bound).

        Crossing the bound fails the session once; nothing after is counted.
        """
        if self.received_chars > MAX_RECEIVED_CHARS:
            return False
        self.received_chars += len(text)
        if self.received_chars <= MAX_RECEIVED_CHARS:
            return True
        self._fail(
            DeepgramProtocolError(
                "Deepgram sent more than this client takes in one session "
                f"({MAX_RECEIVED_CHARS:,} characters)",
                request_id=request_id,
            )
        )
        return False

    def note_malformed(self, reason: str, text: str) -> None:
        """Log the first malformed message at warning; only count the rest."""
        self.malformed += 1
        if self.malformed > 1:
            return
        self._reported = 1
        _LOGGER.warning(
            "Ignoring a malformed message from Deepgram (%s): %r",
            self._scrub(reason[:80]),
            self._scrub(text[:80]),
        )

    def summarise(self, request_id: str | None) -> None:
        """Log in one line the malformed messages not logged yet (at the close)."""
        more = self.malformed - self._reported
        if not more:
            return
        self._reported = self.malformed
        _LOGGER.warning(
            "Ignored %d more malformed message%s from Deepgram (request %s)",
            more,
            "" if more == 1 else "s",
            request_id,
        )
