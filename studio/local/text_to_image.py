"""Text to image with a diffusers pipeline (AutoPipelineForText2Image), answered as PNG bytes.

Every task-API option is mapped: negative_prompt, num_inference_steps, guidance_scale, width,
height (rounded to a multiple of 8, as the UNet needs), seed (a CPU torch.Generator, so one seed
gives one image on any device), scheduler (a diffusers scheduler class name), and the old
servers' target_size.

Turbo models (sd-turbo, sdxl-turbo) and FLUX.1 schnell were distilled to work without
classifier-free guidance: a guidance_scale above 1 burns a turbo's images, so for such a model
(studio.tasks.model_settings says which) guidance is set to 0 and the negative prompt dropped
(it works only through guidance), as the studio's own requests already have them; the steps
default to the model's own (1 for a turbo).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from typing import Any

import diffusers
import torch
from diffusers import AutoPipelineForText2Image

from studio.errors import InputError
from studio.local.cache import LoadedModel
from studio.local.device import model_dtype
from studio.local.options import convert, multiple_of, optional
from studio.tasks.model_settings import picture_defaults
from studio.tasks.progress import Progress

SIZE_STEP = 8


def load(model: str, source: str, device: str, *, offline: bool = False) -> Any:
    pipeline = AutoPipelineForText2Image.from_pretrained(
        source, dtype=model_dtype(device, half_on_gpu=True), local_files_only=offline
    )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(device)


def call_options(model: str, prompt: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's keyword arguments for one request (generator and callbacks aside)."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError("Describe the image to make.")
    options: dict[str, Any] = {"prompt": prompt}
    defaults = picture_defaults(model)
    negative = parameters.get("negative_prompt")
    if negative and not defaults.guidance_free:
        options["negative_prompt"] = str(negative)
    steps = optional(parameters, "num_inference_steps", int)
    if steps is not None and steps < 1:
        raise InputError("num_inference_steps must be at least 1.")
    guidance = optional(parameters, "guidance_scale", float)
    if defaults.guidance_free:
        guidance, steps = 0.0, steps or defaults.steps
    if steps is not None:
        options["num_inference_steps"] = steps
    if guidance is not None:
        options["guidance_scale"] = guidance
    target = parameters.get("target_size") or {}
    for side in ("width", "height"):
        value = parameters.get(side, target.get(side) if isinstance(target, dict) else None)
        if value is not None:
            options[side] = multiple_of(convert(side, value, int), SIZE_STEP)
    return options


def swap_scheduler(pipeline: Any, name: str) -> Any:
    """Put the named scheduler in place (configured like the current one); answer the old one."""
    compatible = {type(pipeline.scheduler).__name__}
    compatible |= {cls.__name__ for cls in getattr(pipeline.scheduler, "compatibles", [])}
    scheduler_class = getattr(diffusers, name, None)
    if scheduler_class is None or name not in compatible:
        raise InputError(f"scheduler must be one of {', '.join(sorted(compatible))}.")
    previous = pipeline.scheduler
    pipeline.scheduler = scheduler_class.from_config(previous.config)
    return previous


def run(
    loaded: LoadedModel,
    prompt: Any,
    parameters: dict[str, Any],
    progress: Progress | None = None,
    check_stop: Callable[[], None] | None = None,
) -> bytes:
    """The picture as PNG bytes. `check_stop` raises when Stop was pressed: checked between
    steps and while waiting for another picture, so a stopped picture frees the CPU at once."""
    check = check_stop or (lambda: None)
    options = call_options(loaded.model, prompt, parameters)
    seed = optional(parameters, "seed", int)
    generator = torch.Generator("cpu").manual_seed(
        secrets.randbelow(2**32) if seed is None else seed
    )
    pipeline = loaded.value
    steps = options.get("num_inference_steps")

    def report_step(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict:
        check()
        if progress is not None:
            progress(f"Step {step + 1}/{steps or pipe.num_timesteps}")
        return tensors

    # The scheduler holds per-call state (its timesteps): one image at a time per pipeline.
    if not loaded.lock.acquire(blocking=False):
        if progress is not None:
            progress("Waiting for another image to finish…")
        while not loaded.lock.acquire(timeout=0.25):
            check()
    try:
        previous = None
        if parameters.get("scheduler"):
            previous = swap_scheduler(pipeline, str(parameters["scheduler"]))
        try:
            result = pipeline(**options, generator=generator, callback_on_step_end=report_step)
        finally:
            if previous is not None:
                pipeline.scheduler = previous
    finally:
        loaded.lock.release()
    buffer = io.BytesIO()
    result.images[0].save(buffer, format="PNG")
    return buffer.getvalue()
