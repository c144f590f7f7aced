"""What collecting the home's names costs, on the event loop.

Builds a Home Assistant test instance with N entities in the entity registry
(half exposed to Assist), N/10 areas and a few floors, then times one
collection (`collect_home_words`) and one fit of a profile's key terms, which
is what a debounced rebuild does. A pipeline run does neither: it reads the
list.

    .venv/bin/python scripts/bench_home_terms.py [--entities N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.helpers import (
    area_registry as ar,
    entity_registry as er,
    floor_registry as fr,
)
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_test_home_assistant,
)

from custom_components.deepgram.const import (
    CONF_KEYTERMS,
    RECOMMENDED_STT_OPTIONS,
)
from custom_components.deepgram.home_terms import (
    collect_home_words,
    fit_profile,
)
from custom_components.deepgram.plain_words import load_plain_words


async def main(entities: int, runs: int) -> None:
    """Time collection and fitting."""
    # A config directory of its own: registries are saved there, not in the
    # shared test configuration.
    with tempfile.TemporaryDirectory() as config_dir:
        await _bench(config_dir, entities, runs)


async def _bench(config_dir: str, entities: int, runs: int) -> None:
    async with async_test_home_assistant(config_dir=config_dir) as hass:
        assert await async_setup_component(hass, "homeassistant", {})
        registry = er.async_get(hass)
        for i in range(entities):
            entry = registry.async_get_or_create(
                "light", "bench", f"light{i}", original_name=f"Zorblax lamp {i}"
            )
            hass.states.async_set(entry.entity_id, "on")
            async_expose_entity(hass, "conversation", entry.entity_id, i % 2 == 0)
        for i in range(entities // 10):
            ar.async_get(hass).async_create(f"Room number {i}", aliases={f"R{i}"})
        for i in range(5):
            fr.async_get(hass).async_create(f"Level {i}")
        await hass.async_block_till_done()
        started = time.perf_counter()
        plain = await hass.async_add_executor_job(load_plain_words, "en")
        load_ms = (time.perf_counter() - started) * 1000
        profile = {**RECOMMENDED_STT_OPTIONS, CONF_KEYTERMS: ["Anouk"]}
        collect: list[float] = []
        fit: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            words = collect_home_words(hass, plain)
            collect.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            fitted = fit_profile(profile, words)
            fit.append((time.perf_counter() - started) * 1000)
        print(
            f"{entities} entities ({entities // 2} exposed), {entities // 10} areas,"
            f" 5 floors; {runs} runs"
        )
        print(f"plain words: {len(plain)} loaded in {load_ms:.1f} ms (executor, once)")
        print(
            f"collect: median {statistics.median(collect):.2f} ms,"
            f" max {max(collect):.2f} ms ->"
            f" {len(words.specific) + len(words.general)} names"
        )
        print(
            f"fit:     median {statistics.median(fit):.2f} ms,"
            f" max {max(fit):.2f} ms -> {len(fitted.terms)} terms,"
            f" {fitted.tokens} tokens, {len(fitted.left_out)} left out"
        )
        await hass.async_stop(force=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.entities, args.runs))
