"""Who used what: the teacher's limits applied to every model request, and the last hour of use.

    the launch (studio.cli)     makes one Meter per app (`meter_for`); the app hands it to its
                                events, and each says who is asking (studio.classroom.people):
                                a Caller, the meter and the Person, handed to the services
    services                    `with metered(caller, task, host, images=1, prompt=...) as call:`
                                around each model request; a chat sets `call.tokens` as it streams
    Meter.admit                 the flood guard (new sessions per address), the person's limits,
                                the whole studio's ceiling: LimitReached with the wait, or go
    Ledger                      one entry per request for an hour (at most `max_entries`), summed
                                for the usage view (`Meter.report`)

Pure: no Gradio, no HTTP. Everything is in memory with a bounded footprint: the limiters forget
idle people and keep at most `max_keys`; the ledger drops what is older than an hour. Without a
caller (a service called outside an event, as tests and benchmarks do) nothing is counted.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.classroom.limits import Limiter, Limits, OverLimit, Rule, wait_words
from studio.classroom.usage_report import summarize_entries
from studio.errors import LimitReached
from studio.secrets import shorten

if TYPE_CHECKING:
    from studio.config import Config

HOUR = 3600.0
PROMPT_CHARS = 200  # of each prompt kept, when the teacher asked for them
STUDIO = "the whole studio"  # the key of the studio's ceiling


@dataclass(frozen=True, slots=True)
class Person:
    key: str  # "user:ada" with a login, "session:<hash>" without
    label: str  # what the usage view shows: the login name, or the session's first characters
    address: str = ""  # the client's address, for the flood guard only
    logged_in: bool = False


@dataclass(frozen=True)
class Caller:
    """Whom a request is counted against: the app's meter and the person asking."""

    meter: Meter
    person: Person


@dataclass
class Call:
    """What one request spent, filled in as it goes."""

    tokens: int = 0


@dataclass(frozen=True, slots=True)
class Entry:
    at: float
    person: str  # Person.label
    task: str
    outcome: str  # "ok" | "error" | "refused"
    images: int = 0
    tokens: int = 0
    seconds: float = 0.0
    host: str = ""
    prompt: str = ""


# --- one request ---------------------------------------------------------------------------------


@contextmanager
def metered(
    caller: Caller | None, task: str, host: str, *, images: int = 0, prompt: str = ""
) -> Iterator[Call]:
    """Admit one model request of `caller` (LimitReached if they are over a limit), then note
    how it went. Without a caller, just run it."""
    call = Call()
    if caller is None:
        yield call
        return
    meter, person = caller.meter, caller.person
    meter.admit(person, task, images=images, prompt=prompt)
    started = meter.clock()

    def entry(outcome: str) -> Entry:
        return Entry(
            at=meter.clock(),
            person=person.label,
            task=task,
            outcome=outcome,
            images=images if outcome == "ok" else 0,
            tokens=call.tokens,
            seconds=meter.clock() - started,
            host=host,
            prompt=shorten(prompt, PROMPT_CHARS) if meter.keep_prompts else "",
        )

    try:
        yield call
    except Exception:
        meter.done(person, entry("error"))
        raise
    except BaseException:  # stopped (closed or cancelled): what came was spent
        meter.done(person, entry("ok"))
        raise
    meter.done(person, entry("ok"))


# --- the meter ---------------------------------------------------------------------------------


class Meter:
    """One studio's limits and its last hour of use, thread-safe."""

    def __init__(
        self,
        limits: Limits,
        *,
        keep_prompts: bool = False,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
        max_entries: int = 20_000,
    ) -> None:
        self.limits, self.keep_prompts, self.clock = limits, keep_prompts, clock

        def limiter(rules: tuple[Rule, ...]) -> Limiter:
            return Limiter(rules, max_keys=max_keys, clock=clock)

        self.requests, self.images = limiter(limits.requests), limiter(limits.images)
        self.tokens, self.total = limiter(limits.chat_tokens), limiter(limits.total)
        self.new_sessions = limiter(limits.new_sessions)
        self.known = Recent(max_keys, HOUR, clock)  # sessions that asked lately
        self.ledger = Ledger(max_entries, clock)
        self._lock = threading.Lock()

    def admit(self, person: Person, task: str, *, images: int = 0, prompt: str = "") -> None:
        """Count one request, or raise LimitReached (counting nothing but the refusal)."""
        if not self.limits.on:
            return
        with self._lock:
            new = not person.logged_in and not self.known.seen(person.key)
            try:
                if new:
                    self._check(self.new_sessions, person.address, 1, FLOOD)
                self._check(self.requests, person.key, 1, REQUESTS)
                self._check(self.images, person.key, images, IMAGES)
                self._check(self.tokens, person.key, 1 if task == "chat" else 0, TOKENS)
                self._check(self.total, STUDIO, 1, TOTAL)
            except LimitReached:
                kept = shorten(prompt, PROMPT_CHARS) if self.keep_prompts else ""
                self.ledger.add(Entry(self.clock(), person.label, task, "refused", prompt=kept))
                raise
            if new:
                self.new_sessions.add(person.address, 1)
            self.known.touch(person.key)
            self.requests.add(person.key, 1)
            self.images.add(person.key, images)
            self.total.add(STUDIO, 1)

    def done(self, person: Person, entry: Entry) -> None:
        self.tokens.add(person.key, entry.tokens)
        self.ledger.add(entry)

    def _check(self, limiter: Limiter, key: str, cost: int, words: str) -> None:
        if cost <= 0:
            return
        try:
            limiter.check(key, cost)
        except OverLimit as over:
            rule = over.rule
            per = f"{rule.count} per {str(rule).partition('/')[2]}"
            raise LimitReached(
                f"{words.format(per=per)} Try again in {wait_words(over.wait)}.", wait=over.wait
            ) from None

    def report(self) -> dict:
        """The last hour, summed: see `studio.classroom.usage_report`."""
        return summarize_entries(self.ledger.entries(), self.limits, self.keep_prompts)


def meter_for(config: Config) -> Meter:
    """A new meter with the configuration's limits: one per app."""
    return Meter(config.limits, keep_prompts=config.usage_prompts)


REQUESTS = "You have made as many requests as each person may: {per}."
IMAGES = "You have made as many pictures as each person may: {per}."
TOKENS = "You have had as many chat tokens as each person may: {per}."
TOTAL = "The studio has answered as many requests as the teacher allows for everyone: {per}."
FLOOD = (
    "Too many new sessions have started from your network: {per} at most. Keep using the page "
    "you already have open."
)


@dataclass
class Ledger:
    """The last hour's entries, at most `max_entries` (the oldest go first)."""

    max_entries: int
    clock: Callable[[], float]
    _entries: deque[Entry] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)
            self._trim()

    def entries(self) -> list[Entry]:
        with self._lock:
            self._trim()
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def _trim(self) -> None:
        cutoff = self.clock() - HOUR
        while self._entries and (
            len(self._entries) > self.max_entries or self._entries[0].at <= cutoff
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
