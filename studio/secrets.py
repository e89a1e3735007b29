"""The secrets the studio holds (access tokens, login passwords), masked wherever text leaves it.

Every message a person sees is a `StudioError`, whose text passes through `redact` when it is
made; every log record is masked when made, once `mask_logs` has run. So a server that
quotes the `Authorization` header back in its error shows nobody the token.

A server may quote a token whole, cut short, split over two lines or glued to `Bearer `, so
`redact` masks every run of text that matches 8 or more characters of a token, not just the
whole of it. And text is masked before it is cut (`shorten`): a cut made first would leave a
piece of the secret that no longer matches it whole.
"""

from __future__ import annotations

import functools
import logging
import threading

MASK = "[token]"
ELLIPSIS = "…"
_MIN_LENGTH = 6  # shorter values would mask ordinary words
PIECE = 8  # a run this long that matches a secret is masked: shorter ones say nothing useful
GRAM = 4  # what `redact` looks for first: each window of PIECE holds one of a secret's grams

_secrets: dict[str, bool] = {}  # each secret, and whether its pieces are masked too
_lock = threading.Lock()


def keep_secret(value: str | None, *, pieces: bool = True) -> None:
    """Mask `value` from now on, in this process, and every piece of it unless `pieces` is
    False: a login password is sent to no server, so none quotes it cut, and its pieces may be
    ordinary words ("huggingface", "classroom") that messages need."""
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets[value] = _secrets.get(value, False) or pieces


def redact(text: str, *also: str | None) -> str:
    """`text` with every kept secret, and every piece of `PIECE` characters or more of a token
    (kept, or given as `also`), replaced by `MASK`."""
    secrets = dict(_secrets)
    secrets.update((value, True) for value in also if value and len(value) >= _MIN_LENGTH)
    if not secrets or not text:
        return text
    spans: list[tuple[int, int]] = []
    for secret, pieces in secrets.items():
        spans.extend(_matches(text, secret) if pieces else _whole(text, secret))
    if not spans:
        return text
    pieces, done = [], 0
    for start, end in _merged(spans):
        pieces += [text[done:start], MASK]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def shorten(text: str, limit: int, *also: str | None) -> str:
    """`text` masked, then cut to at most `limit` characters, ending in "…" where cut. Masking
    comes first so that no cut leaves a piece of a secret behind, and the cut text is masked
    again: every shortened text the studio shows or logs goes through here."""
    text = redact(text, *also)
    if len(text) > limit:
        text = redact(text[: max(limit - len(ELLIPSIS), 0)], *also) + ELLIPSIS
    return text


def _matches(text: str, secret: str) -> list[tuple[int, int]]:
    """Where `text` holds `secret` whole, or a run of `PIECE` or more of its characters.

    Every such run is covered by the `PIECE`-character windows of the secret found in it, so
    finding each window (a fast scan per window, not per character) and merging the hits finds
    the runs; a run made of two overlapping pieces from different places in the secret is one
    too, and masked whole.
    """
    if len(secret) < PIECE:
        return _whole(text, secret)
    if not any(gram in text for gram in _grams(secret)):
        return []  # the usual case, found in 7 scans for a token instead of 30
    return [(at, at + PIECE) for window in _windows(secret) for at in _found(text, window)]


def _whole(text: str, secret: str) -> list[tuple[int, int]]:
    return [(at, at + len(secret)) for at in _found(text, secret)]


def _found(text: str, part: str) -> list[int]:
    places, at = [], text.find(part)
    while at >= 0:
        places.append(at)
        at = text.find(part, at + 1)
    return places


@functools.lru_cache(maxsize=64)
def _windows(secret: str) -> frozenset[str]:
    """Each `PIECE`-character window of `secret`."""
    return frozenset(secret[at : at + PIECE] for at in range(len(secret) - PIECE + 1))


@functools.lru_cache(maxsize=64)
def _grams(secret: str) -> tuple[str, ...]:
    """The `GRAM`-character pieces of `secret` starting every `GRAM + 1` characters: each
    `PIECE`-character window of it holds one whole (`PIECE >= 2 * GRAM`), so text that holds
    none of them holds no window. A few short scans cost less than one per window."""
    step = GRAM + 1
    return tuple(secret[at : at + GRAM] for at in range(0, len(secret) - GRAM + 1, step))


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans as one: a run of secret text becomes one mask."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def mask_logs() -> None:
    """Mask secrets in every log record this process makes, whoever logs it and wherever it is
    written (the studio, Gradio, uvicorn, urllib3 at DEBUG): records are masked when made, the
    traceback of a logged exception too."""
    make = logging.getLogRecordFactory()
    if getattr(make, "masks_secrets", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if _secrets:
            message = record.getMessage()
            masked = redact(message)
            if masked != message:
                record.msg, record.args = masked, None
            if record.exc_info and not record.exc_text:
                # Formatted now, masked, and kept: a handler's formatter uses exc_text as is.
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    masked_record.masks_secrets = True
    logging.setLogRecordFactory(masked_record)
