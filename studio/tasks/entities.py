"""Named entities: merge a token-classification answer into whole entities.

Servers answer in two shapes, and both are accepted:
- raw tokens, `{"entity": "B-PER", "word": "##ab", "start", "end", "score", "index"}`, as the
  course's endpoints sent (aggregation "none");
- groups, `{"entity_group": "PER", "word", "start", "end", "score"}`, as the router sends.

An entity's text is always `text[start:end]`, so "New York City" keeps its spaces; gluing the
`word` pieces (what the course's `merge_tokens` did) gives "NewYorkCity".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from studio.errors import BadResponseError


@dataclass(frozen=True)
class Entity:
    type: str
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class _Piece:
    type: str
    begins: bool  # a B- tag, or a server-made group: starts an entity unless mid-word
    mid_word: bool  # a sub-word piece: always belongs to the entity before it
    start: int
    end: int
    score: float


def merge_entities(text: str, answer: Any) -> list[Entity]:
    """Whole entities, in text order. The server's list is read, never modified."""
    if isinstance(answer, dict) and "entities" in answer:  # some servers wrap the list
        answer = answer["entities"]
    if not isinstance(answer, list):
        raise BadResponseError(
            "The server's answer is not a list of entities: is this endpoint a "
            f"token-classification model? It answered {type(answer).__name__}."
        )
    merged: list[tuple[str, int, int, list[float]]] = []
    for piece in _pieces(text, answer):
        last = merged[-1] if merged else None
        if last and piece.start < last[2]:
            continue  # overlapping duplicate
        if last and piece.mid_word and piece.start == last[2]:
            joins = True
        else:
            joins = (
                last is not None
                and not piece.begins
                and piece.type == last[0]
                and not text[last[2] : piece.start].strip()
            )
        if joins:
            merged[-1] = (last[0], last[1], piece.end, [*last[3], piece.score])
        else:
            merged.append((piece.type, piece.start, piece.end, [piece.score]))
    return [
        Entity(kind, text[start:end], start, end, sum(scores) / len(scores))
        for kind, start, end, scores in merged
    ]


def _pieces(text: str, answer: list) -> Iterable[_Piece]:
    cursor = 0
    pieces = []
    for item in answer:
        if not isinstance(item, dict):
            raise BadResponseError(f"An entity in the server's answer is not an object: {item!r}")
        grouped = "entity_group" in item
        tag = str(item.get("entity_group") or item.get("entity") or "O")
        if tag == "O":
            continue
        prefix, _, kind = tag.partition("-") if tag[:2] in ("B-", "I-") else ("", "", tag)
        word = str(item.get("word") or "")
        span = _span(text, item, word, cursor)
        if span is None:
            continue
        start, end = span
        cursor = end
        mid_word = word.startswith("##") or _inside_word(text, start)
        pieces.append(
            _Piece(
                type=kind,
                begins=grouped or prefix == "B",
                mid_word=mid_word,
                start=start,
                end=end,
                score=_score(item),
            )
        )
    return sorted(pieces, key=lambda p: p.start)


def _score(item: dict) -> float:
    try:
        return float(item.get("score") or 0.0)
    except (TypeError, ValueError):
        raise BadResponseError(
            f"An entity's score in the server's answer is not a number: {item.get('score')!r}"
        ) from None


def _span(text: str, item: dict, word: str, cursor: int) -> tuple[int, int] | None:
    """Offsets from the server, or found by searching when an old server sent none."""
    start, end = item.get("start"), item.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return start, end
    needle = word.removeprefix("##").strip()
    if not needle:
        return None
    found = text.find(needle, cursor)
    if found < 0:
        found = text.lower().find(needle.lower(), cursor)
    return (found, found + len(needle)) if found >= 0 else None


def _inside_word(text: str, start: int) -> bool:
    """True when `start` cuts a word in two (scripts written with spaces between words)."""
    if start == 0:
        return False
    before, after = text[start - 1], text[start]
    return (
        before.isalnum()
        and after.isalnum()
        and not _spaceless_script(before)
        and not _spaceless_script(after)
    )


def _spaceless_script(char: str) -> bool:
    # Chinese and Japanese put no spaces between words: adjacent pieces are not sub-words.
    return unicodedata.east_asian_width(char) in ("W", "F")


def segments(text: str, entities: list[Entity]) -> list[tuple[str, str | None]]:
    """The whole text as (piece, type or None) in order: what highlighted text displays."""
    pieces: list[tuple[str, str | None]] = []
    cursor = 0
    for entity in entities:
        if entity.start > cursor:
            pieces.append((text[cursor : entity.start], None))
        pieces.append((entity.text, entity.type))
        cursor = entity.end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces
