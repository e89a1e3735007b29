"""What the replicas of one studio must agree on, behind one small interface.

A studio served by several processes (docs/deploy.md) keeps its counts where every process
reads and writes them; a studio of one process keeps them in its own memory, as it always has:

    MemoryStore       this process's memory, bounded (the default)
    RedisStore        a Redis (or Valkey) server that every replica shares: STUDIO_REDIS_URL
                      (studio.classroom.shared, which imports redis-py only then)
    Fallback          the shared store, and this process's memory while it does not answer
                      (studio.classroom.fallback)

What is kept, and the methods a store has for it:

    sliding windows   admit(checks, session): whether each check's cost fits its rules; when
                      all fit, each check's spend is counted, at once for every check (a
                      refusal counts nothing). spend(...) counts what was spent afterwards (a
                      reply's chat tokens). Used by studio.classroom.usage.
    sessions seen     inside admit: a session not seen in the last hour is new, and only then
                      do the flood guard's checks (`new_only`) apply
    the ledger        log(record) and records(): one dict per request for the last hour;
                      log(record, spent) also counts what the request spent, at once
    wrong passwords   failures / fail / clear: a count and when the last one came, per key,
                      forgotten after a quiet spell (studio.classroom.login)

Times are the store's `clock`: the process's monotonic clock in memory, the wall clock in
Redis (every replica must read the same time; NTP keeps machines within milliseconds).

When the shared store goes away, the rule is: ADMIT, with this replica's own memory (Fallback).
Each replica then applies every limit on its own, so for as long as the store is away a person
can get at most one limit's worth from each replica, and never more; a class is not stopped by
a store that restarts. The studio says so in one line when it goes, and in one when it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from studio.classroom.limits import Limiter, OverLimit, Rule

HOUR = 3600.0
log = logging.getLogger("studio.classroom.store")


@dataclass(frozen=True)
class Check:
    """One count a request must fit: `cost` must fit `rules` now; `spend` is counted if all
    the request's checks fit (a chat's tokens are checked with 1 and spent afterwards)."""

    name: str  # which count: requests, images, tokens, total, new_sessions
    key: str  # whose: a person's key, an address, or the whole studio's
    rules: tuple[Rule, ...]
    cost: int
    spend: int
    new_only: bool = False  # only for a session not seen in the last hour (the flood guard)

    @property
    def counted(self) -> bool:
        return bool(self.rules) and (self.cost > 0 or self.spend > 0)


class Over(NamedTuple):
    """The first check that did not fit: its index in the checks given, the rule, the wait."""

    index: int
    rule: Rule
    wait: float


class Store(Protocol):
    clock: Callable[[], float]
    where: str  # what the usage view says of where the counts are kept

    def admit(self, checks: Sequence[Check], session: str | None = None) -> Over | None: ...
    def spend(self, name: str, key: str, rules: tuple[Rule, ...], cost: int) -> None: ...
    def log(self, record: dict, spent: Check | None = None) -> None: ...
    def records(self) -> list[dict]: ...
    def failures(self, space: str, key: str, forget: float) -> tuple[int, float] | None: ...
    def fail(self, space: str, key: str, forget: float) -> None: ...
    def clear(self, space: str, key: str) -> None: ...


class MemoryStore:
    """Everything in this process's memory, with a bounded footprint: limiters forget idle keys
    and keep at most `max_keys`; the ledger keeps the last hour, at most `max_entries`; at most
    `capacity` wrong-password records per space."""

    where = "this process"

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
        max_entries: int = 20_000,
        capacity: int = 4096,
    ) -> None:
        self.clock, self.max_keys, self.capacity = clock, max_keys, capacity
        self.limiters: dict[str, Limiter] = {}
        self.known = Recent(max_keys, HOUR, clock)  # sessions that asked lately
        self.ledger = Ledger(max_entries, clock)
        self.tries: dict[str, Records] = {}
        self._lock = threading.Lock()

    def limiter(self, name: str, rules: tuple[Rule, ...]) -> Limiter:
        if name not in self.limiters:
            self.limiters[name] = Limiter(rules, max_keys=self.max_keys, clock=self.clock)
        return self.limiters[name]

    def admit(self, checks: Sequence[Check], session: str | None = None) -> Over | None:
        with self._lock:
            new = session is not None and not self.known.seen(session)
            applied = [
                (i, c) for i, c in enumerate(checks) if c.counted and (new or not c.new_only)
            ]
            for i, check in applied:
                if check.cost > 0:
                    try:
                        self.limiter(check.name, check.rules).check(check.key, check.cost)
                    except OverLimit as over:
                        return Over(i, over.rule, over.wait)
            for _, check in applied:
                self.limiter(check.name, check.rules).add(check.key, check.spend)
            if session is not None:
                self.known.touch(session)
            return None

    def spend(self, name: str, key: str, rules: tuple[Rule, ...], cost: int) -> None:
        if rules and cost > 0:
            with self._lock:
                self.limiter(name, rules).add(key, cost)

    def log(self, record: dict, spent: Check | None = None) -> None:
        if spent is not None:
            self.spend(spent.name, spent.key, spent.rules, spent.spend)
        self.ledger.add(record)

    def records(self) -> list[dict]:
        return self.ledger.entries()

    def failures(self, space: str, key: str, forget: float) -> tuple[int, float] | None:
        with self._lock:
            return self._space(space, forget).get(key, self.clock())

    def fail(self, space: str, key: str, forget: float) -> None:
        with self._lock:
            self._space(space, forget).fail(key, self.clock())

    def clear(self, space: str, key: str) -> None:
        with self._lock:
            self.tries.get(space, {}).pop(key, None)

    def _space(self, space: str, forget: float) -> Records:
        return self.tries.setdefault(space, Records(self.capacity, forget))


class Records(OrderedDict):
    """Wrong-password counts by key, `(failures, last)`, the least recent dropped beyond
    `capacity`, each forgotten `forget` seconds after its last wrong password."""

    def __init__(self, capacity: int, forget: float) -> None:
        super().__init__()
        self.capacity, self.forget = capacity, forget

    def get(self, key: str, now: float) -> tuple[int, float] | None:  # type: ignore[override]
        record = super().get(key)
        if record is not None and now - record[1] > self.forget:
            del self[key]
            return None
        return record

    def fail(self, key: str, now: float) -> None:
        failures = (self.get(key, now) or (0, 0.0))[0]
        self[key] = (failures + 1, now)
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)


class Ledger:
    """The last hour's records, at most `max_entries` (the oldest go first)."""

    def __init__(self, max_entries: int, clock: Callable[[], float]) -> None:
        self.max_entries, self.clock = max_entries, clock
        self._entries: deque[dict] = deque()
        self._lock = threading.Lock()

    def add(self, record: dict) -> None:
        with self._lock:
            self._entries.append(record)
            self._trim()

    def entries(self) -> list[dict]:
        with self._lock:
            self._trim()
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def _trim(self) -> None:
        cutoff = self.clock() - HOUR
        while self._entries and (
            len(self._entries) > self.max_entries or self._entries[0]["at"] <= cutoff
        ):
            self._entries.popleft()


class Recent:
    """Keys used in the last `seconds`, at most `capacity` (the least recently used go first)."""

    def __init__(self, capacity: int, seconds: float, clock: Callable[[], float]) -> None:
        self.capacity, self.seconds, self.clock = capacity, seconds, clock
        self._last: OrderedDict[str, float] = OrderedDict()

    def seen(self, key: str) -> bool:
        last = self._last.get(key)
        return last is not None and last > self.clock() - self.seconds

    def touch(self, key: str) -> None:
        now = self.clock()
        self._last.pop(key, None)
        self._last[key] = now
        while self._last:
            oldest, when = next(iter(self._last.items()))
            if when > now - self.seconds and len(self._last) <= self.capacity:
                return
            del self._last[oldest]

    def __len__(self) -> int:
        return len(self._last)


class StoreAway(Exception):
    """The shared store did not answer (raised by RedisStore, handled by Fallback)."""
