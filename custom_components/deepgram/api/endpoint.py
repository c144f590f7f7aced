"""Where Deepgram is and how to authenticate: the base URL is data.

Deepgram's cloud (`https://api.deepgram.com`), a regional host
(`https://api.eu.deepgram.com`) and a self-hosted Deepgram
(`http://host:8080`, often without a key) serve the same paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yarl import URL

from .errors import DeepgramOptionsError

DEFAULT_BASE_URL = "https://api.deepgram.com"
_HTTP_FOR = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_WS_FOR = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def normalize_base_url(url: str) -> str:
    """Return the base URL without a trailing slash; reject what cannot work."""
    text = url.strip()
    try:
        parsed = URL(text)
    except ValueError as err:
        raise DeepgramOptionsError(f"Invalid URL: {err}") from None
    if parsed.scheme not in _HTTP_FOR:
        raise DeepgramOptionsError("The URL must start with http, https, ws or wss")
    if not parsed.host:
        raise DeepgramOptionsError("The URL has no host")
    if parsed.query_string or parsed.fragment:
        raise DeepgramOptionsError("The URL may not carry a query or fragment")
    return text.rstrip("/")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A Deepgram base URL and the API key to use there (never in its repr)."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        """Normalise the base URL once."""
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))

    def http_url(self, path: str) -> URL:
        """An http(s) URL for a REST path such as `/v1/models`."""
        base = URL(self.base_url)
        return self._join(base.with_scheme(_HTTP_FOR[base.scheme]), path)

    def ws_url(self, path: str) -> URL:
        """A ws(s) URL for a streaming path such as `/v1/listen`."""
        base = URL(self.base_url)
        return self._join(base.with_scheme(_WS_FOR[base.scheme]), path)

    @property
    def host(self) -> str:
        """The host name, for log lines."""
        return URL(self.base_url).host or self.base_url

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header; none for a keyless self-hosted server."""
        if not self.api_key:
            return {}
        return {"Authorization": f"Token {self.api_key}"}

    @staticmethod
    def _join(base: URL, path: str) -> URL:
        prefix = base.path.rstrip("/")
        return base.with_path(f"{prefix}{path}")
