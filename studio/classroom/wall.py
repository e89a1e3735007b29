"""The class wall's rounds, kept in this process's memory behind a lock: the teacher's page
(studio.classroom.wall_page) opens and closes them, the students' Class tab (studio.ui.wall)
answers them, both at once from many threads.

One wall per app, found by the app's meter, which the launch hands to both the app's events and
its ASGI layers (`wall_of`). With several replicas behind nginx (STUDIO_REDIS_URL) the meter's
store is Redis, and the wall is its twin there (studio.classroom.shared_wall), with the same
methods: every replica then shows the same rounds.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections import deque

from studio.classroom.shared_wall import SharedWall
from studio.classroom.store import Store
from studio.classroom.usage import Caller, Meter, metered
from studio.errors import InputError
from studio.tasks.wall import (
    MAX_ROUNDS,
    NO_ROUND,
    Picture,
    Round,
    checked_round,
    normalised,
    round_view,
    wall_view,
)

ANONYMOUS = "anonymous"  # the key of an answer sent outside an event (no person to tell apart)


class Wall:
    """The last MAX_ROUNDS rounds, at most one of them open. `version` grows with each change,
    so a page polling the wall redraws only when something changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rounds: deque[Round] = deque(maxlen=MAX_ROUNDS)
        self._ids = itertools.count(1)
        self.version = 0

    def open(self, kind: object, prompt: object) -> Round:
        """A new round, open; the one open before it closes."""
        kind, prompt = checked_round(kind, prompt)
        with self._lock:
            for round_ in self._rounds:
                round_.open = False
            round_ = Round(next(self._ids), kind, prompt)
            self._rounds.append(round_)
            self.version += 1
            return round_

    def close(self) -> None:
        with self._lock:
            for round_ in self._rounds:
                round_.open = False
            self.version += 1

    def set_model(self, round_id: int, choices: tuple, note: str = "") -> None:
        """The model's own top choices for a round, once they came (or why they did not)."""
        with self._lock:
            for round_ in self._rounds:
                if round_.id == round_id:
                    round_.model, round_.model_note = choices, note
                    self.version += 1

    def current(self) -> Round | None:
        """The open round, if any."""
        with self._lock:
            return next((r for r in reversed(self._rounds) if r.open), None)

    def latest(self) -> Round | None:
        with self._lock:
            return self._rounds[-1] if self._rounds else None

    def answer(self, round_id: int | None, key: str, text: object, name: str = "") -> dict:
        """`key`'s guess for the round `round_id` (the open one when None)."""
        with self._lock:
            round_ = self._find(round_id)
            answer = round_.answer(key, text, name)
            self.version += 1
            return {"round": round_.id, "answer": answer.text, "answers": len(round_.answers)}

    def ready_for(self, round_id: int | None, kind: str) -> Round:
        """The round, checked open and asking for `kind`; InputError otherwise."""
        with self._lock:
            round_ = self._find(round_id)
            round_.ready_for(kind)
            return round_

    def add_picture(self, round_id: int, picture: Picture) -> int:
        """Add a picture to the round; how many it has now."""
        with self._lock:
            round_ = self._find(round_id)
            round_.add_picture(picture)
            self.version += 1
            return len(round_.pictures)

    def picture(self, round_id: int, n: int) -> bytes | None:
        with self._lock:
            round_ = next((r for r in self._rounds if r.id == round_id), None)
            picture = round_.pictures.get(n) if round_ else None
            return picture.jpeg if picture else None

    def student_view(self) -> dict:
        return round_view(self.current())

    def teacher_view(self) -> dict:
        with self._lock:
            latest = self._rounds[-1] if self._rounds else None
            return {**wall_view(latest), "version": self.version}

    def _find(self, round_id: int | None) -> Round:
        """The round asked for (the open one when None), with the lock held."""
        for round_ in reversed(self._rounds):
            if round_id is None and round_.open:
                return round_
            if round_id is not None and round_.id == round_id:
                return round_
        raise InputError(NO_ROUND)


_WALLS: weakref.WeakKeyDictionary[Meter, Wall | SharedWall] = weakref.WeakKeyDictionary()
_WALLS_LOCK = threading.Lock()


def wall_of(meter: Meter | None) -> Wall | SharedWall:
    """The wall of the app whose meter is `meter`: in Redis when the meter's store is, so all
    the replicas share it. An app without a meter gets a wall of its own that no teacher's page
    reaches, so its Class tab only says no round is open."""
    if meter is None:
        return Wall()
    with _WALLS_LOCK:
        if meter not in _WALLS:
            _WALLS[meter] = wall_for(meter.store)
        return _WALLS[meter]


def wall_for(store: Store) -> Wall | SharedWall:
    """A wall kept where `store` keeps the limits: Redis's client is the shared store's (a
    Fallback holds it as `shared`; the wall has no fallback of its own, see shared_wall)."""
    from studio.classroom.shared import RedisStore  # imports redis-py only when used

    shared = getattr(store, "shared", store)
    return SharedWall(shared.redis) if isinstance(shared, RedisStore) else Wall()


def who(caller: Caller | None) -> tuple[str, str]:
    """The key an answer is kept under and the name shown with it (only a login's)."""
    if caller is None:
        return ANONYMOUS, ""
    person = caller.person
    return person.key, person.label if person.logged_in else ""


def counted_answer(
    wall: Wall | SharedWall, caller: Caller | None, round_id: int | None, text: object
) -> dict:
    """A student's guess, counted against their limits as a request is."""
    key, name = who(caller)
    normalised(text)  # a refused guess, or one for a closed round, counts for nothing
    wall.ready_for(round_id, "next_word")
    with metered(caller, "wall", "", prompt=text if isinstance(text, str) else ""):
        return wall.answer(round_id, key, text, name)
