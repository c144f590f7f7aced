"""The `deepgram.transcribe` action: streaming, limits, downloads, concurrency."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import time
from types import SimpleNamespace

from aiohttp import web
from homeassistant.components.media_source import (
    MediaSource,
    MediaSourceItem,
    PlayMedia,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import mock_platform

from custom_components.deepgram import media
from custom_components.deepgram.const import DOMAIN
from tests.conftest import OddServer
from tests.deepgram_server import FakeDeepgram, Latency, script_from_text
from tests.deepgram_server.testing import unreachable_url, wait_for, wav_silence
from tests.services_helpers import OGG, Transcribe, posts

CLIPS = "media-source://cameraclips"


def open_handles(path: Path) -> int:
    """How many file descriptors of this process point at `path`."""
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            if Path(os.readlink(fd)) == path:
                count += 1
        except OSError:
            continue
    return count


class ClipSource(MediaSource):
    """A media source that offers recordings only as URLs (as cameras do)."""

    def __init__(self, base_url: str) -> None:
        """Serve `media-source://cameraclips/<name>` from `base_url/<name>`."""
        super().__init__("cameraclips")
        self.base_url = base_url

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """The clip's URL on the clip server."""
        return PlayMedia(f"{self.base_url}/{item.identifier}", "audio/ogg")


class Clips:
    """What each clip path answers, and the media source serving them."""

    def __init__(self, source: ClipSource) -> None:
        """Start with no clips."""
        self.source = source
        self.answers: dict[str, web.Response] = {}


@pytest.fixture
async def clips(hass: HomeAssistant, media_dir: Path, odd_server: OddServer) -> Clips:
    """A URL-only media source; tests fill in what each clip path answers."""
    answers: dict[str, web.Response] = {}

    async def clip(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "endless.ogg":  # chunked, no length, never ends
            response = web.StreamResponse()
            await response.prepare(request)
            while True:
                await response.write(bytes(1 << 16))
                await asyncio.sleep(0)
        if name == "cut.ogg":  # announces more than it sends
            response = web.StreamResponse(headers={"Content-Length": "100000"})
            await response.prepare(request)
            await response.write(OGG.read_bytes()[:5000])
            if request.transport is not None:
                request.transport.close()
            return response
        answer = answers.get(name)
        if answer is None:
            return web.Response(status=404)
        return answer

    base_url = await odd_server({"GET /{name}": clip})
    source = ClipSource(base_url)

    async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
        return source

    mock_platform(
        hass,
        "cameraclips.media_source",
        SimpleNamespace(async_get_media_source=async_get_media_source),  # type: ignore[arg-type]
    )
    hass.config.components.add("cameraclips")
    found = Clips(source)
    found.answers = answers
    return found


# -- size limit ----------------------------------------------------------------


async def test_file_over_the_limit_is_not_read(
    server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """A 3 GB (sparse) file is refused at once: nothing read, nothing sent."""
    huge = sparse(allowed / "huge.wav", 3_000_000_000)
    started = time.monotonic()
    with pytest.raises(ServiceValidationError) as info:
        await transcribe(path=str(huge))
    assert time.monotonic() - started < 1
    assert info.value.translation_key == "file_too_large"
    assert "3000.0 MB" in str(info.value)
    assert "100.0 MB" in str(info.value)
    assert posts(server) == []
    assert server.bytes_received == 0


async def test_limit_is_configurable(
    server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """max_size (MB) moves the limit both ways."""
    path = allowed / "memo.wav"
    path.write_bytes(wav_silence(4.0))  # 128 kB
    with pytest.raises(ServiceValidationError) as info:
        await transcribe(path=str(path), max_size=0.1)
    assert info.value.translation_key == "file_too_large"
    assert posts(server) == []
    await transcribe(path=str(path), max_size=0.2)
    assert [r.body_size for r in posts(server)] == [path.stat().st_size]


# -- streaming -----------------------------------------------------------------


async def test_upload_is_streamed_in_chunks(
    server: FakeDeepgram,
    allowed: Path,
    transcribe: Transcribe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file is read a chunk at a time while it is uploaded."""
    reads: list[int] = []
    original = media._read

    async def counting(hass: HomeAssistant, handle: object, size: int):  # type: ignore[no-untyped-def]
        async for chunk in original(hass, handle, size):  # type: ignore[arg-type]
            reads.append(len(chunk))
            yield chunk

    monkeypatch.setattr(media, "_read", counting)
    path = allowed / "long.wav"
    path.write_bytes(wav_silence(20.0))  # 640 kB
    await transcribe(path=str(path))
    assert max(reads) <= media.CHUNK_SIZE
    assert sum(reads) == path.stat().st_size
    assert len(reads) >= path.stat().st_size // media.CHUNK_SIZE
    assert open_handles(path) == 0


def sparse(path: Path, size: int) -> Path:
    """A file of `size` zero bytes that takes no disk space."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


# Larger than what the kernel buffers on a local connection (about 10 MB),
# uploaded at 5 MB/s: the upload is still running seconds after it started.
SLOW_LINK = Latency(upload_bytes_per_second=5_000_000)
LONG_UPLOAD = 60_000_000


async def test_cancelled_mid_upload(
    hass: HomeAssistant, server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """Cancelling the call stops the upload at once and closes the file."""
    server.latency = SLOW_LINK
    path = sparse(allowed / "long.wav", LONG_UPLOAD)
    call = asyncio.create_task(transcribe(path=str(path)))
    await wait_for(lambda: server.bytes_received > 0)
    assert open_handles(path) == 1
    started = time.monotonic()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert time.monotonic() - started < 1
    assert open_handles(path) == 0
    await wait_for(lambda: bool(posts(server)), timeout=10)
    [request] = posts(server)
    assert not request.complete
    assert request.body_size < LONG_UPLOAD / 2


async def test_file_shrinking_mid_upload(
    server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """A file cut short while it is read ends the upload with a clear error."""
    server.latency = SLOW_LINK
    path = sparse(allowed / "shrinking.wav", LONG_UPLOAD)
    call = asyncio.create_task(transcribe(path=str(path)))
    await wait_for(lambda: server.bytes_received > 0)
    os.truncate(path, 1000)
    with pytest.raises(ServiceValidationError) as info:
        await call
    assert info.value.translation_key == "file_unreadable"
    assert "got shorter" in str(info.value)
    assert open_handles(path) == 0
    await wait_for(lambda: bool(posts(server)), timeout=10)
    assert not posts(server)[0].complete


async def test_two_calls_at_once(
    hass: HomeAssistant, server: FakeDeepgram, allowed: Path, transcribe: Transcribe
) -> None:
    """Two recordings transcribed concurrently each get their own answer."""
    server.script = script_from_text("one two three four five six", start=0.5)
    server.latency = Latency(prerecorded_base=0.3)
    short = allowed / "short.wav"
    short.write_bytes(wav_silence(1.0))
    long = allowed / "long.wav"
    long.write_bytes(wav_silence(3.0))
    first, second = await asyncio.gather(
        transcribe(path=str(short)), transcribe(path=str(long))
    )
    assert first["duration"] == pytest.approx(1.0)
    assert first["text"] == "one two"
    assert second["duration"] == pytest.approx(3.0)
    assert second["text"] == "one two three four five six"
    assert first["request_id"] != second["request_id"]
    assert sorted(r.body_size for r in posts(server)) == [
        short.stat().st_size,
        long.stat().st_size,
    ]


# -- media only offered as a URL ---------------------------------------------------


async def test_media_url_is_streamed(
    server: FakeDeepgram,
    clips: Clips,
    transcribe: Transcribe,
) -> None:
    """A recording a media source offers as a URL is downloaded as it uploads."""
    server.script = script_from_text("Someone is at the door.", start=0.2)
    clips.answers["door.ogg"] = web.Response(body=OGG.read_bytes())
    response = await transcribe(media_content_id=f"{CLIPS}/door.ogg")
    assert response["text"] == "Someone is at the door."
    [request] = posts(server)
    assert request.headers["Content-Type"] == "audio/ogg"
    assert request.body_size == OGG.stat().st_size


async def test_media_url_over_the_limit(
    server: FakeDeepgram,
    clips: Clips,
    transcribe: Transcribe,
) -> None:
    """Too large by its Content-Length: nothing sent. Without one: cut off."""
    clips.answers["big.ogg"] = web.Response(body=bytes(300_000))
    with pytest.raises(ServiceValidationError) as info:
        await transcribe(media_content_id=f"{CLIPS}/big.ogg", max_size=0.2)
    assert info.value.translation_key == "file_too_large"
    assert posts(server) == []
    with pytest.raises(ServiceValidationError) as info:
        await transcribe(media_content_id=f"{CLIPS}/endless.ogg", max_size=0.5)
    assert info.value.translation_key == "file_too_large"
    await wait_for(lambda: bool(posts(server)))
    [request] = posts(server)
    assert not request.complete
    assert request.body_size <= 500_000


@pytest.mark.parametrize(
    ("name", "reason"), [("missing.ogg", "HTTP 404"), ("cut.ogg", "")]
)
async def test_media_url_download_fails(
    server: FakeDeepgram,
    clips: Clips,
    transcribe: Transcribe,
    name: str,
    reason: str,
) -> None:
    """A clip that is missing or breaks off is a download error."""
    with pytest.raises(HomeAssistantError) as info:
        await transcribe(media_content_id=f"{CLIPS}/{name}")
    assert info.value.translation_domain == DOMAIN
    assert info.value.translation_key == "media_download_failed"
    assert reason in str(info.value)


async def test_media_url_unreachable(
    hass: HomeAssistant,
    server: FakeDeepgram,
    clips: Clips,
    transcribe: Transcribe,
) -> None:
    """A clip server that cannot be reached is a download error."""
    clips.source.base_url = unreachable_url()
    with pytest.raises(HomeAssistantError) as info:
        await transcribe(media_content_id=f"{CLIPS}/door.ogg")
    assert info.value.translation_key == "media_download_failed"
