"""The secrets the studio holds (access tokens, login passwords), masked wherever text leaves it.

Every message a person sees is a `StudioError`, whose text passes through `redact` when it is
made; every log record is masked when made, once `mask_logs` has run. So a server that
quotes the `Authorization` header back in its error shows nobody the token.
"""

from __future__ import annotations

import logging
import threading

MASK = "[token]"
_MIN_LENGTH = 6  # shorter values would mask ordinary words

_secrets: set[str] = set()
_lock = threading.Lock()


def keep_secret(value: str | None) -> None:
    """Mask `value` from now on, in this process."""
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):  # a longer one may contain another
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_logs() -> None:
    """Mask secrets in every log record this process makes, whoever logs it and wherever it is
    written (the studio, Gradio, uvicorn, urllib3 at DEBUG): records are masked when made."""
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
        return record

    masked_record.masks_secrets = True
    logging.setLogRecordFactory(masked_record)
