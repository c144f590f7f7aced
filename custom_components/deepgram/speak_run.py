"""One spoken message: an agent's text in, the voice's PCM out, as it is written.

The socket opens as the message starts, while the agent is still writing;
text goes to Deepgram as it comes (`api.speak_reply`: Aura-2's flush
schedule, Flux's text as written). When the text ends the rest is flushed,
the audio streamed until the message is complete, and the socket closed in
the background (`Close`, bounded). When the listener stops early (the run
cancelled, the satellite interrupted, the stream closed) the socket is
aborted: `Clear` (Aura) or `Interrupt` (Flux), then `Close`, within
`ABORT_TIMEOUT`. Never a socket left open or just dropped.

Every wait is bounded: the connection (`CONNECT_TIMEOUT`), the first audio
after a flush and the gap between frames (the socket's own bounds), and the
whole message (`MAX_MESSAGE_SECONDS`, which also bounds a text source that
never ends).

A pause in the text (`TEXT_GAP_SECONDS`, a tool call) ends the socket's
part of the message: what was written is spoken to its end and its socket
closed, rather than left idle for Deepgram to close. The text after the
pause goes on a new socket: nothing is lost or said twice (`TextGaps`).

Failures become a `HomeAssistantError` with a translated message, after the
reactions every Deepgram socket shares (re-authentication, repairs) and one
log line without secrets (`socket_runs.log_failure`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable
import contextlib
from dataclasses import dataclass
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from .api import (
    AuraSession,
    DeepgramAuthError,
    DeepgramError,
    DeepgramForbiddenError,
    DeepgramPaymentRequiredError,
    DeepgramRateLimitError,
    FluxSpeakSession,
    SpeakOptions,
    SpeakSocket,
    speak_reply,
)
from .api.text_gaps import TextGaps
from .const import ABORT_TIMEOUT, CONNECT_TIMEOUT, DOMAIN, LOGGER
from .data import DeepgramConfigEntry, DeepgramData, SpeakRecord
from .problems import RunProfile, async_run_succeeded, profile_of_entity
from .socket_runs import close_in_background, log_failure, tracked

TEXT_GAP_SECONDS: Final = 1.5
"""A pause in the text this long ends the socket's part of the message."""
MAX_MESSAGE_SECONDS: Final = 300.0
"""The longest one message may take, from its start to its last audio."""
FIRST_AUDIO_TIMEOUT: Final = 10.0
"""Longest wait for audio after a flush. Before its flush (the end of the
text), Flux's audio is paced by the text and bounded by the whole message."""
FRAME_GAP_TIMEOUT: Final = 5.0
"""Longest wait between two audio frames while Deepgram owes audio."""


class MessageTimeoutError(Exception):
    """The message took longer than `MAX_MESSAGE_SECONDS`."""


@dataclass(slots=True)
class SpeakRun:
    """Speaks messages with one voice profile's options."""

    hass: HomeAssistant
    entry: DeepgramConfigEntry
    entity_id: str | None

    async def audio(
        self, options: SpeakOptions, text: AsyncIterable[str]
    ) -> AsyncGenerator[bytes]:
        """The message's audio (PCM as `options` ask) as Deepgram sends it.

        Raises `HomeAssistantError` when the message cannot be spoken.
        """
        data = self.entry.runtime_data
        record = SpeakRecord(
            started=dt_util.utcnow().isoformat(),
            entity_id=self.entity_id,
            voice=options.model,
            sample_rate=options.sample_rate,
        )
        data.speak_history.append(record)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_MESSAGE_SECONDS
        gaps = TextGaps(text, TEXT_GAP_SECONDS)
        sessions: list[SpeakSocket] = []
        try:
            # A socket opens with the first text of each part, never before:
            # one idle while the agent has said nothing yet would be closed
            # by Deepgram, and a message with nothing to say needs none.
            while not gaps.ended:
                left = deadline - loop.time()
                try:
                    async with asyncio.timeout(left):
                        if not await gaps.more():
                            break
                except TimeoutError as err:
                    raise MessageTimeoutError from err
                part = self._one_socket(
                    data,
                    options=options,
                    gaps=gaps,
                    record=record,
                    sessions=sessions,
                    deadline=deadline,
                )
                # Closed at once when the listener stops (the socket aborted).
                async with contextlib.aclosing(part):
                    async for chunk in part:
                        yield chunk
        except DeepgramError as err:
            record.outcome = "error"
            record.error = type(err).__name__
            raise self._failed(options, err) from err
        except MessageTimeoutError as err:
            record.outcome = "error"
            record.error = "timeout"
            LOGGER.error(
                "Deepgram did not finish speaking the message within %.0f s",
                MAX_MESSAGE_SECONDS,
            )
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="speak_timeout",
                translation_placeholders={"seconds": f"{MAX_MESSAGE_SECONDS:.0f}"},
            ) from err
        except HomeAssistantError:
            raise
        except Exception as err:
            # The agent's text failed (or a bug): the socket was aborted.
            record.outcome = "error"
            record.error = "text_source"
            LOGGER.error("The message to speak with %s failed: %s", options.model, err)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="speak_failed",
                translation_placeholders={
                    "voice": options.model,
                    "profile": self._profile(options).name,
                    "error": str(err),
                },
            ) from err
        except BaseException:
            if record.outcome == "running":
                record.outcome = "stopped"
            raise
        else:
            if not sessions:
                record.outcome = "nothing_to_say"  # no text: no socket, no audio
            else:
                record.outcome = "success"
                async_run_succeeded(self.hass, self.entry, self._profile(options))
        finally:
            await gaps.aclose()

    async def _one_socket(
        self,
        data: DeepgramData,
        *,
        options: SpeakOptions,
        gaps: TextGaps,
        record: SpeakRecord,
        sessions: list[SpeakSocket],
        deadline: float,
    ) -> AsyncGenerator[bytes]:
        """One socket's part of the message: the text until a pause or its end."""
        session = self._open(data, options)
        sessions.append(session)
        record.sockets = len(sessions)
        loop = asyncio.get_running_loop()
        with tracked(data, session):
            audio = speak_reply(session, gaps.segment())
            try:
                while True:
                    try:
                        async with asyncio.timeout(deadline - loop.time()):
                            chunk = await anext(audio, None)
                    except TimeoutError as err:
                        raise MessageTimeoutError from err
                    if chunk is None:
                        break
                    yield chunk
            except BaseException:
                # Stopped early, failed or out of time: Clear (or Interrupt),
                # then Close, within ABORT_TIMEOUT; never just dropped. First,
                # before the text's reader is stopped (up to a second more).
                record.ended_by = "abort"
                await session.abort(ABORT_TIMEOUT)
                _fill(record, sessions)
                raise
            finally:
                await audio.aclose()
            record.ended_by = "close"
            close_in_background(
                self.hass,
                self.entry,
                data,
                session,
                then=lambda: _fill(record, sessions),
            )
        _fill(record, sessions)

    def _open(self, data: DeepgramData, options: SpeakOptions) -> SpeakSocket:
        """A new socket for the voice, connecting at once."""
        kind = FluxSpeakSession if options.family == "flux" else AuraSession
        session = kind(
            data.http,
            data.endpoint,
            options,
            connect_timeout=CONNECT_TIMEOUT,
            first_audio_timeout=FIRST_AUDIO_TIMEOUT,
            frame_gap_timeout=FRAME_GAP_TIMEOUT,
        )
        session.start()
        return session

    def _profile(self, options: SpeakOptions) -> RunProfile:
        return profile_of_entity(self.hass, self.entry, self.entity_id, options.model)

    def _failed(self, options: SpeakOptions, err: DeepgramError) -> HomeAssistantError:
        """React and log as every socket does; the error the caller gets."""
        profile = self._profile(options)
        log_failure(
            self.hass,
            self.entry,
            profile,
            err,
            doing="text-to-speech",
            request=f"voice {options.model}",
        )
        if isinstance(err, DeepgramAuthError):
            key = "speak_auth_failed"
        elif isinstance(err, DeepgramPaymentRequiredError):
            key = "speak_payment_required"
        elif isinstance(err, DeepgramForbiddenError):
            key = "speak_forbidden"
        elif isinstance(err, DeepgramRateLimitError):
            key = "speak_rate_limited"
        else:
            key = "speak_failed"
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={
                "voice": options.model,
                "profile": profile.name,
                "error": str(err),
            },
        )


def _fill(record: SpeakRecord, sessions: list[SpeakSocket]) -> None:
    """The message's figures from its sockets so far (called as they end)."""
    record.request_ids = [s.request_id for s in sessions if s.request_id]
    record.characters = sum(s.stats.characters for s in sessions)
    record.audio_seconds = round(sum(s.audio_seconds for s in sessions), 3)
    record.first_audio_seconds = sessions[0].stats.first_audio_seconds
    record.close_code = sessions[-1].stats.close_code
