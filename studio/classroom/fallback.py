"""The rule when the shared store goes away (studio.classroom.store): each replica goes on with
its own memory, says so in one line, and goes back to the shared store when it answers again."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from studio.classroom.store import Check, Over, Store, StoreAway

log = logging.getLogger("studio.classroom.fallback")


class Fallback:
    """`shared`, and `local` (this process's memory) while `shared` does not answer. After a
    failure the shared store is tried again after `retry_after` seconds, so a store that is away
    costs one slow request now and then, not one per request. The usage view shows both
    records: what was kept here while it was away too."""

    def __init__(self, shared: Store, local: Store, *, retry_after: float = 5.0) -> None:
        self.shared, self.local, self.retry_after = shared, local, retry_after
        self.clock = shared.clock
        self.name = getattr(shared, "name", "the shared store")  # no password in it
        self.away: str | None = None  # why the shared store is not used, while it is not
        self._retry_at = 0.0
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        if self.away:
            return f"each replica on its own: {self.name} does not answer ({self.away})"
        return self.shared.where

    def admit(self, checks: Sequence[Check], session: str | None = None) -> Over | None:
        return self._use("admit", checks, session)

    def spend(self, name: str, key: str, rules: tuple, cost: int) -> None:
        self._use("spend", name, key, rules, cost)

    def log(self, record: dict, spent: Check | None = None) -> None:
        self._use("log", record, spent)

    def records(self) -> list[dict]:
        kept_here = self.local.records()
        if self._use_shared():
            try:
                shared = self.shared.records()
            except StoreAway as error:
                self._went_away(str(error))
            else:
                self._is_back()
                return shared + kept_here
        return kept_here

    def failures(self, space: str, key: str, forget: float) -> tuple[int, float] | None:
        return self._use("failures", space, key, forget)

    def fail(self, space: str, key: str, forget: float) -> None:
        self._use("fail", space, key, forget)

    def clear(self, space: str, key: str) -> None:
        self._use("clear", space, key)

    def _use_shared(self) -> bool:
        return self.away is None or time.monotonic() >= self._retry_at

    def _use(self, method: str, *args):
        if self._use_shared():
            try:
                result = getattr(self.shared, method)(*args)
            except StoreAway as error:
                self._went_away(str(error))
            else:
                self._is_back()
                return result
        return getattr(self.local, method)(*args)

    def _went_away(self, why: str) -> None:
        with self._lock:
            if self.away is None:
                log.warning(
                    "%s does not answer (%s): each studio process now applies the limits "
                    "on its own until it is back",
                    self.name,
                    why,
                )
            self.away, self._retry_at = why, time.monotonic() + self.retry_after

    def _is_back(self) -> None:
        if self.away is not None:
            with self._lock:
                if self.away is not None:
                    log.warning("%s answers again: the limits are shared again", self.name)
                    self.away = None
