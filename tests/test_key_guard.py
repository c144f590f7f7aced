"""The API-key guard in conftest.py must fail a test that logs the key."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import API_KEY, key_leaks

ROOT = Path(__file__).parent.parent

LEAKY_TESTS = f"""
import logging

import pytest

from tests.conftest import api_key_never_logged  # noqa: F401

KEY = {API_KEY!r}
log = logging.getLogger("custom_components.deepgram")


@pytest.fixture
def logs_in_setup():
    log.debug("setting up with %s", KEY)


@pytest.fixture
def logs_in_teardown():
    yield
    log.info("tearing down with %s", KEY)


def test_clean():
    log.error("nothing secret here")


def test_call_error():
    log.error("Deepgram refused %s", KEY)


def test_call_debug():
    log.debug("header Token %s", KEY)


def test_call_traceback():
    try:
        raise ValueError(KEY)
    except ValueError:
        log.exception("failed")


def test_setup(logs_in_setup):
    pass


def test_teardown(logs_in_teardown):
    pass
"""


def test_guard_fails_every_phase(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key logged in setup, call or teardown, as text or traceback, fails."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:homeassistant",
        "--rootdir",
        str(pytester.path),
        "-o",
        "addopts=",
    )
    # Every test body passes; each leaky one then errors in the guard's
    # teardown (the old guard, reading only the teardown phase, caught one).
    result.assert_outcomes(passed=6, errors=5)
    result.stdout.fnmatch_lines(["*API key found in log lines*"])


def test_key_leaks_reads_message_and_traceback() -> None:
    """The check itself: formatted message, exception text and exception."""
    logger = logging.getLogger("test")

    def record(
        msg: str, *args: object, exc: BaseException | None = None
    ) -> logging.LogRecord:
        exc_info = (type(exc), exc, None) if exc else None
        return logger.makeRecord(
            "test", logging.ERROR, __file__, 1, msg, args, exc_info
        )

    assert key_leaks([record("fine")]) == []
    assert key_leaks([record("key %s", API_KEY)]) == [f"key {API_KEY}"]
    assert key_leaks([record("boom", exc=RuntimeError(API_KEY))]) == [API_KEY]
    with_text = record("boom")
    with_text.exc_text = f"Traceback: {API_KEY}"
    assert key_leaks([with_text]) == [f"Traceback: {API_KEY}"]
