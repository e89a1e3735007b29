"""Compare: one prompt, two columns, the same settings but for one thing (the model,
temperature, top-p, the system prompt, the seed or Thinking), and in blind mode the columns
named A and B until the person votes.

    Side (what one column asks) ─ sides(base, differs, a, b) ─ (Side A, Side B)
    blind_order(coin) ─ which side stands in the left column; reveal(...) after the vote
    column_line(...) ─ first-token time, tokens per second, tokens and price under a column

Pure: no Gradio, no HTTP. The settings are checked by the chat's own rules, so a value out of
range is refused with its setting's name before anything is sent.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass

from studio.errors import InputError
from studio.tasks.chat import ChatSettings

# What may differ between the two columns, as the page's choice names it, and its field.
DIFFERS = {
    "Model": "model",
    "Temperature": "temperature",
    "Top-p": "top_p",
    "System prompt": "system_prompt",
    "Seed": "seed",
    "Thinking": "thinking",
}
NAMES = ("A", "B")
VOTES = ("A", "B", "Tie")


@dataclass(frozen=True)
class Side:
    """What one column asks: the settings as the controls give them (numbers or text)."""

    model: str = ""
    system_prompt: str = ""
    temperature: object = None
    top_p: object = None
    max_new_tokens: object = None
    seed: object = None
    thinking: object = ""

    @property
    def settings(self) -> tuple:
        """The chat's settings tuple (studio.chat.turn.Turn.settings); repetition penalty
        stays at its default, the same on both sides."""
        return (self.temperature, self.top_p, self.max_new_tokens, None, self.seed, self.thinking)

    def checked(self) -> ChatSettings:
        """The settings read by their rules: InputError with the setting's name if one is off."""
        return ChatSettings.from_controls(*self.settings)


def sides(base: Side, differs: str, a: object, b: object) -> tuple[Side, Side]:
    """Side A and side B: `base` with the setting `differs` (a key of DIFFERS) set to `a` and
    to `b`. Refused before anything is sent: an unknown setting, the same value twice (there
    would be nothing to compare), a value its setting's rule refuses."""
    field = DIFFERS.get(differs)
    if field is None:
        raise InputError(f"Choose what differs between the columns: {', '.join(DIFFERS)}.")
    a, b = _blank_as_none(a), _blank_as_none(b)
    if field in ("model", "system_prompt", "thinking"):
        a, b = str(a or "").strip(), str(b or "").strip()
    pair = (dataclasses.replace(base, **{field: a}), dataclasses.replace(base, **{field: b}))
    checked = []
    for name, side in zip(NAMES, pair, strict=True):
        try:
            checked.append(side.checked())
        except InputError as exc:
            raise InputError(f"Column {name}: {exc.message}") from None
    if pair[0] == pair[1] or (
        field != "model" and field != "system_prompt" and checked[0] == checked[1]
    ):
        raise InputError(
            f"Both columns have the same {differs.lower()}: give column B another one, "
            "so there is something to compare."
        )
    return pair


def _blank_as_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def differences(a: Side, b: Side) -> list[str]:
    """The names of the settings that differ between two sides, as the page names them."""
    return [name for name, field in DIFFERS.items() if getattr(a, field) != getattr(b, field)]


def describe(side: Side, differs: str, configured_model: str = "") -> str:
    """A column's heading once revealed: the setting that differs and its value."""
    field = DIFFERS[differs]
    value = getattr(side, field)
    if field == "model":
        value = value or configured_model or "the configured model"
    elif field == "system_prompt":
        value = f"“{_short(value)}”" if value else "none"
    elif field == "seed":
        value = value if value not in (None, "") else "random"
    elif field == "thinking":
        value = value or "the model's default"
    return f"{differs}: {value}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blind_order(coin: Callable[[], float] = random.random) -> bool:
    """Whether the columns are swapped: in blind mode side B may stand in the left column, so
    the person cannot tell which is which from the place. `coin`: injected by tests."""
    return coin() < 0.5


def in_columns(pair: tuple, swapped: bool) -> tuple:
    """The pair in the columns' order (left, right)."""
    return (pair[1], pair[0]) if swapped else pair


@dataclass(frozen=True)
class Verdict:
    """A vote and what it revealed: which column won and what each column was."""

    vote: str  # "A", "B" or "Tie": the column's name as shown
    headings: tuple[str, str]  # the columns' headings, revealed
    message: str


def reveal(vote: str, headings: tuple[str, str]) -> Verdict:
    """The vote for a column named A or B (the left and right columns) or a tie, and the
    revealed headings. A vote for nothing is refused: the reveal comes after the vote."""
    if vote not in VOTES:
        raise InputError("Vote for A, B or Tie first: the columns are revealed after the vote.")
    if vote == "Tie":
        message = f"A tie. A was {headings[0]}; B was {headings[1]}."
    else:
        chosen = headings[NAMES.index(vote)]
        other = headings[1 - NAMES.index(vote)]
        message = f"You preferred {vote}: {chosen}. The other was {other}."
    return Verdict(vote, headings, message)


def column_line(
    first_token_s: float | None,
    tokens_per_s: float | None,
    tokens: int,
    price_out: float | None = None,
) -> str:
    """What stands under a column: first-token time, tokens per second, tokens, and what the
    reply's tokens cost at the listed output price (USD per million), where the list says it."""
    parts = [
        f"first token {first_token_s:.2f} s" if first_token_s is not None else "no text yet",
    ]
    if tokens_per_s is not None:
        parts.append(f"{tokens_per_s:.1f} tok/s")
    parts.append(f"{tokens} token{'s' if tokens != 1 else ''}")
    if price_out is not None:
        cost = tokens * price_out / 1_000_000
        parts.append("free" if cost == 0 else f"about ${cost:.6f} for the reply's tokens")
    return " · ".join(parts)
