"""Pixels: any Pillow mode as RGB, and whether a picture is (almost) all black."""

from __future__ import annotations

from PIL import Image, ImageStat

WHITE = (255, 255, 255)


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


def looks_blank(image: Image.Image, *, threshold: int = 12) -> bool:
    """True for an (almost) all-black image, which is what Stable Diffusion's safety filter sends.

    A 64x64 box-filtered thumbnail averages away JPEG noise and single bright pixels, and is cheap.
    """
    thumbnail = to_rgb(image).resize((64, 64), Image.Resampling.BOX).convert("L")
    _, brightest = ImageStat.Stat(thumbnail).extrema[0]
    return brightest <= threshold
