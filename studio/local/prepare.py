"""A room prepared before class: whether each local model is on this computer, what the rest
would download, and downloading them all at once (`python -m studio --prepare`).

`readiness` is what `--check` says of a local model; `prepare` downloads. Neither loads a model,
so neither imports torch: a teacher can prepare before installing the extra, and a check
takes a moment. Offline, a model that is not on disk is a "NO" with its size (from the Hub when
it answers, else the rough size of a default model) and the command that fetches it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from studio.catalog import TASKS
from studio.errors import LocalModelError
from studio.local import download
from studio.local.download import CONFIGS, HubFailure, Plan
from studio.local.failures import PREPARE, hub_error
from studio.local.models import check_kind
from studio.tasks.downloads import human_bytes

# What the default local models download (safetensors, no precision variants), for saying a
# size when the Hub cannot be asked. Rounded: the Hub's own figure wins whenever it answers.
ROUGH_SIZES = {
    "sshleifer/distilbart-cnn-12-6": 1_220_000_000,
    "dslim/bert-base-NER": 433_000_000,
    "Salesforce/blip-image-captioning-base": 990_000_000,
    "stabilityai/sd-turbo": 5_200_000_000,
    "Qwen/Qwen2.5-0.5B-Instruct": 990_000_000,
}
PROGRESS_INTERVAL = 5.0  # seconds between two progress lines in a terminal


@dataclass(frozen=True)
class Readiness:
    """Whether a local model will work in class: `status` in a few words, `advice` what to do."""

    ok: bool
    status: str
    advice: str = ""


def rough_size(model: str) -> str:
    size = ROUGH_SIZES.get(model)
    return f"about {human_bytes(size)}" if size else ""


def readiness(task: str, model: str, *, offline: bool, hub: str | None = None) -> Readiness:
    """What `--check` says of `model` for `task`: on disk, downloadable now (and how much), or
    not to be had, with what to do. Asks the Hub (`hub`) only for a model not on disk."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        if any((folder / name).is_file() for name in CONFIGS):
            return Readiness(True, "on disk")
        return Readiness(False, "no model there", f"{folder} holds no model files.")
    if download.cached(model):
        return _left_to_download(model, offline=offline, hub=hub)
    if offline:
        failure = HubFailure("offline", "HF_HUB_OFFLINE is set")
        return unavailable(task, model, failure)
    try:
        planned = download.plan(model, hub=hub)
        check_kind(task, model, planned.names)
    except HubFailure as failure:
        return unavailable(task, model, failure)
    except LocalModelError as error:
        return Readiness(False, "wrong kind of model", error.message)
    return Readiness(
        True,
        f"downloads {human_bytes(planned.size)} on first use",
        f"{model} is not downloaded yet. Download it now, before class: {PREPARE}",
    )


def _left_to_download(model: str, *, offline: bool, hub: str | None) -> Readiness:
    """A model whose config is on disk: whether a download was cut short, when the Hub can say
    (the loader would fetch the rest in class, or fail without network)."""
    try:
        planned = None if offline else download.plan(model, hub=hub)
    except HubFailure:
        planned = None  # cannot say: what is there loads without the network
    if planned is None or not planned.files:
        return Readiness(True, "downloaded")
    return Readiness(
        True,
        f"partly downloaded, {human_bytes(planned.size)} to go",
        f"{model}'s download was cut short: {planned.files} files are missing. Finish it now, "
        f"before class: {PREPARE}",
    )


UNAVAILABLE = {  # HubFailure.kind -> the table's few words
    "offline": "not downloaded",
    "network": "not downloaded, no network",
    "missing": "no such model",
    "gated": "licence not accepted",
    "hub": "not downloaded, Hub failing",
    "disk": "no room on disk",
}


def unavailable(task: str, model: str, failure: HubFailure) -> Readiness:
    error = hub_error(task, model, failure, size=rough_size(model))
    return Readiness(False, UNAVAILABLE.get(failure.kind, "not downloaded"), error.message)


def prepare(
    models: Mapping[str, str], say: Callable[[str], None], *, hub: str | None = None
) -> bool:
    """Download the models (task -> hub id or folder) not on disk yet, saying what each needs,
    then how far each download is. True when every one is on disk at the end."""
    plans: dict[str, Plan] = {}
    ready = True
    for task, model in models.items():
        title = TASKS[task].title
        if model in plans:
            continue  # two tasks, one model
        if Path(model).expanduser().is_dir():
            say(f"{title}: {model} is on disk.")
            continue
        try:
            planned = download.plan(model, hub=hub)
            check_kind(task, model, planned.names)
        except (HubFailure, LocalModelError) as problem:
            if isinstance(problem, HubFailure) and download.cached(model):
                say(f"{title}: {model} is downloaded (the Hub was not asked: {problem.detail}).")
                continue
            say(f"{title}: {_problem(task, model, problem)}")
            ready = False
            continue
        if not planned.files:
            say(f"{title}: {model} is downloaded.")
            continue
        size = human_bytes(planned.size)
        say(f"{title}: {model} needs {size} in {planned.files} files.")
        plans[model] = planned
    if plans:
        total = human_bytes(sum(planned.size for planned in plans.values()))
        say(f"Downloading {len(plans)} models, {total} in all:")
    for model, planned in plans.items():
        try:
            download.fetch(model, say, hub=hub, planned=planned, interval=PROGRESS_INTERVAL)
        except HubFailure as failure:
            task = next(task for task, name in models.items() if name == model)
            say(f"{TASKS[task].title}: {_problem(task, model, failure)}")
            ready = False
    return ready


def _problem(task: str, model: str, problem: Exception) -> str:
    if isinstance(problem, HubFailure):
        return hub_error(task, model, problem).message
    return str(problem)
