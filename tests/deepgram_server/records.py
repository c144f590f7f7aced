"""What the fake server saw and sent, for tests to assert on the wire."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import json
from typing import Any, Literal

from multidict import CIMultiDictProxy, MultiMapping

from .speak_audio import decode_speech


@dataclass(frozen=True, slots=True)
class Frame:
    """One websocket frame received from the client.

    ``data`` is ``str`` for text frames and ``bytes`` for binary frames;
    ``at`` is ``time.monotonic()`` at arrival.
    """

    kind: Literal["text", "binary"]
    data: bytes | str
    at: float

    @property
    def control_type(self) -> str | None:
        """The ``type`` of a JSON text frame ("<invalid>" if not JSON), else None."""
        if self.kind != "text":
            return None
        try:
            parsed = json.loads(self.data)
        except ValueError:
            return "<invalid>"
        if isinstance(parsed, dict):
            return str(parsed.get("type", "<untyped>"))
        return "<invalid>"


@dataclass(slots=True)
class LiveSessionRecord:
    """One ``/v1/listen`` or ``/v2/listen`` websocket session, upgrade to close."""

    query: MultiMapping[str]
    headers: CIMultiDictProxy[str]
    request_id: str
    started_at: float
    path: str = "/v1/listen"
    frames: list[Frame] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    sent_raw: list[str] = field(default_factory=list)
    sent_binary: int = 0
    """Binary frames sent (the ``flood_binary`` fault)."""
    audio_bytes: int = 0
    close_code: int | None = None
    close_reason: str = ""
    closed_by: Literal["client", "server"] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header of the upgrade request."""
        return self.headers.get("Authorization")

    def control_messages(self) -> list[str]:
        """The ``type`` of each text frame in order, e.g. ["KeepAlive"]."""
        return [t for f in self.frames if (t := f.control_type) is not None]

    def binary_frame_sizes(self) -> list[int]:
        """Sizes of the binary frames in order."""
        return [len(f.data) for f in self.frames if f.kind == "binary"]

    @property
    def zero_length_frames(self) -> int:
        """How many zero-length binary frames arrived (legacy end-of-stream)."""
        return self.binary_frame_sizes().count(0)

    @property
    def got_close_stream(self) -> bool:
        """Whether the client sent ``CloseStream``."""
        return "CloseStream" in self.control_messages()

    @property
    def got_finalize(self) -> bool:
        """Whether the client sent ``Finalize``."""
        return "Finalize" in self.control_messages()

    @property
    def keepalive_count(self) -> int:
        """How many ``KeepAlive`` messages arrived."""
        return self.control_messages().count("KeepAlive")

    def sent_of_type(self, message_type: str) -> list[dict[str, Any]]:
        """The sent messages of one ``type``."""
        return [m for m in self.sent if m.get("type") == message_type]

    def sent_types(self) -> list[str]:
        """The ``type`` of each sent JSON message, in order."""
        return [str(m.get("type")) for m in self.sent]

    def final_transcript(self) -> str:
        """Every non-empty final transcript joined with spaces."""
        parts = [
            m["channel"]["alternatives"][0]["transcript"]
            for m in self.sent_of_type("Results")
            if m["is_final"]
        ]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class HandshakeRecord:
    """One websocket upgrade attempt and the status it got (101 = accepted)."""

    status: int
    request_id: str
    headers: CIMultiDictProxy[str]
    query: MultiMapping[str]
    path: str
    at: float


@dataclass(frozen=True, slots=True)
class RestRequest:
    """One REST request and the status it got."""

    method: str
    path: str
    query: MultiMapping[str]
    headers: CIMultiDictProxy[str]
    status: int
    body_size: int
    at: float
    sha256: str = ""
    request_id: str = ""
    complete: bool = True
    """False when the client's upload broke off before its end."""


type SpeakEnd = Literal["close_message", "close_frame", "dropped", "server"]


@dataclass(slots=True)
class SpeakSessionRecord:
    """One ``/v1/speak`` or ``/v2/speak`` websocket session, upgrade to close.

    ``ended``: ``"close_message"`` (the client sent ``Close``),
    ``"close_frame"`` (the client sent a close frame), ``"dropped"`` (the
    client vanished without one) or ``"server"`` (a limit, a fault or the
    idle timer closed it; ``close_code`` and ``close_reason`` say which).
    """

    query: MultiMapping[str]
    headers: CIMultiDictProxy[str]
    request_id: str
    started_at: float
    path: str
    encoding: str
    sample_rate: int
    frames: list[Frame] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray, repr=False)
    """Every audio byte sent, joined (empty when ``keep_audio`` is off)."""
    audio_bytes: int = 0
    audio_frames: int = 0
    pieces: list[str] = field(default_factory=list)
    """The texts synthesised, in order (one per sentence)."""
    ended: SpeakEnd | None = None
    close_code: int | None = None
    close_reason: str = ""
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header of the upgrade request."""
        return self.headers.get("Authorization")

    def control_messages(self) -> list[str]:
        """The ``type`` of each text frame received, in order."""
        return [t for f in self.frames if (t := f.control_type) is not None]

    def sent_of_type(self, message_type: str) -> list[dict[str, Any]]:
        """The sent messages of one ``type``."""
        return [m for m in self.sent if m.get("type") == message_type]

    def sent_types(self) -> list[str]:
        """The ``type`` of each sent JSON message, in order."""
        return [str(m.get("type")) for m in self.sent]

    def spoken(self) -> list[str]:
        """The texts in the audio sent (:func:`.speak_audio.decode_speech`)."""
        return decode_speech(bytes(self.audio), self.sample_rate, self.encoding)
