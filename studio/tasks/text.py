"""What a person typed or an API call sent, checked before anything is sent: text (its type,
its characters, its size) and numbers (one rule for every number box, slider and API number).

A raw API call can send anything; a pasted text can hold a lone surrogate (half an emoji) that
no server can decode, and a megabyte pasted by mistake would go upstream whole and spend credits.
A number can be NaN or an infinity (JSON as Python writes it), or text typed in a box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from studio.errors import InputError


def checked_text(value: object, what: str, *, limit: int | None) -> str:
    """`value` stripped (None is empty), refused with a message naming `what` when it is not
    text, holds characters that cannot be sent, or is longer than `limit` characters (None:
    the caller measures it)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, not {type(value).__name__}.")
    text = value.strip()
    if limit is not None and len(text) > limit:
        raise InputError(
            f"{what} is {len(text):,} characters; the studio sends at most {limit:,}. "
            "Shorten it, or send it in parts."
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(
            f"{what} holds a character that cannot be sent (at position {error.start + 1}, "
            "often half of an emoji lost in copying); retype it there."
        ) from None
    return text


@dataclass(frozen=True)
class NumberBox:
    """One number setting, written once: the name its messages give it, its range, whether it
    is whole, its default. Every number box, slider and API number is read by `read`, so a
    value is checked the same way whichever way it came (the page, gradio_client, curl)."""

    name: str
    low: float
    high: float
    whole: bool = False
    default: float | None = None  # what an empty value means (None: nothing chosen)
    unit: str = ""  # "tokens", "pixels": said after the range
    random: int | None = None  # a value outside the range that asks for a random one (-1)

    def read(self, value: object) -> float | None:
        """The number in `value` (a number, or text as typed in a box); empty is `default`.
        InputError naming the setting for text that is not a number, NaN, an infinity, a number
        out of range, and a fraction where a whole number is due. Whole numbers come back as
        int, exactly (a seed of 2**63 - 1 survives no float)."""
        number = _number(value, self.name)
        if number is None:
            return self.default
        if number != self.random and not self.low <= number <= self.high:  # NaN fails it too
            raise InputError(f"{self.name} must be {self.allowed()}, not {plain(number)}.")
        if not self.whole:
            return number
        if isinstance(number, float) and not number.is_integer():
            of_unit = f" of {self.unit}" if self.unit else ""
            raise InputError(f"{self.name} must be a whole number{of_unit}, not {plain(number)}.")
        return int(number)

    def allowed(self) -> str:
        """What the setting takes, in words: "between 1 and 1024 tokens"."""
        unit = f" {self.unit}" if self.unit else ""
        also = f"{self.random} (random) or " if self.random is not None else ""
        return f"{also}between {plain(self.low)} and {plain(self.high)}{unit}"


def _number(value: object, name: str) -> float | None:
    if isinstance(value, str):
        typed = value.strip().replace(",", "")
        if not typed:
            return None
        try:
            return int(typed)
        except ValueError:
            pass
        try:
            return float(typed)
        except ValueError:
            raise InputError(f"{name} must be a number, not {value.strip()!r}.") from None
    if value is None or isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise InputError(f"{name} must be a number, not {value!r}.")


def plain(number: float) -> str:
    """A number as a person writes it: 1024, 0.05, NaN, infinity."""
    if isinstance(number, int):  # exact, but a number of a thousand digits is not repeated
        digits = str(number)
        return digits if len(digits) <= 30 else f"a number of {len(digits.lstrip('-'))} digits"
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "infinity" if number > 0 else "-infinity"
    return str(int(number)) if number.is_integer() and abs(number) < 1e16 else f"{number:g}"
