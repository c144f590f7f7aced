"""A local fake Deepgram for tests and benchmarks.

It speaks Deepgram's ``/v1/listen`` and ``/v2/listen`` websockets and the
REST endpoints the integration needs, on 127.0.0.1 with a random port, and
records everything on the wire so tests assert on what a client really sent::

    from tests.deepgram_server import FakeDeepgram, Faults, Latency, script_from_text

    server = FakeDeepgram(api_key="dg-test-key")  # None: self-hosted, no auth
    base_url = await server.start()                # "http://127.0.0.1:<port>"
    server.script = script_from_text(
        "turn on the kitchen light", start=0.5, end=1.8, words_per_segment=3
    )
    # or: [Segment((Word("Turn", 0.5, 0.7), Word("on", 0.7, 0.8))), ...]
    server.latency = Latency(rtt=0.08)             # all zero by default
    server.faults = Faults(handshake_status=401)   # no faults by default
    server.fault_plan.extend([Faults(refuse=True)])  # for the next handshakes
    server.idle_timeout = 0.3                      # NET-0001 after 0.3 s idle
    ...
    server.sessions        # list[LiveSessionRecord], one per websocket
    server.handshakes      # list[HandshakeRecord]: every upgrade attempt
    server.rest_requests   # list[RestRequest]
    await server.wait_for_sessions_closed(timeout=5)
    await server.stop()

In pytest use the ``deepgram_server`` fixture from
``tests.deepgram_server.fixtures`` (needs ``socket_enabled``);
``tests.deepgram_server.testing`` has client helpers (``listen_url``,
``auth_header``, ``silence``, ``stream``, ``read_until``, ``read_until_closed``).

A session reads ``script``, ``latency``, ``faults``, ``final_lag`` and
``interim_interval`` when its handshake arrives; ``idle_timeout`` is read live.
Other attributes: ``catalog`` (``list[CatalogModel]``, served on /v1/models and
used for validation), ``project_id``/``project_name``, ``ws_url``, ``port``.
Waiting: ``wait_for_sessions(count, timeout)``,
``wait_for_handshakes(count, timeout)``, ``wait_for_sessions_closed(timeout)``.

``LiveSessionRecord``: ``query`` (repeated keys kept), ``headers``,
``authorization``, ``request_id``, ``frames`` (``Frame(kind, data, at)``),
``sent`` (JSON messages), ``sent_raw`` (non-JSON text), ``audio_bytes``,
``close_code``, ``close_reason``, ``closed_by`` ("client"/"server"),
``closed`` (``asyncio.Event``), ``control_messages()``,
``binary_frame_sizes()``, ``zero_length_frames``, ``got_close_stream``,
``got_finalize``, ``keepalive_count``, ``sent_of_type()``, ``sent_types()``,
``final_transcript()``. ``HandshakeRecord.status`` is 101 when accepted and
``NO_ANSWER`` (0) for ``refuse``/``stall_handshake``.

Behaviour (see ``engine.py`` for the exact timeline rules):

- Audio time = received binary bytes / (sample_rate * channels * width),
  width 2 for linear16 (4 linear32, 1 mulaw/alaw); 16 kHz mono 16-bit when
  the query has no encoding. Results are driven by audio time only.
- Interim results about once per audio second (``interim_results=true``),
  a final per segment ``final_lag`` (0.3 s) after its end, or
  ``endpointing`` ms after it with ``speech_final: true`` when the pause
  after it is long enough; ``UtteranceEnd``/``SpeechStarted`` when enabled.
- ``Finalize`` -> a ``from_finalize`` final with every (partly) heard word not
  yet final (empty if none). ``CloseStream`` or a zero-length binary frame ->
  remaining finals, ``Metadata``, close 1000. ``KeepAlive`` resets the idle
  timer once audio has flowed; ``idle_timeout`` without frames -> 1011
  ``NET-0001``.
- Handshake: ``Authorization: Token|Bearer <key>`` (401 otherwise), query
  validated against ``server.catalog`` (400 with ``dg-error`` naming the
  parameter); every answer carries ``dg-request-id``.
- ``/v2/listen`` (Flux, ``flux_live.py``, ``flux_engine.py``): same handshake
  checks and faults, Flux models and Deepgram's documented ranges only;
  ``Connected``, then ``TurnInfo`` from the word timeline: ``Update`` every
  ``update_interval`` (0.25 s) of audio, ``StartOfTurn`` when a turn's first
  word is heard, ``EndOfTurn`` ``eot_delay`` (0.26 s) after a segment's last
  word (a pause inside a segment never reaches 0.7), ``EagerEndOfTurn`` /
  ``TurnResumed`` with ``eager_eot_threshold``, ``eot_timeout_ms``;
  ``ForceEndTurn`` (``trigger: manual``), ``Configure``; ``CloseStream``
  closes 1000 at once without finishing the turn. ``turn_rules.py`` checks a
  sequence against Deepgram's state rules; ``testing.flux_url`` builds URLs.
- REST: ``GET /v1/auth/token``, ``GET /v1/projects``, ``GET /v1/models`` (no
  key), ``GET /v2/models`` (no key; Flux STT models and Flux TTS voices),
  ``POST /v1/listen`` (pre-recorded; WAV or raw body).
- Voices: ``voices`` (``list[speak_voices.Voice]``) lists the text-to-speech
  voices: Aura and Aura-2 on ``/v1/models``, Flux TTS on ``/v2/models``.
- ``/v1/speak`` (``speak.py``; options ``speak_options.py``, shared socket
  ``speak_session.py``): same handshake checks and faults; ``Metadata``, text
  buffered until ``Flush``, then audio (one piece per sentence,
  ``speak_audio.py``: a marker carrying the text, a tone, silence) and
  ``Flushed``; ``Clear``, ``Close``, Deepgram's limits
  (``speak_limit_window``, ``speak_flush_limit``, ``speak_char_limit``,
  ``speak_text_limit``). Records in ``speak_sessions``
  (``SpeakSessionRecord``: ``frames``, ``sent``, ``audio``, ``pieces``,
  ``ended``, ``spoken()``); ``testing.decode_speech`` reads texts back from
  audio; ``testing.speak_url``, ``read_speech``, ``speech_timeline``.
- ``/v2/speak`` (Flux TTS, ``speak_v2.py``): ``Connected``; each sentence is
  spoken as soon as it ends (``SpeechStarted`` before a turn's first audio);
  ``Flush`` ends the turn: ``Flushed``, then ``SpeechMetadata``;
  ``NO_SYNTHESIZABLE_TEXT`` / ``NO_ACTIVE_SPEECH`` warnings; ``Close`` ->
  ``SessionMetadata``, close 1000; GA ``Interrupt`` -> ``SpeechInterrupted``,
  ``Configure {speed}`` -> ``ConfigureSuccess``/``ConfigureFailure``.
  ``testing.speak_v2_url`` builds URLs.
"""

from .engine import TranscriptEngine
from .faults import Faults
from .latency import REALISTIC_LATENCY, Latency
from .live import NO_ANSWER
from .models_catalog import CatalogModel, default_catalog, find_model
from .options import ListenOptions, QueryError, parse_listen_query
from .records import (
    Frame,
    HandshakeRecord,
    LiveSessionRecord,
    RestRequest,
    SpeakSessionRecord,
)
from .script import Segment, Word, script_from_text, script_words
from .server import DEFAULT_API_KEY, FakeDeepgram

__all__ = [
    "DEFAULT_API_KEY",
    "NO_ANSWER",
    "REALISTIC_LATENCY",
    "CatalogModel",
    "FakeDeepgram",
    "Faults",
    "Frame",
    "HandshakeRecord",
    "Latency",
    "ListenOptions",
    "LiveSessionRecord",
    "QueryError",
    "RestRequest",
    "Segment",
    "SpeakSessionRecord",
    "TranscriptEngine",
    "Word",
    "default_catalog",
    "find_model",
    "parse_listen_query",
    "script_from_text",
    "script_words",
]
