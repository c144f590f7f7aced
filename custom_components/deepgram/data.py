"""What a loaded config entry keeps at run time (`entry.runtime_data`)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, override

import aiohttp
from homeassistant.config_entries import ConfigEntry

from .api import DeepgramRestClient, DeepgramSocket, Endpoint, Voice
from .const import SESSION_HISTORY
from .home_terms import KeytermBook


@dataclass(slots=True)
class SessionRecord:
    """One pipeline run's session, kept for diagnostics (no audio, no text)."""

    started: str
    entity_id: str | None
    model: str
    language: str
    outcome: str = "running"
    error: str | None = None
    request_id: str | None = None
    connect_seconds: float | None = None
    finalize_seconds: float | None = None
    finalize_answered: bool | None = None
    audio_seconds: float | None = None
    close_code: int | None = None
    ended_by: str | None = None
    """With Deepgram ending speech: what ended the run (end_of_speech.EndedBy)."""

    def as_dict(self) -> dict[str, Any]:
        """The record as plain data."""
        return asdict(self)


@dataclass(slots=True)
class SpeakRecord:
    """One spoken message, kept for diagnostics (no text, no audio)."""

    started: str
    entity_id: str | None
    voice: str
    sample_rate: int
    outcome: str = "running"
    error: str | None = None
    sockets: int = 0
    """Sockets the message took: more than one when the text paused."""
    request_ids: list[str] = field(default_factory=list)
    characters: int = 0
    """Characters sent to Deepgram."""
    audio_seconds: float = 0.0
    first_audio_seconds: float | None = None
    """To the first audio of the first socket: from its first `Flush` on
    Aura, from its first text on Flux (which speaks before a flush)."""
    ended_by: str | None = None
    """How the last socket ended: `close` (after all its audio), `abort`
    (Clear or Interrupt, then Close), `error`."""
    close_code: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record as plain data."""
        return asdict(self)


class WatchedSet[T](set[T]):
    """A set that calls `on_change` after each `add` and `discard`.

    The transcribers only add and discard (a session, a closing task); the
    hook lets an unloaded load be let go of as soon as its last one is over,
    without the transcribers knowing about loads.
    """

    __slots__ = ("on_change",)

    def __init__(self) -> None:
        super().__init__()
        self.on_change: Callable[[], None] | None = None

    @override
    def add(self, element: T) -> None:
        super().add(element)
        if self.on_change is not None:
            self.on_change()

    @override
    def discard(self, element: object) -> None:
        super().discard(element)
        if self.on_change is not None:
            self.on_change()


# Compared (and hashed) by identity: loads are kept in a set once unloaded.
@dataclass(slots=True, eq=False, weakref_slot=True)
class DeepgramData:
    """The client and state shared by an entry's entities."""

    http: aiohttp.ClientSession
    endpoint: Endpoint
    rest: DeepgramRestClient
    models: dict[str, tuple[str, ...]]
    models_from_server: bool
    voices: tuple[Voice, ...] = ()
    """Deepgram's voices, or the built-in ones (`Voice.builtin`) when its list
    could not be read."""
    history: deque[SessionRecord] = field(
        default_factory=lambda: deque(maxlen=SESSION_HISTORY)
    )
    speak_history: deque[SpeakRecord] = field(
        default_factory=lambda: deque(maxlen=SESSION_HISTORY)
    )
    closing: WatchedSet[asyncio.Task[None]] = field(default_factory=WatchedSet)
    live: WatchedSet[DeepgramSocket] = field(default_factory=WatchedSet)
    """Sockets in use, listening or speaking (ended at once when Home
    Assistant stops; see `socket_runs.tracked`)."""
    keyterms: KeytermBook = field(default_factory=KeytermBook)

    @property
    def busy(self) -> bool:
        """Whether a run or a closing session still uses this load."""
        return bool(self.live or self.closing)

    def on_busy_change(self, hook: Callable[[], None] | None) -> None:
        """Call `hook` whenever a session or closing task comes or goes."""
        self.live.on_change = self.closing.on_change = hook


type DeepgramConfigEntry = ConfigEntry[DeepgramData]
