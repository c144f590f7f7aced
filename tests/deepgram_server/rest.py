"""REST endpoints: key check, projects, models (v1, v2), pre-recorded ``/v1/listen``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import hashlib
import struct
import time
from typing import TYPE_CHECKING
import uuid

import aiohttp
from aiohttp import web

from . import messages
from .auth import authorized
from .errors import json_error
from .live import NO_ANSWER
from .models_catalog import catalog_json, catalog_v2_json
from .options import ListenOptions, QueryError, parse_listen_query
from .records import RestRequest
from .script import script_words

if TYPE_CHECKING:
    from .server import FakeDeepgram

type _Endpoint = Callable[[web.Request, Body, str], Awaitable[web.StreamResponse]]
type _Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


KEPT_BODY_BYTES = 1 << 20
"""The first MiB of a body is kept for the handlers; the rest is only counted."""

_AUDIO_TYPES = ("audio/", "video/", "application/octet-stream")
_UNDECODABLE = "Bad Request: failed to process audio: corrupt or unsupported data"


@dataclass(frozen=True, slots=True)
class Body:
    """A request body as received: its head, full size and SHA-256."""

    head: bytes
    size: int
    sha256: str


def wav_duration(body: bytes, size: int | None = None) -> tuple[float, int] | None:
    """``(seconds, channels)`` of a RIFF/WAVE body, or None if not WAV.

    ``body`` may be only the head of a longer body of ``size`` bytes.
    """
    total = len(body) if size is None else size
    if len(body) < 12 or body[:4] != b"RIFF" or body[8:12] != b"WAVE":
        return None
    offset = 12
    byte_rate = 0
    channels = 1
    while offset + 8 <= len(body):
        chunk_id = body[offset : offset + 4]
        (chunk_size,) = struct.unpack_from("<I", body, offset + 4)
        data_start = offset + 8
        if chunk_id == b"fmt " and chunk_size >= 16:
            _format, channels, _rate, byte_rate = struct.unpack_from(
                "<HHII", body, data_start
            )
        elif chunk_id == b"data":
            chunk_size = min(chunk_size, total - data_start)
            return (chunk_size / byte_rate if byte_rate else 0.0), channels
        offset = data_start + chunk_size + (chunk_size & 1)
    return None


def container_of(head: bytes) -> str | None:
    """The container a body's first bytes announce, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0):
        return "mp3"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
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
        router.add_get("/v2/models", track(self._wrap(self.models_v2, auth=False)))
        router.add_post("/v1/listen", track(self._wrap(self.prerecorded, auth=True)))

    def _wrap(self, handler: _Endpoint, *, auth: bool) -> _Route:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            server = self._server
            request_id = str(uuid.uuid4())
            if server.faults.echo_authorization_in_request_id:
                request_id = request.headers.get("Authorization", "")

            def record(status: int, body: Body, *, complete: bool = True) -> None:
                server.rest_requests.append(
                    RestRequest(
                        method=request.method,
                        path=request.path,
                        query=request.query,
                        headers=request.headers,
                        status=status,
                        body_size=body.size,
                        at=time.monotonic(),
                        sha256=body.sha256,
                        request_id=request_id,
                        complete=complete,
                    )
                )

            head = bytearray()
            size = 0
            digest = hashlib.sha256()
            rate = server.latency.upload_bytes_per_second
            try:
                async for chunk in request.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    server.bytes_received += len(chunk)
                    digest.update(chunk)
                    if len(head) < KEPT_BODY_BYTES:
                        head += chunk[: KEPT_BODY_BYTES - len(head)]
                    if rate:
                        await asyncio.sleep(len(chunk) / rate)
            except ConnectionError, aiohttp.ClientPayloadError:
                cut = Body(bytes(head), size, digest.hexdigest())
                record(NO_ANSWER, cut, complete=False)
                raise
            body = Body(bytes(head), size, digest.hexdigest())
            await asyncio.sleep(server.latency.one_way + server.latency.uplink)
            faults = server.faults
            response: web.StreamResponse
            if faults.rest_status is not None:
                response = json_error(faults.rest_status, request_id)
            elif auth and not authorized(request.headers, server.api_key):
                response = json_error(401, request_id)
            else:
                response = await handler(request, body, request_id)
            odd = faults.odd_rest_answer
            if odd is not None and odd[0] == request.path:
                response = web.Response(body=odd[1], content_type="application/json")
            record(response.status, body)
            response.headers.setdefault("dg-request-id", request_id)
            return response

        return wrapped

    async def auth_token(
        self, request: web.Request, body: Body, request_id: str
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
        self, request: web.Request, body: Body, request_id: str
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
        self, request: web.Request, body: Body, request_id: str
    ) -> web.StreamResponse:
        """``GET /v1/models`` (no key needed)."""
        if self._server.faults.models_status is not None:
            return json_error(self._server.faults.models_status, request_id)
        server = self._server
        return web.json_response(catalog_json(server.catalog, server.voices))

    async def models_v2(
        self, request: web.Request, body: Body, request_id: str
    ) -> web.StreamResponse:
        """``GET /v2/models`` (no key needed, like ``/v1/models``): Flux models."""
        server = self._server
        return web.json_response(catalog_v2_json(server.catalog, server.voices))

    async def prerecorded(
        self, request: web.Request, body: Body, request_id: str
    ) -> web.StreamResponse:
        """``POST /v1/listen``: transcribe the body with the script's words."""
        server = self._server
        faults = server.faults
        if faults.drop_prerecorded:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=503)  # never reaches the client
        if faults.stall_prerecorded:
            await asyncio.Event().wait()  # until FakeDeepgram.stop() cancels us
        if faults.prerecorded_status is not None:
            return json_error(faults.prerecorded_status, request_id)
        try:
            options = parse_listen_query(request.query, server.catalog, streaming=False)
        except QueryError as err:
            return json_error(400, request_id, dg_error=err.dg_error, body=err.body)
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        container = container_of(body.head)
        if (
            not body.size
            or not content_type.startswith(_AUDIO_TYPES)
            or (container is None and options.encoding is None)
        ):
            return json_error(
                400,
                request_id,
                dg_error=_UNDECODABLE,
                body={"err_code": "Bad Request", "err_msg": _UNDECODABLE},
            )
        seconds, channels = self._duration(body, container, options)
        latency = server.latency
        await asyncio.sleep(
            latency.prerecorded_base + latency.prerecorded_per_audio_second * seconds
        )
        return web.json_response(
            messages.prerecorded_response(
                script_words(server.script),
                request_id=request_id,
                duration=seconds,
                channels=channels,
                sha256=body.sha256,
                model=options.model,
                punctuate=options.punctuate,
                diarize=request.query.get("diarize") == "true",
                detected_language=server.detected_language
                if request.query.get("detect_language") == "true"
                else None,
                word_language=server.detected_language
                if options.language == "multi"
                else None,
            )
        )

    def _duration(
        self, body: Body, container: str | None, options: ListenOptions
    ) -> tuple[float, int]:
        """Seconds and channels of the audio: told, from WAV or raw PCM, or guessed."""
        wav = wav_duration(body.head, body.size)
        if self._server.prerecorded_duration is not None:
            told = self._server.prerecorded_duration
            return told, wav[1] if wav else options.channels
        if wav is not None:
            return wav
        if container is None:
            return body.size / options.bytes_per_second, options.channels
        # A compressed container whose length this server cannot read: as
        # long as the script, so every scripted word is heard.
        words = script_words(self._server.script)
        return (words[-1].end + 0.5 if words else 1.0), options.channels
