"""Shared fixtures for the Deepgram integration tests."""

from __future__ import annotations

# Imported before anything of Home Assistant's loader runs: otherwise Home
# Assistant finds phacc's own `custom_components` package first.
import custom_components  # noqa: F401  # isort: skip

from collections.abc import Generator

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load the integration from custom_components."""
    yield
