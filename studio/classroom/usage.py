"""Who used what: the teacher's limits applied to every model request, and the last hour of use.

    the launch (studio.cli)     makes one Meter per app (`meter_for`); the app hands it to its
                                events, and each says who is asking (studio.classroom.people):
                                a Caller, the meter and the Person, handed to the services
    services                    `with metered(caller, task, host, images=1, prompt=...) as call:`
                                around each model request; a chat sets `call.tokens` as it streams
    Meter.admit                 the flood guard (new sessions per address), the person's limits,
                                the whole studio's ceiling: LimitReached with the wait, or go
    the ledger                  one entry per request for an hour, summed for the usage view
                                (`Meter.report`)

Pure: no Gradio, no HTTP. The counts and the ledger are kept by a store (studio.classroom.store):
this process's memory, bounded, or the store every replica of the studio shares. Without a
caller (a service called outside an event, as tests and benchmarks do) nothing is counted.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.classroom.limits import Limits, Rule, wait_words
from studio.classroom.store import Check, MemoryStore, Store
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
    """One studio's limits and its last hour of use, kept by `store` (by default this process's
    memory, with `clock`, `max_keys` and `max_entries`)."""

    def __init__(
        self,
        limits: Limits,
        *,
        keep_prompts: bool = False,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
        max_entries: int = 20_000,
        store: Store | None = None,
    ) -> None:
        self.limits, self.keep_prompts = limits, keep_prompts
        self.store = store or MemoryStore(clock=clock, max_keys=max_keys, max_entries=max_entries)
        self.clock = self.store.clock  # the store's: every replica's entries on one time line

    def admit(self, person: Person, task: str, *, images: int = 0, prompt: str = "") -> None:
        """Count one request, or raise LimitReached (counting nothing but the refusal)."""
        if not self.limits.on:
            return
        limits = self.limits
        checks = (
            Check("new_sessions", person.address, limits.new_sessions, 1, 1, new_only=True),
            Check("requests", person.key, limits.requests, 1, 1),
            Check("images", person.key, limits.images, images, images),
            Check("tokens", person.key, limits.chat_tokens, 1 if task == "chat" else 0, 0),
            Check("total", STUDIO, limits.total, 1, 1),
        )
        # a login is the same person in every session: the flood guard counts new sessions only
        over = self.store.admit(checks, None if person.logged_in else person.key)
        if over is None:
            return
        kept = shorten(prompt, PROMPT_CHARS) if self.keep_prompts else ""
        self.log(Entry(self.clock(), person.label, task, "refused", prompt=kept))
        words = (FLOOD, REQUESTS, IMAGES, TOKENS, TOTAL)[over.index]
        raise LimitReached(
            f"{words.format(per=per(over.rule))} Try again in {wait_words(over.wait)}.",
            wait=over.wait,
        )

    def done(self, person: Person, entry: Entry) -> None:
        """The request's record, and its chat tokens counted against the person's limit."""
        tokens = Check("tokens", person.key, self.limits.chat_tokens, 0, entry.tokens)
        self.store.log(dataclasses.asdict(entry), tokens)

    def log(self, entry: Entry) -> None:
        self.store.log(dataclasses.asdict(entry))

    def entries(self) -> list[Entry]:
        return [Entry(**record) for record in self.store.records()]

    def report(self) -> dict:
        """The last hour, summed: see `studio.classroom.usage_report`."""
        report = summarize_entries(self.entries(), self.limits, self.keep_prompts)
        return {**report, "kept": self.store.where}


def per(rule: Rule) -> str:
    return f"{rule.count} per {str(rule).partition('/')[2]}"


def meter_for(config: Config, store: Store | None = None) -> Meter:
    """A new meter with the configuration's limits, kept in `store` (this process's memory when
    None): one per app."""
    return Meter(config.limits, keep_prompts=config.usage_prompts, store=store)


REQUESTS = "You have made as many requests as each person may: {per}."
IMAGES = "You have made as many pictures as each person may: {per}."
TOKENS = "You have had as many chat tokens as each person may: {per}."
TOTAL = "The studio has answered as many requests as the teacher allows for everyone: {per}."
FLOOD = (
    "Too many new sessions have started from your network: {per} at most. Keep using the page "
    "you already have open."
)
