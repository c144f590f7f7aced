"""Recordings for the transcribe action: a file or a media source item, in chunks.

A source is checked before anything is read (the file exists, is allowed
and within the size limit), then read chunk by chunk while the upload runs,
so a large recording is never held in memory. Local files are read on the
executor; media that a media source only offers as a URL is downloaded as it
is uploaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import mimetypes
from pathlib import Path
from typing import BinaryIO, Final

import aiohttp
from homeassistant.components import media_source
from homeassistant.components.media_player.browse_media import (
    async_process_play_media_url,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import DOMAIN

CHUNK_SIZE: Final = 1 << 16
DOWNLOAD_CONNECT_TIMEOUT: Final = 10.0
MEGABYTE: Final = 1_000_000
_OCTET_STREAM = "application/octet-stream"


def _content_type(guess: str | None) -> str:
    """The type to send: audio and video as named, anything else undeclared."""
    if guess and guess.startswith(("audio/", "video/")):
        return guess
    return _OCTET_STREAM


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f}"


@dataclass(slots=True)
class Recording:
    """One recording to upload: its name for messages, type, size and chunks."""

    name: str
    content_type: str
    size: int | None
    chunks: AsyncIterator[bytes]


def _too_large(name: str, size: int, limit: int) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="file_too_large",
        translation_placeholders={
            "name": name,
            "size": _megabytes(size),
            "limit": _megabytes(limit),
        },
    )


def _unreadable(name: str, error: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="file_unreadable",
        translation_placeholders={"name": name, "error": error},
    )


@contextlib.asynccontextmanager
async def open_path(
    hass: HomeAssistant, path: str, limit: int
) -> AsyncIterator[Recording]:
    """A file named in the action: it must be in an allowed directory."""
    allowed = Path(path).is_absolute() and await hass.async_add_executor_job(
        hass.config.is_allowed_path, path
    )
    if not allowed:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="path_not_allowed",
            translation_placeholders={"path": path},
        )
    async with open_file(hass, Path(path), None, limit) as recording:
        yield recording


@contextlib.asynccontextmanager
async def open_media(
    hass: HomeAssistant, media_content_id: str, limit: int
) -> AsyncIterator[Recording]:
    """A media source item: its local file, or a download of its URL."""
    try:
        if not media_source.is_media_source_id(media_content_id):
            raise HomeAssistantError("not a media-source:// id")  # noqa: TRY301
        media = await media_source.async_resolve_media(hass, media_content_id, None)
        path = media.path
        url = "" if path else async_process_play_media_url(hass, media.url)
    except HomeAssistantError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="media_not_found",
            translation_placeholders={
                "media_content_id": media_content_id,
                "error": str(err),
            },
        ) from err
    if path is not None:
        async with open_file(hass, path, media.mime_type, limit) as recording:
            yield recording
    else:
        async with _download(hass, url, media.mime_type, limit) as recording:
            yield recording


@contextlib.asynccontextmanager
async def open_file(
    hass: HomeAssistant, path: Path, mime_type: str | None, limit: int
) -> AsyncIterator[Recording]:
    """Check a local file's size, then read it in chunks on the executor."""
    name = path.name

    def check() -> tuple[int, str | None]:
        if not path.is_file():
            raise FileNotFoundError(path)
        return path.stat().st_size, mime_type or mimetypes.guess_type(path)[0]

    try:
        size, guess = await hass.async_add_executor_job(check)
    except FileNotFoundError:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="file_not_found",
            translation_placeholders={"name": name},
        ) from None
    except OSError as err:
        raise _unreadable(name, err.strerror or type(err).__name__) from None
    if size > limit:
        raise _too_large(name, size, limit)
    try:
        handle: BinaryIO = await hass.async_add_executor_job(path.open, "rb")
    except OSError as err:
        raise _unreadable(name, err.strerror or type(err).__name__) from None
    try:
        yield Recording(name, _content_type(guess), size, _read(hass, handle, size))
    finally:
        await hass.async_add_executor_job(handle.close)


async def _read(
    hass: HomeAssistant, handle: BinaryIO, size: int
) -> AsyncIterator[bytes]:
    """Exactly `size` bytes (the declared Content-Length), chunk by chunk."""
    left = size
    while left > 0:
        try:
            chunk = await hass.async_add_executor_job(
                handle.read, min(CHUNK_SIZE, left)
            )
        except OSError as err:
            raise _unreadable(
                Path(handle.name).name, err.strerror or type(err).__name__
            ) from None
        if not chunk:
            raise _unreadable(Path(handle.name).name, "the file got shorter")
        left -= len(chunk)
        yield chunk


@contextlib.asynccontextmanager
async def _download(
    hass: HomeAssistant, url: str, mime_type: str | None, limit: int
) -> AsyncIterator[Recording]:
    """Stream a media URL's body while it is uploaded, within the size limit."""
    name = url.split("?", 1)[0].rsplit("/", 1)[-1] or url
    session = async_get_clientsession(hass)
    timeout = aiohttp.ClientTimeout(
        total=None,
        connect=DOWNLOAD_CONNECT_TIMEOUT,
        sock_connect=DOWNLOAD_CONNECT_TIMEOUT,
    )
    try:
        async with asyncio.timeout(DOWNLOAD_CONNECT_TIMEOUT):
            response = await session.get(url, timeout=timeout)
    except (TimeoutError, aiohttp.ClientError) as err:
        raise _download_failed(name, str(err) or type(err).__name__) from None
    try:
        if response.status >= 400:
            raise _download_failed(name, f"HTTP {response.status}")
        size = response.content_length
        if size is not None and size > limit:
            raise _too_large(name, size, limit)
        guess = mime_type or response.headers.get("Content-Type")
        yield Recording(
            name, _content_type(guess), size, _stream(response, name, limit)
        )
    finally:
        response.release()


async def _stream(
    response: aiohttp.ClientResponse, name: str, limit: int
) -> AsyncIterator[bytes]:
    received = 0
    try:
        async for chunk in response.content.iter_chunked(CHUNK_SIZE):
            received += len(chunk)
            if received > limit:
                raise _too_large(name, received, limit)
            yield chunk
    except aiohttp.ClientError as err:
        # Also a body shorter than its Content-Length (aiohttp checks it).
        raise _download_failed(name, str(err) or type(err).__name__) from None


def _download_failed(name: str, error: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="media_download_failed",
        translation_placeholders={"name": name, "error": error},
    )
