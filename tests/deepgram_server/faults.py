"""Faults the fake server can inject (all off by default)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Faults:
    """Misbehaviours of the fake Deepgram.

    Handshake (``/v1/listen`` websocket upgrade):

    - ``handshake_status``: answer the upgrade with this HTTP status (400, 401,
      402, 403, 429, 500, 503, ...) and Deepgram's body and headers.
    - ``refuse``: drop the connection without any HTTP answer.
    - ``stall_handshake``: never answer the upgrade.

    Live session:

    - ``stall_after_finalize``: never answer ``Finalize`` (socket stays open).
    - ``finalize_silent_when_empty``: no answer to ``Finalize`` when nothing
      is pending (real Deepgram may stay silent then).
    - ``never_close``: after ``CloseStream`` send finals and ``Metadata`` but
      never close the socket (and stop the idle timer).
    - ``close_1011_after_audio_seconds``: close 1011 ``NET-0000`` once that much
      audio arrived.
    - ``close_1008_after_audio_seconds``: close 1008 ``DATA-0000`` likewise.
    - ``malformed_json``: send one non-JSON text frame right after the first audio.
    - ``in_band_error``: send an in-band ``Error`` after the first audio, then
      close 1011 ``NET-0000``.
    - ``unknown_message``: send a message of an unknown type after the first audio.
    - ``odd_messages``: send these raw text frames after the first audio
      (valid JSON of odd types or values, issue 18 item 1).
    - ``ignore_force_end_turn``: ``/v2/listen`` never answers ``ForceEndTurn``.
    - ``close_after_audio``: ``(seconds, code, reason)``: close with any code
      (1000, 1001, 4000, 4008, ...) once that much audio arrived.
    - ``stop_reading_after_audio_seconds``: stop reading the socket (no more
      frames taken, no pongs) once that much audio arrived, until the server
      stops.
    - ``huge_final_chars``: after the first audio, send one final ``Results``
      whose transcript has this many characters.
    - ``flood_empty_finals``: after the first audio, send this many empty
      final ``Results`` at once (a flooding server).
    - ``flood_malformed``: after the first audio, send this many non-JSON
      text frames at once (``/v1`` and ``/v2``).
    - ``flood_binary``: after the first audio, send this many binary frames
      of 256 KiB at once (``/v1`` and ``/v2``; Deepgram never sends any).
    - ``echo_authorization``: refuse the upgrade with 400 and echo the
      ``Authorization`` header in ``dg-error`` and the body (a careless proxy).

    Speak (``/v1`` and ``/v2/speak``; the handshake faults above apply too):

    - ``speak_stall``: after the handshake send nothing ever (no ``Metadata``
      or ``Connected``, no audio, no answer, no close); frames are still read.
    - ``speak_close_after_audio_bytes``: once this many audio bytes were sent
      (the frame that crosses it is cut there), close 1011 ``NET-0000``
      mid-message.
    - ``speak_warning``: ``(code, description)``: send one ``Warning`` when
      the first ``Speak`` arrives.
    - ``speak_error``: ``(code, description)``: when the first ``Speak``
      arrives, ``/v2`` sends ``Error {code, description}``; both then close
      1011 with the code as the reason (``/v1`` has no in-band error).

    REST:

    - ``rest_status``: answer every REST request with this status.
    - ``auth_endpoint_missing``: ``GET /v1/auth/token`` answers 404.
    - ``models_status``: ``GET /v1/models`` alone answers with this status.

    Pre-recorded (``POST /v1/listen``), the live handshake's faults:

    - ``prerecorded_status``: answer with this HTTP status (after the body).
    - ``drop_prerecorded``: read the body, then drop the connection unanswered.
    - ``stall_prerecorded``: read the body, then never answer.

    REST answers a client must not trust (issue 18, items 3 and 4):

    - ``odd_rest_answer``: ``(path, body)``: answer that path with status 200,
      JSON content type and these raw bytes instead of its real answer.
    - ``echo_authorization_in_request_id``: every REST answer's request id
      (``dg-request-id`` and the pre-recorded ``metadata.request_id``), and
      the ``dg-request-id`` of a ``/v1`` or ``/v2/listen`` handshake, is
      the request's ``Authorization`` header (a careless proxy).
    """

    handshake_status: int | None = None
    refuse: bool = False
    stall_handshake: bool = False
    stall_after_finalize: bool = False
    finalize_silent_when_empty: bool = False
    never_close: bool = False
    close_1011_after_audio_seconds: float | None = None
    close_1008_after_audio_seconds: float | None = None
    malformed_json: bool = False
    in_band_error: bool = False
    unknown_message: bool = False
    odd_messages: tuple[str, ...] = ()
    ignore_force_end_turn: bool = False
    close_after_audio: tuple[float, int, str] | None = None
    stop_reading_after_audio_seconds: float | None = None
    huge_final_chars: int | None = None
    flood_empty_finals: int = 0
    flood_malformed: int = 0
    flood_binary: int = 0
    echo_authorization: bool = False
    speak_stall: bool = False
    speak_close_after_audio_bytes: int | None = None
    speak_warning: tuple[str, str] | None = None
    speak_error: tuple[str, str] | None = None
    rest_status: int | None = None
    auth_endpoint_missing: bool = False
    models_status: int | None = None
    prerecorded_status: int | None = None
    drop_prerecorded: bool = False
    stall_prerecorded: bool = False
    # REST answers a client must not trust (issue 18, items 3 and 4).
    odd_rest_answer: tuple[str, bytes] | None = None
    echo_authorization_in_request_id: bool = False
