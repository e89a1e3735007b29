"""How the model picks the next word: the top next tokens a server sent once, reshaped by
temperature and top-p as a sampler would, and one of them picked.

    the server's top tokens, with log probabilities (asked once, at temperature 1)
      ─ reshaped(temperature, top_p) ─ Bars: each token's chance of being picked, the cut ones 0
      ─ pick(bars, random) or most_likely(bars) ─ the token appended ─ asked again

Only the tokens the server sent can be picked, so the chances are shares among them: the rest
of the vocabulary, which the server did not name, is left out. Moving a slider reshapes the
bars from the same numbers, with no new request. Pure: no Gradio, no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from studio.errors import InputError
from studio.tasks.text import NumberBox

ASKED = 20  # top tokens asked of an OpenAI-compatible server: the most OpenAI's API takes
START_CHARS = 2000  # the longest start the panel sends: a sentence or a paragraph, not a book
# Up to 2, past the chat's 1: a class sees the bars flatten out as the words grow random.
TEMPERATURE = NumberBox("Temperature", 0.0, 2.0, default=1.0)
TOP_P = NumberBox("Top-p", 0.05, 1.0, default=1.0)


@dataclass(frozen=True)
class Bar:
    """One next token: its text, the probability the model gave it, and its chance of being
    picked with these settings (0 when the nucleus cut leaves it out)."""

    token: str
    probability: float
    chance: float
    kept: bool


def checked_start(text: object) -> str:
    """The start of a sentence to continue, as typed (its spaces matter to the next token)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("Type the start of a sentence first, for example: The best thing about")
    if len(text) > START_CHARS:
        raise InputError(
            f"The start is {len(text)} characters long; keep it under {START_CHARS}, a sentence "
            "or a short paragraph."
        )
    return text


def reshaped(choices: Iterable[tuple[str, float]], temperature: float, top_p: float) -> list[Bar]:
    """Bars for (token, log probability) pairs, likeliest first: the chances that temperature
    and top-p give each token among these. Temperature 0 always takes the likeliest; top-p
    keeps the fewest tokens whose chances add up to it (at least one) and shares the rest out
    among them, so the cut is where the kept tokens end."""
    ranked = sorted(choices, key=lambda choice: -choice[1])
    if not ranked:
        return []
    weights = _weights([logprob for _, logprob in ranked], temperature)
    total = sum(weights)
    shares = [weight / total for weight in weights]
    kept = _nucleus(shares, top_p)
    kept_total = sum(shares[:kept])
    return [
        Bar(token, math.exp(logprob), share / kept_total if i < kept else 0.0, i < kept)
        for i, ((token, logprob), share) in enumerate(zip(ranked, shares, strict=True))
    ]


def _weights(logprobs: Sequence[float], temperature: float) -> list[float]:
    """exp(logprob / temperature), scaled by the likeliest so that nothing overflows."""
    if temperature <= 0:
        return [1.0] + [0.0] * (len(logprobs) - 1)
    top = logprobs[0]
    return [math.exp((logprob - top) / temperature) for logprob in logprobs]


def _nucleus(shares: Sequence[float], top_p: float) -> int:
    """How many of the (sorted) shares top-p keeps: until their sum reaches it."""
    if top_p >= 1:
        return sum(1 for share in shares if share > 0) or 1
    total = 0.0
    for count, share in enumerate(shares, start=1):
        total += share
        if total >= top_p - 1e-12 or share <= 0:
            return count
    return len(shares)


def pick(bars: Sequence[Bar], random: Callable[[], float]) -> Bar:
    """The token a sampler takes: `random()` (from 0 to 1) falls within one token's chance."""
    kept = [bar for bar in bars if bar.kept and bar.chance > 0]
    if not kept:
        raise InputError("There are no next words to pick from yet: show them first.")
    point, reached = random(), 0.0
    for bar in kept:
        reached += bar.chance
        if point < reached:
            return bar
    return kept[-1]  # the sum fell a hair short of 1 by rounding


def most_likely(bars: Sequence[Bar]) -> Bar:
    """The likeliest token, which temperature 0 always takes."""
    if not bars:
        raise InputError("There are no next words to pick from yet: show them first.")
    return max(bars, key=lambda bar: bar.probability)


def shown_token(token: str) -> str:
    """A token as a person can read it: a space as ␣, a line break as ⏎, empty as (nothing)."""
    return token.replace(" ", "␣").replace("\n", "⏎").replace("\t", "⇥") or "(nothing)"
