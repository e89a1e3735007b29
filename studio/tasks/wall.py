"""The class wall's rounds, as plain values: a round the teacher opens ("guess the next token"
for a prompt, or "paint this prompt"), the class's answers to it, one per person, and their
tally as bars beside the model's own top choices.

Pure: no Gradio, no HTTP, no lock (studio.classroom.wall keeps the rounds and guards them).
Everything is bounded, since a whole class writes into one process's memory: so many rounds,
answers a round, characters an answer, pictures a round.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.errors import InputError

if TYPE_CHECKING:
    from PIL import Image

KINDS = {"next_word": "Guess the next token", "paint": "Paint this prompt"}
MAX_ROUNDS = 5  # kept, the open one among them; older ones are forgotten
MAX_ANSWERS = 300  # a round: a large class, each answering once
MAX_ANSWER_CHARS = 40  # a guess is a token or a word, not an essay
MAX_PROMPT_CHARS = 300
MAX_PICTURES = 60  # a round: the projector's grid, and the memory they take
THUMBNAIL = 256  # pixels, the longer side of a picture on the wall
MODEL_CHOICES = 10  # of the model's own top tokens shown

NO_ROUND = "No round is open. When the teacher opens one, it shows here."
CLOSED = "That round has closed: your answer was not added. Look for the next one."
FULL = "This round has as many answers as the wall holds ({count}); yours was not added."
EMPTY_ANSWER = "Type a guess before sending."
LONG_ANSWER = "A guess is at most {count} characters: a word or a piece of one."
WRONG_KIND = "This round asks for {what}, not that."


@dataclass(frozen=True)
class Answer:
    key: str  # who answered: one answer per key (a login, or a page's session)
    text: str  # as typed, trimmed: shown as the first person wrote it
    name: str = ""  # the login name; empty is anonymous


@dataclass(frozen=True)
class Picture:
    key: str
    seed: int
    jpeg: bytes  # the thumbnail
    name: str = ""


@dataclass(frozen=True)
class Bar:
    text: str  # the guess as the first person to give it wrote it
    count: int
    share: float  # of all answers, 0 to 1


@dataclass
class Round:
    """One round; `model`: the model's own top choices as (token, probability), asked when the
    round opened (`model_note` says in words why there are none)."""

    id: int
    kind: str
    prompt: str
    open: bool = True
    answers: dict[str, Answer] = field(default_factory=dict)
    pictures: dict[int, Picture] = field(default_factory=dict)  # by number, oldest first
    model: tuple[tuple[str, float], ...] = ()
    model_note: str = ""

    def answer(self, key: str, text: object, name: str = "") -> Answer:
        """Add or replace `key`'s guess; InputError if it cannot be."""
        self._check("next_word")
        guess = normalised(text)
        if key not in self.answers and len(self.answers) >= MAX_ANSWERS:
            raise InputError(FULL.format(count=MAX_ANSWERS))
        self.answers.pop(key, None)  # a changed mind goes to the end, as the latest
        self.answers[key] = Answer(key, guess, name)
        return self.answers[key]

    def add_picture(self, picture: Picture) -> int:
        """Add `picture` (a person's new one replaces theirs); its number in the round, which
        no other picture of the round ever gets. InputError if it cannot be added."""
        self._check("paint")
        kept = {n: p for n, p in self.pictures.items() if p.key != picture.key}
        if len(kept) >= MAX_PICTURES:
            raise InputError(FULL.format(count=MAX_PICTURES))
        number = max(self.pictures, default=-1) + 1
        self.pictures = {**kept, number: picture}
        return number

    def ready_for(self, kind: str) -> None:
        """InputError unless the round is open and asks for `kind`: checked before a picture
        is painted, so a refused one costs no request."""
        self._check(kind)

    def _check(self, kind: str) -> None:
        if not self.open:
            raise InputError(CLOSED)
        if self.kind != kind:
            raise InputError(WRONG_KIND.format(what=KINDS[self.kind].lower()))


def checked_round(kind: object, prompt: object) -> tuple[str, str]:
    """The kind and the prompt of a round the teacher opens, checked."""
    if kind not in KINDS:
        raise InputError(f"A round is one of: {', '.join(KINDS)}.")
    text = prompt.strip() if isinstance(prompt, str) else ""
    if not text:
        raise InputError("Type the prompt the class will see.")
    if len(text) > MAX_PROMPT_CHARS:
        raise InputError(f"A round's prompt is at most {MAX_PROMPT_CHARS} characters.")
    return str(kind), text


def normalised(text: object) -> str:
    """A guess trimmed, its inner spaces each one space; its case kept for the wall."""
    guess = re.sub(r"\s+", " ", text).strip() if isinstance(text, str) else ""
    if not guess:
        raise InputError(EMPTY_ANSWER)
    if len(guess) > MAX_ANSWER_CHARS:
        raise InputError(LONG_ANSWER.format(count=MAX_ANSWER_CHARS))
    return guess


def tally(answers: Iterable[Answer]) -> list[Bar]:
    """The guesses counted case-insensitively ("Cat" and "cat" are one bar), most first; a tie
    in the order each guess first came."""
    counts: dict[str, int] = {}
    shown: dict[str, str] = {}
    for answer in answers:
        folded = answer.text.casefold()
        counts[folded] = counts.get(folded, 0) + 1
        shown.setdefault(folded, answer.text)
    total = sum(counts.values())
    order = sorted(counts, key=lambda folded: -counts[folded])  # sorted() keeps ties in order
    return [Bar(shown[f], counts[f], counts[f] / total) for f in order]


def model_choices(choices: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """The model's top tokens as (token, probability), likeliest first, from log probabilities."""
    ranked = sorted(choices, key=lambda choice: -choice[1])[:MODEL_CHOICES]
    return tuple((token, math.exp(logprob)) for token, logprob in ranked)


def thumbnail(picture: Image.Image) -> bytes:
    """The picture at most THUMBNAIL pixels on its longer side, as JPEG bytes: some 10 to 20 kB,
    so a round's pictures take about a megabyte, where PNGs of photos would take several."""
    small = picture.convert("RGB")
    small.thumbnail((THUMBNAIL, THUMBNAIL))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=85)
    return out.getvalue()


def round_view(round_: Round | None) -> dict:
    """What a student's page and the API show of a round: no one's answers."""
    if round_ is None or not round_.open:
        return {"open": False, "message": NO_ROUND}
    what = KINDS[round_.kind]
    return {
        "open": True,
        "id": round_.id,
        "kind": round_.kind,
        "what": what,
        "prompt": round_.prompt,
    }


def wall_view(round_: Round | None) -> dict:
    """What the teacher's wall shows of a round: the tally beside the model's choices, or the
    pictures (their numbers, seeds and names: the images are fetched one by one)."""
    if round_ is None:
        return {"round": None, "message": "No round yet: open one above."}
    bars = [bar.__dict__ for bar in tally(round_.answers.values())]
    return {
        "round": {"id": round_.id, "kind": round_.kind, "open": round_.open},
        "prompt": round_.prompt,
        "what": KINDS[round_.kind],
        "answers": len(round_.answers),
        "bars": bars,
        "model": [{"token": token, "probability": p} for token, p in round_.model],
        "model_note": round_.model_note,
        "pictures": [{"n": n, "seed": p.seed, "name": p.name} for n, p in round_.pictures.items()],
        "names": sorted({a.name for a in round_.answers.values() if a.name}),
    }
