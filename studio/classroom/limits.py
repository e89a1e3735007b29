"""Limits per person: how many model requests one person may make per minute or hour.

Pure and in memory: a `Limiter` counts each key's requests in sliding windows and answers how
long to wait when one is over. Its footprint is bounded: keys idle longer than the longest
window are forgotten, and at most `max_keys` are kept (the oldest go first). The clock is
injected, so tests need not wait.

    STUDIO_LIMIT=10/minute,100/hour    (and --limit) N per minute, per hour, or both
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from studio.errors import ConfigurationError

PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86_400.0}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True)
class Rule:
    count: int
    seconds: float

    def __str__(self) -> str:
        name = next(name for name, seconds in PERIODS.items() if seconds == self.seconds)
        return f"{self.count}/{name}"


def parse_rules(text: str, setting: str = "STUDIO_LIMIT") -> tuple[Rule, ...]:
    """`"10/minute,100/hour"` as rules; empty text is no limit."""
    rules = []
    for part in filter(str.strip, (text or "").split(",")):
        match = _RULE.match(part.lower())
        if not match or int(match.group(1)) < 1:
            raise ConfigurationError(
                f"{setting} takes limits such as 10/minute or 100/hour, comma-separated, "
                f"not {part.strip()!r}."
            )
        rules.append(Rule(int(match.group(1)), PERIODS[match.group(2)]))
    return tuple(rules)


FLOOD_GUARD = "60/minute"  # new sessions per client address, when any limit is on


@dataclass(frozen=True)
class Limits:
    """Every limit the studio applies; all empty (the default) is no limit at all."""

    requests: tuple[Rule, ...] = ()  # model requests per person, over every tab (STUDIO_LIMIT)
    images: tuple[Rule, ...] = ()  # pictures per person (STUDIO_IMAGE_LIMIT)
    chat_tokens: tuple[Rule, ...] = ()  # chat tokens per person (STUDIO_CHAT_TOKEN_LIMIT)
    total: tuple[Rule, ...] = ()  # model requests of everyone together (STUDIO_TOTAL_LIMIT)
    new_sessions: tuple[Rule, ...] = ()  # new sessions per address (STUDIO_NEW_SESSION_LIMIT)

    @property
    def on(self) -> bool:
        return bool(self.requests or self.images or self.chat_tokens or self.total)


class OverLimit(Exception):
    def __init__(self, rule: Rule, wait: float) -> None:
        super().__init__(f"over {rule}; wait {wait:.0f} s")
        self.rule, self.wait = rule, wait


class Uses:
    """One key's uses, oldest first: when each was and the running total before it, so a
    window's count is two bisections however many uses the window holds (the whole studio's
    ceiling holds every request of the last hour)."""

    __slots__ = ("at", "before", "first")

    def __init__(self) -> None:
        self.at: list[float] = []  # when each use was
        self.before: list[int] = [0]  # before[i]: the cost of every use before at[i]
        self.first = 0  # at[:first] have left the longest window

    def add(self, now: float, cost: int) -> None:
        self.at.append(now)
        self.before.append(self.before[-1] + cost)

    def drop_until(self, cutoff: float) -> None:
        """Forget the uses at or before `cutoff`, in amortized constant time."""
        self.first = bisect_right(self.at, cutoff, self.first)
        if self.first > 64 and 2 * self.first > len(self.at):
            del self.at[: self.first], self.before[: self.first]
            self.first = 0

    def last(self) -> float | None:
        return self.at[-1] if self.first < len(self.at) else None

    def wait(self, rule: Rule, now: float, cost: int) -> float:
        """Seconds until `cost` more fit in `rule`'s window (0 when they fit now)."""
        start = bisect_right(self.at, now - rule.seconds, self.first)  # the window's first use
        over = self.before[-1] - self.before[start] + cost - rule.count
        if over <= 0:
            return 0.0
        if cost > rule.count:
            return rule.seconds
        # the oldest leave the window first: the first use whose leaving frees `over`
        leaves = bisect_left(self.before, self.before[start] + over, start + 1) - 1
        return self.at[leaves] + rule.seconds - now if leaves < len(self.at) else rule.seconds


class Limiter:
    """Sliding-window counts per key, thread-safe. Each use is kept as one entry (when, and
    the running total), so a count of chat tokens costs one entry per reply, not one per token,
    and checking a key costs the same with ten uses in its window or a hundred thousand."""

    def __init__(
        self,
        rules: tuple[Rule, ...],
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = rules
        self._longest = max((rule.seconds for rule in rules), default=0.0)
        self._max_keys = max_keys
        self._clock = clock
        self._seen: OrderedDict[str, Uses] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def check(self, key: str, cost: int = 1) -> None:
        """Raise OverLimit if `cost` more would not fit now; count nothing either way."""
        if not self.rules:
            return
        with self._lock:
            now = self._clock()
            self._raise_if_over(self._current(key, now), now, cost)
            self._forget(now)

    def add(self, key: str, cost: int) -> None:
        """Count `cost` that was already spent (a reply's tokens), whatever the limit says."""
        if not self.rules or cost <= 0:
            return
        with self._lock:
            now = self._clock()
            self._record(self._current(key, now), now, cost)

    def __len__(self) -> int:
        """How many keys are held: bounded by max_keys."""
        with self._lock:
            return len(self._seen)

    def _current(self, key: str, now: float) -> Uses:
        """`key`'s uses inside the longest window, moved to the most recently used end."""
        uses = self._seen.pop(key, None) or Uses()
        uses.drop_until(now - self._longest)
        self._seen[key] = uses
        return uses

    def _raise_if_over(self, uses: Uses, now: float, cost: int) -> None:
        wait, rule = max(
            ((uses.wait(rule, now, cost), rule) for rule in self.rules),
            key=lambda pair: pair[0],
        )
        if wait > 0:
            raise OverLimit(rule, wait)

    def _record(self, uses: Uses, now: float, cost: int) -> None:
        uses.add(now, cost)
        self._forget(now)

    def _forget(self, now: float) -> None:
        while self._seen:
            key, uses = next(iter(self._seen.items()))
            last = uses.last()
            idle = last is None or last <= now - self._longest
            if not idle and len(self._seen) <= self._max_keys:
                return
            del self._seen[key]


def wait_words(seconds: float) -> str:
    """'about 40 seconds', 'about 3 minutes': what a person is told to wait."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} seconds"
    return f"about {round(seconds / 60)} minutes"
