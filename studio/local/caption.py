"""Image captioning with BLIP: processor, generate(), decode.

transformers 5 has no image-to-text pipeline; BLIP's own classes do what it did.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image, UnidentifiedImageError
from transformers import BlipForConditionalGeneration, BlipProcessor

from studio.errors import InputError
from studio.local.cache import LoadedModel
from studio.local.models import load_config, model_dtype, wrong_task
from studio.local.options import generation_options


@dataclass
class Captioner:
    processor: Any
    model: Any


def load(model: str, source: str, device: str, *, offline: bool = False) -> Captioner:
    config = load_config(
        "caption", model, source, suffixes=("ForConditionalGeneration",), offline=offline
    )
    if config.model_type != "blip":
        raise wrong_task("caption", model, f"the {config.model_type} architecture, not BLIP")
    processor = BlipProcessor.from_pretrained(source, local_files_only=offline)
    network = BlipForConditionalGeneration.from_pretrained(
        source, config=config, dtype=model_dtype(device), local_files_only=offline
    )
    return Captioner(processor, network.to(device).eval())


def read_image(data: Any) -> Image.Image:
    """The image from file bytes, or from base64 text as the JSON form of the API sends it."""
    if isinstance(data, Image.Image):
        return data.convert("RGB")
    if isinstance(data, str):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InputError("The image must be file bytes or base64 text.") from None
    if not isinstance(data, (bytes, bytearray, memoryview)) or not data:
        raise InputError("Give an image to caption.")
    try:
        with Image.open(io.BytesIO(bytes(data))) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError):
        raise InputError("That file is not an image that can be read (use JPEG or PNG).") from None


def run(loaded: LoadedModel, data: Any, parameters: dict[str, Any]) -> list[dict[str, str]]:
    image = read_image(data)
    captioner: Captioner = loaded.value
    options = generation_options(parameters)
    with loaded.lock:  # the processor's tokenizer is not safe across threads
        inputs = captioner.processor(images=image, return_tensors="pt")
    model = captioner.model
    pixels = inputs["pixel_values"].to(model.device, model.dtype)
    with torch.inference_mode():
        output = model.generate(pixel_values=pixels, **options)
    caption = captioner.processor.decode(output[0], skip_special_tokens=True)
    return [{"generated_text": caption.strip()}]
