"""Reading an answer within bounds, and what it holds: a cap on an answer's bytes and on one
line's, lines handed over as soon as they arrive, and JSON or an image made of the bytes.

The deadline that bounds the time is the `wire`'s; this module bounds the size. It sits at the
bottom of the transport: `status` and `framing` read JSON with its `load_json`, and it imports
nothing of the transport itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

import requests

from studio.endpoint import Endpoint
from studio.errors import BadResponseError

MAX_ANSWER_BYTES = 32 * 2**20  # a 1024x1024 PNG is a few MB; base64 in JSON a third more
MAX_LINE_BYTES = 2**20  # one event of a stream: a token, or a short error
READ_SIZE = 64 * 2**10
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"RIFF")
_LINE_END = re.compile(rb"\r\n|\r|\n")


def load_json(data: bytes | str) -> Any:
    """`json.loads` whose every failure is a ValueError: JSON nested too deeply for Python's
    parser (a RecursionError) is as unreadable as broken JSON."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def describe_body(content_type: str, body: bytes) -> str:
    kind = content_type or "no Content-Type"
    return f"{kind}, {len(body)} bytes"


def read_body(raw: Any, declared: str | None, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """The whole body of a urllib3 response, refused past `limit` bytes (before reading, when
    its Content-Length already says so)."""
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    while chunk := raw.read1(READ_SIZE, decode_content=True):
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def read_lines(raw: Any, limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Lines of a urllib3 response as soon as each arrives, split only at CR, LF or CRLF (decoded
    text would also split at U+2028, which servers leave inside their JSON). Linear in the
    input: each byte is searched once."""
    buffer = bytearray()
    searched = 0
    while chunk := raw.read1(READ_SIZE, decode_content=True):
        buffer += chunk
        start = 0
        while match := _LINE_END.search(buffer, max(start, searched)):
            if match.group() == b"\r" and match.end() == len(buffer):
                break  # a CR at the end may be the first half of CRLF: wait for the next byte
            yield bytes(buffer[start : match.start()])
            start = match.end()
        del buffer[:start]
        searched = max(0, len(buffer) - 1)
        if len(buffer) > limit:
            raise BadResponseError(
                f"The server sent one line of more than {limit // 2**20} MB in its stream, which "
                "is no model's answer. Check that the URL points at a model server."
            )
    if buffer.endswith(b"\r"):
        del buffer[-1:]
    if buffer:
        yield bytes(buffer)


def decode_answer(response: requests.Response, body: bytes, endpoint: Endpoint) -> Any:
    """JSON, or image bytes; a JSON string holding a base64 image becomes the image's bytes."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type.startswith("image/") or body.startswith(IMAGE_SIGNATURES):
        return body
    try:
        answer = load_json(body)
    except ValueError:
        raise BadResponseError(
            f"{endpoint.host} answered {response.status_code} with something that is not JSON "
            f"({describe_body(content_type, body)}). Check that "
            f"{endpoint.url_setting or 'the endpoint URL'} points at a model server."
        ) from None
    if isinstance(answer, str):
        return _base64_image(answer) or answer
    return answer


def _base64_image(text: str) -> bytes | None:
    """The course's endpoints answered a JSON string of base64 PNG: decode it if it is one."""
    payload = text.partition("base64,")[2] if text.startswith("data:") else text
    if len(payload) < 32:
        return None
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith(IMAGE_SIGNATURES) else None


def _too_large(limit: int) -> BadResponseError:
    return BadResponseError(
        f"The server's answer is larger than {limit // 2**20} MB, more than any model's answer "
        "the studio reads. Check that the URL points at a model server, or ask for a smaller image."
    )
