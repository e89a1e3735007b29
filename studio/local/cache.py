"""Models in memory: each (task, model, device) loaded once per process and shared by everyone.

Nothing here imports torch at import time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.tasks.progress import Progress


@dataclass
class LoadedModel:
    """One model in memory, with what the UI shows about it."""

    task: str
    model: str
    device: str
    value: Any
    load_seconds: float
    loaded_at: float = field(default_factory=time.time)
    requests: int = 0
    # Tokenizers and diffusers pipelines keep state between calls: the parts of a request that
    # touch them hold this lock, so concurrent requests on one model take turns there.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


Key = tuple[str, str, str]


class ModelCache:
    """Loads each (task, model, device) once per process; concurrent callers wait and reuse.

    One lock per key: two different models load in parallel, the same model loads once.
    A failed load stores nothing, so the next request tries again.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._key_locks: dict[Key, threading.Lock] = {}
        self._loaded: dict[Key, LoadedModel] = {}
        self._loading: set[Key] = set()
        self.loads = 0

    def get(
        self,
        key: Key,
        load: Callable[[], Any],
        progress: Progress | None = None,
    ) -> LoadedModel:
        task, model, device = key
        report = progress or (lambda message: None)
        with self._guard:
            if (loaded := self._reuse(key)) is not None:
                return loaded
            lock = self._key_locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            report(f"Waiting for {model} to finish loading…")
            lock.acquire()
        try:
            with self._guard:
                if (loaded := self._reuse(key)) is not None:  # loaded while we waited
                    return loaded
                self._loading.add(key)
            report(f"Loading {model} on {device}…")
            started = time.perf_counter()
            try:
                value = load()
            finally:
                with self._guard:
                    self._loading.discard(key)
            seconds = time.perf_counter() - started
            report(f"Loaded {model} in {seconds:.1f} s")
            loaded = LoadedModel(task, model, device, value, seconds, requests=1)
            with self._guard:
                self._loaded[key] = loaded
                self.loads += 1
            return loaded
        finally:
            lock.release()

    def _reuse(self, key: Key) -> LoadedModel | None:
        loaded = self._loaded.get(key)
        if loaded is not None:
            loaded.requests += 1
        return loaded

    def unload(self, task: str | None = None, model: str | None = None) -> int:
        """Forget loaded models (all, or those matching task and/or model); answer how many."""
        with self._guard:
            doomed = [
                key
                for key in self._loaded
                if (task is None or key[0] == task) and (model is None or key[1] == model)
            ]
            for key in doomed:
                del self._loaded[key]
        if doomed:
            _release_device_memory()
        return len(doomed)

    def status(self) -> dict[str, Any]:
        with self._guard:
            loaded = [
                {
                    "task": item.task,
                    "model": item.model,
                    "device": item.device,
                    "load_seconds": round(item.load_seconds, 3),
                    "loaded_at": item.loaded_at,
                    "requests": item.requests,
                }
                for item in self._loaded.values()
            ]
            loading = [
                {"task": task, "model": model, "device": device}
                for task, model, device in sorted(self._loading)
            ]
            return {"models": loaded, "loading": loading, "loads": self.loads}


def _release_device_memory() -> None:
    import gc

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


# One cache per process on purpose: a model in memory is shared by every user of the app.
CACHE = ModelCache()
