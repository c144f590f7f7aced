"""Deepgram's HTTP error answers (handshake and REST)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

# status -> (dg-error header / message, JSON body without request_id)
_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: (
        "Bad Request",
        {"err_code": "Bad Request", "err_msg": "Bad Request: failed to process audio"},
    ),
    401: (
        "Invalid credentials.",
        {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."},
    ),
    402: (
        "Project does not have enough credits for an ASR request and does not "
        "have an overage agreement.",
        {
            "err_code": "ASR_PAYMENT_REQUIRED",
            "err_msg": "Project does not have enough credits for an ASR request "
            "and does not have an overage agreement.",
        },
    ),
    403: (
        "Insufficient permissions: the project may not use the requested model.",
        {
            "err_code": "INSUFFICIENT_PERMISSIONS",
            "err_msg": "Project does not have access to the requested model.",
        },
    ),
    404: (
        "Not Found",
        {"err_code": "NOT_FOUND", "err_msg": "The requested resource was not found."},
    ),
    429: (
        "Too many requests. Please try again later",
        {
            "err_code": "TOO_MANY_REQUESTS",
            "err_msg": "Too many requests. Please try again later",
        },
    ),
    500: (
        "Internal server error",
        {
            "err_code": "INTERNAL_SERVER_ERROR",
            "err_msg": "An internal server error occurred.",
        },
    ),
    503: (
        "Service unavailable",
        {
            "err_code": "SERVICE_UNAVAILABLE",
            "err_msg": "The service is temporarily unavailable.",
        },
    ),
}


def error_body(status: int, request_id: str) -> tuple[str, dict[str, Any]]:
    """The ``dg-error`` text and JSON body Deepgram sends with ``status``."""
    dg_error, body = _ERRORS.get(
        status,
        ("Error", {"err_code": f"HTTP_{status}", "err_msg": f"HTTP error {status}"}),
    )
    return dg_error, {**body, "request_id": request_id}


def json_error(
    status: int,
    request_id: str,
    *,
    dg_error: str | None = None,
    body: dict[str, Any] | None = None,
) -> web.Response:
    """An error answer with ``dg-error``, ``dg-request-id`` and a JSON body.

    Without ``dg_error``/``body`` the canned Deepgram answer for ``status``
    is used; a given ``body`` gets ``request_id`` added.
    """
    default_error, default_body = error_body(status, request_id)
    payload = default_body if body is None else {**body, "request_id": request_id}
    return web.Response(
        status=status,
        text=json.dumps(payload),
        content_type="application/json",
        headers={
            "dg-error": dg_error or default_error,
            "dg-request-id": request_id,
        },
    )
