"""Deepgram's REST endpoints: key check, model and voice lists, pre-recorded audio."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
import json
import logging
from typing import Any, Final

import aiohttp

from .endpoint import Endpoint
from .errors import (
    DeepgramError,
    DeepgramProtocolError,
    DeepgramTimeoutError,
    error_for_status,
)
from .messages import (
    PARSE_FAILURES,
    Word,
    float_field,
    optional_float_field,
    parse_results,
    str_field,
)
from .options import LiveOptions
from .redact import Redactor, secrets_of
from .transport import check_request, client_failure, read_at_most
from .voices import Voice, merge_voices, parse_voices

_LOGGER = logging.getLogger(__name__)

DEFAULT_REST_TIMEOUT: Final = 10.0
DEFAULT_TRANSCRIBE_TIMEOUT: Final = 120.0
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
MAX_ANSWER: Final = 8 * 1024 * 1024
"""Bytes of a JSON answer read at most; a larger one is a protocol error.

Model lists are about 100 kB; a pre-recorded answer takes about 1 MB an
hour of speech. The body is read in pieces and reading stops at the cap.
"""
ANSWER_PER_UPLOAD_BYTE: Final = 4
"""Bytes of a `POST /v1/listen` answer allowed per byte of audio uploaded."""
MAX_LISTEN_ANSWER: Final = 64 * 1024 * 1024
"""Bytes of a `POST /v1/listen` answer read at most, however large the upload."""
MAX_ERROR_BODY: Final = 64 * 1024
"""Bytes of an error body read at most: its reason is cut to 300 characters."""

type AudioBody = bytes | AsyncIterable[bytes]


def listen_answer_cap(uploaded: int) -> int:
    """Bytes a pre-recorded answer may take for `uploaded` bytes of audio.

    Deepgram has billed the request by the time it answers, so the cap is
    there against a server that never stops sending, not against long
    recordings. An hour of speech (150 to 250 words a minute) has 9,000 to
    15,000 words of about 130 bytes each with their times, confidence,
    punctuated form and speaker: 1.2 to 2 MB; smart formatting's paragraphs
    and sentences repeat the text (100 kB), and utterances would repeat
    the words: 5 MB an hour at most. The same hour uploaded takes 115 MB
    as 16 kHz 16-bit PCM, 29 MB as 8 kHz mu-law, 14 MB as 32 kbit/s MP3,
    3.6 MB as 8 kbit/s Opus and 2.1 MB as 4.75 kbit/s AMR, the leanest
    format Deepgram reads: `ANSWER_PER_UPLOAD_BYTE` (4) times the upload
    is 8.4 MB an hour even for AMR, far more for any other format. The
    absolute ceiling, `MAX_LISTEN_ANSWER` (64 MiB), still holds 13 hours
    of words at the densest: more than a recording a home sends, and an
    answer that size already takes several hundred MB of memory once
    parsed, the most one action should cost a small home server. Small uploads
    keep the `MAX_ANSWER` every other answer has.
    """
    return min(max(MAX_ANSWER, ANSWER_PER_UPLOAD_BYTE * uploaded), MAX_LISTEN_ANSWER)


type _Parse[T] = Callable[[dict[str, Any]], T]


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What Deepgram says about a key that works."""

    checked_with: str
    api_key_id: str | None = None
    scopes: tuple[str, ...] = ()
    project_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A speech-to-text model that can stream, and its languages."""

    name: str
    architecture: str | None
    languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrerecordedResult:
    """The transcript of one pre-recorded request."""

    transcript: str
    confidence: float
    words: tuple[Word, ...]
    duration: float
    request_id: str | None
    detected_language: str | None = None
    language_confidence: float | None = None
    model_names: tuple[str, ...] = ()


class DeepgramRestClient:
    """Deepgram's REST API through a given aiohttp session."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        endpoint: Endpoint,
        *,
        timeout: float = DEFAULT_REST_TIMEOUT,
    ) -> None:
        """Use `http` (Home Assistant's shared session) to reach `endpoint`."""
        self._http = http
        self._endpoint = endpoint
        self._timeout = timeout
        self._scrub = Redactor(secrets_of(endpoint.api_key, endpoint.base_url))

    async def validate_key(self) -> KeyInfo:
        """Check that the key works; raises `DeepgramAuthError` when it does not.

        Asks `/v1/auth/token`, then `/v1/projects` where that path is missing.
        A self-hosted Deepgram without a key only has to answer `/v1/models`.
        """
        if not self._endpoint.api_key:
            await self._get_json("/v1/models", _any_object)
            return KeyInfo(checked_with="/v1/models")
        try:
            return await self._get_json("/v1/auth/token", _token_info)
        except DeepgramError as err:
            if err.status not in (404, 405):
                raise
        return await self._get_json("/v1/projects", _projects_info)

    async def list_models(self) -> list[ModelInfo]:
        """Streaming speech-to-text models, one entry a name, languages merged.

        Entries are keyed by `canonical_name`, a general model by its
        architecture (`nova-3-general` as `nova-3`): the name the API takes
        and people use.
        """
        return await self._get_json("/v1/models", _models)

    async def list_voices(self) -> list[Voice]:
        """Text-to-speech voices of `/v1/models` and `/v2/models`, as one list.

        One after the other, each within the client's timeout, so that one
        kept-alive connection serves both. A list that cannot be read is
        stood in for by the built-in voices of its families; an auth error of
        either, or errors of both, are raised (`voices.merge_voices`).
        """
        lists: list[list[Voice] | BaseException] = []
        for path in ("/v1/models", "/v2/models"):
            try:
                lists.append(await self._get_json(path, parse_voices))
            except DeepgramError as err:
                lists.append(err)
        return merge_voices(*lists)

    async def transcribe(
        self,
        audio: AudioBody,
        options: LiveOptions,
        *,
        content_type: str = "audio/wav",
        size: int | None = None,
        timeout: float = DEFAULT_TRANSCRIBE_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> PrerecordedResult:
        """Transcribe a whole recording with `POST /v1/listen`.

        `audio` is the recording's bytes, or its chunks as an async iterable
        that is streamed as it yields (with `size` as Content-Length when
        known, chunked otherwise), so a large file is never held in memory.
        An exception the iterable raises ends the upload and propagates
        unchanged. `timeout` bounds the whole request, upload included;
        `connect_timeout` bounds reaching the server. The answer may be as
        large as `listen_answer_cap` of the bytes uploaded.
        """
        params = options.query()
        headers = {"Content-Type": content_type}
        if size is not None:
            headers["Content-Length"] = str(size)
        source = None if isinstance(audio, bytes) else _Chunks(audio)
        known = len(audio) if isinstance(audio, bytes) else size or 0

        def cap() -> int:  # asked once the answer starts: the upload is done
            return listen_answer_cap(max(known, source.sent if source else 0))

        try:
            return await self._request(
                "POST",
                "/v1/listen",
                self._prerecorded_result,
                params=params,
                data=audio if source is None else source,
                headers=headers,
                timeout=timeout,
                connect_timeout=connect_timeout,
                max_answer=cap,
            )
        except DeepgramError:
            if source is not None and source.error is not None:
                raise source.error from None
            raise

    async def _get_json[T](self, path: str, parse: _Parse[T]) -> T:
        return await self._request("GET", path, parse)

    async def _request[T](
        self,
        method: str,
        path: str,
        parse: _Parse[T],
        *,
        params: list[tuple[str, str]] | None = None,
        data: bytes | AsyncIterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        max_answer: Callable[[], int] | None = None,
    ) -> T:
        """`parse` of the JSON object Deepgram answered `method` `path` with.

        An answer that cannot be understood (no JSON object, larger than
        `max_answer()` (asked once the answer starts) or `MAX_ANSWER`, a
        shape `parse` cannot take) is a `DeepgramProtocolError`.
        """
        url = self._endpoint.http_url(path)
        auth = self._endpoint.auth_headers()
        check_request(url, params, auth)
        all_headers = {**auth, **(headers or {})}
        limit = timeout if timeout is not None else self._timeout
        what = path if method == "GET" else f"{method} {path}"
        extra: dict[str, Any] = {}
        if connect_timeout is not None:
            # The session's own total bound (300 s by default) would cut a
            # long upload short; `limit` bounds the request instead.
            extra["timeout"] = aiohttp.ClientTimeout(
                total=None, connect=connect_timeout, sock_connect=connect_timeout
            )
        try:
            async with (
                asyncio.timeout(limit),
                self._http.request(
                    method, url, params=params, data=data, headers=all_headers, **extra
                ) as resp,
            ):
                status, headers = resp.status, resp.headers
                if status >= 400:
                    cap = MAX_ERROR_BODY
                else:
                    cap = MAX_ANSWER if max_answer is None else max_answer()
                raw = await read_at_most(resp, cap)
        except TimeoutError:
            raise DeepgramTimeoutError(
                f"{self._endpoint.host} did not answer {path} within {limit:.0f} s"
            ) from None
        except (aiohttp.ClientError, OSError, ValueError) as err:
            # Refused before sending (ValueError), or the network failed.
            raise client_failure(err, self._endpoint.host) from None
        if status >= 400:
            detail = _error_detail(raw[:cap].decode(errors="replace"))
            raise error_for_status(status, headers, detail, scrub=self._scrub)
        if len(raw) > cap:
            raise DeepgramProtocolError(
                f"Deepgram's answer to {what} is larger than {cap:,} bytes"
            )
        body = _json_object(raw, what)
        try:
            return parse(body)
        except PARSE_FAILURES:
            raise DeepgramProtocolError(f"Unexpected answer from {what}") from None

    def _prerecorded_result(self, data: dict[str, Any]) -> PrerecordedResult:
        """The transcript of channel 0 of a pre-recorded answer.

        Fields are read as the live path reads them (`messages`): one of
        another type takes its default, a number no finite float holds
        makes the answer one that cannot be understood.

        The request id is shown to the user and logged: scrubbed like any
        server text (a proxy may have echoed the key into it).
        """
        metadata = data["metadata"]
        channel = data["results"]["channels"][0]
        results = parse_results({"channel": channel, "is_final": True})
        model_info = metadata.get("model_info")
        return PrerecordedResult(
            transcript=results.transcript,
            confidence=results.confidence,
            words=results.words,
            duration=float_field(metadata.get("duration")),
            request_id=self._scrub.request_id(metadata.get("request_id")),
            detected_language=str_field(channel.get("detected_language")),
            language_confidence=optional_float_field(
                channel.get("language_confidence")
            ),
            model_names=tuple(
                info["name"]
                for info in model_info.values()
                if isinstance(info, dict) and isinstance(info.get("name"), str)
            )
            if isinstance(model_info, dict)
            else (),
        )


class _Chunks:
    """An upload's chunks, counting them, remembering an error of their source."""

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self._source = source
        self.error: Exception | None = None
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._source:
                self.sent += len(chunk)
                yield chunk
        except Exception as err:
            self.error = err
            raise


def _json_object(raw: bytes | bytearray, what: str) -> dict[str, Any]:
    """The JSON object `raw` holds, strictly: no NaN or Infinity either."""
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except ValueError:  # not JSON, not UTF-8, an integer of over 4300 digits
        raise DeepgramProtocolError(f"Deepgram answered {what} with no JSON") from None
    except RecursionError:
        raise DeepgramProtocolError(
            f"Deepgram answered {what} with JSON nested too deeply"
        ) from None
    if not isinstance(body, dict):
        raise DeepgramProtocolError(f"Deepgram answered {what} with no JSON object")
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _any_object(data: dict[str, Any]) -> None:
    """Any JSON object will do (a keyless server only has to answer)."""


def _token_info(data: dict[str, Any]) -> KeyInfo:
    """The key's details from `/v1/auth/token`, odd details left out."""
    scopes = data.get("scopes")
    return KeyInfo(
        checked_with="/v1/auth/token",
        api_key_id=str_field(data.get("api_key_id")),
        scopes=tuple(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else (),
    )


def _projects_info(data: dict[str, Any]) -> KeyInfo:
    """The names of the key's projects from `/v1/projects`."""
    projects = data.get("projects")
    if not isinstance(projects, list):
        raise TypeError("projects is not a list")
    return KeyInfo(
        checked_with="/v1/projects",
        project_names=tuple(
            p["name"]
            for p in projects
            if isinstance(p, dict) and isinstance(p.get("name"), str)
        ),
    )


def _models(data: dict[str, Any]) -> list[ModelInfo]:
    """The streaming models of `/v1/models`, merged by the name the API takes."""
    entries = data.get("stt")
    if not isinstance(entries, list):
        raise TypeError("stt is not a list")
    merged: dict[str, tuple[str | None, list[str]]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("streaming") is not True:
            continue
        name = entry.get("canonical_name") or entry.get("name")
        if not isinstance(name, str) or not name:
            continue
        arch = str_field(entry.get("architecture"))
        if arch and name == f"{arch}-general":
            name = arch  # Deepgram lists nova-3-general; the API says nova-3
        _, langs = merged.setdefault(name, (arch, []))
        for lang in entry.get("languages") or []:
            if isinstance(lang, str) and lang not in langs:
                langs.append(lang)
    return [
        ModelInfo(name=name, architecture=arch, languages=tuple(langs))
        for name, (arch, langs) in sorted(merged.items())
    ]


def _error_detail(body: str) -> str | None:
    """Deepgram's reason from an error body in either of its two shapes."""
    try:
        data = json.loads(body)
    except ValueError, RecursionError:
        return body.strip() or None
    if not isinstance(data, dict):
        return None
    for key in ("err_msg", "message", "reason", "details"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    return None
