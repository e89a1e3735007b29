"""Local image model servers for tests: they answer from what they actually received.

Captions are computed from the decoded upload (its size, its main colour, where a red mark sits,
how many bytes came), so a test can prove the picture arrived intact, upright and downscaled.
Generated pictures are drawn from the prompt (the colour), the seed (where the dots go) and the
size asked for, so every setting is visible in the result.

Routes (POST), after the Hugging Face task API and the OpenAI chat API:
  /itt/models/{model}           image to text: raw image bytes, or JSON {"inputs": base64}
                                -> [{"generated_text"}]
  /itt-object/models/{model}    the same, answered as a bare {"generated_text"}
  /tti/models/{model}           text to image -> raw JPEG (image/jpeg), as the router answers
  /tti-png/models/{model}       -> raw PNG
  /tti-base64/models/{model}    -> a JSON string holding base64 PNG, as the course's endpoints
  /tti-b64json/models/{model}   -> {"data": [{"b64_json": base64 PNG}]}, as some providers
  /tti-black/models/{model}     -> an all-black JPEG, what a safety filter sends
  /v1/chat/completions          a vision chat model: reads the image_url data URL -> completion
Failures and delays work as in tests.stand_ins.servers: `server.fail_next(prefix, ...)`,
`server.delay`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageStat, UnidentifiedImageError

from tests.stand_ins.servers import TaskServer, _Handler, _Invalid, model_list

# The colours the toy captioner can name and the toy painter can paint.
PALETTE = {
    "red": (200, 40, 40),
    "orange": (230, 140, 30),
    "yellow": (230, 210, 60),
    "green": (60, 160, 70),
    "teal": (40, 150, 150),
    "blue": (50, 90, 200),
    "purple": (130, 70, 170),
    "pink": (230, 130, 170),
    "brown": (120, 80, 50),
    "grey": (128, 128, 128),
    "black": (0, 0, 0),
    "white": (245, 245, 245),
}
DOT = (255, 255, 255)


@dataclass
class Raw:
    """An answer sent as is, with its own Content-Type."""

    data: bytes
    content_type: str


@dataclass
class ImageServer(TaskServer):
    vision_models: tuple[str, ...] = ("vision/model",)  # what GET /v1/models lists

    def handler_class(self) -> type:
        return type("Handler", (_ImageHandler,), {"server_state": self})


class _ImageHandler(_Handler):
    post_routes = ("/itt", "/tti", "/v1/chat/completions")

    def do_GET(self) -> None:
        if self.path == "/v1/models":  # a vision chat server, as vLLM lists its models
            return self._send(200, model_list(self.server_state.vision_models))
        return super().do_GET()

    def _answer(self, body: bytes):
        path = self.path
        if path.startswith("/v1/chat/completions"):
            return chat_completion(json.loads(body))
        if path.startswith(("/itt/", "/itt-object/")):
            caption = [{"generated_text": describe_image(self._image_bytes(body))}]
            return caption[0] if path.startswith("/itt-object/") else caption
        if path.startswith("/tti"):
            request = json.loads(body)
            picture = paint(request.get("inputs"), request.get("parameters") or {})
            kind = path.split("/")[1]
            if kind == "tti-black":
                return Raw(encode(Image.new("RGB", picture.size), "JPEG"), "image/jpeg")
            if kind == "tti":
                return Raw(encode(picture, "JPEG"), "image/jpeg")
            if kind == "tti-png":
                return Raw(encode(picture, "PNG"), "image/png")
            png = base64.b64encode(encode(picture, "PNG")).decode("ascii")
            if kind == "tti-base64":
                return png
            if kind == "tti-b64json":
                return {"data": [{"b64_json": png}]}
        return None

    def _image_bytes(self, body: bytes) -> bytes:
        """Raw bytes with an image type, or base64 in JSON when parameters ride along."""
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("image/"):
            return body
        if content_type.startswith("application/json"):
            return base64.b64decode(json.loads(body)["inputs"])
        raise _Invalid(f"expected an image body, got Content-Type {content_type or 'none'}")

    def _send(self, status: int, payload, headers: dict | None = None) -> None:
        if not isinstance(payload, Raw):
            return super()._send(status, payload, headers)
        self.send_response(status)
        self.send_header("Content-Type", payload.content_type)
        self.send_header("Content-Length", str(len(payload.data)))
        self.end_headers()
        self.wfile.write(payload.data)


def encode(picture: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, image_format, **({"quality": 90} if image_format == "JPEG" else {}))
    return buffer.getvalue()


# --- image to text -------------------------------------------------------------------------


def describe_image(data: bytes) -> str:
    """'a grey picture of 1024x768 pixels, red mark at top left (123456 bytes)'."""
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise _Invalid(f"cannot identify image file ({exc})") from None
    picture = picture.convert("RGB")
    colour = nearest_colour(tuple(round(v) for v in ImageStat.Stat(picture).mean))
    mark = red_mark(picture)
    where = f", red mark at {mark}" if mark else ""
    return (
        f"a {colour} picture of {picture.width}x{picture.height} pixels{where} ({len(data)} bytes)"
    )


def nearest_colour(rgb: tuple[int, ...]) -> str:
    def distance(name: str) -> int:
        return sum((a - b) ** 2 for a, b in zip(PALETTE[name], rgb, strict=True))

    return min(PALETTE, key=distance)


def red_mark(picture: Image.Image) -> str | None:
    """Which quarter holds a strongly red patch: 'top left', ... or None."""
    cells = picture.resize((8, 8), Image.Resampling.BOX)
    redness = {
        (x, y): r - max(g, b)
        for y in range(8)
        for x in range(8)
        for r, g, b in [cells.getpixel((x, y))]
    }
    (x, y), strongest = max(redness.items(), key=lambda item: item[1])
    if strongest < 100:
        return None
    return f"{'top' if y < 4 else 'bottom'} {'left' if x < 4 else 'right'}"


# --- text to image -------------------------------------------------------------------------


def paint(prompt: object, parameters: dict) -> Image.Image:
    """A picture whose colour comes from the prompt and whose dots come from the seed."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise _Invalid("inputs must be a non-empty prompt")
    width = int(parameters.get("width", 512))
    height = int(parameters.get("height", 512))
    if not (64 <= width <= 2048 and 64 <= height <= 2048):
        raise _Invalid("width and height must be between 64 and 2048")
    digest = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big")
    colours = [name for name in PALETTE if name not in ("black", "white")]
    picture = Image.new("RGB", (width, height), PALETTE[colours[digest % len(colours)]])
    draw = ImageDraw.Draw(picture)
    dots = random.Random(parameters.get("seed", digest))
    radius = max(3, min(width, height) // 24)
    for _ in range(5):
        x, y = dots.randrange(width), dots.randrange(height)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=DOT)
    draw.text((8, 8), f"seed {parameters.get('seed', '?')}", fill=DOT)
    return picture


# --- vision chat ---------------------------------------------------------------------------


def chat_completion(request: dict) -> dict:
    """An OpenAI chat completion whose text describes the image in the last user message."""
    if not isinstance(request.get("model"), str) or request.get("stream"):
        raise _Invalid("model must be a string and stream false")
    parts = request["messages"][-1]["content"]
    urls = [p["image_url"]["url"] for p in parts if p.get("type") == "image_url"]
    texts = [p["text"] for p in parts if p.get("type") == "text"]
    if len(urls) != 1 or not texts or not urls[0].startswith("data:image/jpeg;base64,"):
        raise _Invalid("expected one text part and one image_url data URL")
    caption = describe_image(base64.b64decode(urls[0].partition(",")[2]))
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": request["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"{caption[0].upper()}{caption[1:]}."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22},
    }


def picture_tabs_env(server: ImageServer) -> dict:
    """The environment of a studio whose captions and pictures come from `server`, the task
    API's routes, as the course's settings name them."""
    return {
        "HF_API_ITT_BASE": f"{server.url}/itt/models/Salesforce/blip-image-captioning-base",
        "HF_API_TTI_BASE": f"{server.url}/tti/models/stabilityai/sd-turbo",
        "STUDIO_TIMEOUT": "10",
    }
