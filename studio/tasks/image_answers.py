"""Model servers' answers about images: the picture in a text-to-image answer, the caption in an
image-to-text one, whatever shape the server chose. Pure: no Gradio, no HTTP."""

from __future__ import annotations

import json
from typing import Any

from PIL import Image, UnidentifiedImageError

from studio.errors import BadResponseError
from studio.secrets import shorten
from studio.tasks.uploads import DECODE_ERRORS, decode_base64, open_encoded

# --- Reading model answers -------------------------------------------------------------------

# How much of an answer a message quotes. A server may echo the token in it, so every quote is
# made by `shorten`, which masks before it cuts. Bytes are read a little further than shown,
# so that where the reading stops (perhaps inside a token) is never what is shown.
TEXT_SHOWN = 40
ERROR_SHOWN = 120
KEYS_SHOWN = 120
BYTES_SHOWN = 48
BYTES_READ = 512


def describe_answer(answer: object) -> str:
    """A short description of an answer for error messages: its type and first bytes."""
    if answer is None:
        return "nothing"
    if isinstance(answer, (bytes, bytearray, memoryview)):
        data = bytes(answer)
        return f"{len(data)} bytes starting {shorten(repr(data[:BYTES_READ]), BYTES_SHOWN)}"
    if isinstance(answer, str):
        return f"text of {len(answer)} characters starting {shorten(answer, TEXT_SHOWN)!r}"
    if isinstance(answer, dict):
        keys = shorten(", ".join(sorted(str(key) for key in answer)), KEYS_SHOWN) or "none"
        error = answer.get("error")
        said = f" saying {shorten(str(error), ERROR_SHOWN)!r}" if error else ""
        return f"a JSON object with keys {keys}{said}"
    if isinstance(answer, (list, tuple)):
        first = f", the first being {describe_answer(answer[0])}" if answer else ""
        return f"a list of {len(answer)} items{first}"
    return f"a {type(answer).__name__}"


def _starts_like_json(value: str | bytes) -> bool:
    if isinstance(value, bytes):
        value = value[:64].decode("latin-1")
    return value.lstrip().startswith(("{", "[", '"'))


def _decode_base64(text: str) -> bytes:
    try:
        return decode_base64(text)
    except ValueError as error:  # a data: URL's start shows in the description
        raise BadResponseError(
            f"The image server answered with text that is not base64 image data: "
            f"{describe_answer(text)}."
        ) from error


def _no_image(answer: object) -> BadResponseError:
    return BadResponseError(
        f"The image server's answer holds no image: it sent {describe_answer(answer)}."
    )


def _parse_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise _no_image(text) from None


def _image_bytes(answer: object, depth: int = 0) -> bytes:
    """Dig the encoded image out of any answer shape we know."""
    if depth > 5:
        raise _no_image(answer)
    if isinstance(answer, (bytes, bytearray, memoryview)):
        data = bytes(answer)
        # A JSON body handed over undecoded: the course's servers sent a JSON string of base64.
        return _image_bytes(_parse_json(data), depth + 1) if _starts_like_json(data) else data
    if isinstance(answer, str):
        if _starts_like_json(answer):
            return _image_bytes(_parse_json(answer), depth + 1)
        return _decode_base64(answer)
    if isinstance(answer, dict):
        for key in ("b64_json", "data", "images"):  # OpenAI item, OpenAI list, A1111/Ollama list
            if answer.get(key):
                return _image_bytes(answer[key], depth + 1)
    if isinstance(answer, (list, tuple)) and answer:
        return _image_bytes(answer[0], depth + 1)
    raise _no_image(answer)


def image_from_answer(answer: object) -> Image.Image:
    """The image in a text-to-image answer, decoded.

    Accepts raw JPEG/PNG/WebP bytes, base64 text (or a data: URL), ``{"data": [{"b64_json"}]}``,
    ``{"b64_json"}``, ``{"images": [base64, ...]}``, a list holding one of these, or any of them
    as undecoded JSON.
    """
    data = _image_bytes(answer)
    try:
        image = open_encoded(data, BadResponseError, "ask the server for a smaller size.")
        image.load()
    except UnidentifiedImageError as error:
        # Describe what was sent, not what it decoded to: base64 of an error text is noise.
        raise BadResponseError(
            f"The image server's answer is not an image we can read: it sent "
            f"{describe_answer(answer)}."
        ) from error
    except DECODE_ERRORS as error:
        raise BadResponseError("The image server sent a damaged or incomplete image.") from error
    return image


def caption_from_answer(answer: object) -> str:
    """The caption in an image-to-text answer, `[{"generated_text"}]` or a bare object
    (every backend answers in this shape), stripped."""
    item = answer[0] if isinstance(answer, list) and answer else answer
    text = item.get("generated_text") if isinstance(item, dict) else None
    if not isinstance(text, str):
        raise BadResponseError(
            f"The captioning model's answer holds no caption: it sent {describe_answer(answer)}."
        )
    if not text.strip():
        raise BadResponseError("The captioning model returned an empty caption.")
    return text.strip()
