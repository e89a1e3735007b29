"""Local models: every task runs in this process with transformers, diffusers and torch.

No token and no network once a model is on disk. The answers have the task API's shapes, so
`studio.backends.local` serves them like a server's. The extra is optional
(`pip install -r requirements-local.txt`); importing this package imports none of it, and a
request without it raises ConfigurationError naming that command.

Models load on first use, once per process per (task, model, device); concurrent first requests
wait for one load. A model is a hub id (from disk when it was downloaded before, asking no
network; else downloaded on first use, or with `offline` not at all: the configuration reads
HF_HUB_OFFLINE) or a folder; `python -m studio --prepare` downloads them before class.
Suggested models, small enough for a CPU (the configuration holds the defaults):

    summarize  sshleifer/distilbart-cnn-12-6          STUDIO_SUMMARY_MODEL
    ner        dslim/bert-base-NER                    STUDIO_NER_MODEL
    caption    Salesforce/blip-image-captioning-base  STUDIO_CAPTION_MODEL  (BLIP models)
    image      stabilityai/sd-turbo                   STUDIO_IMAGE_MODEL    (1-4 steps, no guidance)
    chat       Qwen/Qwen2.5-0.5B-Instruct             STUDIO_CHAT_MODEL     (needs a chat template)

device: "auto" (cuda, else mps, else cpu), "cpu", "cuda", "cuda:N" or "mps" (STUDIO_DEVICE).
offline: nothing is downloaded; models come from the cache or folders only (HF_HUB_OFFLINE).
progress: an optional callable given short messages while a model downloads (bytes and
percent: studio.local.download), loads, or makes an image.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from studio.errors import ConfigurationError
from studio.local.cache import CACHE
from studio.local.device import resolve_device
from studio.local.models import (
    extra_installed,
    load_model,
    model_source,
    require_extra,
    running_errors,
)
from studio.tasks.progress import Progress

__all__ = ["TASKS", "complete", "is_available", "status", "stream_chat", "unload"]

TASKS = ("summarize", "ner", "caption", "image")


def complete(
    task: str,
    model: str,
    inputs: Any,
    parameters: Mapping[str, Any] | None = None,
    *,
    device: str = "auto",
    offline: bool = False,
    progress: Progress | None = None,
    check_stop: Callable[[], None] | None = None,
) -> Any:
    """Run one task-API request in this process; answer in the task API's shape. `check_stop`
    raises when the person pressed Stop: a picture checks it between its steps.

    summarize  inputs: text; parameters min_length/max_length (top level or in
               "generate_parameters") -> [{"summary_text": str}]
    ner        inputs: text; parameters aggregation_strategy (default "none"), ignore_labels
               -> [{"entity", "score", "index", "word", "start", "end"}] (plain Python numbers)
    caption    inputs: image file bytes (or base64 text); parameters max_new_tokens
               -> [{"generated_text": str}]
    image      inputs: prompt; parameters negative_prompt, num_inference_steps, guidance_scale,
               width, height, seed, scheduler -> PNG bytes
    """
    if task not in TASKS:
        raise ConfigurationError(
            f"Unknown local task {task!r}; expected one of {', '.join(TASKS)}."
        )
    loaded = _load(task, model, device, offline, progress)
    module = _task_module(task)
    with running_errors(task):
        if task == "image":
            return module.run(loaded, inputs, dict(parameters or {}), progress, check_stop)
        return module.run(loaded, inputs, dict(parameters or {}))


def stream_chat(
    model: str,
    body: Mapping[str, Any],
    cancel: threading.Event,
    *,
    device: str = "auto",
    offline: bool = False,
    progress: Progress | None = None,
) -> Iterator[dict]:
    """Answer an OpenAI chat-completions request as the stream chunks a server would send.

    The first chunk carries the role, then one chunk per piece of text, then a last chunk with
    an empty delta and finish_reason "stop" or "length" ("stop" too when `cancel` was set).
    Setting `cancel` ends generation itself within a token or two. Loading happens on the
    first iteration, so errors (ConfigurationError, LocalModelError, BackendError) arrive
    from next(), like a server's.
    """
    loaded = _load("chat", model, device, offline, progress)
    from studio.local import chat

    yield from chat.stream(loaded, body, cancel)


def status() -> dict[str, Any]:
    """What the UI shows: whether the extra is installed, loaded models, loads in progress.

    {"available": bool, "models": [{"task", "model", "device", "load_seconds", "loaded_at",
    "requests"}], "loading": [{"task", "model", "device"}], "loads": int}
    """
    return {"available": extra_installed(), **CACHE.status()}


def unload(task: str | None = None, model: str | None = None) -> int:
    """Drop loaded models (all, or those matching) so their memory can be reclaimed."""
    return CACHE.unload(task, model)


def is_available() -> bool:
    """True when torch, transformers and diffusers are installed (nothing is imported)."""
    return extra_installed()


def _task_module(task: str) -> Any:
    # Imported here, not at the top: each pulls in torch and transformers or diffusers.
    if task == "summarize":
        from studio.local import summarize as module
    elif task == "ner":
        from studio.local import ner as module
    elif task == "caption":
        from studio.local import caption as module
    elif task == "image":
        from studio.local import text_to_image as module
    else:
        from studio.local import chat as module
    return module


def _load(task: str, model: str, device: str, offline: bool, progress: Progress | None) -> Any:
    require_extra(task)
    resolved = resolve_device(device)
    source = model_source(task, model)
    module = _task_module(task)

    def load() -> Any:
        return load_model(
            task,
            model,
            source,
            lambda local_only: module.load(model, source, resolved, offline=local_only),
            offline=offline,
            progress=progress,
        )

    return CACHE.get((task, source, resolved), load, progress)
