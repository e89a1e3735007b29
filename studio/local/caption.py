"""Image captioning with BLIP: processor, generate(), decode.

transformers 5 has no image-to-text pipeline; BLIP's own classes do what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image
from transformers import BlipForConditionalGeneration, BlipProcessor

from studio.errors import InputError
from studio.local.cache import LoadedModel
from studio.local.models import checked_model_config, load_network, wrong_task
from studio.local.options import generation_options
from studio.tasks.uploads import DAMAGED_IMAGE, DECODE_ERRORS, decode_base64, read_upload


@dataclass
class Captioner:
    processor: Any
    model: Any


def load(model: str, source: str, device: str, *, offline: bool = False) -> Captioner:
    config = checked_model_config(
        "caption", model, source, suffixes=("ForConditionalGeneration",), offline=offline
    )
    if config.model_type != "blip":
        raise wrong_task("caption", model, f"the {config.model_type} architecture, not BLIP")
    processor = BlipProcessor.from_pretrained(source, local_files_only=offline)
    network = load_network(BlipForConditionalGeneration, source, config, device, offline)
    return Captioner(processor, network)


def read_image(data: Any) -> Image.Image:
    """The image from file bytes, or from base64 text as the JSON form of the API sends it,
    opened as every upload is: within the pixel cap, refused in plain words."""
    if isinstance(data, str):
        try:
            data = decode_base64(data)
        except ValueError:
            raise InputError("The image must be file bytes or base64 text.") from None
    if not isinstance(data, (bytes, bytearray, memoryview, Image.Image)):
        raise InputError("Give an image to caption.")
    _, image = read_upload(data)
    try:
        return image.convert("RGB")
    except DECODE_ERRORS:
        raise InputError(DAMAGED_IMAGE) from None


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
