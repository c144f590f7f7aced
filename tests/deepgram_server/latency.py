"""Latency model of the fake server (all zero by default)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Latency:
    """Delays the fake server adds, in seconds.

    - ``rtt``: half of it is added before the handshake answer, before every
      REST answer and before every message sent on a socket, so a client sees
      about one ``rtt`` between a request and its answer.
    - ``first_result``: extra delay before the first ``Results`` of a session.
    - ``finalize``: processing time from receiving ``Finalize`` to its answer.
    - ``prerecorded_base`` + ``prerecorded_per_audio_second * audio_seconds``:
      processing time of ``POST /v1/listen``.
    - ``upload_bytes_per_second``: how fast request bodies are read (0: as
      fast as they come); a slow link keeps an upload in flight.

    - ``both_ways``: half the ``rtt`` is also added to everything the client
      sends (the upgrade request and every frame of a session are handled
      ``rtt / 2`` after they arrive), so a ``Finalize`` is answered one full
      ``rtt`` (+ ``finalize``) after it was sent, as over a real network.

    Speak (``/v1`` and ``/v2/speak``): a piece of text (a sentence) is ready
    ``synthesis_base + synthesis_per_char * characters`` after it can be
    synthesised (its Flush, or on ``/v2`` its sentence end), one piece at a
    time; its audio then leaves at ``speak_realtime`` times real time (0: all
    at once), after the previous piece's audio. ``speak_seconds_per_char``
    is how much audio a character makes (divided by ``speed``): small by
    default so tests run fast; ``REALISTIC_LATENCY`` has about a natural pace.

    Messages of a session always go out in order (one send queue per session),
    and received frames are handled in order.
    """

    rtt: float = 0.0
    first_result: float = 0.0
    finalize: float = 0.0
    prerecorded_base: float = 0.0
    prerecorded_per_audio_second: float = 0.0
    both_ways: bool = False
    upload_bytes_per_second: float = 0.0
    synthesis_base: float = 0.0
    synthesis_per_char: float = 0.0
    speak_realtime: float = 0.0
    speak_seconds_per_char: float = 0.005

    @property
    def one_way(self) -> float:
        """Half the round trip."""
        return self.rtt / 2

    @property
    def uplink(self) -> float:
        """Delay of what the client sends (``one_way`` with ``both_ways``)."""
        return self.one_way if self.both_ways else 0.0


REALISTIC_LATENCY = Latency(
    rtt=0.08,
    first_result=0.15,
    finalize=0.12,
    prerecorded_base=0.25,
    prerecorded_per_audio_second=0.02,
    both_ways=True,
    synthesis_base=0.15,
    synthesis_per_char=0.001,
    speak_realtime=2.0,
    speak_seconds_per_char=0.065,
)
"""Roughly what a European client sees against api.deepgram.com (benchmarks)."""
