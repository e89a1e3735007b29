"""Token probabilities: each token of a reply, how likely the model found it, and the tokens it
found likeliest in its place. Asked only when wanted (they cost bandwidth), kept with the reply
so that a lesson can show them after the fact.

    OpenAI-compatible  choices[0].logprobs.content: [{"token", "logprob", "top_logprobs": [...]}]
    TGI                each event's token.logprob, and top_tokens: [{"text", "logprob"}]
    this process       the log-softmax of each step's raw logits (studio.local.chat), sent on
                       in the OpenAI shape

Pure: no Gradio, no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_ALTERNATIVES = 10  # the most alternatives a person can ask for, per token
ROUTER_MAX = 5  # the router documents top_logprobs up to 5
TGI_MAX = 5  # TGI's default --max-top-n-tokens
# What the note of a server that refused the fields says: the reply then has none, as told.
ASKED_AGAIN_WITHOUT = "asked for again without token probabilities"


@dataclass(frozen=True)
class TokenProb:
    """One token of a reply: its text, its log probability, and the likeliest tokens at its
    place, likeliest first, as (text, log probability)."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()

    @property
    def prob(self) -> float:
        return math.exp(self.logprob)


def checked_alternatives(value: object) -> int | None:
    """How many alternatives to keep per token (0 to 10), or None: no probabilities asked.
    True (a switch) asks for 5, as many as every server gives."""
    from studio.errors import InputError  # local: studio.tasks.chat imports this module

    if value is None or value is False or value == "":
        return None
    if value is True:
        return ROUTER_MAX
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= MAX_ALTERNATIVES or str(number) != str(value).strip():
        raise InputError(
            f"Token probabilities: the number of alternatives must be a whole number from 0 to "
            f"{MAX_ALTERNATIVES}, or empty for none; not {str(value)[:40]!r}."
        )
    return number


def from_openai(logprobs: Any) -> tuple[TokenProb, ...]:
    """A chunk's ``choices[0].logprobs`` (None when the server sent none)."""
    content = logprobs.get("content") if isinstance(logprobs, Mapping) else None
    if not isinstance(content, list):
        return ()
    return tuple(_read(item, "token") for item in content if _is_token(item, "token"))


def from_tgi(token: Any, top_tokens: Any) -> tuple[TokenProb, ...]:
    """A TGI event's ``token`` and ``top_tokens``; nothing when the token has no logprob."""
    if not _is_token(token, "text"):
        return ()
    top = [t for t in top_tokens if _is_token(t, "text")] if isinstance(top_tokens, list) else []
    ranked = sorted(top, key=lambda t: -t["logprob"])
    return (TokenProb(token["text"], token["logprob"], tuple(_pairs(ranked, "text"))),)


def _read(item: Mapping, name: str) -> TokenProb:
    top = item.get("top_logprobs")
    listed = [t for t in top if _is_token(t, name)] if isinstance(top, list) else []
    return TokenProb(item[name], float(item["logprob"]), tuple(_pairs(listed, name)))


def _pairs(items: Iterable[Mapping], name: str) -> Iterable[tuple[str, float]]:
    return ((str(t[name]), float(t["logprob"])) for t in items)


def _is_token(item: Any, name: str) -> bool:
    return (
        isinstance(item, Mapping)
        and isinstance(item.get(name), str)
        and isinstance(item.get("logprob"), int | float)
        and not isinstance(item.get("logprob"), bool)
    )


def kept_note(tokens: int, asked: bool, notes: Iterable[str] = ()) -> str:
    """The note under a reply: how many tokens' probabilities were kept, or that none came
    (unless the stream's `notes` already say the server refused them)."""
    if not asked or not tokens and any(ASKED_AGAIN_WITHOUT in note for note in notes):
        return ""
    if tokens:
        return f"Probabilities kept for {tokens} tokens."
    return (
        "Token probabilities were asked for, but this server sent none: it does not give them "
        "(transformers serve, some providers). The reply is as it would be without them."
    )
