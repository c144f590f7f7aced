"""What every Deepgram socket needs under Home Assistant, listening or speaking.

A pipeline run's listening session and a spoken message's speak sockets
share these rules:

- `tracked`: while it runs, a socket is known to Home Assistant's stop
  handling (`DeepgramData.live`), which ends it with its closing message
  when Home Assistant stops, before the shared HTTP session closes.
- `close_in_background`: a socket whose work is done is ended cleanly
  (its closing message, a bounded wait, close) without making the caller
  wait; the task is the entry's (its unload waits for it, bounded), or
  Home Assistant's once the entry was unloaded during the run.
- `log_failure`: a refused run starts re-authentication (401), raises the
  credits repair (402) or the profile's model repair (403), as
  `problems.py` decides, and logs one line, from the error's scrubbed text.
- `first_of`: a run's concurrent waits, ended together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CoreState, HomeAssistant

from .api import (
    DeepgramBadRequestError,
    DeepgramError,
    DeepgramRateLimitError,
    DeepgramSocket,
)
from .const import ABORT_TIMEOUT, CLOSE_TIMEOUT, LOGGER
from .data import DeepgramConfigEntry, DeepgramData
from .problems import Refusal, RunProfile, async_run_failed


@contextlib.contextmanager
def tracked(data: DeepgramData, session: DeepgramSocket) -> Iterator[None]:
    """Known to Home Assistant's stop handling while the block runs.

    Leave the block only once the socket's close (or abort) is under way:
    Home Assistant stopping meanwhile still finds its task in `closing`.
    """
    data.live.add(session)
    try:
        yield
    finally:
        data.live.discard(session)


def close_in_background(
    hass: HomeAssistant,
    entry: DeepgramConfigEntry,
    data: DeepgramData,
    session: DeepgramSocket,
    *,
    abort: bool = False,
    then: Callable[[], None] | None = None,
) -> asyncio.Task[None]:
    """End the request cleanly without making the caller wait for it.

    With `abort` (a socket that broke the protocol, such as a flood): its
    closing message, then closed within `ABORT_TIMEOUT`, not waiting
    `CLOSE_TIMEOUT` for a close frame such a server does not send. `then`
    runs once the socket is over (a diagnostics record filled in). `data`
    is the load the run started with: a reload during the run leaves the
    entry with another one, and this load's unload or Home Assistant's stop
    must still find the task.
    """

    async def close() -> None:
        if abort:
            await session.abort(ABORT_TIMEOUT)
        else:
            await session.close(CLOSE_TIMEOUT)
        if then is not None:
            then()

    name = f"deepgram close {session.request_id}"
    if entry.state is ConfigEntryState.LOADED:
        task = entry.async_create_background_task(hass, close(), name)
    else:
        task = hass.async_create_background_task(close(), name)
    data.closing.add(task)
    task.add_done_callback(data.closing.discard)
    return task


def log_failure(
    hass: HomeAssistant,
    entry: DeepgramConfigEntry,
    profile: RunProfile,
    err: DeepgramError,
    *,
    doing: str,
    request: str,
) -> Refusal | None:
    """React to a failed run as `problems.py` says; log one line about it.

    `doing` names the work in the log (`speech-to-text`, `text-to-speech`),
    `request` what Deepgram was asked for (`model nova-3 with language en`,
    `voice aura-2-thalia-en`). Never the key: every `DeepgramError`'s text
    is scrubbed.
    """
    refusal = async_run_failed(hass, entry, profile, err)
    if refusal is Refusal.AUTH:
        LOGGER.error(
            "Deepgram rejected the key for profile %s (model %s): %s. "
            "Re-authenticate the Deepgram integration",
            profile.name,
            profile.model,
            err,
        )
    elif refusal is Refusal.MODEL:
        LOGGER.error(
            "Deepgram does not let this key or project use model %s (or one "
            "of its features) for profile %s: %s. Choose another model in "
            "the profile or allow the model in the Deepgram console",
            profile.model,
            profile.name,
            err,
        )
    elif refusal is Refusal.PAYMENT:
        LOGGER.error("Deepgram project is out of credits: %s", err)
    elif isinstance(err, DeepgramRateLimitError):
        LOGGER.warning(
            "Deepgram's limit of concurrent streams for the project was "
            "reached: %s. Try again shortly; if it persists, check other "
            "applications using the same project or raise the limit",
            err,
        )
    elif isinstance(err, DeepgramBadRequestError):
        LOGGER.error("Deepgram rejected %s: %s", request, err)
    elif hass.state is not CoreState.running:  # stopping: not a fault
        LOGGER.debug("Deepgram %s ended: %s", doing, err)
    else:
        LOGGER.error("Deepgram %s failed: %s", doing, err)
    return refusal


@contextlib.asynccontextmanager
async def first_of(*tasks: asyncio.Task[Any]) -> AsyncIterator[None]:
    """Wait for the first of a run's `tasks` to end; on the way out end them all.

    Such as the sending, the session's end of the turn or failure, and an
    end-of-turn detector. Ending the sending stops reading the stream (the
    rest of the audio is never sent, so never billed). The tasks' errors are
    retrieved here; the caller raises those that matter with `result()`.
    """
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        yield
    finally:
        for task in tasks:
            task.cancel()  # a no-op for a finished task
        await asyncio.wait(tasks)
        for task in tasks:
            if not task.cancelled():
                task.exception()
