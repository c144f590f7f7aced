"""What a streaming session takes from the server: bounded, and quiet in the log.

A server that floods a session (a bug, a proxy gone wrong, a hostile
endpoint) must neither keep the event loop busy without end nor fill the log.
`DeepgramSocket` (`socket.py`) counts every frame it receives (text,
binary, ping, pong) with one `Intake` against the session's bound; past it
the session fails with a clear error and reads nothing more into its state.
A malformed message is logged once at warning, an unexpected binary frame
once at debug; the ones after are only counted, and summarised in one line
when the socket closes.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Final

from .errors import DeepgramProtocolError
from .redact import Redactor

_LOGGER = logging.getLogger(__name__)

LISTEN_RECEIVED_BYTES: Final = 16 * 1024 * 1024
"""Most a listen session (`/v1` or `/v2/listen`) takes from the server (16 MiB).

A real run is seconds to a couple of minutes of speech. Deepgram sends one to
a few messages a second, each 1 to 15 kB (a result or a Flux update carries
every word of its segment or turn): well under 5 MB even for minutes of
dictation, and about 1 MB for a one-minute command. Only a flooding server
sends this much.
"""
MIN_FRAME_BYTES: Final = 64
"""What a frame counts at least, whatever its payload.

Handling a frame costs work (a pong answers a ping) whatever it carries: a
flood of empty pings or frames must reach the bound too, within a few
hundred thousand frames.
"""


def frame_bytes(data: str | bytes) -> int:
    """What a frame's payload counts: its bytes (UTF-8 for text), at least
    `MIN_FRAME_BYTES`."""
    if isinstance(data, bytes):
        size = len(data)
    else:
        size = len(data) if data.isascii() else len(data.encode())
    return max(size, MIN_FRAME_BYTES)


class Intake:
    """Counts one session's received frames, malformed messages and binary frames."""

    __slots__ = (
        "_fail",
        "_limit",
        "_reported",
        "_reported_binary",
        "_scrub",
        "binary",
        "malformed",
        "received_bytes",
    )

    def __init__(
        self,
        scrub: Redactor,
        fail: Callable[[DeepgramProtocolError], None],
        limit: int,
    ) -> None:
        """Count from zero up to `limit` bytes; `scrub` hides the key in what
        is logged, `fail` ends the session."""
        self._scrub = scrub
        self._fail = fail
        self._limit = limit
        self.received_bytes = 0
        """Bytes received (see `frame_bytes`), up to just past the bound."""
        self.malformed = 0
        """Malformed messages received."""
        self.binary = 0
        """Binary frames a session had no use for."""
        self._reported = 0  # malformed ones logged (the first) or summarised
        self._reported_binary = 0  # likewise, binary frames

    def take(self, size: int, request_id: str | None) -> bool:
        """Count a frame of `size` bytes: whether to read it (False once past
        the bound).

        Crossing the bound fails the session once; nothing after is counted.
        """
        if self.received_bytes > self._limit:
            return False
        self.received_bytes += size
        if self.received_bytes <= self._limit:
            return True
        self._fail(
            DeepgramProtocolError(
                "Deepgram sent more than this client takes in one session "
                f"({self._limit:,} bytes)",
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

    def note_binary(self, size: int) -> None:
        """Log the first unexpected binary frame at debug; only count the rest."""
        self.binary += 1
        if self.binary == 1:
            self._reported_binary = 1
            _LOGGER.debug("Ignoring a binary frame from Deepgram (%d bytes)", size)

    def summarise(self, request_id: str | None) -> None:
        """Log in one line each what was not logged yet (at the close)."""
        more = self.malformed - self._reported
        if more:
            self._reported = self.malformed
            _LOGGER.warning(
                "Ignored %d more malformed message%s from Deepgram (request %s)",
                more,
                "" if more == 1 else "s",
                request_id,
            )
        more = self.binary - self._reported_binary
        if more:
            self._reported_binary = self.binary
            _LOGGER.debug(
                "Ignored %d more binary frame%s from Deepgram (request %s)",
                more,
                "" if more == 1 else "s",
                request_id,
            )
