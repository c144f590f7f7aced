"""Audio stream helpers: raw PCM is what Deepgram is told to expect.

Pipelines send raw 16-bit PCM. Home Assistant's HTTP STT API passes the body
on as it comes, so a WAV file arrives with its RIFF header: that header is
removed here, or Deepgram would hear it as a click of noise.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
import struct

_RIFF_HEADER = 12
_CHUNK_HEADER = 8
_MAX_HEADER = 1 << 16


def _pcm_offset(head: bytes) -> int | None:
    """Where PCM starts in a WAV header, None while more bytes are needed.

    Returns 0 when `head` does not start a WAV file.
    """
    if len(head) < _RIFF_HEADER:
        return None if b"RIFF".startswith(head[:4]) else 0
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0
    pos = _RIFF_HEADER
    while len(head) >= pos + _CHUNK_HEADER:
        chunk_id = head[pos : pos + 4]
        (size,) = struct.unpack_from("<I", head, pos + 4)
        if chunk_id == b"data":
            return pos + _CHUNK_HEADER
        pos += _CHUNK_HEADER + size + (size & 1)
    return None


async def strip_wav_header(stream: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Yield the stream's audio without a leading WAV header, if it has one."""
    iterator = aiter(stream)
    head = b""
    async for chunk in iterator:
        head += chunk
        offset = _pcm_offset(head)
        if offset is None and len(head) < _MAX_HEADER:
            continue
        if head[offset or 0 :]:
            yield head[offset or 0 :]
        break
    else:
        return  # the stream ended inside a header: there is no audio
    async for chunk in iterator:
        yield chunk
