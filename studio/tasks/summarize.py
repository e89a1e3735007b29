"""Summarization: validate, split long text to fit the model's window, read the answers.

BART-family models read at most 1,024 tokens. Without a tokenizer in the core install we count
words: English averages about 1.3 BART tokens per word, so 600 words (~800 tokens) leave room for
names, numbers and punctuation, which cost more. Longer text is split at paragraph and sentence
boundaries, each piece is summarized, and the summaries are joined in order.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from studio.errors import BadResponseError, InputError
from studio.secrets import shorten
from studio.tasks.text import NumberBox, checked_text

WORDS_PER_PIECE = 600
MAX_WORDS = 12_000  # about 20 pieces: beyond that a class would burn credits on one click
MAX_CHARS = 100_000  # the same bound for text without spaces, which words do not measure
MAX_PARALLEL_PIECES = 4
LENGTH_LIMIT = 1024
SHAPE_CHARS = 120  # of an answer without a summary, quoted in the message
MIN_LENGTH = NumberBox("Minimum length", 1, LENGTH_LIMIT, whole=True, unit="tokens")
MAX_LENGTH = NumberBox("Maximum length", 1, LENGTH_LIMIT, whole=True, unit="tokens")

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


@dataclass(frozen=True)
class Summary:
    text: str
    pieces: int  # how many parts the input was split into


def read_lengths(min_length: object, max_length: object) -> tuple[int | None, int | None]:
    """The lengths as typed in the boxes or sent by an API call (numbers, text, or empty for
    the model's default), checked alone and together."""
    shortest, longest = MIN_LENGTH.read(min_length), MAX_LENGTH.read(max_length)
    if shortest and longest and shortest > longest:
        raise InputError(
            f"Minimum length ({shortest}) is above maximum length ({longest}): lower the "
            "minimum or raise the maximum."
        )
    return shortest, longest


def validate(text: str | None, min_length: object, max_length: object) -> str:
    text = checked_text(text, "The text to summarize", limit=MAX_CHARS)
    if not text:
        raise InputError("Type or paste some text to summarize.")
    read_lengths(min_length, max_length)
    words = len(text.split())
    if words > MAX_WORDS:
        raise InputError(
            f"This text has {words:,} words; the studio summarizes at most {MAX_WORDS:,} at once. "
            "Summarize it in parts."
        )
    return text


def split_text(text: str, words_per_piece: int = WORDS_PER_PIECE) -> list[str]:
    """Pieces of at most `words_per_piece` words, cut between sentences where possible."""
    if len(text.split()) <= words_per_piece:
        return [text]
    sentences = [s for paragraph in re.split(r"\n\s*\n", text) for s in _sentences(paragraph)]
    pieces: list[list[str]] = []
    current: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        # A sentence longer than a piece (a list, a transcript) is cut by words.
        for start in range(0, len(words), words_per_piece):
            chunk = words[start : start + words_per_piece]
            if current and len(current) + len(chunk) > words_per_piece:
                pieces.append(current)
                current = []
            current.extend(chunk)
    if current:
        pieces.append(current)
    return [" ".join(piece) for piece in pieces]


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph.strip()) if s]


def parameters(min_length: int | None, max_length: int | None) -> dict | None:
    """Length limits as the pipeline names them; each backend puts them where its server reads
    them (the router nests them in `generate_parameters`)."""
    lengths = {
        name: value
        for name, value in (("min_length", min_length), ("max_length", max_length))
        if value
    }
    if not lengths:
        return None
    return lengths


def summary_from_answer(answer: Any) -> str:
    """`[{"summary_text": ...}]`, or a bare object: the text, stripped."""
    item = answer[0] if isinstance(answer, list) and answer else answer
    text = item.get("summary_text") if isinstance(item, dict) else None
    if not isinstance(text, str):
        raise BadResponseError(
            "The server's answer has no summary_text: is this endpoint a summarization model? "
            f"It answered {_shape(answer)}."
        )
    return text.strip()


def summarize(
    text: str,
    complete: Callable[[str, dict | None], Any],
    *,
    min_length: int | None = None,
    max_length: int | None = None,
) -> Summary:
    """Summarize `text`, calling `complete(piece, parameters)` once per piece (a few at once)."""
    text = validate(text, min_length, max_length)
    params = parameters(*read_lengths(min_length, max_length))
    pieces = split_text(text)
    if len(pieces) == 1:
        return Summary(summary_from_answer(complete(pieces[0], params)), 1)
    pool = ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_PIECES, len(pieces)))
    # Each piece runs in a copy of the caller's context, so what the caller keeps there (the
    # person's event, for progress messages) is there too.
    futures = [
        pool.submit(contextvars.copy_context().run, complete, piece, params) for piece in pieces
    ]
    try:
        answers = [future.result() for future in futures]
    finally:
        # After a failure, pieces not yet sent are not sent: they would only spend credits.
        pool.shutdown(wait=False, cancel_futures=True)
    return Summary("\n\n".join(summary_from_answer(a) for a in answers), len(pieces))


def _shape(answer: Any) -> str:
    """The server's answer, short, as the message quotes it (it may echo the token)."""
    return shorten(repr(answer), SHAPE_CHARS)
