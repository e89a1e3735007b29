"""A model's first use downloads its files, and the person sees how far: bytes and percent
("Downloading sshleifer/distilbart-cnn-12-6: 312 MB of 1.2 GB (26%)"), not only "loading".

`plan` asks the Hub which files the loader will read (`studio.tasks.downloads`) and how many
bytes of them are not on disk yet: a dry run of `huggingface_hub.snapshot_download`, which
answers in a moment, network or not. `fetch` downloads them with snapshot_download, whose
`tqdm_class` hears every chunk. When the Hub cannot be asked or the files cannot be had,
`HubFailure` says why in one word (offline, network, missing, gated, hub, disk), so the caller
can say it in plain words at once, instead of the loader retrying for half a minute and then
blaming a missing file. `--prepare` and `--check` use the same two functions.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.tasks.downloads import download_line, files_to_fetch, human_bytes, percent
from studio.tasks.progress import Progress

log = logging.getLogger("studio")

CONFIGS = ("config.json", "model_index.json")  # one of these is there once a model is
INTERVAL = 1.0  # seconds between two progress lines (the status line ticks each second)


class DownloadReport:
    """Bytes received so far against the total, told as lines: the first at once, then at most
    one per `interval` whose percent moved, and the last when every byte is there."""

    def __init__(
        self,
        model: str,
        total: int,
        progress: Progress,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = INTERVAL,
    ) -> None:
        self.model, self.total, self.progress = model, total, progress
        self.clock, self.interval = clock, interval
        self.lock = threading.Lock()
        self.bars: list[Any] = []
        self.told: tuple[int, float] | None = None  # (percent, when)
        # Chunks arrive in snapshot_download's worker threads: lines are told in the context
        # of the thread that started the download, so they reach the person it works for.
        self.context = contextvars.copy_context()

    def received(self) -> int:
        return max((bar.n for bar in self.bars), default=0)

    def tell(self, *, final: bool = False) -> None:
        with self.lock:
            done = self.total if final else min(self.received(), self.total)
            share, now = percent(done, self.total), self.clock()
            if self.told is not None and not final:
                last_share, last_time = self.told
                if share == last_share or (now - last_time < self.interval and share < 100):
                    return
            if self.told is not None and self.told[0] == 100:
                return  # said once
            self.told = (share, now)
            self.context.run(self.progress, download_line(self.model, done, self.total))

    def bar_class(self) -> type[QuietBar]:
        """A bar class whose byte bars report here."""
        return type("ReportingBar", (QuietBar,), {"report": self})


class QuietBar:
    """Mimics tqdm where snapshot_download uses it, printing nothing; its byte bars (unit "B")
    tell their `report`, if it has one, each chunk."""

    report: DownloadReport | None = None

    def __init__(self, *args: Any, total: Any = None, initial: int = 0, **kwargs: Any) -> None:
        self.n, self.total = initial, total
        self.counts = self.report is not None and kwargs.get("unit") == "B"
        if self.counts:
            self.report.bars.append(self)

    def update(self, n: int | float | None = 1) -> None:
        self.n += int(n or 0)
        if self.counts:
            self.report.tell()

    def __enter__(self) -> QuietBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def _ignore(self, *args: Any, **kwargs: Any) -> None:
        pass

    close = refresh = set_description = set_description_str = _ignore
    set_postfix_str = set_postfix = _ignore


class HubFailure(Exception):
    """Why a model's files could not be listed or downloaded. `kind`: offline (HF_HUB_OFFLINE
    is set), network (the Hub cannot be reached), missing (no such model, or a private one),
    gated (its licence must be accepted first), hub (the Hub answered with an error), disk (no
    room for the files). `detail`: the library's own words; `size`: bytes needed, when known."""

    def __init__(self, kind: str, detail: str, *, size: int | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail, self.size = kind, detail, size


@dataclass(frozen=True)
class Plan:
    """What a model's first use downloads: every file of the repository, those the loader
    reads, and the bytes of those that are not on disk yet (with how many files that is)."""

    model: str
    names: tuple[str, ...]
    needed: tuple[str, ...]
    size: int
    files: int


def cached(model: str) -> bool:
    """Whether the model's config is in the cache (then its files came with it, mostly)."""
    from huggingface_hub import try_to_load_from_cache

    return any(isinstance(try_to_load_from_cache(model, name), str) for name in CONFIGS)


def plan(model: str, *, hub: str | None = None) -> Plan:
    """Ask the Hub (`hub`, default HF_ENDPOINT) what the model's first use downloads; raise
    HubFailure when it cannot say. Nothing is downloaded."""
    from huggingface_hub import snapshot_download

    try:
        planned = snapshot_download(model, dry_run=True, tqdm_class=QuietBar, endpoint=hub)
    except Exception as exc:
        raise hub_failure(exc) from exc
    names = tuple(info.filename for info in planned)
    needed = tuple(files_to_fetch(names))
    missing = [info for info in planned if info.filename in needed and info.will_download]
    size = sum(info.file_size or 0 for info in missing)
    return Plan(model, names, needed, size, len(missing))


def fetch(
    model: str,
    progress: Progress | None,
    *,
    hub: str | None = None,
    planned: Plan | None = None,
    **report_options: Any,
) -> None:
    """Download the files `model` (a hub id) needs, telling `progress` how far; raise
    HubFailure when they cannot be had. `planned`: what `plan` answered, if it was asked."""
    from huggingface_hub import snapshot_download

    if planned is None and cached(model):
        return  # downloaded before: the loader finds it without asking the network
    planned = planned or plan(model, hub=hub)
    if not planned.files:
        return
    room_for(planned)
    report = DownloadReport(model, planned.size, progress or (lambda line: None), **report_options)
    report.tell()
    bar = report.bar_class()
    try:
        snapshot_download(model, allow_patterns=list(planned.needed), tqdm_class=bar, endpoint=hub)
    except Exception as exc:
        raise hub_failure(exc, size=planned.size) from exc
    report.tell(final=True)


def room_for(planned: Plan) -> None:
    """Refuse, before the first byte, a download the disk has no room for."""
    from huggingface_hub import constants

    folder = Path(constants.HF_HUB_CACHE)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the cache's folder is made by the download itself
    free = shutil.disk_usage(folder).free
    if free < planned.size:
        raise HubFailure(
            "disk",
            f"{human_bytes(planned.size)} to download, {human_bytes(free)} free in "
            f"{constants.HF_HUB_CACHE}",
            size=planned.size,
        )


def hub_failure(exc: BaseException, *, size: int | None = None) -> HubFailure:
    """What went wrong, from what huggingface_hub raised (a dry run's error carries the cause)."""
    from huggingface_hub import errors

    cause = exc.__cause__ if isinstance(exc, errors.DryRunError) and exc.__cause__ else exc
    detail = first_words(cause)
    if isinstance(cause, errors.OfflineModeIsEnabled):
        kind = "offline"
    elif isinstance(cause, errors.GatedRepoError):
        kind = "gated"
    elif isinstance(cause, errors.RepositoryNotFoundError | errors.RevisionNotFoundError):
        kind = "missing"
    elif isinstance(cause, errors.HfHubHTTPError):
        status = getattr(cause.response, "status_code", None)
        kind = "missing" if status in (401, 404) else "hub"
    elif isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
        kind = "disk"
    else:  # a connection refused, a name not resolved, a timeout, a dropped download
        kind = "network"
    return HubFailure(kind, detail, size=size)


class RetryCounter(logging.Filter):
    """huggingface_hub warns of every failed attempt and every retry: hundreds of lines when the
    network is down, each printed twice (by its own handler and the root's). Set on its loggers,
    this keeps them out and counts the failed requests, for one line at the end of a load."""

    NOISE = ("thrown while requesting", "Retrying in", "Rate limited.", "Could not reach the Hub")

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.failed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not any(noise in message for noise in self.NOISE):
            return True
        if "thrown while requesting" in message:
            with self.lock:
                self.failed += 1
        return False

    def take(self) -> int:
        with self.lock:
            failed, self.failed = self.failed, 0
        return failed


RETRIES = RetryCounter()
HUB_LOGGERS = (
    "huggingface_hub.utils._http",
    "huggingface_hub.hf_api",
    "huggingface_hub.file_download",
)


@contextlib.contextmanager
def quiet_retries(model: str) -> Iterator[None]:
    """huggingface_hub's retry warnings, while `model` loads, as one line when it is done."""
    for name in HUB_LOGGERS:
        logger = logging.getLogger(name)
        if RETRIES not in logger.filters:
            logger.addFilter(RETRIES)
    try:
        yield
    finally:
        if failed := RETRIES.take():
            log.warning(
                "%s: %d requests to the Hugging Face Hub failed and were retried "
                "(huggingface_hub's warnings about each are left out)",
                model,
                failed,
            )


def first_words(exc: BaseException, limit: int = 160) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
