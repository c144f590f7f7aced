"""API key check shared by the websocket and REST endpoints."""

from __future__ import annotations

from collections.abc import Mapping


def authorized(headers: Mapping[str, str], api_key: str | None) -> bool:
    """Whether ``Authorization: Token <key>`` (or ``Bearer <key>``) matches.

    With ``api_key=None`` (self-hosted) every request is accepted.
    """
    if api_key is None:
        return True
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return scheme.lower() in {"token", "bearer"} and token.strip() == api_key
