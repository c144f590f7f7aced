"""What a loaded config entry keeps at run time (`entry.runtime_data`)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
from homeassistant.config_entries import ConfigEntry

from .api import DeepgramRestClient, Endpoint, FluxSession, LiveSession
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
class DeepgramData:
    """The client and state shared by an entry's entities."""

    http: aiohttp.ClientSession
    endpoint: Endpoint
    rest: DeepgramRestClient
    models: dict[str, tuple[str, ...]]
    models_from_server: bool
    history: deque[SessionRecord] = field(
        default_factory=lambda: deque(maxlen=SESSION_HISTORY)
    )
    closing: set[asyncio.Task[None]] = field(default_factory=set)
    live: set[LiveSession | FluxSession] = field(default_factory=set)
    """Sessions of runs in progress (ended at once when Home Assistant stops)."""
    keyterms: KeytermBook = field(default_factory=KeytermBook)


type DeepgramConfigEntry = ConfigEntry[DeepgramData]
