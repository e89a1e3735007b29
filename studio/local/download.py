"""A model's first use downloads its files, and the person sees how far: bytes and percent
("Downloading sshleifer/distilbart-cnn-12-6: 312 MB of 1.2 GB (26%)"), not only "loading".

Before a loader's `from_pretrained`, the files it will read (`studio.tasks.downloads`) are
fetched with `huggingface_hub.snapshot_download`, whose `tqdm_class` hears every chunk: the
total comes from a dry run (the sizes of the files not yet in the cache), the bytes from the
download's byte bars. Nothing is asked when HF_HUB_OFFLINE is set or the model's config is cached; a
repository the dry run cannot see is left to the loader, which says what is wrong as before.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from studio.tasks.downloads import download_line, files_to_fetch, percent
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


def fetch(
    model: str, progress: Progress | None, *, hub: str | None = None, **report_options: Any
) -> None:
    """Download the files `model` (a hub id) needs, telling `progress` how far. `hub`: the
    Hub's URL (default: HF_ENDPOINT, as the loaders read it)."""
    from huggingface_hub import snapshot_download, try_to_load_from_cache

    if any(isinstance(try_to_load_from_cache(model, name), str) for name in CONFIGS):
        return  # downloaded before: the loader finds it without asking the network
    try:
        planned = snapshot_download(model, dry_run=True, tqdm_class=QuietBar, endpoint=hub)
    except Exception as exc:  # offline, not found, gated: the loader says so in its words
        log.debug("download of %s left to the loader: %s", model, exc)
        return
    needed = set(files_to_fetch(info.filename for info in planned))
    missing = [info for info in planned if info.filename in needed and info.will_download]
    if not missing:
        return
    total = sum(info.file_size or 0 for info in missing)
    report = DownloadReport(model, total, progress or (lambda line: None), **report_options)
    report.tell()
    bar = report.bar_class()
    snapshot_download(model, allow_patterns=sorted(needed), tqdm_class=bar, endpoint=hub)
    report.tell(final=True)
