"""The class wall with its rounds in the Redis every replica shares (STUDIO_REDIS_URL), so a
teacher's /wall on one replica shows the answers and pictures sent to any replica, and every
replica's Class tab sees the same open round. The same methods as the wall in memory
(studio.classroom.wall), each one Lua script (studio.classroom.wall_scripts), so the bounds of
studio.tasks.wall hold across replicas.

When Redis does not answer, the wall is not kept in each replica's memory instead, as the limits
are (studio.classroom.fallback): a class split over several walls would be worse than a wall
that says so. A student's page then says the wall cannot be reached and their answer is not
taken; the teacher's page says the same; every page's notice shows no round.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from studio.classroom.shared import PREFIX
from studio.classroom.wall_scripts import ANSWER, CLOSE, OPEN, PICTURE, READ, SET_MODEL
from studio.errors import InputError, StudioError
from studio.tasks.wall import (
    CLOSED,
    FULL,
    KINDS,
    MAX_ANSWERS,
    MAX_PICTURES,
    MAX_ROUNDS,
    NO_ROUND,
    WRONG_KIND,
    Answer,
    Picture,
    Round,
    checked_round,
    normalised,
    round_view,
    wall_view,
)

log = logging.getLogger("studio.classroom.shared_wall")
AWAY = "The class wall cannot be reached just now: try again in a moment."
DAY_MS = 24 * 3600 * 1000  # how long a round's keys and thumbnails outlive its last change
RETRY_AFTER = 2.0  # seconds without asking a Redis that did not answer: polls do not pile up


class SharedWall:
    """The wall in Redis, through `redis` (a redis-py client, as the shared store's). A Redis
    that does not answer is a StudioError saying so, and is not asked again for RETRY_AFTER."""

    def __init__(self, redis, *, clock: Callable[[], float] = time.monotonic) -> None:
        import redis as redis_py  # present: `redis` is its client

        self.redis, self.clock, self.prefix = redis, clock, PREFIX + "wall:"
        self._errors = (redis_py.RedisError, OSError)
        self._scripts = {
            name: redis.register_script(lua)
            for name, lua in [("open", OPEN), ("close", CLOSE), ("set_model", SET_MODEL)]
            + [("read", READ), ("answer", ANSWER), ("picture", PICTURE)]
        }
        self._retry_at: float | None = None  # while set, Redis did not answer
        self._lock = threading.Lock()

    def open(self, kind: object, prompt: object) -> Round:
        """A new round, open; the one open before it closes."""
        kind, prompt = checked_round(kind, prompt)
        round_id = int(self._run("open", kind, prompt, MAX_ROUNDS))
        return Round(round_id, kind, prompt)

    def close(self) -> None:
        self._run("close")

    def set_model(self, round_id: int, choices: tuple, note: str = "") -> None:
        """The model's own top choices for a round, once they came (or why they did not)."""
        self._run("set_model", round_id, json.dumps(choices), note)

    def current(self) -> Round | None:
        """The open round, if any."""
        return self._read("")[1]

    def latest(self) -> Round | None:
        return self._read("latest")[1]

    def answer(self, round_id: int | None, key: str, text: object, name: str = "") -> dict:
        """`key`'s guess for the round `round_id` (the open one when None)."""
        guess = normalised(text)
        kept = json.dumps([guess, name])
        answer = self._run("answer", _id(round_id), key, kept, MAX_ANSWERS)
        round_, count = self._checked(answer, MAX_ANSWERS)
        return {"round": round_, "answer": guess, "answers": count}

    def ready_for(self, round_id: int | None, kind: str) -> Round:
        """The round, checked open and asking for `kind`; InputError otherwise."""
        return self._read(_id(round_id), kind, whole=False)[1]

    def add_picture(self, round_id: int, picture: Picture) -> int:
        """Add a picture to the round; how many it has now."""
        kept = json.dumps([picture.seed, picture.name, picture.key])
        args = (_id(round_id), picture.key, kept, picture.jpeg, MAX_PICTURES)
        return self._checked(self._run("picture", *args), MAX_PICTURES)[1]

    def picture(self, round_id: int, n: int) -> bytes | None:
        return self._call(lambda: self.redis.get(f"{self.prefix}j:{round_id}:{n}"))

    @property
    def version(self) -> int:
        return int(self._call(lambda: self.redis.get(self.prefix + "version")) or 0)

    def student_view(self) -> dict:
        """The open round; while Redis does not answer, no round, and the words that say so."""
        try:
            return round_view(self._read("", whole=False)[1])
        except StudioError as away:
            return {"open": False, "message": away.message}

    def teacher_view(self) -> dict:
        version, latest = self._read("latest")
        return {**wall_view(latest), "version": version}

    def _read(self, which: str, kind: str = "", whole: bool = True) -> tuple[int, Round | None]:
        """The wall's version and the round asked for: 'latest', an id ('' for the open one),
        checked of `kind` when given (InputError when it cannot be had); without its answers
        and pictures unless `whole` (a student's page polls, and needs neither)."""
        status, version, *found = self._run("read", which, kind, int(whole))
        status = status.decode()
        if status != "ok" and (kind or status != "none"):
            raise refusal(status, 0)
        return int(version), (_round(*found) if status == "ok" else None)

    def _checked(self, answer: list, most: int) -> list[int]:
        """The script's numbers after its status 'ok', or the InputError its status means."""
        status = answer[0].decode()
        if status != "ok":
            raise refusal(status, most)
        return [int(value) for value in answer[1:]]

    def _run(self, script: str, *args):
        return self._call(lambda: self._scripts[script](args=[self.prefix, DAY_MS, *args]))

    def _call(self, ask: Callable):
        """Redis's answer to `ask`; StudioError(AWAY) when it does not answer (and, for a
        while after, without asking it)."""
        if self._retry_at is not None and self.clock() < self._retry_at:
            raise StudioError(AWAY, status=503)
        try:
            answer = ask()
        except self._errors as error:
            with self._lock:
                if self._retry_at is None:
                    why = f"{type(error).__name__}: {error}"  # redis-py names no password
                    log.warning("The class wall's Redis does not answer (%s)", why)
                self._retry_at = self.clock() + RETRY_AFTER
            raise StudioError(AWAY, status=503) from error
        if self._retry_at is not None:
            with self._lock:
                if self._retry_at is not None:
                    log.warning("The class wall's Redis answers again")
                    self._retry_at = None
        return answer


def refusal(status: str, most: int) -> InputError:
    """What a script's refusal means, in the wall's words (`most`: the bound a full round
    has reached)."""
    if status == "closed":
        return InputError(CLOSED)
    if status == "full":
        return InputError(FULL.format(count=most))
    if status.startswith("kind:"):
        return InputError(WRONG_KIND.format(what=KINDS[status.removeprefix("kind:")].lower()))
    return InputError(NO_ROUND)


def _id(round_id: int | None) -> str:
    return "" if round_id is None else str(int(round_id))


def _round(round_id: bytes, is_open: int, fields: list, answers: list, pictures: list) -> Round:
    """A round as the READ script gives it (each hash a flat list of fields and values)."""
    field = {key.decode(): value.decode() for key, value in _pairs(fields)}
    kept: list[tuple[int, Answer]] = []
    for key, value in _pairs(answers):
        seq, _, rest = value.decode().partition(":")
        text, name = json.loads(rest)
        kept.append((int(seq), Answer(key.decode(), text, name)))
    shown: dict[int, Picture] = {}
    for n, value in sorted((int(n), value) for n, value in _pairs(pictures)):
        seed, name, key = json.loads(value)
        shown[n] = Picture(key, seed, b"", name)  # the thumbnail is fetched on its own
    return Round(
        id=int(round_id),
        kind=field["kind"],
        prompt=field["prompt"],
        open=bool(is_open),
        answers={answer.key: answer for _, answer in sorted(kept, key=lambda pair: pair[0])},
        pictures=shown,
        model=tuple(tuple(choice) for choice in json.loads(field.get("model", "[]"))),
        model_note=field.get("note", ""),
    )


def _pairs(flat: list) -> list[tuple]:
    return list(zip(flat[::2], flat[1::2], strict=True))
