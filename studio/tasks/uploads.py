"""Uploads: whatever a person uploads, opened safely and made a small upright RGB JPEG to send.

Pure functions over bytes and Pillow images: no Gradio, no HTTP. Every image the studio opens,
an upload or a server's answer, goes through `open_encoded`, which refuses a size over
MAX_PIXELS before decoding and tries only the formats listed; image bytes sent as base64 text
are decoded by `decode_base64` first, and opened the same way.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from studio.errors import InputError, StudioError
from studio.tasks.pixels import to_rgb

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
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError)

# Orientations 5-8 turn the picture by a quarter, so width and height trade places.
_QUARTER_TURN_ORIENTATIONS = {5, 6, 7, 8}

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


def open_encoded(data: bytes, error: type[StudioError], advice: str) -> Image.Image:
    """Open image bytes lazily (header only) and refuse sizes over MAX_PIXELS before decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=_OPENED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        # The warning only arrives here when warnings are turned into errors.
        raise _too_large(_pixels_from_bomb_message(bomb), error, advice) from bomb
    check_pixel_limit(image.size, error, advice)
    return image


def check_pixel_limit(size: tuple[int, int], error: type[StudioError], advice: str) -> None:
    pixels = size[0] * size[1]
    if pixels > MAX_PIXELS:
        raise _too_large(pixels, error, advice)


def decode_base64(text: str) -> bytes:
    """The bytes base64 text holds: plain, or a data: URL's, with any line breaks, missing
    padding or the URL-safe alphabet. ValueError when it is not base64. The bytes are not yet an
    image: open them with `open_encoded` (or `read_upload`), which holds the pixel cap."""
    encoded = text.strip()
    if encoded.startswith("data:"):
        header, _, encoded = encoded.partition(",")
        if not header.endswith(";base64"):
            raise ValueError(f"a data URL that is not base64: {header!r}")
    encoded = "".join(encoded.split())
    encoded += "=" * (-len(encoded) % 4)
    altchars = b"-_" if ("-" in encoded or "_" in encoded) else None  # the URL-safe alphabet
    try:
        return base64.b64decode(encoded, altchars=altchars, validate=True)
    except binascii.Error as error:
        raise ValueError("not base64") from error


def read_upload(source: ImageSource | None) -> tuple[bytes | None, Image.Image]:
    """Return the upload's bytes (None for an in-memory image) and the lazily opened image,
    refused in plain words when missing, unreadable or over MAX_PIXELS."""
    if source is None:
        raise InputError(NO_UPLOAD)
    if isinstance(source, Image.Image):
        check_pixel_limit(source.size, InputError, "use a smaller image.")
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
        return data, open_encoded(data, InputError, "use a smaller image.")
    except UnidentifiedImageError as error:
        raise InputError(NOT_AN_IMAGE) from error
    except DECODE_ERRORS as error:  # after the above, which is an OSError too
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


def _encode_jpeg(image: Image.Image, quality: int) -> bytes:
    # Saving without exif= drops the metadata, including any GPS position, before it leaves.
    # Not optimize=True: its second pass over the image saves about 4% of the bytes for a
    # third of the encoding's CPU, and the CPU is what a class of uploads runs short of.
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# A photo decoded at a JPEG scale may end a little under max_side (4000 px at 1/4 is 1000): a
# caption model reads 384 to 768 pixels, so down to three quarters of max_side is kept as is.
DRAFT_FLOOR = 0.75


def prepare_upload(
    source: ImageSource | None, *, max_side: int = 1024, quality: int = 90
) -> PreparedImage:
    """Open an upload safely and return it upright, RGB, long side <= max_side (and, for a
    large photo, at least DRAFT_FLOOR of it), as JPEG.

    ``source`` is image bytes, a Pillow image or a path to an image file.
    """
    if max_side < 1 or not 1 <= quality <= 95:
        raise ValueError("max_side must be positive and quality between 1 and 95")
    data, image = read_upload(source)
    try:
        original_width, original_height = _upright_size(image)
        if data is not None:
            # JPEG only: decode straight at 1/2, 1/4 or 1/8 scale, the smallest that keeps the
            # long side at DRAFT_FLOOR of max_side or more: decoding is most of the cost.
            floor = _fit_within(image.size, max(1, int(max_side * DRAFT_FLOOR)))
            image.draft("RGB", floor)
        if _orientation(image) != 1:
            image = ImageOps.exif_transpose(image)
        image = image if image.mode == "RGB" else to_rgb(image)
        target = _fit_within(image.size, max_side)
        if target != image.size:
            # Bilinear with supersampling: plenty for a caption model, a third of Lanczos' cost.
            image = image.resize(target, Image.Resampling.BILINEAR)
        jpeg = _encode_jpeg(image, quality)
    except DECODE_ERRORS as error:
        raise InputError(DAMAGED_IMAGE) from error
    return PreparedImage(
        jpeg=jpeg,
        width=image.width,
        height=image.height,
        original_width=original_width,
        original_height=original_height,
        original_bytes=len(data) if data is not None else None,
    )
