"""Scrub secrets from text a server sent back before it is kept or logged.

A proxy may echo the `Authorization` header in an error body, and a web
server refusing an over-long header quotes its first hundred bytes: either
puts the key, or part of it, into a reason that is logged and shown. Every
piece of server-derived text goes through `Redactor` first.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Final

from yarl import URL

REDACTED: Final = "**REDACTED**"
MIN_FRAGMENT: Final = 8
"""A run of this many characters of a secret counts as a leak of it."""
MIN_EDGE: Final = 4
"""Where text was cut, this many characters of a secret's end or start count."""
MAX_SERVER_TEXT: Final = 300
"""Server-derived text is cut to this many characters (after scrubbing)."""
MAX_REQUEST_ID: Final = 100
"""A request id is cut to this many characters (Deepgram's are 36-long UUIDs)."""


def secrets_of(api_key: str, base_url: str = "") -> tuple[str, ...]:
    """The key, and credentials of the URL with the Basic header made of them."""
    secrets = [api_key] if api_key else []
    try:
        url = URL(base_url)
    except ValueError:
        url = None
    if url is not None and url.password:
        secrets.append(url.password)
        pair = f"{url.user or ''}:{url.password}".encode()
        secrets.append(base64.b64encode(pair).decode("ascii"))
    return tuple(secrets)


def _scrub(text: str, secret: str) -> str:
    text = text.replace(secret, REDACTED)
    if len(secret) <= MIN_FRAGMENT:
        return text
    for size in range(min(len(secret), len(text)) - 1, MIN_EDGE - 1, -1):
        if text.endswith(secret[:size]):
            text = text[:-size] + REDACTED
            break
    for size in range(min(len(secret), len(text)) - 1, MIN_EDGE - 1, -1):
        if text.startswith(secret[-size:]):
            text = REDACTED + text[size:]
            break
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i : i + MIN_FRAGMENT] in secret and i + MIN_FRAGMENT <= len(text):
            end = i + MIN_FRAGMENT
            while end < len(text) and text[i : end + 1] in secret:
                end += 1
            out.append(REDACTED)
            i = end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class Redactor:
    """Replaces every secret, and every fragment of one, with a placeholder."""

    def __init__(self, secrets: Iterable[str]) -> None:
        """Remember the secrets to scrub (empty ones are ignored)."""
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def __call__(self, text: str | None, limit: int = MAX_SERVER_TEXT) -> str | None:
        """`text` cut to `limit` characters and scrubbed.

        Cut first, so that scrubbing stays cheap: a secret the cut split is
        still found as a fragment (or as the cut end's prefix of a secret).
        """
        if text is None:
            return None
        cut = len(text) > limit
        text = text[:limit]
        for secret in self._secrets:
            text = _scrub(text, secret)
        return text + "…" if cut else text

    def request_id(self, value: object) -> str | None:
        """A request id as the server sent it (header or JSON), fit to show.

        It reaches logs, events and action responses, so it is treated like
        any server text (a proxy may echo the key in it), cut shorter, and
        kept on one line. Anything but a non-empty string is no id.
        """
        if not isinstance(value, str) or not value.strip():
            return None
        head = value.strip()[: MAX_REQUEST_ID + 1]
        line = "".join(c if c.isprintable() else "?" for c in head)
        return self(line, MAX_REQUEST_ID)
