"""How often a streamed reply is shown: the first text at once, then at most one update per
interval, and always the whole reply at the end.

    reading thread ── add(delta) ... end(error) ──┐   every token counted, text gathered
                                                  ├── ReplyBuffer (a lock, a clock)
    event loop ───── wait_time() ── take() ───────┘   one update per interval at most

A model server sends one token per event, often faster than anybody reads, and every update
shown costs the app a round of processing and a message to the browser. So the thread that
reads the stream only gathers text here; the event loop takes what has gathered when it may.
`add` and `end` answer whether the loop must be woken, which is only while it waits for news:
the loop is woken at most once per update, never once per token. Under load each update gathers
more: the interval grows with the number of replies streaming in the process (`paced_interval`),
so a full class costs the process about as many updates a second as a few people do. No Gradio,
no I/O: the clock and the count are injected, so the pacing is tested without waiting.
studio.chat.stream runs the two sides.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from studio.chat.stats import ReplyStats
from studio.tasks.chat import Delta
from studio.tasks.thinking import InlineThinking
from studio.tasks.token_probs import TokenProb

UPDATE_INTERVAL = 0.04  # seconds between updates: 25 a second, smooth to the eye
# Every update costs the process about the same (a round of Gradio's processing and a message),
# so past this many a second in all, the replies streaming at once share them out.
UPDATES_PER_SECOND = 250
# The longest wait between updates: a reply still moves two or three times a second, faster
# than people read, so it never looks stuck however many stream.
MAX_INTERVAL = 0.4


def paced_interval(streams: int, interval: float = UPDATE_INTERVAL) -> float:
    """Seconds between one reply's updates while `streams` replies stream in the process:
    `interval` while few do, then growing with their number so that they share about
    UPDATES_PER_SECOND updates, but never longer than MAX_INTERVAL (nor shorter than
    `interval`, which may be longer)."""
    return max(interval, min(MAX_INTERVAL, streams / UPDATES_PER_SECOND))


class Streams:
    """How many replies stream in this process now, the load their intervals follow; counted
    from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Count one reply while the block runs, however it ends."""
        with self._lock:
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1


# The load is the process's: every reply it streams counts, whoever asked for it.
STREAMING = Streams()


@dataclass(frozen=True)
class Update:
    """The reply as it stands when the event loop takes it."""

    text: str  # all the answer so far
    stats: ReplyStats  # a copy, counted token by token
    new: bool  # text or a finish reason arrived since the previous update
    final: bool = False  # the stream ended well: this is the whole reply
    error: Exception | None = None  # the stream failed after `text`: nothing follows either
    thinking: str = ""  # a reasoning model's thinking so far, apart from the answer
    tokens: tuple[TokenProb, ...] = ()  # token probabilities so far, when asked for


class ReplyBuffer:
    """The reply so far, shared by the thread that reads the stream and the loop that shows it.

    Create it just before sending the request (its `ReplyStats` starts then). The reader calls
    `add` for each delta and `end` once; the loop asks `wait_time`, waits that long (or until
    woken), then `take`s an update when `wait_time` says 0. `interval`: seconds between updates,
    or a function asked at each wait, for an interval that follows the load.
    """

    def __init__(
        self,
        interval: float | Callable[[], float] = UPDATE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval if callable(interval) else lambda: interval
        self._clock = clock
        self._lock = threading.Lock()
        self._stats = ReplyStats(clock)
        self._text = ""
        self._pieces: list[str] = []
        self._thinking: list[str] = []
        self._split = InlineThinking()  # thinking the text holds inline, told apart
        self._tokens: list[TokenProb] = []
        self._new = False
        self._done = False
        self._error: Exception | None = None
        self._shown_at: float | None = None  # when the last update was taken
        self._wake_on: str | None = None  # what the loop waits for: "news", "end" or nothing

    # --- the reading thread ------------------------------------------------------------------

    def add(self, delta: Delta) -> bool:
        """Count and gather one delta; True when the loop waits for it and must be woken."""
        with self._lock:
            if delta.reasoning:
                self._split.explicit()
                self._thinking.append(delta.reasoning)
            parts = list(self._split.feed(delta.text)) if delta.text else []
            self._gather(parts)
            self._stats.add(delta, {kind for kind, _ in parts})
            self._tokens.extend(delta.tokens)
            if delta.text or delta.reasoning or delta.finish_reason:
                self._new = True
            return self._woken(self._wake_on == "news" and self._new)

    def end(self, error: Exception | None = None) -> bool:
        """The stream is over, or failed with `error`; True when the loop must be woken."""
        with self._lock:
            self._gather(list(self._split.flush()))
            self._done, self._error = True, error
            return self._woken(self._wake_on is not None)

    def _gather(self, parts: list[tuple[str, str]]) -> None:
        for kind, text in parts:
            if kind == "moved":  # a lone </think>: the answer so far was thinking
                self._thinking += [self._text, *self._pieces]
                self._text, self._pieces = "", []
            else:
                (self._thinking if kind == "thinking" else self._pieces).append(text)

    def _woken(self, wake: bool) -> bool:
        if wake:
            self._wake_on = None  # one wake is enough: the loop takes everything there is
        return wake

    # --- the event loop ----------------------------------------------------------------------

    def wait_time(self) -> float | None:
        """Seconds to wait before the next `take`: 0 to take now, None to wait until woken.

        Within the interval after an update only the end wakes the loop: the final text is never
        held back. Past it, the loop takes what has gathered, or waits for the next token.
        """
        with self._lock:
            if self._done:
                self._wake_on = None
                return 0.0
            if self._shown_at is not None:
                left = self._shown_at + self._interval() - self._clock()
                if left > 0:
                    self._wake_on = "end"
                    return left
            if self._new:
                self._wake_on = None
                return 0.0
            self._wake_on = "news"
            return None

    def take(self) -> Update:
        """The reply as it stands; what arrived since the last `take` is no longer new."""
        with self._lock:
            if self._pieces:
                self._text += "".join(self._pieces)
                self._pieces.clear()
            final = self._done and self._error is None
            thinking = "".join(self._thinking)
            self._thinking = [thinking] if thinking else []
            stats, tokens = copy.copy(self._stats), tuple(self._tokens)
            update = Update(self._text, stats, self._new, final, self._error, thinking, tokens)
            self._new = False
            self._shown_at = self._clock()
            return update
