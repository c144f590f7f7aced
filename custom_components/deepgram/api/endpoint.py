"""Where Deepgram is and how to authenticate: the base URL is data.

Deepgram's cloud (`https://api.deepgram.com`), a regional host
(`https://api.eu.deepgram.com`) and a self-hosted Deepgram
(`http://host:8080`, often without a key) serve the same paths.

Deepgram's own hosts are only ever reached over TLS: an `http` or `ws` URL
there is upgraded, to the TLS default port (the key would otherwise travel
unencrypted), while a self-hosted server may still be reached in clear text.
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
_TLS_FOR = {"http": "https", "ws": "wss"}
_LOCAL_SUFFIXES = (".local", ".lan", ".home.arpa", ".internal", ".localhost")
DEEPGRAM_DOMAIN = "deepgram.com"


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


def is_deepgram_host(host: str) -> bool:
    """Whether `host` is Deepgram's: deepgram.com or one of its subdomains."""
    name = host.lower().rstrip(".")
    return name == DEEPGRAM_DOMAIN or name.endswith(f".{DEEPGRAM_DOMAIN}")


def is_local_host(host: str) -> bool:
    """Whether `host` is on this machine or the local network.

    Loopback, private and link-local addresses, `localhost`, single-label
    names and the home network suffixes (.local, .lan, .home.arpa, ...).
    """
    name = host.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return name == "localhost" or "." not in name or name.endswith(_LOCAL_SUFFIXES)
    return address.is_loopback or address.is_private or address.is_link_local


def is_clear_text_to_deepgram(url: str) -> bool:
    """Whether the URL would reach Deepgram's own hosts without TLS."""
    try:
        parsed = URL(url.strip())
    except ValueError:
        return False
    return parsed.scheme in _TLS_FOR and is_deepgram_host(parsed.host or "")


def over_tls_if_deepgram(url: str) -> str:
    """`url`, with `https`/`wss` instead of `http`/`ws` for Deepgram's hosts.

    An explicit port is dropped on the way: Deepgram's hosts serve TLS on its
    default port (443) only. A clear-text URL's `:80` meant clear text's
    default port, and `https://api.deepgram.com:80` cannot connect; any other
    port is not one Deepgram's hosts listen on either. A URL already over
    TLS keeps its port (it is not rewritten).
    """
    if not is_clear_text_to_deepgram(url):
        return url
    parsed = URL(url)
    return str(parsed.with_scheme(_TLS_FOR[parsed.scheme]).with_port(None))


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
        """Normalise the base URL once; Deepgram's hosts only over TLS."""
        base_url = over_tls_if_deepgram(normalize_base_url(self.base_url))
        object.__setattr__(self, "base_url", base_url)

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

    @property
    def key_in_clear_text(self) -> bool:
        """Whether the key (or URL credentials) would go unencrypted off-site.

        Over `http`/`ws` to a host that is not local: anyone on the way can
        read it. A keyless server or one on the local network is not flagged.
        """
        base = URL(self.base_url)
        secret = bool(self.api_key) or has_credentials(self.base_url)
        return (
            secret
            and base.scheme in _TLS_FOR
            and not is_local_host(base.raw_host or "")
        )

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header; none for a keyless self-hosted server."""
        if not self.api_key:
            return {}
        return {"Authorization": f"Token {self.api_key}"}

    @staticmethod
    def _join(base: URL, path: str) -> URL:
        prefix = base.path.rstrip("/")
        return base.with_path(f"{prefix}{path}")
