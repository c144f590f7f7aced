"""Typed errors of the Deepgram client.

Each error carries what a user or a log reader needs (the HTTP status or
WebSocket close code, Deepgram's `dg-error` reason and the `dg-request-id`)
and never the API key: messages are built only from server answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .redact import Redactor

_NO_SECRETS: Final = Redactor(())
"""Cuts server text and keeps request ids on one line, knowing no secret."""


class DeepgramError(Exception):
    """Base class of every error the client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """Keep the parts of the error separately for callers and logs."""
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.request_id = request_id

    def __str__(self) -> str:
        """Return the message with Deepgram's reason and request id."""
        return "; ".join([self.message, *self._details()])

    @property
    def detail(self) -> str:
        """The status, reason and request id, without the message."""
        parts = [f"HTTP {self.status}"] if self.status and self.status < 1000 else []
        return "; ".join([*parts, *self._details()]) or self.message

    def _details(self) -> list[str]:
        parts = []
        if self.reason:
            parts.append(f"reason: {self.reason}")
        if self.request_id:
            parts.append(f"request id: {self.request_id}")
        return parts

    def __repr__(self) -> str:
        """Return a repr without anything but the server's answer."""
        return f"{type(self).__name__}({str(self)!r}, status={self.status!r})"


class DeepgramOptionsError(DeepgramError, ValueError):
    """The options are invalid or do not combine; raised before connecting."""


class DeepgramRequestError(DeepgramOptionsError):
    """The request cannot be sent as configured (refused before sending)."""


class DeepgramRequestTooLongError(DeepgramRequestError):
    """The request line is too long (too many key terms); or HTTP 414/431."""


class DeepgramAuthError(DeepgramError):
    """401: the key is wrong or revoked."""


class DeepgramKeyFormatError(DeepgramAuthError):
    """The key cannot be sent at all (control characters, far too long)."""


class DeepgramForbiddenError(DeepgramError):
    """403: the key may not use this model or feature."""


class DeepgramPaymentRequiredError(DeepgramError):
    """402: the Deepgram project is out of credits."""


class DeepgramRateLimitError(DeepgramError):
    """429: the project's concurrency or rate limit was reached."""


class DeepgramBadRequestError(DeepgramError):
    """400: Deepgram rejected the request (unknown model, language, ...)."""


class DeepgramServerError(DeepgramError):
    """5xx at handshake or a 1011 close mid-stream: a fault on Deepgram's side."""


class DeepgramProtocolError(DeepgramError):
    """1008 or an unexpected answer: the two sides do not understand each other."""


class DeepgramConnectionError(DeepgramError):
    """The server could not be reached or the connection broke."""


class DeepgramTimeoutError(DeepgramConnectionError):
    """A bounded wait ran out."""


_BY_STATUS: dict[int, type[DeepgramError]] = {
    400: DeepgramBadRequestError,
    401: DeepgramAuthError,
    402: DeepgramPaymentRequiredError,
    403: DeepgramForbiddenError,
    414: DeepgramRequestTooLongError,
    429: DeepgramRateLimitError,
    431: DeepgramRequestTooLongError,
}

_STATUS_TEXT: dict[int, str] = {
    400: "Deepgram rejected the request",
    401: "Deepgram rejected the API key",
    402: "The Deepgram project is out of credits",
    403: "The API key may not use this model or feature",
    414: "The request is too long for Deepgram (too many key terms)",
    429: "Too many concurrent requests for the Deepgram project",
    431: "The request headers are too long for Deepgram",
}


def error_for_status(
    status: int,
    headers: Mapping[str, str] | None = None,
    detail: str | None = None,
    *,
    scrub: Redactor = _NO_SECRETS,
) -> DeepgramError:
    """Build the typed error for an HTTP status Deepgram answered with.

    `scrub` cleans the server's text of secrets: the reason as any text,
    the `dg-request-id` as a request id (one line, cut shorter).
    """
    headers = headers or {}
    reason = scrub(headers.get("dg-error") or detail)
    request_id = scrub.request_id(headers.get("dg-request-id"))
    if status >= 500:
        return DeepgramServerError(
            f"Deepgram server error (HTTP {status})",
            status=status,
            reason=reason,
            request_id=request_id,
        )
    cls = _BY_STATUS.get(status, DeepgramProtocolError)
    text = _STATUS_TEXT.get(status, "Unexpected answer from Deepgram")
    return cls(
        f"{text} (HTTP {status})", status=status, reason=reason, request_id=request_id
    )


def error_for_close(
    code: int,
    reason: str | None,
    request_id: str | None,
    *,
    scrub: Redactor = _NO_SECRETS,
) -> DeepgramError:
    """Build the typed error for a WebSocket close that ended a stream early.

    `scrub` cleans the close reason of secrets. `request_id` is kept as
    given: the session's, already cleaned by `Redactor.request_id` when the
    handshake was answered (cleaning it twice could cut it differently).
    """
    reason = scrub(reason)
    if code == 1008:
        return DeepgramProtocolError(
            "Deepgram could not decode the audio (close 1008)",
            status=code,
            reason=reason,
            request_id=request_id,
        )
    if code == 1011:
        return DeepgramServerError(
            "Deepgram ended the stream (close 1011)",
            status=code,
            reason=reason,
            request_id=request_id,
        )
    if code == 1009:
        return DeepgramProtocolError(
            "Deepgram sent a message larger than this client accepts (close 1009)",
            status=code,
            reason=reason,
            request_id=request_id,
        )
    return DeepgramConnectionError(
        f"The Deepgram stream closed unexpectedly (close {code})",
        status=code,
        reason=reason,
        request_id=request_id,
    )
