"""Loading models once per process, and turning loading and running failures into studio errors.

Nothing here imports torch at import time: `studio.local` must import fast on machines without
the extra. The task modules (summarize, ner, caption, text_to_image, chat) import torch freely;
they are imported only after `require_extra` has passed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from studio.catalog import INSTALL_LOCAL, TASKS
from studio.errors import BackendError, ConfigurationError, ModelNotFoundError, StudioError
from studio.local.device import model_dtype
from studio.secrets import shorten

# The setting a person changes to pick another model for each task, and the default local
# model, named in messages as an example: both come from the configuration's task table.
SETTINGS = {name: spec.model_setting for name, spec in TASKS.items()}
EXAMPLE_MODELS = {name: spec.local_model for name, spec in TASKS.items()}

TASK_LABELS = {name: spec.label for name, spec in TASKS.items()}

# What a model is for, guessed from the end of its architecture's name.
ARCHITECTURE_PURPOSES = (
    ("ForTokenClassification", "token classification (NER)"),
    ("ForSequenceClassification", "text classification"),
    ("ForQuestionAnswering", "question answering"),
    ("ForMaskedLM", "filling in masked words"),
    ("ForCausalLM", "text generation (chat)"),
    ("LMHeadModel", "text generation (chat)"),
    ("ForConditionalGeneration", "text-to-text or image-to-text generation"),
    ("ForImageClassification", "image classification"),
)


def require_extra(task: str) -> None:
    """Import the heavy libraries the task needs, or say how to install them."""
    names = ["torch", "transformers"] + (["diffusers"] if task == "image" else [])
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigurationError(
                f"Local models need {name}, which is not installed ({exc}). "
                f"Install the local extra with: {INSTALL_LOCAL}"
            ) from exc


def extra_installed() -> bool:
    """True when the local extra looks installed; imports nothing heavy."""
    return all(_findable(name) for name in ("torch", "transformers", "diffusers"))


def _findable(name: str) -> bool:
    if name in sys.modules:  # imported already, or blocked with None
        return sys.modules[name] is not None
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def model_source(task: str, model: str) -> str:
    """Check a model string before any library sees it; answer what to pass to from_pretrained.

    An existing directory is used as is (made absolute so one folder is one cache key); a string
    that looks like a path but is not a directory is a clear "not found", not a hub lookup.
    """
    setting = SETTINGS[task]
    model = (model or "").strip()
    if not model:
        raise ModelNotFoundError(f"No model is set for {TASK_LABELS[task]}: set {setting}.")
    if model.startswith(("http://", "https://")):
        raise ModelNotFoundError(
            f"{setting} is a URL ({model}); local models need a model id such as "
            f"{EXAMPLE_MODELS[task]} or a folder."
        )
    path = Path(model).expanduser()
    if path.is_dir():
        _check_folder(task, path)
        return str(path.resolve())
    looks_like_path = (
        path.is_absolute() or model.startswith((".", "~")) or model.count("/") > 1 or "\\" in model
    )
    if looks_like_path or path.exists():
        problem = "is a file, not a folder" if path.exists() else "does not exist"
        raise ModelNotFoundError(
            f"The folder {model} {problem}. Set {setting} to a folder that holds a "
            f"{TASK_LABELS[task]} model, or to a model id such as {EXAMPLE_MODELS[task]}."
        )
    return model


def _check_folder(task: str, folder: Path) -> None:
    """A folder must hold a model of the right library: diffusers for images, else transformers."""
    setting = SETTINGS[task]
    is_pipeline = (folder / "model_index.json").is_file()
    is_transformers = (folder / "config.json").is_file()
    if not is_pipeline and not is_transformers:
        raise ModelNotFoundError(
            f"The folder {folder} holds no model (no config.json or model_index.json). "
            f"Set {setting} to the folder that a model was saved or downloaded into."
        )
    if task == "image" and not is_pipeline:
        raise BackendError(
            f"{folder} is a transformers model {_purpose_of_folder(folder)}, not a diffusers "
            f"text-to-image pipeline. Set {setting} to one, such as {EXAMPLE_MODELS[task]}."
        )
    if task != "image" and is_pipeline and not is_transformers:
        raise BackendError(
            f"{folder} is a diffusers text-to-image pipeline; {setting} needs a "
            f"{TASK_LABELS[task]} model such as {EXAMPLE_MODELS[task]}."
        )


def _purpose_of_folder(folder: Path) -> str:
    try:
        architectures = json.loads((folder / "config.json").read_text()).get("architectures")
    except (OSError, ValueError):
        return ""
    return f"for {describe_architectures(architectures)}"


def describe_architectures(architectures: list[str] | None) -> str:
    """'token classification (NER) (BertForTokenClassification)', or the bare names."""
    names = list(architectures or [])
    for suffix, purpose in ARCHITECTURE_PURPOSES:
        if any(name.endswith(suffix) for name in names):
            return f"{purpose} ({', '.join(names)})"
    return ", ".join(names) or "an unknown architecture"


def wrong_task(task: str, model: str, what_it_is: str) -> BackendError:
    setting = SETTINGS[task]
    return BackendError(
        f"{model} is a model for {what_it_is}; {setting} needs a {TASK_LABELS[task]} model "
        f"such as {EXAMPLE_MODELS[task]}."
    )


def checked_model_config(
    task: str,
    model: str,
    source: str,
    *,
    suffixes: tuple[str, ...],
    auto_class: Any = None,
    offline: bool = False,
) -> Any:
    """Read the model's transformers config (config.json) and refuse a model made for another
    task.

    Auto classes happily bolt a random head onto a base model (a plain BERT "works" as NER and
    answers noise), so the declared architecture must end with one of `suffixes`; and the
    config must be one that `auto_class` can build.
    """
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(source, local_files_only=offline)
    names = getattr(config, "architectures", None) or []
    declared_elsewhere = bool(names) and not any(name.endswith(suffixes) for name in names)
    # _model_mapping is how every Auto class decides; a config it lacks would raise later.
    unbuildable = auto_class is not None and type(config) not in auto_class._model_mapping
    if declared_elsewhere or unbuildable:
        what = describe_architectures(names) if names else f"the {config.model_type} architecture"
        raise wrong_task(task, model, what)
    return config


def load_network(model_class: Any, source: str, config: Any, device: str, offline: bool) -> Any:
    """The model's weights as `model_class` (checked by `checked_model_config`), in the
    device's dtype, on the device, ready for inference."""
    network = model_class.from_pretrained(
        source, config=config, dtype=model_dtype(device), local_files_only=offline
    )
    return network.to(device).eval()


@contextlib.contextmanager
def loading_errors(task: str, model: str, *, offline: bool = False) -> Iterator[None]:
    """Turn what from_pretrained raises into ModelNotFoundError / BackendError. `offline`:
    whether downloads were off (HF_HUB_OFFLINE), which is then what the message says."""
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
            raise ModelNotFoundError(
                f"{model} is neither a model folder nor a model id ({first_line(text)}). "
                f"Set {setting} to a model id such as {EXAMPLE_MODELS[task]}, or to a folder."
            ) from exc
        if isinstance(exc, OSError) and Path(model).is_dir():
            raise ModelNotFoundError(
                f"The folder {model} does not hold a complete {TASK_LABELS[task]} model "
                f"({first_line(text)}). Set {setting} to a folder with every file of the model."
            ) from exc
        if isinstance(exc, OSError):
            reason = (
                "HF_HUB_OFFLINE is set, so nothing is downloaded"
                if offline
                else "it could not be downloaded"
            )
            raise ModelNotFoundError(
                f"Could not load {model} for {TASK_LABELS[task]}: it is not in the local model "
                f"cache and {reason} ({first_line(text)}). Download it once with network access "
                f"(hf download {model}), or set {setting} to a cached model or a folder."
            ) from exc
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


def out_of_memory(task: str) -> BackendError:
    advice = {
        "image": "fewer steps or a smaller width and height",
        "chat": "fewer max tokens or a shorter conversation",
    }.get(task, "a shorter input")
    return BackendError(
        f"The machine ran out of memory running the local {TASK_LABELS[task]} model. Pick a "
        f"smaller model ({SETTINGS[task]}), {advice}, set STUDIO_DEVICE=cpu if the GPU is "
        "small, or use a model server instead."
    )


@contextlib.contextmanager
def running_errors(task: str) -> Iterator[None]:
    """Out-of-memory while generating becomes a BackendError that says what to change."""
    try:
        yield
    except Exception as exc:
        if is_out_of_memory(exc):
            raise out_of_memory(task) from exc
        raise


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return shorten(line, limit)
