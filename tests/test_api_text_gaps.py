"""TextGaps: an agent's text cut at its pauses, nothing lost or repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from custom_components.deepgram.api.text_gaps import TextGaps


async def written(*steps: str | float) -> AsyncIterator[str]:
    """Text pieces, with pauses (floats, seconds) between them."""
    for step in steps:
        if isinstance(step, float):
            await asyncio.sleep(step)
        else:
            yield step


async def segments(gaps: TextGaps) -> list[list[str]]:
    """Every segment's pieces, in order."""
    found = [[piece async for piece in gaps.segment()]]
    while await gaps.more():
        found.append([piece async for piece in gaps.segment()])
    await gaps.aclose()
    return found


async def test_no_pause_one_segment() -> None:
    gaps = TextGaps(written("One. ", "Two. ", "", "Three."), gap=0.2)
    assert await segments(gaps) == [["One. ", "Two. ", "Three."]]
    assert gaps.ended
    assert [piece async for piece in gaps.segment()] == []  # nothing after the end


async def test_a_pause_starts_a_new_segment() -> None:
    """What came during the pause (and after) is the next segment, in order."""
    gaps = TextGaps(written("One. ", 0.4, "Two. ", "Three."), gap=0.1)
    assert await segments(gaps) == [["One. "], ["Two. ", "Three."]]


async def test_the_first_text_is_awaited_without_the_gap() -> None:
    """A slow start is not a pause: the segment waits for its first text."""
    gaps = TextGaps(written(0.3, "Late. ", "Then more."), gap=0.1)
    assert await segments(gaps) == [["Late. ", "Then more."]]


async def test_a_pause_then_the_end() -> None:
    """Text that pauses and then ends: no empty segment after it."""
    gaps = TextGaps(written("One. ", 0.3), gap=0.1)
    assert await segments(gaps) == [["One. "]]
    assert not await gaps.more()


async def test_the_sources_error_ends_the_segment() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "One. "
        raise RuntimeError("agent failed")

    gaps = TextGaps(failing(), gap=1.0)
    got: list[str] = []

    async def read() -> None:
        async for piece in gaps.segment():
            got.append(piece)

    with pytest.raises(RuntimeError, match="agent failed"):
        await read()
    assert got == ["One. "]
    await gaps.aclose()


async def test_the_sources_error_after_a_pause() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "One. "
        await asyncio.sleep(0.3)
        raise RuntimeError("agent failed")

    gaps = TextGaps(failing(), gap=0.1)
    assert [piece async for piece in gaps.segment()] == ["One. "]
    with pytest.raises(RuntimeError, match="agent failed"):
        await gaps.more()
    await gaps.aclose()


async def test_aclose_stops_a_source_that_never_ends() -> None:
    stopped = asyncio.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            yield "One. "
            await asyncio.Event().wait()
        finally:
            stopped.set()

    gaps = TextGaps(endless(), gap=0.1)
    assert [piece async for piece in gaps.segment()] == ["One. "]
    await gaps.aclose()
    assert stopped.is_set()
    await gaps.aclose()  # twice is harmless


async def test_a_pause_never_cuts_a_word() -> None:
    """A pause in the middle of a word: the word goes whole to the next part."""
    gaps = TextGaps(written("Done. Any", 0.4, "thing else?"), gap=0.1)
    assert await segments(gaps) == [["Done. "], ["Anything else?"]]


async def test_text_without_spaces_is_cut_at_its_punctuation() -> None:
    """Japanese has no spaces: a pause cuts after its last punctuation mark."""
    question = "ですか\uff1f"  # a fullwidth question mark
    gaps = TextGaps(written("こんにちは。元気", 0.4, question), gap=0.1)
    assert await segments(gaps) == [["こんにちは。"], ["元気" + question]]


async def test_a_lone_unfinished_word_is_said_at_a_pause() -> None:
    """All a part has is half a word when the text pauses: it is said."""
    gaps = TextGaps(written("Hel", 0.4, "lo."), gap=0.1)
    assert await segments(gaps) == [["Hel"], ["lo."]]


async def test_the_end_releases_the_last_word() -> None:
    gaps = TextGaps(written("One. Tw", "o"), gap=1.0)
    assert await segments(gaps) == [["One. ", "Two"]]


@pytest.mark.parametrize("pieces", [[], [""], ["  ", "\n"]])
async def test_nothing_to_say(pieces: list[str]) -> None:
    """Blank text is no text: nothing to open a socket for."""
    gaps = TextGaps(written(*pieces), gap=0.1)
    assert not await gaps.more()
    assert gaps.ended
    await gaps.aclose()


async def test_blanks_then_text() -> None:
    """Blanks before the text are kept with it, in order."""
    gaps = TextGaps(written(" ", 0.05, "Hi."), gap=1.0)
    assert await gaps.more()
    assert [piece async for piece in gaps.segment()] == [" ", "Hi."]
    await gaps.aclose()


async def test_a_source_that_cancels_itself_is_no_end() -> None:
    """Cancelled from within (not by `aclose`): the text did not end well."""

    async def cancelled() -> AsyncIterator[str]:
        yield "One. "
        raise asyncio.CancelledError

    gaps = TextGaps(cancelled(), gap=1.0)
    with pytest.raises(asyncio.CancelledError):
        await segments(gaps)
