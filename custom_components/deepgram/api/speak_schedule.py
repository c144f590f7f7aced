"""When to send `Speak` and `Flush` on `/v1/speak` (Aura-2) for a streamed reply.

Deepgram's `/v1/speak` synthesises nothing until the client sends `Flush`,
and it limits the client: at most 2000 characters in one `Speak`, 20 `Flush`
and 2400 characters in any 60 seconds. An LLM's reply arrives as small text
deltas; `SpeakSchedule` turns them into `Speak(text)` and `Flush` steps, and
`Wait(until)` when a limit says nothing may go yet. It never drops text: a
limit only delays it.

What goes when:
- The first sentence is spoken and flushed alone as soon as its end is seen,
  so the first audio comes as early as possible.
- Later sentences go in groups: once at least `group_chars` characters of
  complete sentences wait, or when the audio already flushed is about to
  run out (estimated at `spoken_chars_per_second`, `group_lead` seconds
  ahead: a slow reply is not left silent while a group fills), or when the
  reply ends. Fewer, larger flushes keep the flush budget and the audio
  quality ("very frequent flushes can affect audio quality").
- Text with no sentence end goes out at the end of the reply, when more
  than one `Speak` can hold is waiting, or when it has waited `max_hold`
  seconds (each then cut at a word). Complete sentences short of a group
  never wait longer than `max_hold` either.
- Every `Speak` is followed at once by its `Flush`: Deepgram's buffer never
  holds more than one `Speak` (whether its 2000 characters limit one message
  or the buffer, both hold), and the end of the reply is always flushed.
- When a limit binds, the schedule waits for room for the whole next piece
  rather than sending what fits, so the flushes stay few. When it is the
  character budget, the 2400 characters sent in the last minute are minutes
  of audio (about 15 characters a second): the wait is not heard.

Sentence ends (a heuristic): `.`, `!`, `?`, `…` (also `؟`, `।`, `॥`), with
any closing quotes, brackets or `*`, followed by whitespace; `。`, `｡` and the
fullwidth `!` and `?` (U+FF01, U+FF1F) with their closers, followed by
anything (Chinese and Japanese put no space after them); the last character
before a line break. A period is not an end after an abbreviation (a word
with an inner period like "e.g." or "U.S.", a single letter like an initial
"J.", a title like "Mr." or "Dr.", see `_ABBREVIATIONS`) or after a list
number at the start of a line ("1.").
Decimals ("3.5") have no whitespace after the period. A mistake only moves
where a piece ends; no text is lost either way.

Text: the `Speak` texts joined are the reply without its trailing
whitespace. Only whitespace is never spoken: a reply of only whitespace
gives no step at all (no `Flush` either: nothing was said), and a run of
whitespace longer than a whole `Speak` (never seen in a reply) is skipped.

Time is the caller's (`next_step(now)`, e.g. `time.monotonic()`), so the
logic is tested without a clock. The limits are Deepgram's per socket, not
per reply: replies on one socket share one `SpeakBudget`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
import math
import re

MAX_SPEAK_CHARS = 2000
"""The most characters one `Speak` may carry (Deepgram answers 413 beyond)."""
MAX_FLUSHES = 20
"""The most `Flush` messages in any `LIMIT_WINDOW` (Deepgram warns beyond)."""
LIMIT_WINDOW = 60.0
"""The sliding window, in seconds, of Deepgram's flush and character limits."""
CHARS_PER_WINDOW = 2400
"""The most characters sent in any `LIMIT_WINDOW` (reportedly, more drops
the socket)."""
GROUP_CHARS = 200
"""Complete sentences after the first go once this many characters wait
(about 13 s of audio: the next group is ready long before it is needed)."""
SPOKEN_CHARS_PER_SECOND = 20.0
"""How fast flushed text is assumed to play: a little faster than Aura-2
speaks at speed 1 (about 15), so the estimate errs towards going early."""
GROUP_LEAD = 2.0
"""Seconds before the flushed audio is estimated to end that complete
sentences short of a group go anyway (Deepgram's first audio takes a while)."""
MAX_HOLD = 4.0
"""Seconds text may wait unsent: then it goes (complete sentences, else up
to its last whole word). A long sentence written slowly is not held until
its end: Deepgram would see an idle socket (and may close it), and the
listener would wait for it in silence."""

_CLOSERS = "\"')]}»\u2019\u201d*_"  # and Markdown's emphasis
_CJK_ENDERS = "。｡\uff01\uff1f"
_CJK_CLOSERS = "」』\uff09》】\u3015〉\u201d\u2019\"'"
_SENTENCE_END = re.compile(
    # `(?>…)`: the whole run of enders and closers, or no end at all (so
    # "。」" at the end of the text is not cut between the two).
    rf"(?P<latin>(?>[.!?…؟।॥]+[{re.escape(_CLOSERS)}]*))(?=\s)"
    rf"|(?>[{_CJK_ENDERS}]+[{re.escape(_CJK_CLOSERS)}]*)(?=[\s\S])"
    r"|\S(?=[^\S\n]*\n)"
)
_WORD_END = re.compile(r"\S(?=\s)")
_OPENERS = "\"'([{«\u2018\u201c"
# Titles and short forms written with a period, in the languages of the
# Aura-2 voices. Words that often end a sentence ("etc.", "Inc.", "no.")
# are left out: taking them as an end only costs a piece boundary.
_ABBREVIATIONS = frozenset(
    {
        # English
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs",
        "approx", "dept", "fig", "cf", "ca", "nr",
        # German
        "bzw", "ggf", "vgl", "hr", "fr", "str", "tel",
        # French
        "mme", "mlle", "env",
        # Spanish
        "sra", "srta", "dra", "ud", "uds", "av", "núm",
        # Italian
        "sig", "dott", "avv",
        # Dutch
        "dhr", "mevr", "bijv",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Speak:
    """Send `{"type": "Speak", "text": text}` now."""

    text: str


@dataclass(frozen=True, slots=True)
class Flush:
    """Send `{"type": "Flush"}` now: Deepgram synthesises what it holds."""


@dataclass(frozen=True, slots=True)
class Wait:
    """Send nothing before `until`; ask again then, or when more text comes.

    A wait for a limit holds however much text arrives; a wait for a group
    to fill (until the flushed audio nearly ends) may end early, as more
    text can complete the group.
    """

    until: float


type Step = Speak | Flush | Wait


class SpeakBudget:
    """Deepgram's flush and character limits over a sliding window.

    One per socket: the limits count every reply sent on it. Only the sends
    still inside the window are kept.
    An entry is kept as the time it leaves the window, so a `Wait` ends
    exactly when that entry is gone (no float rounding keeps it in).
    """

    __slots__ = (
        "_chars",
        "_flushes",
        "_used",
        "chars_per_window",
        "max_flushes",
        "window",
    )

    def __init__(
        self,
        *,
        max_flushes: int = MAX_FLUSHES,
        window: float = LIMIT_WINDOW,
        chars_per_window: int = CHARS_PER_WINDOW,
    ) -> None:
        """Start with nothing sent."""
        if max_flushes < 1 or chars_per_window < 1 or window <= 0:
            raise ValueError("speak limits must be positive")
        self.max_flushes = max_flushes
        self.window = window
        self.chars_per_window = chars_per_window
        self._flushes: deque[float] = deque()  # when each leaves the window
        self._chars: deque[tuple[float, int]] = deque()
        self._used = 0  # characters still in the window

    def ready_at(self, now: float, chars: int) -> float:
        """The earliest time from `now` a `Speak` of `chars` and a `Flush` fit."""
        if chars > self.chars_per_window:
            raise ValueError("a Speak larger than the character budget never fits")
        self._expire(now)
        at = now
        if len(self._flushes) >= self.max_flushes:
            at = self._flushes[len(self._flushes) - self.max_flushes]
        excess = self._used + chars - self.chars_per_window
        for leaves, count in self._chars:
            if excess <= 0:
                break
            excess -= count
            at = max(at, leaves)
        return at

    def spoke(self, now: float, chars: int) -> None:
        """Count a `Speak` of `chars` sent at `now`."""
        self._chars.append((now + self.window, chars))
        self._used += chars

    def flushed(self, now: float) -> None:
        """Count a `Flush` sent at `now`."""
        self._flushes.append(now + self.window)

    def _expire(self, now: float) -> None:
        """Forget the sends that have left the window by `now`."""
        while self._flushes and self._flushes[0] <= now:
            self._flushes.popleft()
        while self._chars and self._chars[0][0] <= now:
            self._used -= self._chars.popleft()[1]


class SpeakSchedule:
    """The `Speak`/`Flush` steps of one reply, text delta by text delta.

    The caller `add`s each delta, calls `end()` when the reply is complete,
    and after each of these (and when a `Wait` is over) calls
    `next_step(now)` until it returns `Wait` or `None`; a wait for a group
    ends early with more text or the end of the reply. A returned `Speak` or
    `Flush` counts as sent at `now`. `None`: nothing to send until more
    text comes, or, once `done`, ever. Only the unsent text is held.
    """

    __slots__ = (
        "_audio_until",
        "_budget",
        "_chars_per_second",
        "_ended",
        "_first_sent",
        "_flush_owed",
        "_group_chars",
        "_group_lead",
        "_held_since",
        "_max_chars",
        "_max_hold",
        "_pending",
    )

    def __init__(
        self,
        budget: SpeakBudget | None = None,
        *,
        max_chars: int = MAX_SPEAK_CHARS,
        group_chars: int = GROUP_CHARS,
        spoken_chars_per_second: float = SPOKEN_CHARS_PER_SECOND,
        group_lead: float = GROUP_LEAD,
        max_hold: float = MAX_HOLD,
    ) -> None:
        """Start a reply; `budget` is the socket's (a fresh one if not given)."""
        if (
            max_chars < 1
            or group_chars < 1
            or spoken_chars_per_second <= 0
            or group_lead < 0
            or max_hold <= 0
        ):
            raise ValueError("speak schedule sizes must be positive")
        self._budget = budget if budget is not None else SpeakBudget()
        # A piece must fit both one Speak and the character budget.
        self._max_chars = min(max_chars, self._budget.chars_per_window)
        self._group_chars = group_chars
        self._chars_per_second = spoken_chars_per_second
        self._group_lead = group_lead
        self._max_hold = max_hold
        self._held_since: float | None = None
        """When the unsent text started waiting (None: nothing waits)."""
        self._pending = ""
        self._ended = False
        self._first_sent = False
        self._flush_owed = False
        # When the audio of the text flushed so far is estimated to end.
        self._audio_until = -math.inf

    def __repr__(self) -> str:
        """Show how much is unsent and where the reply stands."""
        return (
            f"SpeakSchedule(pending={len(self._pending)}, "
            f"ended={self._ended}, done={self.done})"
        )

    @property
    def done(self) -> bool:
        """Whether the reply has ended and all of it is spoken and flushed."""
        return self._ended and not self._pending and not self._flush_owed

    def add(self, delta: str) -> None:
        """Take the next piece of the reply's text."""
        if self._ended:
            raise RuntimeError("text added after the end of the reply")
        self._pending += delta

    def end(self) -> None:
        """Mark the reply complete: what remains goes out, then a last Flush."""
        self._ended = True
        # Trailing whitespace says nothing; without it, no Speak is blank.
        self._pending = self._pending.rstrip()

    def next_step(self, now: float) -> Step | None:
        """What to send at `now`, or how long to wait, or `None`."""
        if self._flush_owed:
            self._flush_owed = False
            self._budget.flushed(now)
            return Flush()
        while True:
            release = self._release(now)
            if release is None or isinstance(release, Wait):
                return release
            if release > self._max_chars:
                release = _cut(self._pending, self._max_chars)
            piece = self._pending[:release]
            if not piece.strip():
                # Only a whitespace run longer than a Speak comes here.
                self._pending = self._pending[release:]
                continue
            at = self._budget.ready_at(now, len(piece))
            if at > now:
                return Wait(at)
            self._pending = self._pending[release:]
            self._held_since = None
            self._budget.spoke(now, len(piece))
            self._audio_until = max(self._audio_until, now) + (
                len(piece) / self._chars_per_second
            )
            self._first_sent = True
            self._flush_owed = True
            return Speak(piece)

    def _release(self, now: float) -> int | Wait | None:
        """How much of the unsent text is due now (a cut follows if too long).

        `None` when nothing is due until more text comes; `Wait` when
        complete sentences wait for companions until then.
        """
        text = self._pending
        if not text:
            return None
        if self._held_since is None and not text.isspace():
            self._held_since = now
        held_until = (
            math.inf if self._held_since is None else self._held_since + self._max_hold
        )
        # No piece ends past `_max_chars`: the ends beyond are not needed.
        ends = list(_sentence_ends(text[: self._max_chars + 1]))
        if not self._first_sent and ends:
            return ends[0]
        if self._ended or len(text) > self._max_chars:
            return len(text)
        if not ends:
            # Held long enough: up to the last whole word (none: wait on).
            words = [match.end() for match in _WORD_END.finditer(text)]
            if now >= held_until and words:
                return words[-1]
            if words and math.isfinite(held_until):
                return Wait(held_until)
            return None
        due = min(self._audio_until - self._group_lead, held_until)
        if ends[-1] >= self._group_chars or now >= due:
            return ends[-1]
        return Wait(due)


def _sentence_ends(text: str) -> Iterator[int]:
    """Where the sentences seen so far in `text` end (the module says how)."""
    for match in _SENTENCE_END.finditer(text):
        if match.group("latin") != "." or not _abbreviation(text, match.start()):
            yield match.end()


def _abbreviation(text: str, period: int) -> bool:
    """Whether the period at `period` ends an abbreviation, not a sentence."""
    start = period
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:period].lstrip(_OPENERS)
    if "." in word or (len(word) == 1 and word.isalpha()):
        return True
    if word.isdigit() and len(word) <= 3 and (start == 0 or text[start - 1] == "\n"):
        return True  # a numbered list's "1."
    return word.lower() in _ABBREVIATIONS


def _cut(text: str, limit: int) -> int:
    """Where a piece of at most `limit` characters of `text` best ends.

    At the last sentence end that fits, else after the last whole word that
    fits (the space starts the next piece), else `limit` characters in.
    """
    head = text[: limit + 1]
    ends = list(_sentence_ends(head))
    if ends:
        return ends[-1]
    words = [match.end() for match in _WORD_END.finditer(head)]
    if words:
        return words[-1]
    return limit
