"""Base URLs (cloud, regional, self-hosted) and authentication headers."""

from __future__ import annotations

import dataclasses

import pytest
from yarl import URL

from custom_components.deepgram.api import (
    DEFAULT_BASE_URL,
    DeepgramOptionsError,
    Endpoint,
    normalize_base_url,
)
from custom_components.deepgram.api.endpoint import is_deepgram_host, is_local_host

KEY = "dg-secret-0123456789abcdef"


def test_default_is_deepgram_cloud() -> None:
    """Without a base URL the client talks to api.deepgram.com over TLS."""
    endpoint = Endpoint(api_key=KEY)
    assert endpoint.base_url == DEFAULT_BASE_URL == "https://api.deepgram.com"
    assert str(endpoint.ws_url("/v1/listen")) == "wss://api.deepgram.com/v1/listen"
    assert str(endpoint.http_url("/v1/models")) == "https://api.deepgram.com/v1/models"
    assert endpoint.host == "api.deepgram.com"


@pytest.mark.parametrize(
    ("base_url", "ws", "http"),
    [
        (
            "https://api.eu.deepgram.com",
            "wss://api.eu.deepgram.com/v1/listen",
            "https://api.eu.deepgram.com/v1/auth/token",
        ),
        (
            "wss://api.deepgram.com",
            "wss://api.deepgram.com/v1/listen",
            "https://api.deepgram.com/v1/auth/token",
        ),
        (
            "http://deepgram.lan:8080",
            "ws://deepgram.lan:8080/v1/listen",
            "http://deepgram.lan:8080/v1/auth/token",
        ),
        (
            "ws://192.168.1.20:8080/",
            "ws://192.168.1.20:8080/v1/listen",
            "http://192.168.1.20:8080/v1/auth/token",
        ),
        (
            "http://[::1]:8080",
            "ws://[::1]:8080/v1/listen",
            "http://[::1]:8080/v1/auth/token",
        ),
        (
            "https://proxy.example.com/deepgram",
            "wss://proxy.example.com/deepgram/v1/listen",
            "https://proxy.example.com/deepgram/v1/auth/token",
        ),
        (
            "https://proxy.example.com/a/b//",
            "wss://proxy.example.com/a/b/v1/listen",
            "https://proxy.example.com/a/b/v1/auth/token",
        ),
        (
            "  https://api.deepgram.com/  ",
            "wss://api.deepgram.com/v1/listen",
            "https://api.deepgram.com/v1/auth/token",
        ),
        (
            "HTTPS://API.Deepgram.com",
            "wss://api.deepgram.com/v1/listen",
            "https://api.deepgram.com/v1/auth/token",
        ),
        (
            "https://api.deepgram.com:8443",
            "wss://api.deepgram.com:8443/v1/listen",
            "https://api.deepgram.com:8443/v1/auth/token",
        ),
    ],
)
def test_regional_self_hosted_and_prefixed_urls(
    base_url: str, ws: str, http: str
) -> None:
    """Each scheme maps to its streaming and REST twin; prefix and port stay."""
    endpoint = Endpoint(base_url)
    assert str(endpoint.ws_url("/v1/listen")) == ws
    assert str(endpoint.http_url("/v1/auth/token")) == http


def test_base_url_is_normalised_once() -> None:
    """Trailing slashes and whitespace are removed when the endpoint is built."""
    assert Endpoint("http://host:8080///").base_url == "http://host:8080"
    assert normalize_base_url(" https://api.eu.deepgram.com/ ") == (
        "https://api.eu.deepgram.com"
    )
    assert normalize_base_url("https://h/prefix/") == "https://h/prefix"


def test_path_prefix_with_characters_to_quote() -> None:
    """A prefix with an encoded space survives (not double-encoded)."""
    endpoint = Endpoint("https://h/my%20dg/")
    assert str(endpoint.ws_url("/v1/listen")) == "wss://h/my%20dg/v1/listen"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("api.deepgram.com", "must start with http"),
        ("ftp://api.deepgram.com", "must start with http"),
        ("file:///etc/passwd", "must start with http"),
        ("", "must start with http"),
        ("   ", "must start with http"),
        ("http://", "no host"),
        ("https:///v1", "no host"),
        ("https://api.deepgram.com/?model=nova-3", "query or fragment"),
        ("https://api.deepgram.com#top", "query or fragment"),
        ("http://[::1", "Invalid URL"),
        ("http://host:99999", "Invalid URL"),
    ],
)
def test_invalid_urls_are_refused(url: str, message: str) -> None:
    """What cannot work is refused with `DeepgramOptionsError`."""
    with pytest.raises(DeepgramOptionsError, match=message):
        normalize_base_url(url)
    with pytest.raises(DeepgramOptionsError, match=message):
        Endpoint(url, KEY)


def test_auth_header_uses_token_scheme() -> None:
    """Deepgram API keys go in `Authorization: Token <key>`."""
    assert Endpoint(api_key=KEY).auth_headers() == {"Authorization": f"Token {KEY}"}


def test_self_hosted_without_key_sends_no_auth_header() -> None:
    """An empty key (self-hosted Deepgram) sends no Authorization header."""
    assert Endpoint("http://deepgram.lan:8080").auth_headers() == {}
    assert Endpoint("http://deepgram.lan:8080", "").auth_headers() == {}


def test_key_is_not_in_repr_or_str() -> None:
    """The key never shows up when an endpoint is logged."""
    endpoint = Endpoint("https://api.eu.deepgram.com", KEY)
    assert KEY not in repr(endpoint)
    assert KEY not in str(endpoint)
    assert KEY not in f"{endpoint!r} {endpoint}"
    assert "api.eu.deepgram.com" in repr(endpoint)
    assert endpoint.api_key == KEY


def test_endpoint_is_frozen() -> None:
    """An endpoint is a value; it cannot be changed after it is built."""
    endpoint = Endpoint(api_key=KEY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        endpoint.api_key = "other"  # type: ignore[misc]
    assert Endpoint(api_key=KEY) == endpoint
    assert Endpoint("https://api.deepgram.com/", KEY) == endpoint


@pytest.mark.parametrize(
    ("url", "upgraded"),
    [
        ("http://api.deepgram.com", "https://api.deepgram.com"),
        ("ws://api.eu.deepgram.com/", "wss://api.eu.deepgram.com"),
        ("HTTP://API.Deepgram.COM", "https://api.deepgram.com"),
        ("http://deepgram.com/x", "https://deepgram.com/x"),
        # A port given for clear text is not Deepgram's TLS port (443).
        ("http://api.deepgram.com:80", "https://api.deepgram.com"),
        ("ws://api.deepgram.com:80/", "wss://api.deepgram.com"),
        ("ws://api.deepgram.com.:8080", "wss://api.deepgram.com."),
        (
            "http://user:pw@api.deepgram.com:80/v1",
            "https://user:pw@api.deepgram.com/v1",
        ),
    ],
)
def test_deepgram_hosts_only_over_tls(url: str, upgraded: str) -> None:
    """Clear text to Deepgram's hosts is upgraded: the key never goes unencrypted."""
    endpoint = Endpoint(url, KEY)
    assert endpoint.base_url == upgraded
    assert endpoint.http_url("/v1/models").scheme == "https"
    assert endpoint.ws_url("/v1/listen").scheme == "wss"
    assert endpoint.http_url("/v1/models").port == 443
    assert endpoint.ws_url("/v1/listen").port == 443
    assert not endpoint.key_in_clear_text


@pytest.mark.parametrize(
    "url",
    [
        "http://notdeepgram.com",
        "http://api.deepgram.com.example.net",
        "ws://deepgram.lan:8080",
    ],
)
def test_other_hosts_keep_their_scheme(url: str) -> None:
    """Only Deepgram's own hosts are upgraded; look-alikes are not Deepgram's."""
    assert Endpoint(url, KEY).base_url == url
    assert not is_deepgram_host(URL(url).host or "")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.20",
        "169.254.3.4",
        "fd00::5",
        "fe80::1%25eth0",
        "localhost",
        "deepgram",
        "dg.local",
        "dg.lan",
        "DG.LAN.",
        "dg.home.arpa",
    ],
)
def test_local_hosts(host: str) -> None:
    assert is_local_host(host)


@pytest.mark.parametrize(
    "host", ["8.8.8.8", "2001:4860::8888", "dg.example.com", "api.deepgram.com"]
)
def test_remote_hosts(host: str) -> None:
    assert not is_local_host(host)


@pytest.mark.parametrize(
    ("url", "key", "flagged"),
    [
        ("http://dg.example.com:8080", KEY, True),
        ("ws://93.184.215.14:8080", KEY, True),
        ("http://user:pw@dg.example.com", "", True),
        ("http://dg.example.com:8080", "", False),
        ("https://dg.example.com", KEY, False),
        ("http://192.168.1.20:8080", KEY, False),
        ("http://deepgram.lan:8080", KEY, False),
    ],
)
def test_key_in_clear_text(url: str, key: str, flagged: bool) -> None:
    """A key (or URL credentials) over http/ws to a host not on the local network."""
    assert Endpoint(url, key).key_in_clear_text is flagged
