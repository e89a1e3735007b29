"""The describe-and-generate game: caption a picture, paint the caption, caption the painting.

Each round shows how meaning drifts between a captioning model and an image model. This module
only orchestrates two callables, so the UI decides which models play (remote or local) and can
show every round as soon as it is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

from studio.errors import BadResponseError, InputError
from studio.tasks.image_settings import SEED_LIMIT, resolve_seed
from studio.tasks.text import NumberBox
from studio.tasks.uploads import NO_UPLOAD

ROUNDS = NumberBox("Rounds", 1, 5, whole=True, default=3)

Caption = Callable[[Image.Image], str]
Generate = Callable[[str, int], Image.Image]  # (prompt, seed) -> image


@dataclass(frozen=True)
class Round:
    """One round: the caption of the previous picture and the picture generated from it."""

    number: int  # 1-based
    caption: str
    seed: int
    image: Image.Image

    @property
    def label(self) -> str:
        """What the gallery shows under the round's picture: its number, seed and caption."""
        return f"Round {self.number} · seed {self.seed}: {self.caption}"


@dataclass(frozen=True)
class Captioned:
    """Half a round: the caption of the previous picture, and the seed its picture will get."""

    number: int
    caption: str
    seed: int


def round_seed(base_seed: int, number: int) -> int:
    """Round 1 uses the base seed itself, each later round the next one (wrapping at 2**32)."""
    return (base_seed + number - 1) % SEED_LIMIT


def play_rounds(
    image: Image.Image | None,
    rounds: float,
    caption: Caption,
    generate: Generate,
    *,
    seed: float | None,
) -> Iterator[Round]:
    """Play the game, yielding each round as it finishes.

    Round 1 captions ``image`` and generates from that caption; each later round captions the
    previous round's picture. The inputs are checked now, before the first model call, and the
    base seed is resolved once (None or -1 pick one), so a run can be replayed from round 1's seed.
    """
    steps = play_steps(image, rounds, caption, generate, seed=seed)
    return (step for step in steps if isinstance(step, Round))


def play_steps(
    image: Image.Image | None,
    rounds: object,
    caption: Caption,
    generate: Generate,
    *,
    seed: object,
) -> Iterator[Captioned | Round]:
    """The game as `play_rounds` plays it, with each round's caption yielded as soon as it is
    known, before its picture is asked for: a page can show it, and stop between the two."""
    if image is None:
        raise InputError(NO_UPLOAD)
    count = ROUNDS.read(rounds)
    return _play(image, count, caption, generate, resolve_seed(seed))


def _play(
    image: Image.Image, count: int, caption: Caption, generate: Generate, base_seed: int
) -> Iterator[Captioned | Round]:
    picture = image
    for number in range(1, count + 1):
        text = caption(picture).strip()
        if not text:
            raise BadResponseError(f"Round {number}: the captioning model returned no caption.")
        seed = round_seed(base_seed, number)
        yield Captioned(number=number, caption=text, seed=seed)
        picture = generate(text, seed)
        yield Round(number=number, caption=text, seed=seed, image=picture)
