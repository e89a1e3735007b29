"""Image preparation, answer parsing, text-to-image settings and PNG metadata, on real Pillow."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from studio.backends import registry
from studio.backends.base import TaskRequest
from studio.backends.openai_chat import completion_text
from studio.errors import BadResponseError, InputError
from studio.tasks import uploads
from studio.tasks.image_answers import caption_from_answer, image_from_answer
from studio.tasks.image_settings import (
    ImageRequest,
    describe,
    make_image_request,
    png_with_parameters,
    read_parameters,
    resolve_seed,
)
from studio.tasks.pixels import looks_blank
from studio.tasks.uploads import MAX_PIXELS, MAX_UPLOAD_BYTES, prepare_upload
from tests.conftest import make_endpoint

ASSETS = Path(__file__).resolve().parents[2] / "assets"
RED, WHITE, BLACK, GREY = (255, 0, 0), (255, 255, 255), (0, 0, 0), (128, 128, 128)


# --- helpers ---------------------------------------------------------------------------------


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def decoded(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image


def assert_colour(actual: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 8):
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (
        f"{actual} is not close to {expected}"
    )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its IHDR chunk but holds no pixel data: nothing to allocate."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def halves(mode: str, left, right, size: tuple[int, int] = (64, 32)) -> Image.Image:
    """An image whose left half is one value and right half another."""
    image = Image.new(mode, size, left)
    image.paste(Image.new(mode, (size[0] // 2, size[1]), right), (size[0] // 2, 0))
    return image


def photo_like(size: tuple[int, int]) -> Image.Image:
    """Gradients plus sensor-like noise: compresses about as badly as a real photo."""
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    noise = Image.effect_noise(size, 24)
    return Image.merge("RGB", [Image.blend(g, noise, 0.25) for g in (horizontal, vertical, radial)])


# --- EXIF orientation ------------------------------------------------------------------------


def test_exif_orientation_6_is_turned_upright():
    # Stored landscape with a red block top-left; Orientation 6 means "turn 90 degrees clockwise
    # to view", which carries the stored top-left corner to the top-right.
    stored = Image.new("RGB", (300, 200), GREY)
    stored.paste(RED, (0, 0, 60, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    prepared = prepare_upload(encode(stored, "JPEG", exif=exif.tobytes(), quality=95))

    assert (prepared.width, prepared.height) == (200, 300)
    assert (prepared.original_width, prepared.original_height) == (200, 300)
    upright = decoded(prepared.jpeg).convert("RGB")
    assert upright.size == (200, 300)
    assert_colour(upright.getpixel((180, 30)), RED)
    assert_colour(upright.getpixel((20, 20)), GREY)
    assert_colour(upright.getpixel((180, 280)), GREY)


def test_a_large_turned_jpeg_is_decoded_small_then_turned_upright():
    stored = Image.new("RGB", (3000, 2000), GREY)
    stored.paste(RED, (0, 0, 600, 400))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    prepared = prepare_upload(encode(stored, "JPEG", exif=exif.tobytes()))

    assert (prepared.original_width, prepared.original_height) == (2000, 3000)
    assert (prepared.width, prepared.height) == (683, 1024)
    upright = decoded(prepared.jpeg).convert("RGB")
    assert_colour(upright.getpixel((650, 50)), RED)
    assert_colour(upright.getpixel((30, 50)), GREY)


# A 12-megapixel photo as stored by a phone held four ways: the upright picture has its red
# corner top-left each time, and the size the person sees.
TURNS = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90}
TURNS[8] = Image.Transpose.ROTATE_270


@pytest.fixture(scope="module")
def stored_photos() -> dict[int, bytes]:
    """The JPEG bytes a phone stores for each orientation, made once for every size tried."""
    upright = Image.new("RGB", (4000, 3000), GREY)
    upright.paste(RED, (0, 0, 800, 600))
    photos = {}
    for orientation, turn in TURNS.items():
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = orientation
        stored = upright if turn is None else upright.transpose(turn)
        photos[orientation] = encode(stored, "JPEG", exif=exif.tobytes())
    return photos


@pytest.mark.parametrize("orientation", TURNS)
@pytest.mark.parametrize("max_side", [1024, 768, 512, 300])
def test_a_photo_decoded_at_a_jpeg_scale_keeps_its_orientation_and_size_limits(
    stored_photos, orientation, max_side
):
    prepared = prepare_upload(stored_photos[orientation], max_side=max_side)

    assert (prepared.original_width, prepared.original_height) == (4000, 3000)
    sent = decoded(prepared.jpeg)
    assert sent.size == (prepared.width, prepared.height)
    assert uploads.DRAFT_FLOOR * max_side <= sent.width <= max_side, "landscape, long side kept"
    assert sent.width / sent.height == pytest.approx(4 / 3, rel=0.01)
    assert_colour(sent.getpixel((sent.width // 10, sent.height // 10)), RED)
    assert_colour(sent.getpixel((sent.width - 5, sent.height - 5)), GREY)
    assert_colour(sent.getpixel((sent.width - 5, 5)), GREY)


def test_metadata_is_not_sent_on():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.Base.Make] = "Phone"
    prepared = prepare_upload(encode(Image.new("RGB", (40, 30), GREY), "JPEG", exif=exif.tobytes()))
    assert dict(decoded(prepared.jpeg).getexif()) == {}


# --- every colour mode -----------------------------------------------------------------------


def p_with_transparency() -> Image.Image:
    image = halves("P", 0, 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.info["transparency"] = 0  # palette entry 0 is see-through
    return image


def i_mode(values: tuple[int, int]) -> Image.Image:
    return halves("I", *values)


# name, image, a format that can hold that mode, expected left colour, expected right colour
MODES = [
    ("RGB", halves("RGB", RED, GREY), "PNG", RED, GREY),
    ("RGBA on white", halves("RGBA", (0, 0, 0, 0), (255, 0, 0, 255)), "PNG", WHITE, RED),
    ("RGBA half see-through", halves("RGBA", (0, 0, 0, 128), BLACK), "PNG", (127,) * 3, BLACK),
    ("LA on white", halves("LA", (0, 0), (0, 255)), "PNG", WHITE, BLACK),
    ("P with transparency", p_with_transparency(), "PNG", WHITE, RED),
    ("P", halves("RGB", RED, GREY).convert("P", palette=Image.Palette.ADAPTIVE), "GIF", RED, GREY),
    ("CMYK", halves("CMYK", (255, 0, 0, 0), (0, 0, 0, 255)), "JPEG", (0, 255, 255), BLACK),
    ("I;16", halves("I;16", 65535, 32768), "PNG", WHITE, (128,) * 3),
    ("I holding 16-bit values", i_mode((65535, 0)), "TIFF", WHITE, BLACK),
    ("I holding 8-bit values", i_mode((255, 128)), "TIFF", WHITE, (128,) * 3),
    ("I stretched", i_mode((-1000, 1_000_000)), "TIFF", BLACK, WHITE),
    ("F from 0 to 1", halves("F", 1.0, 0.5), "TIFF", WHITE, (128,) * 3),
    ("L", halves("L", 255, 128), "PNG", WHITE, (128,) * 3),
    ("1", halves("1", 1, 0), "PNG", WHITE, BLACK),
]


@pytest.mark.parametrize("as_bytes", [True, False], ids=["file", "in memory"])
@pytest.mark.parametrize(
    ("image", "image_format", "left", "right"),
    [case[1:] for case in MODES],
    ids=[case[0] for case in MODES],
)
def test_every_mode_becomes_rgb(image, image_format, left, right, as_bytes):
    if as_bytes:
        data = encode(image, image_format)
        assert Image.open(io.BytesIO(data)).mode.split(";")[0] == image.mode.split(";")[0]
        prepared = prepare_upload(data)
    else:
        prepared = prepare_upload(image)
    result = decoded(prepared.jpeg)
    assert result.mode == "RGB"
    assert (prepared.width, prepared.height) == image.size
    assert_colour(result.getpixel((8, 16)), left)
    assert_colour(result.getpixel((56, 16)), right)


# --- size ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_photo() -> Image.Image:
    return photo_like((4000, 3000))


def test_a_12_megapixel_photo_is_sent_as_a_small_jpeg(big_photo):
    original = encode(big_photo, "JPEG", quality=92)
    prepared = prepare_upload(original)

    # Decoded straight at a quarter of its size: 1000x750, within 1024 and above 768.
    assert (prepared.width, prepared.height) == (1000, 750)
    assert (prepared.original_width, prepared.original_height) == (4000, 3000)
    assert prepared.original_bytes == len(original)
    assert decoded(prepared.jpeg).size == (1000, 750)

    # What the course sent: the full-size image as base64 PNG inside JSON.
    course_base64_png = len(base64.b64encode(encode(big_photo, "PNG")))
    print(
        f"\n4000x3000 photo: base64 PNG {course_base64_png:,} bytes; "
        f"prepared JPEG 1000x750 {len(prepared.jpeg):,} bytes "
        f"({course_base64_png / len(prepared.jpeg):.0f}x smaller)"
    )
    assert len(prepared.jpeg) * 50 < course_base64_png


def test_a_photo_whose_jpeg_scale_falls_short_is_resized_to_the_limit(big_photo):
    smaller = big_photo.resize((1400, 1050))  # at 1/2 it would be 700 px: under 768
    prepared = prepare_upload(encode(smaller, "JPEG"))
    assert (prepared.width, prepared.height) == (1024, 768)


def test_in_memory_photo_and_a_smaller_limit(big_photo):
    prepared = prepare_upload(big_photo, max_side=512)
    assert (prepared.width, prepared.height) == (512, 384)
    assert prepared.original_bytes is None


def test_portrait_keeps_its_aspect():
    prepared = prepare_upload(encode(Image.new("RGB", (1500, 3000), GREY), "PNG"))
    assert (prepared.width, prepared.height) == (512, 1024)


def test_small_images_are_never_upscaled():
    prepared = prepare_upload(encode(Image.new("RGB", (300, 200), GREY), "PNG"))
    assert (prepared.width, prepared.height) == (300, 200)
    assert (prepared.original_width, prepared.original_height) == (300, 200)


def test_upload_from_a_file_path(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(encode(Image.new("RGB", (80, 60), RED), "PNG"))
    prepared = prepare_upload(path)
    assert (prepared.width, prepared.height) == (80, 60)
    assert prepared.original_bytes == path.stat().st_size
    assert prepare_upload(str(path)).jpeg == prepared.jpeg


def test_base64_and_data_url_of_the_prepared_jpeg():
    """The JPEG as the requests carry it: base64 in a task API's JSON when parameters ride
    along, a data: URL in a vision chat server's message."""
    prepared = prepare_upload(Image.new("RGB", (8, 8), RED))
    asked = TaskRequest(prepared.jpeg, {"max_new_tokens": 20}, content_type="image/jpeg")
    task_api = make_endpoint("http://127.0.0.1:9/caption", task="caption")
    to_base64 = registry.request(task_api, asked).json["inputs"]
    vision_chat = make_endpoint("http://127.0.0.1:9/v1", task="caption", protocol="openai")
    message = registry.request(vision_chat, asked).json["messages"][0]
    to_data_url = message["content"][1]["image_url"]["url"]
    assert base64.b64decode(to_base64) == prepared.jpeg
    assert to_data_url == "data:image/jpeg;base64," + to_base64


# --- refusing what cannot be used ------------------------------------------------------------


def test_a_decompression_bomb_is_refused_from_its_header():
    # 10 gigapixels: Pillow itself refuses to open it.
    with pytest.raises(InputError) as refused:
        prepare_upload(png_header_only(100_000, 100_000))
    assert str(refused.value).startswith("This image is too large to decode safely (10,000 megap")
    assert str(refused.value).endswith("use a smaller image.")


def test_our_limit_answers_before_any_decoding():
    # 64 MP: below Pillow's thresholds, above ours. The file holds no pixels, so any attempt to
    # decode would fail as "damaged" instead.
    with pytest.raises(InputError, match=r"too large to decode safely \(64 megapixels"):
        prepare_upload(png_header_only(8000, 8000))


def test_pillows_bomb_warning_range_is_refused():
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(InputError, match="100 meg"):
        prepare_upload(png_header_only(10_000, 10_000))


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_pillows_bomb_warning_as_an_error_is_refused_too():
    with pytest.raises(InputError, match=r"too large to decode safely \(100 megapixels"):
        prepare_upload(png_header_only(10_000, 10_000))


def test_an_in_memory_image_over_the_limit_is_refused():
    side = int(MAX_PIXELS**0.5) + 1
    with pytest.raises(InputError, match="too large"):
        prepare_upload(Image.new("1", (side, side)))


@pytest.mark.parametrize("data", [b"hello, this is text", b"%PDF-1.7\n", b"\x00" * 100])
def test_non_images_are_refused(data):
    with pytest.raises(InputError, match="not an image file we can read.*JPEG, PNG, WebP"):
        prepare_upload(data)


def test_a_truncated_image_is_refused():
    whole = encode(photo_like((400, 300)), "JPEG")
    with pytest.raises(InputError, match="damaged or incomplete"):
        prepare_upload(whole[: len(whole) // 2])


SMALL = Image.new("RGB", (64, 64), GREY)


@pytest.mark.parametrize(
    ("image_format", "length"),
    [("JPEG", 300), ("JPEG", 8), ("WEBP", 40), ("PNG", 20)],
)
def test_a_header_cut_short_is_refused_as_damaged(image_format, length):
    # Pillow fails inside Image.open here, not while decoding the pixels.
    with pytest.raises(InputError, match="damaged or incomplete"):
        prepare_upload(encode(SMALL, image_format)[:length])


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_advertised_format_is_read(image_format):
    assert prepare_upload(encode(SMALL, image_format)).width == 64


def test_a_camera_jpeg_with_a_second_picture_is_read():
    mpo = encode(SMALL, "MPO", save_all=True, append_images=[Image.new("RGB", (32, 32))])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    assert prepare_upload(mpo).width == 64


@pytest.mark.parametrize("image_format", ["ICO", "PPM", "TGA", "PCX", "SGI"])
def test_formats_we_do_not_advertise_are_not_opened(image_format):
    # Some plugins decode while opening: an ICO's embedded PNG was decoded before the pixel
    # check, so a 388 KB icon holding a 10000x10000 PNG cost 408 MB.
    with pytest.raises(InputError, match="not an image file we can read"):
        prepare_upload(encode(SMALL, image_format))
    with pytest.raises(BadResponseError, match="not an image we can read"):
        image_from_answer(encode(SMALL, image_format))


def test_a_file_over_the_upload_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "padded.png"
    with path.open("wb") as file:
        file.write(encode(SMALL, "PNG"))
        file.truncate(MAX_UPLOAD_BYTES + 1)  # sparse: the test writes no 50 MB
    with pytest.raises(InputError, match="larger than the 50 MB limit.*smaller"):
        prepare_upload(path)


def test_the_upload_limit_counts_bytes_on_disk(tmp_path, monkeypatch):
    path = tmp_path / "photo.png"
    path.write_bytes(encode(SMALL, "PNG"))
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", path.stat().st_size)
    assert prepare_upload(path).width == 64  # at the limit is fine
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", path.stat().st_size - 1)
    with pytest.raises(InputError, match="limit"):
        prepare_upload(path)


@pytest.mark.parametrize("empty", [None, b"", ""], ids=["None", "no bytes", "no path"])
def test_nothing_uploaded(empty):
    with pytest.raises(InputError, match="^Upload an image first.$"):
        prepare_upload(empty)


def test_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="could not be read"):
        prepare_upload(tmp_path / "gone.png")


# --- text-to-image answers -------------------------------------------------------------------

PICTURE = halves("RGB", RED, GREY)
PNG = encode(PICTURE, "PNG")
PNG_BASE64 = base64.b64encode(PNG).decode("ascii")

ANSWERS = {
    "raw PNG": PNG,
    "raw JPEG": encode(PICTURE, "JPEG", quality=95),
    "raw WebP": encode(PICTURE, "WEBP", lossless=True),
    "base64 text": PNG_BASE64,
    "base64 with line breaks, no padding": "\n".join(
        PNG_BASE64.rstrip("=")[i : i + 76] for i in range(0, len(PNG_BASE64), 76)
    ),
    "URL-safe base64": base64.urlsafe_b64encode(PNG).decode("ascii"),
    "data URL": "data:image/png;base64," + PNG_BASE64,
    "JSON string (the course)": json.dumps(PNG_BASE64),
    "JSON body as bytes": json.dumps({"data": [{"b64_json": PNG_BASE64}]}).encode(),
    "OpenAI images": {"created": 1, "data": [{"b64_json": PNG_BASE64}]},
    "bare b64_json": {"b64_json": PNG_BASE64},
    "list of b64_json": [{"b64_json": PNG_BASE64}],
    "images list": {"images": [PNG_BASE64], "parameters": {}},
}


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_image_answers(answer):
    image = image_from_answer(answer)
    assert image.size == PICTURE.size
    assert_colour(image.convert("RGB").getpixel((8, 16)), RED)
    assert_colour(image.convert("RGB").getpixel((56, 16)), GREY)


@pytest.mark.parametrize(
    ("answer", "described"),
    [
        ({"error": "Model is currently loading", "estimated_time": 20.0}, "keys error, estim"),
        ({"data": [{"url": "https://example.com/a.png"}]}, "keys url"),
        (b"<!DOCTYPE html><html><body>Bad gateway</body></html>", "bytes starting b'<!DOCTYPE"),
        ("Internal Server Error", "text of 21 characters starting 'Internal Server Error'"),
        ("not base64 at all!", "not base64"),
        ([], "a list of 0 items"),
        (None, "nothing"),
        (42, "a int"),
    ],
)
def test_unreadable_image_answers_say_what_came(answer, described):
    with pytest.raises(BadResponseError, match=described):
        image_from_answer(answer)


def test_a_huge_unreadable_answer_is_described_briefly():
    with pytest.raises(BadResponseError) as refused:
        image_from_answer("A" * 5_000_000 + "!")
    assert len(str(refused.value)) < 300


def test_a_bomb_from_the_server_is_refused():
    with pytest.raises(BadResponseError, match="too large to decode safely"):
        image_from_answer(png_header_only(100_000, 100_000))


# --- captions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        [{"generated_text": " a cat on a sofa \n"}],
        {"generated_text": "a cat on a sofa"},
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "a cat on a sofa"}}]},
        {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": [
                            {"type": "text", "text": "a cat "},
                            {"type": "text", "text": "on a sofa"},
                        ],
                    }
                }
            ]
        },
    ],
    ids=["task list", "bare object", "chat string", "chat parts"],
)
def test_caption_answers(answer):
    if "choices" in answer:  # the vision chat backend answers in the task API's shape
        answer = [{"generated_text": completion_text(answer)}]
    assert caption_from_answer(answer) == "a cat on a sofa"


@pytest.mark.parametrize(
    "answer",
    [
        [{"generated_text": "   "}],
        {"choices": [{"message": {"content": ""}}]},
        {"choices": [{"message": {"content": [{"type": "image_url", "image_url": {}}]}}]},
    ],
)
def test_empty_captions_are_bad_answers(answer):
    if "choices" in answer:
        answer = [{"generated_text": completion_text(answer)}]
    with pytest.raises(BadResponseError, match="empty caption"):
        caption_from_answer(answer)


@pytest.mark.parametrize(
    "answer", [{"error": "overloaded"}, [], {"choices": []}, "a cat", None, [{"label": "cat"}]]
)
def test_answers_without_a_caption(answer):
    with pytest.raises(BadResponseError, match="holds no caption"):
        if isinstance(answer, dict) and "choices" in answer:
            answer = [{"generated_text": completion_text(answer)}]
        caption_from_answer(answer)


# --- blank (safety filter) images ------------------------------------------------------------


def test_all_black_images_look_blank():
    black = Image.new("RGB", (512, 512), BLACK)
    assert looks_blank(black)
    assert looks_blank(Image.open(io.BytesIO(encode(black, "JPEG", quality=75))))
    assert looks_blank(Image.effect_noise((512, 512), 2).point(lambda v: min(v, 6)))


def test_pictures_are_not_blank():
    assert not looks_blank(Image.new("RGB", (512, 512), GREY))
    assert not looks_blank(photo_like((512, 512)))
    moon = Image.new("RGB", (512, 512), BLACK)
    moon.paste(WHITE, (200, 200, 264, 264))
    assert not looks_blank(moon)


def test_a_night_photo_is_not_blank():
    assert not looks_blank(Image.open(ASSETS / "rocket.jpg"))


# --- text-to-image settings ------------------------------------------------------------------


def test_defaults_and_parameters():
    request = make_image_request("  a lighthouse at dusk  ", seed=123)
    assert request == ImageRequest(prompt="a lighthouse at dusk", seed=123)
    assert request.to_parameters() == {
        "num_inference_steps": 25,
        "guidance_scale": 7.0,
        "width": 512,
        "height": 512,
        "seed": 123,
    }


def test_negative_prompt_is_sent_only_when_given():
    request = make_image_request("a cat", negative_prompt=" blurry ", seed=1)
    assert request.to_parameters()["negative_prompt"] == "blurry"
    assert (
        "negative_prompt" not in make_image_request("a cat", negative_prompt=None).to_parameters()
    )


def test_ui_numbers_arrive_as_floats():
    request = make_image_request("a cat", steps=30.0, guidance=8, width=768.0, height=640, seed=7.0)
    assert (request.steps, request.guidance, request.width, request.height) == (30, 8.0, 768, 640)
    assert request.seed == 7


@pytest.mark.parametrize(("asked", "used"), [(500, 512), (100, 128), (64, 64), (1020, 1024)])
def test_sizes_are_rounded_to_multiples_of_64(asked, used):
    request = make_image_request("a cat", width=asked, height=asked)
    assert (request.width, request.height) == (used, used)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt": "   "}, "Write a prompt"),
        ({"prompt": None}, "Write a prompt"),
        ({"steps": 0}, "Steps must be between 1 and 100"),
        ({"steps": 101}, "Steps must be between 1 and 100"),
        ({"steps": 25.5}, "Steps must be a whole number"),
        ({"guidance": -0.5}, "Guidance must be between 0 and 20"),
        ({"guidance": 20.5}, "Guidance must be between 0 and 20"),
        ({"guidance": float("nan")}, "Guidance must be between 0 and 20"),
        ({"guidance": "seven"}, "Guidance must be a number, not 'seven'"),
        ({"guidance": float("inf")}, "Guidance must be between 0 and 20, not infinity"),
        ({"steps": "NaN"}, "Steps must be between 1 and 100, not NaN"),
        ({"seed": 2**63}, "seed must be -1 \\(random\\) or between 0 and 4294967295"),
        ({"width": 1050}, "Width must be between 64 and 1024 pixels, not 1050"),
        ({"height": 32}, "Height must be between 64 and 1024 pixels, not 32"),
        ({"seed": 2**32}, "seed must be -1 \\(random\\) or between 0 and 4294967295"),
        ({"seed": -5}, "seed must be -1"),
        ({"prompt": 123}, "The prompt must be text, not int"),
        ({"negative_prompt": 5}, "The negative prompt must be text, not int"),
        ({"negative_prompt": ["blurry"]}, "The negative prompt must be text, not list"),
    ],
)
def test_settings_out_of_range_are_refused(changes, message):
    values = {"prompt": "a cat"} | changes
    with pytest.raises(InputError, match=message):
        make_image_request(values.pop("prompt"), **values)


def test_direct_construction_is_strict_about_multiples_of_64():
    with pytest.raises(InputError, match="Width must be a multiple of 64"):
        ImageRequest(prompt="a cat", width=500)


@pytest.mark.parametrize("random", [None, -1, -1.0])
def test_random_seeds_are_32_bit(random):
    seeds = {resolve_seed(random) for _ in range(20)}
    assert all(0 <= seed < 2**32 for seed in seeds)
    assert len(seeds) > 1
    assert make_image_request("a cat", seed=random).seed in range(2**32)


def test_given_seeds_are_kept():
    assert resolve_seed(0) == 0
    assert resolve_seed(2**32 - 1) == 2**32 - 1


def test_describe_names_every_setting():
    request = ImageRequest("a cat", "blurry", steps=30, guidance=7.5, width=768, height=512, seed=9)
    assert describe(request) == (
        "Seed 9 · 30 steps · guidance 7.5 · 768×512 · negative prompt: blurry"
    )
    assert describe(ImageRequest("a cat")).endswith("negative prompt: none")


# --- settings inside the PNG -----------------------------------------------------------------


def test_png_parameters_round_trip_in_automatic1111_form():
    request = ImageRequest("a lighthouse at dusk", "blurry, text", seed=123)
    png = png_with_parameters(PICTURE, request, model="stabilityai/stable-diffusion-2-1")
    expected = (
        "a lighthouse at dusk\n"
        "Negative prompt: blurry, text\n"
        "Steps: 25, CFG scale: 7.0, Seed: 123, Size: 512x512, "
        "Model: stabilityai/stable-diffusion-2-1"
    )
    reopened = Image.open(io.BytesIO(png))
    assert reopened.format == "PNG"
    assert reopened.text["parameters"] == expected
    assert read_parameters(png) == expected
    assert_colour(reopened.convert("RGB").getpixel((8, 16)), RED)


def test_png_parameters_without_negative_prompt_and_with_awkward_text():
    request = ImageRequest("un chat 🐱 sur un toit\nau coucher du soleil", seed=5, guidance=8)
    text = read_parameters(png_with_parameters(PICTURE, request, model="org/model:fastest"))
    assert text == (
        "un chat 🐱 sur un toit\nau coucher du soleil\n"
        'Steps: 25, CFG scale: 8.0, Seed: 5, Size: 512x512, Model: "org/model:fastest"'
    )


def test_images_without_parameters():
    assert read_parameters(PNG) is None
    assert read_parameters(encode(PICTURE, "JPEG")) is None
    with pytest.raises(InputError, match="not an image file"):
        read_parameters(b"plain text")


# --- shipped example photos ------------------------------------------------------------------


def test_example_photos_are_small_jpegs_with_a_licence():
    photos = sorted(ASSETS.glob("*.jpg"))
    licences = (ASSETS / "LICENSES.md").read_text(encoding="utf-8")
    assert len(photos) >= 3
    for photo in photos:
        with Image.open(photo) as image:
            assert image.format == "JPEG" and image.mode == "RGB"
            assert max(image.size) <= 800
        assert photo.stat().st_size < 150_000
        assert photo.name in licences
