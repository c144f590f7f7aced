"""REST endpoints: key check, projects, models and pre-recorded ``/v1/listen``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import hashlib
import struct
import time
from typing import TYPE_CHECKING
import uuid

from aiohttp import web

from . import messages
from .auth import authorized
from .errors import json_error
from .models_catalog import catalog_json
from .options import QueryError, parse_listen_query
from .records import RestRequest
from .script import script_words

if TYPE_CHECKING:
    from .server import FakeDeepgram

type _Endpoint = Callable[[web.Request, bytes, str], Awaitable[web.StreamResponse]]
type _Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def wav_duration(body: bytes) -> tuple[float, int] | None:
    """``(seconds, channels)`` of a RIFF/WAVE body, or None if not WAV."""
    if len(body) < 12 or body[:4] != b"RIFF" or body[8:12] != b"WAVE":
        return None
    offset = 12
    byte_rate = 0
    channels = 1
    while offset + 8 <= len(body):
        chunk_id = body[offset : offset + 4]
        (size,) = struct.unpack_from("<I", body, offset + 4)
        data_start = offset + 8
        if chunk_id == b"fmt " and size >= 16:
            _format, channels, _rate, byte_rate = struct.unpack_from(
                "<HHII", body, data_start
            )
        elif chunk_id == b"data":
            available = len(body) - data_start
            size = min(size, available)
            return (size / byte_rate if byte_rate else 0.0), channels
        offset = data_start + size + (size & 1)
    return None


class RestHandlers:
    """The REST routes of one :class:`FakeDeepgram`."""

    def __init__(self, server: FakeDeepgram) -> None:
        """Bind the handlers to ``server``'s configuration and records."""
        self._server = server

    def add_routes(
        self, app: web.Application, track: Callable[[_Route], _Route]
    ) -> None:
        """Register the REST routes on ``app``, each wrapped by ``track``."""
        router = app.router
        router.add_get("/v1/auth/token", track(self._wrap(self.auth_token, auth=True)))
        router.add_get("/v1/projects", track(self._wrap(self.projects, auth=True)))
        router.add_get("/v1/models", track(self._wrap(self.models, auth=False)))
        router.add_post("/v1/listen", track(self._wrap(self.prerecorded, auth=True)))

    def _wrap(self, handler: _Endpoint, *, auth: bool) -> _Route:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            request_id = str(uuid.uuid4())
            server = self._server
            await asyncio.sleep(server.latency.one_way + server.latency.uplink)
            faults = server.faults
            response: web.StreamResponse
            if faults.rest_status is not None:
                response = json_error(faults.rest_status, request_id)
            elif auth and not authorized(request.headers, server.api_key):
                response = json_error(401, request_id)
            else:
                response = await handler(request, body, request_id)
            server.rest_requests.append(
                RestRequest(
                    method=request.method,
                    path=request.path,
                    query=request.query,
                    headers=request.headers,
                    status=response.status,
                    body_size=len(body),
                    at=time.monotonic(),
                )
            )
            response.headers.setdefault("dg-request-id", request_id)
            return response

        return wrapped

    async def auth_token(
        self, request: web.Request, body: bytes, request_id: str
    ) -> web.StreamResponse:
        """``GET /v1/auth/token``: details of the key used."""
        if self._server.faults.auth_endpoint_missing:
            return json_error(404, request_id)
        return web.json_response(
            {
                "api_key_id": "fake-key-id",
                "comment": "fake Deepgram key",
                "scopes": ["member"],
                "created": "2026-01-01T00:00:00.000Z",
                "expiration_date": None,
            }
        )

    async def projects(
        self, request: web.Request, body: bytes, request_id: str
    ) -> web.StreamResponse:
        """``GET /v1/projects``."""
        server = self._server
        return web.json_response(
            {
                "projects": [
                    {"project_id": server.project_id, "name": server.project_name}
                ]
            }
        )

    async def models(
        self, request: web.Request, body: bytes, request_id: str
    ) -> web.StreamResponse:
        """``GET /v1/models`` (no key needed)."""
        if self._server.faults.models_status is not None:
            return json_error(self._server.faults.models_status, request_id)
        return web.json_response(catalog_json(self._server.catalog))

    async def prerecorded(
        self, request: web.Request, body: bytes, request_id: str
    ) -> web.StreamResponse:
        """``POST /v1/listen``: transcribe the body with the script's words."""
        server = self._server
        try:
            options = parse_listen_query(request.query, server.catalog, streaming=False)
        except QueryError as err:
            return json_error(400, request_id, dg_error=err.dg_error, body=err.body)
        wav = wav_duration(body)
        if wav is not None:
            seconds, channels = wav
        else:
            seconds = len(body) / options.bytes_per_second
            channels = options.channels
        latency = server.latency
        await asyncio.sleep(
            latency.prerecorded_base + latency.prerecorded_per_audio_second * seconds
        )
        words = [w for w in script_words(server.script) if w.start < seconds]
        meta = messages.metadata(
            request_id=request_id,
            duration=seconds,
            channels=channels,
            sha256=hashlib.sha256(body).hexdigest(),
            model=options.model,
            created=messages.created_now(),
        )
        del meta["type"]
        return web.json_response(
            {
                "metadata": meta,
                "results": {
                    "channels": [
                        {
                            "alternatives": [
                                messages.alternative(words, punctuate=options.punctuate)
                            ]
                        }
                    ]
                },
            }
        )
