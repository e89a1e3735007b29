"""Image logic for the Caption, Imagine and describe-and-generate tabs.

Pure functions over bytes and Pillow images: no Gradio, no HTTP.

- ``prepare_upload`` turns whatever a person uploads into a small upright RGB JPEG to send.
- ``image_from_answer`` and ``caption_from_answer`` read the shapes model servers answer with.
- ``ImageRequest`` holds checked text-to-image settings and turns them into task API parameters.
- ``png_with_parameters`` / ``read_parameters`` keep those settings inside the PNG, the way
  AUTOMATIC1111 does, so image tools can show how a picture was made.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageOps, ImageStat, PngImagePlugin, UnidentifiedImageError

from studio.errors import BadResponseError, InputError, StudioError

# 50 megapixels lets through the largest everyday photos (48 MP phone cameras, 8064x6048 =
# 48.8 MP) while bounding the decode to about 150 MB of RGB. It sits below Pillow's own warning
# threshold (about 89 MP), so for most oversized images our check is the one that answers.
MAX_PIXELS = 50_000_000
# A phone photo is a few MB; anything much larger is padding or a mistake, and is read whole.
MAX_UPLOAD_BYTES = 50_000_000

READABLE_FORMATS = "JPEG, PNG, WebP, GIF, BMP or TIFF"
# The only Pillow plugins tried (JPEG's also opens MPO, a camera JPEG with a second picture).
# Some others, ICO among them, decode the whole image while opening it, before our pixel check.
_OPENED_FORMATS = ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"]
NOT_AN_IMAGE = (
    f"This file is not an image file we can read. Use a {READABLE_FORMATS} image "
    "(iPhone HEIC photos: export them as JPEG first)."
)
DAMAGED_IMAGE = "This image file is damaged or incomplete; try saving it again or use another one."
NO_UPLOAD = "Upload an image first."

# What Pillow raises while decoding a file it recognised but cannot finish.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError)

# Orientations 5-8 turn the picture by a quarter, so width and height trade places.
_QUARTER_TURN_ORIENTATIONS = {5, 6, 7, 8}

WHITE = (255, 255, 255)

ImageSource = bytes | bytearray | memoryview | Image.Image | str | os.PathLike[str]


# --- Opening images safely -------------------------------------------------------------------


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:,.0f}"


def _too_large(pixels: int | None, error: type[StudioError], advice: str) -> StudioError:
    size = f"{_megapixels(pixels)} megapixels" if pixels else "too many pixels"
    return error(
        f"This image is too large to decode safely ({size}; the limit is "
        f"{_megapixels(MAX_PIXELS)}); {advice}"
    )


def _pixels_from_bomb_message(error: Exception) -> int | None:
    # Pillow refuses before telling us the size; its message is the only place that has it.
    match = re.search(r"\((\d+) pixels\)", str(error))
    return int(match.group(1)) if match else None


def _open_encoded(data: bytes, error: type[StudioError], advice: str) -> Image.Image:
    """Open image bytes lazily (header only) and refuse sizes over MAX_PIXELS before decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=_OPENED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        # The warning only arrives here when warnings are turned into errors.
        raise _too_large(_pixels_from_bomb_message(bomb), error, advice) from bomb
    _check_pixel_limit(image.size, error, advice)
    return image


def _check_pixel_limit(size: tuple[int, int], error: type[StudioError], advice: str) -> None:
    pixels = size[0] * size[1]
    if pixels > MAX_PIXELS:
        raise _too_large(pixels, error, advice)


def _read_upload(source: ImageSource | None) -> tuple[bytes | None, Image.Image]:
    """Return the upload's bytes (None for an in-memory image) and the lazily opened image."""
    if source is None:
        raise InputError(NO_UPLOAD)
    if isinstance(source, Image.Image):
        _check_pixel_limit(source.size, InputError, "use a smaller image.")
        return None, source
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        if not os.fspath(source):
            raise InputError(NO_UPLOAD)
        data = _read_file(Path(source))
    if not data:
        raise InputError(NO_UPLOAD)
    try:
        return data, _open_encoded(data, InputError, "use a smaller image.")
    except UnidentifiedImageError as error:
        raise InputError(NOT_AN_IMAGE) from error
    except _DECODE_ERRORS as error:  # after the above, which is an OSError too
        raise InputError(DAMAGED_IMAGE) from error


def _read_file(path: Path) -> bytes:
    """The file's bytes; one over MAX_UPLOAD_BYTES is refused before it is read."""
    try:
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise InputError(
                f"This file is larger than the {MAX_UPLOAD_BYTES // 1_000_000} MB limit; use a "
                "smaller image, or save it as JPEG."
            )
        return path.read_bytes()
    except OSError as error:
        raise InputError("The uploaded file could not be read; upload it again.") from error


# --- Converting to upright RGB ---------------------------------------------------------------


def _orientation(image: Image.Image) -> int:
    return image.getexif().get(ExifTags.Base.Orientation, 1)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    if _orientation(image) in _QUARTER_TURN_ORIENTATIONS:
        return height, width
    return width, height


def _fit_within(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size with its long side at most max_side, same aspect ratio; never larger."""
    width, height = size
    long_side = max(width, height)
    if long_side <= max_side:
        return width, height
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def _grey_range(image: Image.Image) -> tuple[float, float]:
    """The values that map to black..white for a 16-bit, 32-bit or float greyscale image."""
    if image.mode.startswith("I;16"):
        return 0, 65535
    low, high = image.getextrema()
    # Keep the usual conventions (0..1 floats, 8-bit, 16-bit) so brightness is not changed;
    # anything else is stretched to its own range.
    conventions = [(0, 255), (0, 65535)]
    if image.mode == "F":
        conventions.insert(0, (0, 1))
    for black, white in conventions:
        if black <= low and high <= white:
            return black, white
    return low, high


def _deep_grey_to_l(image: Image.Image) -> Image.Image:
    low, high = _grey_range(image)
    scale = 255 / (high - low) if high > low else 1.0
    if image.mode.startswith("I;16"):
        image = image.convert("I")
    # Pillow's point() on I and F images takes exactly this linear form.
    return image.point(lambda value: value * scale - low * scale).convert("L")


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode as RGB: transparency composited on white, deep greyscale scaled to 8-bit."""
    if image.mode.startswith("I") or image.mode == "F":
        return _deep_grey_to_l(image).convert("RGB")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, WHITE)
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


# --- Preparing an upload ---------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedImage:
    """An upload ready to send: an upright RGB JPEG no larger than asked."""

    jpeg: bytes
    width: int
    height: int
    original_width: int  # upright, i.e. after EXIF orientation
    original_height: int
    original_bytes: int | None  # None when the upload was an in-memory image

    def to_base64(self) -> str:
        """The JPEG as base64 text, for JSON task API bodies."""
        return base64.b64encode(self.jpeg).decode("ascii")

    def to_data_url(self) -> str:
        """The JPEG as a data: URL, for OpenAI-style ``image_url`` message parts."""
        return f"data:image/jpeg;base64,{self.to_base64()}"


def _encode_jpeg(image: Image.Image, quality: int) -> bytes:
    # Saving without exif= drops the metadata, including any GPS position, before it leaves.
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def prepare_upload(
    source: ImageSource | None, *, max_side: int = 1024, quality: int = 90
) -> PreparedImage:
    """Open an upload safely and return it upright, RGB, long side <= max_side, as JPEG.

    ``source`` is image bytes, a Pillow image or a path to an image file.
    """
    if max_side < 1 or not 1 <= quality <= 95:
        raise ValueError("max_side must be positive and quality between 1 and 95")
    data, image = _read_upload(source)
    try:
        original_width, original_height = _upright_size(image)
        if data is not None:
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale when that is still large enough.
            image.draft(None, _fit_within(image.size, max_side))
        image = to_rgb(ImageOps.exif_transpose(image))
        target = _fit_within(image.size, max_side)
        if target != image.size:
            image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        jpeg = _encode_jpeg(image, quality)
    except _DECODE_ERRORS as error:
        raise InputError(DAMAGED_IMAGE) from error
    return PreparedImage(
        jpeg=jpeg,
        width=image.width,
        height=image.height,
        original_width=original_width,
        original_height=original_height,
        original_bytes=len(data) if data is not None else None,
    )


# --- Reading model answers -------------------------------------------------------------------


def describe_answer(answer: object) -> str:
    """A short description of an answer for error messages: its type and first bytes."""
    if answer is None:
        return "nothing"
    if isinstance(answer, (bytes, bytearray, memoryview)):
        data = bytes(answer)
        return f"{len(data)} bytes starting {data[:32]!r}"
    if isinstance(answer, str):
        return f"text of {len(answer)} characters starting {answer[:40]!r}"
    if isinstance(answer, dict):
        keys = ", ".join(sorted(str(key) for key in answer)[:8]) or "none"
        error = answer.get("error")
        said = f" saying {str(error)[:120]!r}" if error else ""
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
    """Base64 text, optionally a data: URL, with any line breaks and missing padding."""
    encoded = text.strip()
    if encoded.startswith("data:"):
        header, _, encoded = encoded.partition(",")
        if not header.endswith(";base64"):
            raise BadResponseError(f"The answer holds a data URL that is not base64: {header!r}.")
    encoded = "".join(encoded.split())
    encoded += "=" * (-len(encoded) % 4)
    altchars = b"-_" if ("-" in encoded or "_" in encoded) else None  # the URL-safe alphabet
    try:
        return base64.b64decode(encoded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError) as error:
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
        image = _open_encoded(data, BadResponseError, "ask the server for a smaller size.")
        image.load()
    except UnidentifiedImageError as error:
        # Describe what was sent, not what it decoded to: base64 of an error text is noise.
        raise BadResponseError(
            f"The image server's answer is not an image we can read: it sent "
            f"{describe_answer(answer)}."
        ) from error
    except _DECODE_ERRORS as error:
        raise BadResponseError("The image server sent a damaged or incomplete image.") from error
    return image


def _text_from_content(content: object) -> str | None:
    """Chat message content: a string, or a list of parts of which the text ones count."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text":
            texts.append(str(part.get("text") or ""))
    return "".join(texts)


def _caption_text(answer: object) -> str | None:
    if isinstance(answer, list) and answer:
        return _caption_text(answer[0])
    if not isinstance(answer, dict):
        return None
    if isinstance(answer.get("generated_text"), str):
        return answer["generated_text"]
    choices = answer.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        message = choices[0].get("message")
        if isinstance(message, dict):
            return _text_from_content(message.get("content"))
    return None


def caption_from_answer(answer: object) -> str:
    """The caption in an image-to-text answer (task API or OpenAI chat completion), stripped."""
    text = _caption_text(answer)
    if text is None:
        raise BadResponseError(
            f"The captioning model's answer holds no caption: it sent {describe_answer(answer)}."
        )
    if not text.strip():
        raise BadResponseError("The captioning model returned an empty caption.")
    return text.strip()


CAPTION_INSTRUCTION = (
    "Write a one-sentence caption for this image. Answer with the caption only, no preamble."
)
CAPTION_MAX_TOKENS = 60  # one sentence, with room to finish it


def caption_chat_body(
    model: str, data_url: str, max_tokens: int = CAPTION_MAX_TOKENS
) -> dict[str, Any]:
    """An OpenAI-style chat completion request asking a vision model for a one-sentence caption.

    ``data_url`` is the image as a ``data:image/jpeg;base64,...`` URL (``PreparedImage``).
    """
    return {
        "model": model,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": CAPTION_INSTRUCTION},
                    {"type": "image_url", "image_url": {"url": data_url}},
                ],
            }
        ],
        "max_tokens": max_tokens,
        "stream": False,
    }


def looks_blank(image: Image.Image, *, threshold: int = 12) -> bool:
    """True for an (almost) all-black image, which is what Stable Diffusion's safety filter sends.

    A 64x64 box-filtered thumbnail averages away JPEG noise and single bright pixels, and is cheap.
    """
    thumbnail = to_rgb(image).resize((64, 64), Image.Resampling.BOX).convert("L")
    _, brightest = ImageStat.Stat(thumbnail).extrema[0]
    return brightest <= threshold


# --- Text-to-image settings ------------------------------------------------------------------

SEED_LIMIT = 2**32  # seeds are 32-bit: 0 .. 2**32 - 1
RANDOM_SEED = -1  # what the seed box holds for "pick one for me"
SIZE_STEP = 64
MIN_SIZE, MAX_SIZE = 64, 1024
MIN_STEPS, MAX_STEPS = 1, 100
MIN_GUIDANCE, MAX_GUIDANCE = 1.0, 20.0


def whole_number(value: object, what: str) -> int:
    """An int from an int or a whole float (Gradio sliders and number boxes send floats)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what} must be a whole number, not {value!r}.")
    if isinstance(value, float) and not value.is_integer():
        raise InputError(f"{what} must be a whole number, not {value}.")
    return int(value)


def resolve_seed(seed: float | None) -> int:
    """The seed to use: None or -1 pick a random 32-bit seed, anything else is checked and kept."""
    if seed is None:
        return secrets.randbelow(SEED_LIMIT)
    seed = whole_number(seed, "The seed")
    if seed == RANDOM_SEED:
        return secrets.randbelow(SEED_LIMIT)
    if not 0 <= seed < SEED_LIMIT:
        raise InputError(f"The seed must be -1 (random) or between 0 and {SEED_LIMIT - 1}.")
    return seed


@dataclass(frozen=True)
class ImageRequest:
    """Checked text-to-image settings. Build one with ``make_image_request`` from UI values."""

    prompt: str
    negative_prompt: str = ""
    steps: int = 25
    guidance: float = 7.0
    width: int = 512
    height: int = 512
    seed: int | None = None  # None leaves the choice to the server (and it is not recorded)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InputError naming the first setting that is out of range."""
        if not self.prompt.strip():
            raise InputError("Write a prompt describing the image first.")
        if not MIN_STEPS <= self.steps <= MAX_STEPS:
            raise InputError(f"Steps must be between {MIN_STEPS} and {MAX_STEPS}.")
        if not MIN_GUIDANCE <= self.guidance <= MAX_GUIDANCE:
            raise InputError(f"Guidance must be between {MIN_GUIDANCE:g} and {MAX_GUIDANCE:g}.")
        for name, value in (("Width", self.width), ("Height", self.height)):
            if not MIN_SIZE <= value <= MAX_SIZE or value % SIZE_STEP:
                raise InputError(
                    f"{name} must be a multiple of {SIZE_STEP} between {MIN_SIZE} and "
                    f"{MAX_SIZE} pixels, not {value}."
                )
        if self.seed is not None and not 0 <= self.seed < SEED_LIMIT:
            raise InputError(f"The seed must be between 0 and {SEED_LIMIT - 1}.")

    def to_parameters(self) -> dict[str, Any]:
        """The task API's ``parameters`` for text to image."""
        parameters: dict[str, Any] = {}
        if self.negative_prompt:
            parameters["negative_prompt"] = self.negative_prompt
        parameters |= {
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            "width": self.width,
            "height": self.height,
        }
        if self.seed is not None:
            parameters["seed"] = self.seed
        return parameters


def _image_side(value: object, name: str) -> int:
    """A width or height in range, rounded to the nearest multiple of 64 (models need that)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{name} must be a number of pixels, not {value!r}.")
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise InputError(f"{name} must be between {MIN_SIZE} and {MAX_SIZE} pixels, not {value}.")
    return round(value / SIZE_STEP) * SIZE_STEP


def _text(value: object, what: str) -> str:
    """A text box's value, stripped; None is empty. A raw API call can send anything else."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, not {type(value).__name__}.")
    return value.strip()


def make_image_request(
    prompt: str | None,
    *,
    negative_prompt: str | None = "",
    steps: float = 25,
    guidance: float = 7.0,
    width: float = 512,
    height: float = 512,
    seed: float | None = None,
) -> ImageRequest:
    """An ImageRequest from UI values: text stripped, sizes rounded to a multiple of 64 (values
    outside 64-1024 are refused, not clamped), and the seed resolved so the result can be
    reproduced (None or -1 become a random seed)."""
    if isinstance(guidance, bool) or not isinstance(guidance, (int, float)):
        raise InputError(f"Guidance must be a number, not {guidance!r}.")
    return ImageRequest(
        prompt=_text(prompt, "The prompt"),
        negative_prompt=_text(negative_prompt, "The negative prompt"),
        steps=whole_number(steps, "Steps"),
        guidance=float(guidance),
        width=_image_side(width, "Width"),
        height=_image_side(height, "Height"),
        seed=resolve_seed(seed),
    )


def describe(request: ImageRequest) -> str:
    """The one line shown under a generated image: every setting, so it can be made again."""
    seed = "random" if request.seed is None else str(request.seed)
    negative = request.negative_prompt or "none"
    return (
        f"Seed {seed} · {request.steps} steps · guidance {request.guidance:g} · "
        f"{request.width}×{request.height} · negative prompt: {negative}"
    )


# --- Settings inside the PNG -----------------------------------------------------------------

PARAMETERS_KEY = "parameters"  # the tEXt key AUTOMATIC1111 writes and image tools read


def _infotext_value(value: str) -> str:
    # AUTOMATIC1111 JSON-quotes values that would break its "Key: value, Key: value" line.
    if any(character in value for character in ",:\n"):
        return json.dumps(value, ensure_ascii=False)
    return value


def parameters_text(request: ImageRequest, *, model: str) -> str:
    """The AUTOMATIC1111 "infotext": prompt, optional negative prompt line, settings line."""
    lines = [request.prompt]
    if request.negative_prompt:
        lines.append(f"Negative prompt: {request.negative_prompt}")
    settings = [f"Steps: {request.steps}", f"CFG scale: {float(request.guidance)}"]
    if request.seed is not None:
        settings.append(f"Seed: {request.seed}")
    settings.append(f"Size: {request.width}x{request.height}")
    if model:
        settings.append(f"Model: {_infotext_value(model)}")
    lines.append(", ".join(settings))
    return "\n".join(lines)


def png_with_parameters(image: Image.Image, request: ImageRequest, *, model: str) -> bytes:
    """The image as PNG bytes with its settings in a ``parameters`` text chunk.

    Size records the requested size, as AUTOMATIC1111 does, even if a server returned another.
    """
    info = PngImagePlugin.PngInfo()
    # add_text writes tEXt, or iTXt when the prompt is not Latin-1; readers accept both.
    info.add_text(PARAMETERS_KEY, parameters_text(request, model=model))
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = to_rgb(image)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def read_parameters(png_bytes: bytes) -> str | None:
    """The ``parameters`` text of a PNG, or None when it has none (or is another format)."""
    if not png_bytes:
        raise InputError(NO_UPLOAD)
    try:
        image = _open_encoded(png_bytes, InputError, "use a smaller image.")
        text = getattr(image, "text", {})  # reading it decodes the PNG to reach late chunks
    except UnidentifiedImageError as error:
        raise InputError(NOT_AN_IMAGE) from error
    except _DECODE_ERRORS as error:
        raise InputError(DAMAGED_IMAGE) from error
    return text.get(PARAMETERS_KEY)
