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


class Limiter:
    """Sliding-window counts per key, thread-safe. Each use is kept as (when, how many) in a
    small list, so a count of chat tokens costs one entry per reply, not one per token."""

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
        self._seen: OrderedDict[str, list[tuple[float, int]]] = OrderedDict()  # oldest use first
        self._lock = threading.Lock()

    def charge(self, key: str, cost: int = 1) -> None:
        """Count `cost` requests for `key`, or raise OverLimit (counting nothing) with the
        strictest wait."""
        if not self.rules:
            return
        with self._lock:
            now = self._clock()
            times = self._current(key, now)
            self._raise_if_over(times, now, cost)
            self._record(key, times, now, cost)

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
            self._record(key, self._current(key, now), now, cost)

    def keys(self) -> int:
        with self._lock:
            return len(self._seen)

    def _current(self, key: str, now: float) -> list[tuple[float, int]]:
        """`key`'s uses inside the longest window, moved to the most recently used end."""
        times = self._seen.pop(key, None) or []
        cutoff = now - self._longest
        if times and times[0][0] <= cutoff:
            times = [use for use in times if use[0] > cutoff]
        self._seen[key] = times
        return times

    def _raise_if_over(self, times: list[tuple[float, int]], now: float, cost: int) -> None:
        wait, rule = max(
            ((self._wait(rule, times, now, cost), rule) for rule in self.rules),
            key=lambda pair: pair[0],
        )
        if wait > 0:
            raise OverLimit(rule, wait)

    def _record(self, key: str, times: list[tuple[float, int]], now: float, cost: int) -> None:
        times.append((now, cost))
        self._forget(now)

    def _wait(self, rule: Rule, times: list[tuple[float, int]], now: float, cost: int) -> float:
        """Seconds until `cost` more fit in `rule`'s window (0 when they fit now)."""
        inside = [(t, c) for t, c in times if t > now - rule.seconds]
        over = sum(c for _, c in inside) + cost - rule.count
        if over <= 0:
            return 0.0
        if cost > rule.count:
            return rule.seconds
        freed = 0
        for t, c in inside:  # the oldest leave the window first
            freed += c
            if freed >= over:
                return t + rule.seconds - now
        return rule.seconds

    def _forget(self, now: float) -> None:
        while self._seen:
            key, times = next(iter(self._seen.items()))
            idle = not times or times[-1][0] <= now - self._longest
            if not idle and len(self._seen) <= self._max_keys:
                return
            del self._seen[key]


def wait_words(seconds: float) -> str:
    """'about 40 seconds', 'about 3 minutes': what a person is told to wait."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} seconds"
    return f"about {round(seconds / 60)} minutes"
