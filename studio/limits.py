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
from collections import OrderedDict, deque
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


class OverLimit(Exception):
    def __init__(self, rule: Rule, wait: float) -> None:
        super().__init__(f"over {rule}; wait {wait:.0f} s")
        self.rule, self.wait = rule, wait


class Limiter:
    """Sliding-window counts per key, thread-safe."""

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
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()  # oldest use first
        self._lock = threading.Lock()

    def charge(self, key: str, cost: int = 1) -> None:
        """Count `cost` requests for `key`, or raise OverLimit (counting nothing) with the
        strictest wait."""
        if not self.rules:
            return
        now = self._clock()
        with self._lock:
            times = self._seen.pop(key, None) or deque()
            while times and times[0] <= now - self._longest:
                times.popleft()
            waits = [(self._wait(rule, times, now, cost), rule) for rule in self.rules]
            wait, rule = max(waits, key=lambda pair: pair[0])
            self._seen[key] = times  # the most recently used last
            if wait > 0:
                raise OverLimit(rule, wait)
            times.extend([now] * cost)
            self._forget(now)

    def keys(self) -> int:
        with self._lock:
            return len(self._seen)

    def _wait(self, rule: Rule, times: deque[float], now: float, cost: int) -> float:
        """Seconds until `cost` more fit in `rule`'s window (0 when they fit now)."""
        inside = [t for t in times if t > now - rule.seconds]
        over = len(inside) + cost - rule.count
        if over <= 0:
            return 0.0
        if cost > rule.count:
            return rule.seconds
        return inside[over - 1] + rule.seconds - now

    def _forget(self, now: float) -> None:
        while self._seen:
            key, times = next(iter(self._seen.items()))
            idle = not times or times[-1] <= now - self._longest
            if not idle and len(self._seen) <= self._max_keys:
                return
            del self._seen[key]


def wait_words(seconds: float) -> str:
    """'about 40 seconds', 'about 3 minutes': what a person is told to wait."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} seconds"
    return f"about {round(seconds / 60)} minutes"
