"""summarize, ner and caption through complete(), on tiny random models.

Random weights say nothing worth reading, so these check the answer's shape, its types, and that
each parameter reaches the model.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import pytest

import studio.local as local
from studio.errors import InputError

ARTICLE = (
    "John said the city river report was new today . Mary and Peter were in Paris with the "
    "team from Google , and the game was big news in London this week ."
)


def words(text: str) -> int:
    return len(text.split())


# ---- summarize ----


def test_summary_has_the_task_api_shape(tiny):
    answer = local.complete("summarize", tiny["summarize"], ARTICLE)
    json.dumps(answer)
    assert isinstance(answer, list) and len(answer) == 1
    assert set(answer[0]) == {"summary_text"}
    assert isinstance(answer[0]["summary_text"], str)


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize(("min_length", "max_length"), [(30, 34), (12, 14)])
def test_min_and_max_length_bound_the_summary(tiny, nested, min_length, max_length):
    # The tiny BART emits no special token mid-summary, so each word is one token. The length
    # counts the decoder's start token and the closing </s>: words = tokens - 1 or - 2.
    lengths = {"min_length": min_length, "max_length": max_length}
    parameters = {"generate_parameters": lengths} if nested else lengths
    answer = local.complete("summarize", tiny["summarize"], ARTICLE, parameters)
    assert min_length - 2 <= words(answer[0]["summary_text"]) <= max_length - 1


def test_a_short_max_length_cuts_the_summary(tiny):
    answer = local.complete("summarize", tiny["summarize"], ARTICLE, {"max_length": 4})
    assert words(answer[0]["summary_text"]) <= 3


def test_a_long_article_is_truncated_not_refused(tiny):
    answer = local.complete("summarize", tiny["summarize"], ARTICLE * 40, {"max_length": 8})
    assert words(answer[0]["summary_text"]) <= 7


@pytest.mark.parametrize("text", ["", "   ", None])
def test_summary_needs_text(tiny, text):
    with pytest.raises(InputError):
        local.complete("summarize", tiny["summarize"], text)


def test_unreadable_parameter_is_an_input_error(tiny):
    with pytest.raises(InputError, match="max_length"):
        local.complete("summarize", tiny["summarize"], ARTICLE, {"max_length": "long"})


# ---- ner ----


def test_ner_answers_raw_tokens_with_plain_types(tiny):
    text = "John lives in Parising with Mary"
    answer = local.complete("ner", tiny["ner"], text)
    json.dumps(answer)
    # The tiny classifier never says "O", so every word piece is an entity.
    assert [entity["word"] for entity in answer] == [
        "John",
        "lives",
        "in",
        "Paris",
        "##ing",
        "with",
        "Mary",
    ]
    for position, entity in enumerate(answer, start=1):
        assert set(entity) == {"entity", "score", "index", "word", "start", "end"}
        assert type(entity["score"]) is float and 0.0 < entity["score"] <= 1.0
        assert type(entity["start"]) is int and type(entity["end"]) is int
        assert entity["index"] == position  # token position, counting [CLS] as 0
        assert entity["entity"][:2] in {"B-", "I-"}


def test_ner_offsets_index_the_text(tiny):
    text = "Anna  met Peter in  Rome , by the Lake Street Bank"
    answer = local.complete("ner", tiny["ner"], text)
    assert answer
    for entity in answer:
        assert text[entity["start"] : entity["end"]] == entity["word"].removeprefix("##")


def test_ner_can_aggregate_like_the_hosted_api(tiny):
    text = "John lives in Paris"
    answer = local.complete("ner", tiny["ner"], text, {"aggregation_strategy": "simple"})
    json.dumps(answer)
    assert answer and all(
        set(e) == {"entity_group", "score", "word", "start", "end"} for e in answer
    )
    for entity in answer:
        assert text[entity["start"] : entity["end"]] == entity["word"]


def test_ner_ignore_labels_filters(tiny):
    everything = local.complete("ner", tiny["ner"], "John lives in Paris with Mary")
    labels = {entity["entity"] for entity in everything}
    kept = local.complete(
        "ner", tiny["ner"], "John lives in Paris with Mary", {"ignore_labels": sorted(labels)}
    )
    assert kept == []


def test_ner_refuses_an_unknown_aggregation(tiny):
    with pytest.raises(InputError, match="aggregation_strategy"):
        local.complete("ner", tiny["ner"], "John", {"aggregation_strategy": "most"})


# ---- caption ----


def image_bytes(kind: str, size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buffer, format=kind)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_caption_answers_generated_text(tiny, kind):
    answer = local.complete("caption", tiny["caption"], image_bytes(kind))
    json.dumps(answer)
    assert isinstance(answer, list) and set(answer[0]) == {"generated_text"}
    assert isinstance(answer[0]["generated_text"], str)


def test_caption_max_new_tokens_bounds_the_text(tiny):
    image = image_bytes("PNG")
    short = local.complete("caption", tiny["caption"], image, {"max_new_tokens": 2})
    longer = local.complete("caption", tiny["caption"], image, {"max_new_tokens": 8})
    assert 1 <= words(short[0]["generated_text"]) <= 2
    assert words(short[0]["generated_text"]) < words(longer[0]["generated_text"]) <= 8


def test_caption_reads_base64_like_bytes(tiny):
    image = image_bytes("PNG")
    as_text = base64.b64encode(image).decode()
    assert local.complete("caption", tiny["caption"], as_text) == local.complete(
        "caption", tiny["caption"], image
    )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds no pixels: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "base64"])
def test_caption_refuses_an_image_over_the_pixel_cap_in_plain_words(tiny, as_text):
    # 60 megapixels: over the studio's cap, under the size at which Pillow itself would warn.
    huge = png_header_only(10_000, 6_000)
    data = base64.b64encode(huge).decode() if as_text else huge
    with pytest.raises(InputError, match=r"too large to decode safely \(60 megapixels"):
        local.complete("caption", tiny["caption"], data)


@pytest.mark.parametrize("data", [b"", b"not an image at all", "%%% not base64", None])
def test_caption_refuses_what_is_not_an_image(tiny, data):
    with pytest.raises(InputError):
        local.complete("caption", tiny["caption"], data)
