"""Which model a task may load (a hub id or a folder, of the right kind), and loading it: from
disk when it is there, else after its download. What failures say is `studio.local.failures`.

Nothing here imports torch at import time: `studio.local` must import fast on machines without
the extra. The task modules (summarize, ner, caption, text_to_image, chat) import torch freely;
they are imported only after `require_extra` has passed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from studio.catalog import INSTALL_LOCAL
from studio.errors import ConfigurationError, LocalModelNotFoundError, WrongKindOfModelError
from studio.local import download
from studio.local.device import model_dtype
from studio.local.download import CONFIGS, HubFailure
from studio.local.failures import (
    EXAMPLE_MODELS,
    SETTINGS,
    TASK_LABELS,
    first_line,
    hub_error,
    is_out_of_memory,
    loading_errors,
    not_downloaded,
    out_of_memory,
    running_errors,
    wrong_task,
)
from studio.tasks.progress import Progress

log = logging.getLogger("studio")

__all__ = [  # the names the task modules use, from here or from studio.local.failures
    "EXAMPLE_MODELS",
    "SETTINGS",
    "checked_model_config",
    "first_line",
    "is_out_of_memory",
    "load_model",
    "load_network",
    "model_source",
    "out_of_memory",
    "running_errors",
    "wrong_task",
]

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
        raise LocalModelNotFoundError(f"No model is set for {TASK_LABELS[task]}: set {setting}.")
    if model.startswith(("http://", "https://")):
        raise LocalModelNotFoundError(
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
        raise LocalModelNotFoundError(
            f"The folder {model} {problem}. Set {setting} to a folder that holds a "
            f"{TASK_LABELS[task]} model, or to a model id such as {EXAMPLE_MODELS[task]}."
        )
    return model


def _check_folder(task: str, folder: Path) -> None:
    """A folder must hold a model of the right library: diffusers for images, else transformers."""
    names = {name for name in CONFIGS if (folder / name).is_file()}
    if not names:
        raise LocalModelNotFoundError(
            f"The folder {folder} holds no model (no config.json or model_index.json). "
            f"Set {SETTINGS[task]} to the folder that a model was saved or downloaded into."
        )
    check_kind(task, str(folder), names, purpose=lambda: _purpose_of_folder(folder))


def check_kind(task: str, model: str, names: Iterable[str], *, purpose=lambda: "") -> None:
    """Refuse a model of a library this task cannot run, from its files' names: a folder's, or
    a repository's on the Hub before anything is downloaded (diffusers pipelines have a
    model_index.json, transformers models a config.json)."""
    names = set(names)
    is_pipeline, is_transformers = "model_index.json" in names, "config.json" in names
    if task == "image" and not is_pipeline:
        what = f"a transformers model {purpose()}".rstrip() if is_transformers else "no pipeline"
        raise WrongKindOfModelError(
            f"{model} is {what}, not a diffusers text-to-image pipeline (no model_index.json). "
            f"Set {SETTINGS[task]} to one, such as {EXAMPLE_MODELS[task]}."
        )
    if task != "image" and not is_transformers:
        what = "a diffusers text-to-image pipeline" if is_pipeline else "not a transformers model"
        raise WrongKindOfModelError(
            f"{model} is {what} (no config.json); {SETTINGS[task]} needs a "
            f"{TASK_LABELS[task]} model such as {EXAMPLE_MODELS[task]}."
        )


def load_model(
    task: str,
    model: str,
    source: str,
    load: Callable[[bool], Any],
    *,
    offline: bool,
    progress: Progress | None,
) -> Any:
    """`load(local_only)` the model, from disk without asking the network when it is there
    (a class with no network loads a prepared model at once, not after the Hub's retries);
    else after checking what the Hub has (its kind, its size, whether it can be reached at
    all) and downloading its files with progress. Failures are studio errors that say why."""
    with loading_errors(task, model, offline=offline), download.quiet_retries(model):
        if os.path.isdir(source):
            return load(offline)
        if download.cached(source):
            try:
                return load(True)
            except OSError as exc:  # partly downloaded: the rest comes below
                if offline:
                    raise
                log.info("%s is not complete on disk (%s)", model, first_line(str(exc)))
        elif offline:
            raise not_downloaded(task, model, "offline", "HF_HUB_OFFLINE is set")
        try:
            planned = download.plan(source)
            check_kind(task, model, planned.names)
            download.fetch(source, progress, planned=planned)
        except HubFailure as failure:
            raise hub_error(task, model, failure) from failure
        return load(False)


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
