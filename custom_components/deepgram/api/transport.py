"""Client-side failures in words, checks before a request is sent, bounded reads.

aiohttp refuses some requests before anything is sent (a control character
in a header, credentials in the URL next to an API key) and reports network
failures as exception classes; users and logs get what happened instead,
never a class name. A request Deepgram could not take (an over-long request
line, a key that cannot go into a header) is refused here, before sending.
An answer's body is read only up to a cap, so a huge one is never held.
"""

from __future__ import annotations

from collections.abc import Mapping
import re
import ssl
from typing import Final

import aiohttp
from yarl import URL

from .errors import (
    DeepgramConnectionError,
    DeepgramError,
    DeepgramKeyFormatError,
    DeepgramRequestError,
    DeepgramRequestTooLongError,
    DeepgramTimeoutError,
)

MAX_REQUEST_LINE: Final = 8000
"""Characters of path and query a request may carry (servers allow ~8 kB)."""
MAX_HEADER: Final = 8000
"""Characters of the Authorization header (servers allow ~8 kB a line)."""
READ_PIECE: Final = 64 * 1024
"""Bytes asked for at a time when reading a body."""
_FORBIDDEN_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def check_request(
    url: URL,
    params: list[tuple[str, str]] | None,
    headers: Mapping[str, str],
) -> None:
    """Raise what Deepgram (or aiohttp) would refuse, before anything is sent."""
    auth = headers.get("Authorization", "")
    if _FORBIDDEN_IN_HEADER.search(auth):
        raise DeepgramKeyFormatError(
            "The API key contains a line break or another control character"
        )
    if len(auth) > MAX_HEADER:
        raise DeepgramKeyFormatError(
            f"The API key is too long to send ({len(auth):,} characters)"
        )
    if auth and (url.user or url.password):
        raise DeepgramRequestError(
            "The endpoint URL contains a user name or password, which cannot be "
            "sent together with an API key"
        )
    full = url.extend_query(params) if params else url
    length = len(full.raw_path_qs)
    if length > MAX_REQUEST_LINE:
        raise DeepgramRequestTooLongError(
            f"The request is too long to send ({length:,} characters, at most "
            f"{MAX_REQUEST_LINE:,}): use fewer or shorter key terms"
        )


async def read_at_most(resp: aiohttp.ClientResponse, cap: int) -> bytearray:
    """The body of `resp`, but at most `cap` + 1 bytes of it.

    More than `cap` bytes means the body is larger than `cap`; the rest is
    left unread (leaving the response then closes its connection rather
    than reading it to the end, so the server stops sending).
    """
    body = bytearray()
    while len(body) <= cap:
        piece = await resp.content.read(min(READ_PIECE, cap + 1 - len(body)))
        if not piece:
            break
        body += piece
    return body


def client_failure(err: BaseException, host: str) -> DeepgramError:
    """The error for an exception aiohttp or the network raised."""
    if isinstance(err, TimeoutError):
        return DeepgramTimeoutError(f"{host} did not answer in time")
    if isinstance(err, aiohttp.ClientConnectorDNSError):
        return DeepgramConnectionError(f"The host name {host} could not be resolved")
    if isinstance(
        err,
        aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError | ssl.SSLError,
    ):
        return DeepgramConnectionError(
            f"The secure connection to {host} failed (TLS certificate or protocol)"
        )
    if isinstance(err, aiohttp.ClientConnectorError):
        if isinstance(err.os_error, ConnectionRefusedError):
            return DeepgramConnectionError(f"{host} refused the connection")
        return DeepgramConnectionError(f"Could not connect to {host}")
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return DeepgramConnectionError(
            f"{host} closed the connection without an answer"
        )
    if isinstance(err, ConnectionResetError | aiohttp.ClientConnectionResetError):
        return DeepgramConnectionError(f"The connection to {host} was reset")
    if isinstance(err, aiohttp.ClientPayloadError):
        return DeepgramConnectionError(f"The answer from {host} was cut off")
    if isinstance(err, aiohttp.InvalidURL):
        return DeepgramRequestError("The endpoint URL is not valid")
    if isinstance(err, ValueError):
        return DeepgramRequestError(
            "The request could not be built: a header or the URL holds "
            "characters that cannot be sent"
        )
    if isinstance(err, RuntimeError) and "closed" in str(err).lower():
        return DeepgramConnectionError(
            "The HTTP session is closed (is Home Assistant stopping?)"
        )
    return DeepgramConnectionError(f"The connection to {host} failed")
