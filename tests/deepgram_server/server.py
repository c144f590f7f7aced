"""``FakeDeepgram``: the aiohttp application, its lifecycle and its records."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
import time

from aiohttp import web

from .faults import Faults
from .flux_engine import DEFAULT_EOT_DELAY, DEFAULT_MID_THOUGHT_CAP
from .flux_live import handle_flux
from .latency import Latency
from .live import handle_listen
from .models_catalog import CatalogModel, default_catalog
from .records import HandshakeRecord, LiveSessionRecord, RestRequest, SpeakSessionRecord
from .rest import RestHandlers
from .script import Segment
from .speak import handle_speak
from .speak_v2 import handle_speak_v2
from .speak_voices import Voice, default_voices

DEFAULT_API_KEY = "dg-test-key"


class FakeDeepgram:
    """A local Deepgram: ``/v1`` and ``/v2/listen`` and ``/speak`` websockets, REST.

    All attributes may be changed between requests; a live session reads
    ``script``, ``latency``, ``faults``, ``final_lag``, ``interim_interval``
    (and for Flux ``eot_delay``, ``mid_thought_cap``, ``update_interval``)
    when its handshake arrives. A speak session reads ``latency`` and
    ``faults`` at its handshake and the ``speak_*`` attributes live.
    """

    def __init__(self, api_key: str | None = DEFAULT_API_KEY) -> None:
        """Create a stopped server; ``api_key=None`` means no auth (self-hosted)."""
        self.api_key = api_key
        self.script: list[Segment] = []
        self.latency = Latency()
        self.faults = Faults()
        self.keep_audio = True
        """Keep received audio in ``frames`` (off: empty bytes, for soaks)."""
        self.fault_plan: deque[Faults] = deque()
        """Faults for the next handshakes, one each; ``faults`` when empty."""
        self.idle_timeout = 10.0
        """Seconds without a frame before closing with 1011 ``NET-0001``."""
        self.final_lag = 0.3
        """Audio seconds after a segment's end before its (non speech_final) final."""
        self.interim_interval = 1.0
        """Audio seconds between interim results."""
        self.eot_delay = DEFAULT_EOT_DELAY
        """Flux: audio seconds of silence after a complete thought until the
        end-of-turn confidence reaches 0.7 (Deepgram quotes about 260 ms)."""
        self.mid_thought_cap = DEFAULT_MID_THOUGHT_CAP
        """Flux: the highest end-of-turn confidence in a pause inside a segment."""
        self.update_interval = 0.25
        """Flux: audio seconds between ``Update`` events."""
        self.prerecorded_duration: float | None = None
        """Seconds of audio a pre-recorded body holds (None: read or guessed)."""
        self.detected_language = "en"
        """What ``detect_language=true`` detects."""
        self.bytes_received = 0
        """Request body bytes read so far, over all REST requests (live)."""
        self.catalog: list[CatalogModel] = default_catalog()
        self.voices: list[Voice] = default_voices()
        """Text-to-speech voices: listed on the models endpoints, spoken by /speak."""
        self.project_id = "3a5b6c7d-0000-4000-8000-000000000001"
        self.project_name = "Fake Deepgram project"
        self.speak_frame_seconds = 0.05
        """Speak: audio seconds in one binary frame (a piece's last one is shorter)."""
        self.speak_idle_timeout: float | None = None
        """Speak: seconds without ``Speak`` text and nothing left to send before
        closing 1011 ``NET-0001`` (None: never; Deepgram documents none)."""
        self.speak_limit_window = 60.0
        """``/v1/speak``: the sliding window of the Flush and character limits."""
        self.speak_flush_limit = 20
        """``/v1/speak``: Flush messages a window takes (more: ``Warning``)."""
        self.speak_char_limit = 2400
        """``/v1/speak``: Speak characters a window takes (more: close 1008)."""
        self.speak_text_limit = 2000
        """``/v1/speak``: characters one Speak may carry (more: close 1008)."""
        self.speak_sessions: list[SpeakSessionRecord] = []
        self.sessions: list[LiveSessionRecord] = []
        self.handshakes: list[HandshakeRecord] = []
        self.rest_requests: list[RestRequest] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._tasks: set[asyncio.Task[object]] = set()

    # -- lifecycle ------------------------------------------------------

    def _tracked(
        self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def run(request: web.Request) -> web.StreamResponse:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                return await handler(request)
            finally:
                if task is not None:
                    self._tasks.discard(task)

        return run

    def make_app(self) -> web.Application:
        """The aiohttp application (routes bound to this server)."""
        app = web.Application()

        async def listen(request: web.Request) -> web.StreamResponse:
            return await handle_listen(self, request)

        async def flux(request: web.Request) -> web.StreamResponse:
            return await handle_flux(self, request)

        app.router.add_get("/v1/listen", self._tracked(listen))
        app.router.add_get("/v2/listen", self._tracked(flux))

        async def speak(request: web.Request) -> web.StreamResponse:
            return await handle_speak(self, request)

        app.router.add_get("/v1/speak", self._tracked(speak))

        async def speak_v2(request: web.Request) -> web.StreamResponse:
            return await handle_speak_v2(self, request)

        app.router.add_get("/v2/speak", self._tracked(speak_v2))
        RestHandlers(self).add_routes(app, self._tracked)
        return app

    async def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (`port`, 0: a random one); return the base URL."""
        if self._runner is not None:
            raise RuntimeError("already started")
        runner = web.AppRunner(
            self.make_app(), access_log=None, shutdown_timeout=0.5, handle_signals=False
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner
        return self.base_url

    async def stop(self) -> None:
        """Cancel every session and stalled handshake, then stop serving."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        for record in self.sessions:
            record.closed.set()
        for speak_record in self.speak_sessions:
            speak_record.closed.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The TCP port served on."""
        if self._port is None:
            raise RuntimeError("not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:<port>/v1/listen``."""
        return f"ws://127.0.0.1:{self.port}/v1/listen"

    @property
    def flux_url(self) -> str:
        """``ws://127.0.0.1:<port>/v2/listen``."""
        return f"ws://127.0.0.1:{self.port}/v2/listen"

    @property
    def speak_url(self) -> str:
        """``ws://127.0.0.1:<port>/v1/speak``."""
        return f"ws://127.0.0.1:{self.port}/v1/speak"

    @property
    def speak_v2_url(self) -> str:
        """``ws://127.0.0.1:<port>/v2/speak``."""
        return f"ws://127.0.0.1:{self.port}/v2/speak"

    def next_faults(self) -> Faults:
        """The faults of a new ``/v1/listen`` handshake."""
        return self.fault_plan.popleft() if self.fault_plan else self.faults

    # -- waiting --------------------------------------------------------

    async def wait_for_sessions(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least ``count`` live sessions were accepted."""
        deadline = time.monotonic() + timeout
        while len(self.sessions) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.sessions)} of {count} sessions")
            await asyncio.sleep(0.005)

    async def wait_for_speak_sessions(
        self, count: int = 1, timeout: float = 5.0
    ) -> None:
        """Wait until at least ``count`` speak sessions were accepted."""
        async with asyncio.timeout(timeout):
            while len(self.speak_sessions) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.005)

    async def wait_for_speak_sessions_closed(self, timeout: float = 5.0) -> None:
        """Wait until every speak session so far has finished (either side closed)."""
        async with asyncio.timeout(timeout):
            for record in list(self.speak_sessions):
                await record.closed.wait()

    async def wait_for_handshakes(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least ``count`` upgrade attempts were recorded."""
        deadline = time.monotonic() + timeout
        while len(self.handshakes) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.handshakes)} of {count} handshakes")
            await asyncio.sleep(0.005)

    async def wait_for_sessions_closed(self, timeout: float = 5.0) -> None:
        """Wait until every live session so far has finished (either side closed)."""
        async with asyncio.timeout(timeout):
            for record in list(self.sessions):
                await record.closed.wait()
