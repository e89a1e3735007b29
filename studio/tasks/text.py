"""Text a person typed, checked before anything is sent: its type, its characters, its size.

A raw API call can send anything; a pasted text can hold a lone surrogate (half an emoji) that
no server can decode, and a megabyte pasted by mistake would go upstream whole and spend credits.
"""

from __future__ import annotations

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


def finite_number(value: object, what: str) -> float | None:
    """A number from a number box or a raw API call: None stays None; NaN, infinity and text
    are refused with the setting's name."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{what} must be a number, not {value!r}.")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise InputError(f"{what} must be a finite number, not {value}.")
    return number


def typed_number(value: object, what: str) -> float | None:
    """A number typed in a text box, or sent by an API call: empty is None, so a box can start
    empty; text that is not a finite number is refused with the setting's name."""
    if isinstance(value, str):
        typed = value.strip().replace(",", "")
        if not typed:
            return None
        try:
            value = float(typed)
        except ValueError:
            raise InputError(f"{what} must be a number, not {value.strip()!r}.") from None
    return finite_number(value, what)
