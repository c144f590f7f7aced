"""Where Deepgram is and how to authenticate: the base URL is data.

Deepgram's cloud (`https://api.deepgram.com`), a regional host
(`https://api.eu.deepgram.com`) and a self-hosted Deepgram
(`http://host:8080`, often without a key) serve the same paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import ipaddress
import re

from yarl import URL

from .errors import DeepgramOptionsError

DEFAULT_BASE_URL = "https://api.deepgram.com"
MAX_KEY_LENGTH = 2048
_HTTP_FOR = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_WS_FOR = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")


def _is_host(raw_host: str) -> bool:
    """A DNS name (IDNA-encoded), an IPv4 or a bracketed IPv6 address."""
    if ":" in raw_host:
        try:
            ipaddress.IPv6Address(raw_host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    return len(raw_host) <= 253 and _HOST_NAME.match(raw_host) is not None


def normalize_base_url(url: str) -> str:
    """Return the base URL without a trailing slash; reject what cannot work."""
    text = url.strip()
    try:
        parsed = URL(text)
    except ValueError as err:
        raise DeepgramOptionsError(f"Invalid URL: {err}") from None
    if parsed.scheme not in _HTTP_FOR:
        raise DeepgramOptionsError("The URL must start with http, https, ws or wss")
    if not parsed.raw_host:
        raise DeepgramOptionsError("The URL has no host")
    if not _is_host(parsed.raw_host):
        raise DeepgramOptionsError("The URL's host is not a valid host name")
    if parsed.query_string or parsed.fragment:
        raise DeepgramOptionsError("The URL may not carry a query or fragment")
    return text.rstrip("/")


def is_valid_key(api_key: str) -> bool:
    """Whether a key can travel in an `Authorization` header as it is.

    Deepgram's keys (and temporary tokens) are one line of visible ASCII: a
    space, line break, control or non-ASCII character means a copying
    accident, and would make the HTTP client refuse the request.
    """
    return len(api_key) <= MAX_KEY_LENGTH and all(
        "!" <= char <= "~" for char in api_key
    )


def has_credentials(url: str) -> bool:
    """Whether the URL carries a user name or password (`http://user:pw@host`)."""
    try:
        parsed = URL(url.strip())
    except ValueError:
        return False
    return parsed.raw_user is not None or parsed.raw_password is not None


def redact_url(url: str) -> str:
    """The URL with any user name and password replaced by `***`."""
    try:
        parsed = URL(url)
    except ValueError:
        return url
    if parsed.raw_user is None and parsed.raw_password is None:
        return url
    return str(parsed.with_user("***").with_password(None))


@dataclass(frozen=True, slots=True, repr=False)
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

    def __repr__(self) -> str:
        """The base URL without credentials, never the key."""
        return f"Endpoint(base_url={redact_url(self.base_url)!r})"

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
