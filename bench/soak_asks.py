"""What a simulated person of the soak asks each tab, how they tell their own answer from someone
else's, and whether an error message says anything.

Every request carries a mark that only its own answer can contain, because the stand-in models
echo what they were sent (bench/soak_servers.py): a word such as `soak000123` in a text, a
prompt or a chat message, and for a picture its size (`123x456 pixels`), which the stand-in
captioner writes into its caption. A picture the studio paints keeps its prompt inside the PNG.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from studio.ui.common import UNEXPECTED

TABS = ("summarize", "ner", "caption", "imagine", "game", "chat")
IMAGE = "<the person's picture>"  # where a session puts its upload in the arguments
SIDES = 500  # picture sizes 64 to 563 pixels a side: 250,000 distinct marks
MARKS = re.compile(r"soak\d{6}|\d+x\d+ pixels")

# Messages that tell a person nothing: what Gradio sends when a handler's error has no words.
EMPTY = {"", "none", "null", "error", "error raised.", "an error occurred.", "exception"}
GRADIO_HIDDEN = "has not enabled verbose error reporting"
UNEXPECTED_START = UNEXPECTED.split("{")[0]
EXCEPTION_NAME = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b")


@dataclass(frozen=True)
class Ask:
    tab: str
    api_name: str
    args: tuple
    mark: str  # what the answer, or any part of it streamed so far, contains
    image: bytes | None = None  # the upload, where args hold IMAGE


def make_ask(tab: str, number: int, rng: random.Random) -> Ask:
    """Request `number`'s arguments for `tab`, with its mark."""
    mark, seed = f"soak{number:06d}", rng.randrange(2**31)
    if tab == "summarize":
        text = f"{mark} wrote to the studio about Ada Lovelace, who wrote the first program."
        return Ask(tab, "/summarize", (text, None, None), mark)
    if tab == "ner":
        return Ask(tab, "/ner", (f"Ada Lovelace met {mark} in London.",), mark)
    if tab == "chat":
        long = rng.random() < 0.5  # a long reply, for Stop to cut now and then
        message = f"repeat: {mark} tells a story" if long else f"{mark} says hello to the studio"
        return Ask(tab, "/chat", (message, "", 0.7, 0.95, 60, 1.0, None, ""), mark)
    if tab == "imagine":
        prompt = f"A watercolour of {mark} at dawn"
        return Ask(tab, "/generate_image", (prompt, "", 4, 7.0, 256, 256, seed), mark)
    width, height = 64 + number % SIDES, 64 + number // SIDES % SIDES
    image, mark = picture(width, height, rng), f"{width}x{height} pixels"
    if tab == "caption":
        return Ask(tab, "/caption", (IMAGE,), mark, image)
    if rng.random() < 0.5:
        return Ask(tab, "/caption_and_generate", (IMAGE, seed), mark, image)
    return Ask(tab, "/play_rounds", (IMAGE, rng.randint(1, 3), seed), mark, image)


def picture(width: int, height: int, rng: random.Random) -> bytes:
    """A small JPEG of one colour with a lighter square, the size given."""
    colour = tuple(rng.randrange(40, 200) for _ in range(3))
    image = Image.new("RGB", (width, height), colour)
    side = min(width, height) // 3
    ImageDraw.Draw(image).rectangle((side, side, 2 * side, 2 * side), fill=(230, 230, 230))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def shown(api_name: str, data: list) -> Any:
    """The outputs gradio_client shows, from the REST API's list, which also holds the hidden
    ones (a chat's history, a picture's code panel)."""
    return tuple(data[:2]) if api_name == "/caption_and_generate" else data[0]


def answer_text(api_name: str, output: Any, read_picture: Callable[[Any], str]) -> str:
    """Everything of an answer (or of a part streamed so far) that can hold its mark.
    `read_picture` gives a painted picture's settings text, given the output that names it.
    An answer not shaped as this request's answers are (another request's) is given whole."""
    if output is None:
        return ""
    try:
        if api_name == "/ner":
            return "".join(str(item.get("token", "")) for item in output)
        if api_name == "/generate_image":
            return read_picture(output)
        if api_name == "/caption_and_generate":
            caption, painted = output
            if not isinstance(caption, str):
                raise TypeError(caption)
            return f"{caption}\n{read_picture(painted)}"
        if api_name == "/play_rounds":  # the first round's caption is of the person's picture
            return "\n".join(str(item["caption"]) for item in output)
        if isinstance(output, str):
            return output
    except (AttributeError, TypeError, ValueError, KeyError):
        pass
    return f"(not a {api_name} answer) {every_text(output, read_picture)}"


def every_text(output: Any, read_picture: Callable[[Any], str]) -> str:
    """All the text in an answer of any shape, pictures' settings included: to find whose
    answer it is when it is not shaped as the request's own."""
    if isinstance(output, dict):
        if "url" in output:  # a file, as the REST API names one
            return read_picture(output)
        return " ".join(every_text(value, read_picture) for value in output.values())
    if isinstance(output, list | tuple):
        return " ".join(every_text(value, read_picture) for value in output)
    return "" if output is None else str(output)


def picture_settings(data: bytes) -> str:
    """The settings the studio writes inside a PNG it paints (prompt first)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return str(getattr(image, "text", {}).get("parameters", ""))
    except OSError as error:  # not a picture: told whole, it holds no mark
        return f"(not a picture: {error}) {data[:80]!r}"


def judge_error(message: Any) -> tuple[str, str]:
    """("clear" or "unclear", what was said or why it tells nothing). The REST API's error
    event holds a dict (`error`, `title`, ...), gradio_client's AppError the message alone."""
    if isinstance(message, dict):
        message = message.get("error")
    if message is None:
        return "unclear", "error: null"
    text = str(message).strip()
    if text.lower() in EMPTY:
        return "unclear", f"error: {text!r}"
    if GRADIO_HIDDEN in text:
        return "unclear", "Gradio's hidden error (the handler raised something not gr.Error)"
    if "Traceback (most recent call last)" in text:
        return "unclear", f"a traceback: {text[-200:]}"
    if text.startswith(UNEXPECTED_START):
        return "unclear", f"an unexpected failure inside the studio: {text[:160]}"
    if EXCEPTION_NAME.match(text):
        return "unclear", f"an exception's words: {text[:160]}"
    return "clear", text


def message_kind(text: str) -> str:
    """A clear message with its numbers, hosts and marks blanked, for counting kinds."""
    text = re.sub(r"soak\d{6}", "<mark>", text)
    text = re.sub(r"https?://\S+|127\.0\.0\.1:\d+", "<host>", text)
    return re.sub(r"\d+(\.\d+)?", "#", text)[:150]
