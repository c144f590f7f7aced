"""One Deepgram Flux (`/v2/listen`) session: the server tells when a turn ends.

The life of a session (connecting, held audio, bounded sends, errors and
closing come from `StreamSession`):

1. `start()` opens the socket; `send_audio()` sends 80 ms frames (what
   Deepgram recommends for Flux), holding a smaller remainder back.
2. Flux answers with `TurnInfo` events; the session keeps the first turn
   (`StartOfTurn` ... `EndOfTurn`) and calls `on_message` for every message.
3. `wait_for_turn_end()` returns the turn at its `EndOfTurn`.
   `end_turn()` ends it now: `ForceEndTurn`, a bounded wait for the
   `EndOfTurn`, else the last `Update` is the turn.
4. `close()` sends `CloseStream`; on `/v2/listen` that does not finish the
   turn, the server just closes. `abort()` does the same within a second.

There is no `KeepAlive` on `/v2/listen`. A stalled audio source (no audio
for `stall_timeout` seconds) therefore ends the turn instead of the socket:
`wait_for_turn_end()` then ends it with `ForceEndTurn` and returns what was
said, before the server's idle timeout (10 s) would close the socket with
an error.

A session keeps only the latest `TurnInfo`; what it takes from the server
is bounded (`intake.py`), so a flooding server ends it with an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import json
import logging
import time
from typing import Final

import aiohttp

from .endpoint import Endpoint
from .errors import (
    DeepgramOptionsError,
    DeepgramServerError,
    DeepgramTimeoutError,
)
from .flux_messages import (
    ConfigureFailure,
    ConfigureSuccess,
    FluxError,
    FluxMessage,
    FluxWord,
    TurnEvent,
    TurnInfo,
    parse_flux_message,
)
from .flux_options import (
    FluxOptions,
    check_keyterms,
    check_language_hints,
    check_thresholds,
)
from .intake import LISTEN_RECEIVED_BYTES
from .messages import MessageFormatError
from .stream import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_BUFFER_SECONDS,
    SAMPLE_BYTES,
    StreamSession,
    StreamStats,
)

_LOGGER = logging.getLogger(__name__)

FORCE_END_TURN: Final = '{"type": "ForceEndTurn"}'
FLUX_FRAME_MS: Final = 80
DEFAULT_END_TURN_TIMEOUT: Final = 1.0
DEFAULT_STALL_TIMEOUT: Final = 3.0
DEFAULT_CONFIGURE_TIMEOUT: Final = 2.0


@dataclass(slots=True)
class FluxStats(StreamStats):
    """What one Flux session did, for diagnostics."""

    end_turn_seconds: float | None = None
    """From `ForceEndTurn` to its `EndOfTurn`."""
    end_turn_answered: bool = False
    stalled: bool = False


@dataclass(frozen=True, slots=True)
class FluxTurn:
    """A user's turn as the session returns it.

    `ended_by`: `end_of_turn` (Flux's own decision), `manual` (answer to
    `ForceEndTurn`), `last_update` (no answer in time: the last `TurnInfo`)
    or `no_speech` (no turn started).
    """

    transcript: str
    words: tuple[FluxWord, ...] = ()
    turn_index: int = 0
    ended_by: str = "no_speech"
    languages: tuple[str, ...] = ()

    @property
    def confidence(self) -> float | None:
        """Mean word confidence, None without words."""
        if not self.words:
            return None
        return sum(w.confidence for w in self.words) / len(self.words)

    @property
    def text(self) -> str:
        """The transcript (as `Transcript.text` names it)."""
        return self.transcript

    @classmethod
    def from_info(cls, info: TurnInfo, ended_by: str) -> FluxTurn:
        """The turn as one `TurnInfo` describes it."""
        return cls(
            transcript=info.transcript.strip(),
            words=info.words,
            turn_index=info.turn_index,
            ended_by=ended_by,
            languages=info.languages,
        )


class FluxSession(StreamSession):
    """A Flux streaming session; see the module docstring."""

    path = "/v2/listen"
    max_received_bytes = LISTEN_RECEIVED_BYTES
    exact_frames = True

    def __init__(
        self,
        http: aiohttp.ClientSession,
        endpoint: Endpoint,
        options: FluxOptions,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        frame_ms: int = FLUX_FRAME_MS,
        max_buffer_seconds: float = DEFAULT_MAX_BUFFER_SECONDS,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        on_message: Callable[[FluxMessage], None] | None = None,
    ) -> None:
        """Prepare a session; raises `DeepgramOptionsError` for bad options."""
        super().__init__(
            http,
            endpoint,
            options.query(),
            bytes_per_second=options.bytes_per_second,
            sample_block=SAMPLE_BYTES.get(options.encoding or "", 1),
            stats=FluxStats(),
            connect_timeout=connect_timeout,
            frame_ms=frame_ms,
            max_frame_ms=frame_ms,
            max_buffer_seconds=max_buffer_seconds,
        )
        self.stats: FluxStats
        self._options = options
        self._stall_timeout = stall_timeout
        self._on_message = on_message
        # The two thresholds in force, checked together on every Configure.
        self._thresholds: tuple[float | None, float | None] = (
            options.eot_threshold,
            options.eager_eot_threshold,
        )
        self.latest: TurnInfo | None = None
        """The latest `TurnInfo` of the first turn (or before it started)."""
        self.end_of_turn: TurnInfo | None = None
        """The first turn's `EndOfTurn`."""
        self.turn_started = False
        """Whether the first turn's `StartOfTurn` arrived."""
        self._ended = asyncio.Event()
        self._stalled = asyncio.Event()
        self._configured = asyncio.Event()
        self._configure_answer: ConfigureSuccess | ConfigureFailure | None = None
        self._last_audio = 0.0

    # -- public API --------------------------------------------------------

    @property
    def turn(self) -> FluxTurn:
        """The first turn as far as it is known."""
        if self.end_of_turn is not None:
            ended_by = (
                "manual" if self.end_of_turn.trigger == "manual" else "end_of_turn"
            )
            return FluxTurn.from_info(self.end_of_turn, ended_by)
        if self.latest is not None and self.turn_started:
            return FluxTurn.from_info(self.latest, "last_update")
        return FluxTurn("")

    async def send_audio(self, data: bytes) -> None:
        """Queue audio; it is sent in 80 ms frames once connected."""
        if data:
            self._last_audio = time.monotonic()
        await super().send_audio(data)

    async def wait_for_turn_end(
        self, timeout: float = DEFAULT_END_TURN_TIMEOUT
    ) -> FluxTurn:
        """Wait for the first turn's `EndOfTurn` (no bound of its own).

        When the audio source stalls, the turn is ended with `end_turn()`
        (bounded by `timeout`). Raises the session's error if it failed or
        the server closed before the turn ended.
        """
        await self._wait_connected()
        waiters = [
            asyncio.create_task(self._ended.wait()),
            asyncio.create_task(self._stalled.wait()),
            asyncio.create_task(self._closed.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._raise_if_failed()
        if self.end_of_turn is not None:
            return self.turn
        if self._stalled.is_set():
            _LOGGER.debug(
                "No audio for %.1f s (request %s): ending the turn",
                self._stall_timeout,
                self.request_id,
            )
            return await self.end_turn(timeout)
        raise DeepgramServerError(
            "The Deepgram stream closed before the turn ended",
            request_id=self.request_id,
        )

    async def end_turn(self, timeout: float = DEFAULT_END_TURN_TIMEOUT) -> FluxTurn:
        """End the turn now: `ForceEndTurn`, bounded wait, else the last `Update`.

        With no turn started there is nothing to wait for: the (empty) turn
        is returned at once. Raises the session's error if it failed.
        """
        await self._wait_connected()
        # Every whole sample goes out first; a split one stays held for the
        # next chunk (the stream goes on after the turn).
        await self._flush()
        if self.end_of_turn is not None:
            return self.turn
        sent_at = time.monotonic()
        await self._send_text(FORCE_END_TURN)
        if not self.turn_started:
            return self.turn
        waiters = [
            asyncio.create_task(self._ended.wait()),
            asyncio.create_task(self._closed.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._raise_if_failed()
        if self.turn_ended:
            self.stats.end_turn_answered = True
            self.stats.end_turn_seconds = time.monotonic() - sent_at
        else:
            _LOGGER.debug(
                "No EndOfTurn within %.1f s of ForceEndTurn (request %s); "
                "using the last update",
                timeout,
                self.request_id,
            )
        return self.turn

    async def configure(
        self,
        *,
        eot_threshold: float | None = None,
        eager_eot_threshold: float | None = None,
        eot_timeout_ms: int | None = None,
        keyterms: tuple[str, ...] | None = None,
        language_hints: tuple[str, ...] | None = None,
        timeout: float = DEFAULT_CONFIGURE_TIMEOUT,
    ) -> ConfigureSuccess:
        """Change settings mid-stream (`Configure`); `None` keeps a setting.

        Raises `DeepgramOptionsError` for values Deepgram refuses (checked
        here first, then by the server's `ConfigureFailure`) and
        `DeepgramTimeoutError` when no answer comes within `timeout`.
        """
        eot, eager = self._thresholds
        merged = (
            eot if eot_threshold is None else eot_threshold,
            eager if eager_eot_threshold is None else eager_eot_threshold,
        )
        check_thresholds(*merged, eot_timeout_ms)
        message: dict[str, object] = {"type": "Configure"}
        thresholds = {
            key: value
            for key, value in (
                ("eot_threshold", eot_threshold),
                ("eager_eot_threshold", eager_eot_threshold),
                ("eot_timeout_ms", eot_timeout_ms),
            )
            if value is not None
        }
        if thresholds:
            message["thresholds"] = thresholds
        if keyterms is not None:
            check_keyterms(keyterms)
            message["keyterms"] = [term.strip() for term in keyterms]
        if language_hints is not None:
            check_language_hints(self._options.model, language_hints)
            message["language_hints"] = [hint.strip() for hint in language_hints]
        await self._wait_connected()
        self._configured.clear()
        self._configure_answer = None
        await self._send_text(json.dumps(message))
        waiters = [
            asyncio.create_task(self._configured.wait()),
            asyncio.create_task(self._closed.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._raise_if_failed()
        answer = self._answer()
        if isinstance(answer, ConfigureSuccess):
            self._thresholds = merged
            return answer
        if isinstance(answer, ConfigureFailure):
            raise DeepgramOptionsError(
                "Deepgram refused the new settings", request_id=self.request_id
            )
        raise DeepgramTimeoutError(
            f"No answer to Configure within {timeout:g} s", request_id=self.request_id
        )

    @property
    def turn_ended(self) -> bool:
        """Whether the first turn's `EndOfTurn` arrived."""
        return self.end_of_turn is not None

    def _answer(self) -> ConfigureSuccess | ConfigureFailure | None:
        return self._configure_answer

    # -- hooks -------------------------------------------------------------

    def _on_open(self) -> None:
        self._last_audio = max(self._last_audio, time.monotonic())
        self._spawn("deepgram flux stall watch", self._watch_stall())

    def _on_fail(self) -> None:
        self._ended.set()
        self._configured.set()

    async def _watch_stall(self) -> None:
        while not self._close_sent:
            idle = time.monotonic() - self._last_audio
            if idle < self._stall_timeout:
                await asyncio.sleep(self._stall_timeout - idle)
                continue
            self.stats.stalled = True
            self._stalled.set()
            return

    def _handle_text(self, text: str) -> None:
        try:
            message = parse_flux_message(text)
        except MessageFormatError as err:
            self._note_malformed(str(err), text)
            return
        if message is None:
            _LOGGER.debug(
                "Ignoring a Deepgram message of unknown type: %s",
                self._scrub(text[:80]),
            )
            return
        if isinstance(message, TurnInfo):
            self._on_turn_info(message)
        elif isinstance(message, ConfigureSuccess | ConfigureFailure):
            self._configure_answer = message
            self._configured.set()
        elif isinstance(message, FluxError):
            description = self._scrub(message.description)
            _LOGGER.debug(
                "Deepgram reported an error: %s %s (request %s)",
                self._scrub(message.code),
                description,
                self.request_id,
            )
            self._fail(
                DeepgramServerError(
                    "Deepgram reported an error",
                    reason=description,
                    request_id=self.request_id,
                )
            )
        if self._on_message is not None:
            try:
                self._on_message(message)
            except Exception:
                _LOGGER.exception("Error in a Deepgram message callback")

    def _on_turn_info(self, info: TurnInfo) -> None:
        self.request_id = self.request_id or self._scrub.request_id(info.request_id)
        if self.end_of_turn is not None:
            return  # only the first turn counts
        self.latest = info
        if info.event is TurnEvent.START_OF_TURN:
            self.turn_started = True
        elif info.event is TurnEvent.END_OF_TURN:
            self.end_of_turn = info
            self._ended.set()
