"""What a local model's failures say: which setting picks the model, and each failure turned into
a studio error (`studio.errors.LocalModelError` and its kinds) that says what happened in plain
words and what to do on the computer that runs the studio.

Imports nothing heavy: the task modules import torch, this module does not.
"""

from __future__ import annotations

import contextlib
import errno
import sys
from collections.abc import Iterator
from pathlib import Path

from studio.catalog import TASKS
from studio.errors import (
    BackendError,
    LocalModelError,
    LocalModelNotFoundError,
    ModelNotDownloadedError,
    NotEnoughDiskError,
    NotEnoughMemoryError,
    StudioError,
    WrongKindOfModelError,
)
from studio.local.download import HubFailure
from studio.secrets import shorten
from studio.tasks.downloads import human_bytes

# The setting a person changes to pick another model for each task, and the default local
# model, named in messages as an example: both come from the configuration's task table.
SETTINGS = {name: spec.model_setting for name, spec in TASKS.items()}
EXAMPLE_MODELS = {name: spec.local_model for name, spec in TASKS.items()}
TASK_LABELS = {name: spec.label for name, spec in TASKS.items()}
PREPARE = "python -m studio --prepare"  # downloads every tab's model, before class


def wrong_task(task: str, model: str, what_it_is: str) -> WrongKindOfModelError:
    setting = SETTINGS[task]
    return WrongKindOfModelError(
        f"{model} is a model for {what_it_is}; {setting} needs a {TASK_LABELS[task]} model "
        f"such as {EXAMPLE_MODELS[task]}."
    )


def hub_error(task: str, model: str, failure: HubFailure, *, size: str = "") -> LocalModelError:
    """A model that is not on disk and whose files could not be had, by `failure.kind`.
    `size`: what it would download, in words, when the failure does not know."""
    setting, label = SETTINGS[task], TASK_LABELS[task]
    size = (
        f" ({human_bytes(failure.size) if failure.size else size})" if failure.size or size else ""
    )
    instead = f"or set {setting} to a model that is on this computer, or a folder"
    if failure.kind == "missing":
        return LocalModelNotFoundError(
            f"The Hugging Face Hub has no model {model} ({failure.detail}), or it is private. "
            f"Set {setting} to a {label} model id such as {EXAMPLE_MODELS[task]}.",
            title="No such model",
            person="The model set for this tab does not exist on the Hugging Face Hub. The "
            "terminal that runs the studio says which setting names it.",
        )
    if failure.kind == "gated":
        return LocalModelError(
            f"{model} is gated: accept its licence on its page at huggingface.co and log in on "
            f"this computer (hf auth login), {instead}.",
            title="Model needs a licence",
            person="This tab's model needs its licence accepted on huggingface.co first. The "
            "terminal that runs the studio says how.",
        )
    if failure.kind == "disk":
        return NotEnoughDiskError(
            f"{model} does not fit on this computer's disk: {failure.detail}. Free some space, "
            f"or set HF_HOME to a folder on a disk with room, then run {PREPARE}."
        )
    return not_downloaded(task, model, failure.kind, failure.detail, size)


def not_downloaded(
    task: str, model: str, kind: str, detail: str, size: str = ""
) -> ModelNotDownloadedError:
    """Not on disk, and not downloadable now: no network, HF_HUB_OFFLINE, or the Hub failing."""
    setting = SETTINGS[task]
    head = f"{model}{size}, the {TASK_LABELS[task]} model, is not on this computer"
    instead = f"or set {setting} to a model that is on this computer, or a folder"
    if kind == "offline":
        return ModelNotDownloadedError(
            f"{head}, and HF_HUB_OFFLINE is set, so nothing is downloaded. Unset HF_HUB_OFFLINE "
            f"and run {PREPARE} with network access, {instead}.",
            person="This tab's model is not on this computer, and downloads are turned off "
            f"(HF_HUB_OFFLINE). On the computer that runs the studio, with internet access, "
            f"run: HF_HUB_OFFLINE=0 {PREPARE}",
        )
    why = "the Hub answered with an error" if kind == "hub" else "the Hub cannot be reached"
    what = (
        "the Hugging Face Hub is failing. Try again later."
        if kind == "hub"
        else "there is no internet connection."
    )
    return ModelNotDownloadedError(
        f"{head} yet, and {why} to download it ({detail}). Connect to the internet and run "
        f"{PREPARE}, which downloads every tab's model, {instead}.",
        person=f"This tab's model is not on this computer yet, and it could not be downloaded: "
        f"{what} On the computer that runs the studio, with internet access, run: {PREPARE}",
    )


@contextlib.contextmanager
def loading_errors(task: str, model: str, *, offline: bool = False) -> Iterator[None]:
    """Turn what from_pretrained raises into studio errors. `offline`: whether downloads were
    off (HF_HUB_OFFLINE), which is then what the message says."""
    setting = SETTINGS[task]
    try:
        yield
    except StudioError:
        raise
    except Exception as exc:
        if is_out_of_memory(exc):
            raise out_of_memory(task) from exc
        text = str(exc)
        if isinstance(exc, ValueError) and "Unrecognized configuration class" in text:
            raise wrong_task(task, model, "another task") from exc
        if isinstance(exc, ValueError) and ("Repo id must" in text or "Unrecognized model" in text):
            raise LocalModelNotFoundError(
                f"{model} is neither a model folder nor a model id ({first_line(text)}). "
                f"Set {setting} to a model id such as {EXAMPLE_MODELS[task]}, or to a folder."
            ) from exc
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise hub_error(task, model, HubFailure("disk", first_line(text))) from exc
        if isinstance(exc, OSError) and Path(model).is_dir():
            raise LocalModelNotFoundError(
                f"The folder {model} does not hold a complete {TASK_LABELS[task]} model "
                f"({first_line(text)}). Set {setting} to a folder with every file of the model."
            ) from exc
        if isinstance(exc, OSError):
            kind = "offline" if offline else "network"
            raise not_downloaded(task, model, kind, first_line(text)) from exc
        raise BackendError(
            f"Loading {model} for {TASK_LABELS[task]} failed: {first_line(text)}"
        ) from exc


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    torch = sys.modules.get("torch")  # only a run that imported torch can hit its OOM
    if torch is not None and isinstance(exc, torch.OutOfMemoryError):
        return True
    # CPU allocation failures arrive as a plain RuntimeError.
    message = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in message or "can't allocate memory" in message
    )


def out_of_memory(task: str) -> NotEnoughMemoryError:
    advice = {
        "image": "fewer steps or a smaller width and height",
        "chat": "fewer max tokens or a shorter conversation",
    }.get(task, "a shorter input")
    return NotEnoughMemoryError(
        f"The machine ran out of memory running the local {TASK_LABELS[task]} model. Pick a "
        f"smaller model ({SETTINGS[task]}), {advice}, set STUDIO_DEVICE=cpu if the GPU is "
        "small, or use a model server instead.",
        person=f"The computer that runs the studio ran out of memory for this model. Try "
        f"{advice}; if it keeps happening, that computer needs a smaller model.",
    )


@contextlib.contextmanager
def running_errors(task: str) -> Iterator[None]:
    """Out-of-memory while generating becomes an error that says what to change."""
    try:
        yield
    except Exception as exc:
        if is_out_of_memory(exc):
            raise out_of_memory(task) from exc
        raise


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return shorten(line, limit)
