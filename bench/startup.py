"""Start-up cost of the local backend: the app without it must start as fast as before.

Measures, over N runs, the time from starting `python -m studio` to its first HTTP 200
(a) with no local tasks and (b) with STUDIO_LOCAL=all, interleaved so that a busy machine slows
both alike; (c) the time to import studio.ui.app in a fresh interpreter; and (d) whether torch,
transformers or diffusers are imported when the app is built as `python -m studio` builds it, or
mapped into the running app's memory. Models load on first use, so (a) and (b) should match.
The start is polled every 0.2 s, which bounds the resolution.

--first-request measures instead, with STUDIO_LOCAL=all and the tests' tiny random models, the
first and second request per task through gradio_client (load and run, then run alone), and
the app's peak resident memory once all five models are loaded.

    python -m bench.startup [--runs 5] [--first-request]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from studio.catalog import TASKS
from tests.conftest import ROOT, start_studio, stop_studio

HEAVY = ("torch", "transformers", "diffusers")
NO_DOWNLOADS = {"HF_HUB_OFFLINE": "1"}  # nothing at start may reach the hub, in either mode
MODES = {
    "(a) no local tasks": {},
    "(b) STUDIO_LOCAL=all": {"STUDIO_LOCAL": "all"},
}
MODEL_SETTINGS = {name: spec.model_setting for name, spec in TASKS.items()}
TEXT = "John said the city river report was new today . Mary met Peter in Paris ."
PHOTO = ROOT / "assets" / "chelsea.jpg"

IMPORT_TIMER = """
import time
started = time.perf_counter()
import studio.ui.app
print(time.perf_counter() - started)
"""

# What `python -m studio` does before it serves: read the settings, build the app.
BUILD_AND_LIST_HEAVY = f"""
import json, sys
from studio.classroom.usage import meter_for
from studio.config import load_config, read_environment
from studio.ui.app import build_app, select_tabs
config = load_config(read_environment())
build_app(config, select_tabs(config.tabs), meter_for(config))
print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""


# --- running things ----------------------------------------------------------------------------


def fresh_env(settings: dict[str, str]) -> dict[str, str]:
    """The environment `start_studio` gives the app: no studio or hub settings but these."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "STUDIO_"))}
    return {**clean, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False", **settings}


def run_python(code: str, settings: dict[str, str]) -> str:
    """Run `code` in a fresh interpreter, in an empty folder (no .env); answer its output."""
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=fresh_env(settings),
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
    if result.returncode != 0:
        raise SystemExit(f"python -c failed:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def proc_status_mib(pid: int, field: str) -> float:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM: the peak), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def torch_mapped(pid: int) -> bool:
    """Whether torch's shared libraries are in the running process's memory, as importing torch
    (and so transformers or diffusers) puts them; pure-Python packages leave no trace there."""
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


# --- (a) to (d) --------------------------------------------------------------------------------


def time_to_first_200(settings: dict[str, str]) -> tuple[float, bool]:
    """Seconds from start to the first HTTP 200, and whether the running app has torch loaded."""
    started = time.perf_counter()
    process, _ = start_studio({**NO_DOWNLOADS, **settings})
    seconds = time.perf_counter() - started
    try:
        return seconds, torch_mapped(process.pid)
    finally:
        stop_studio(process)


def measure_startup(runs: int) -> None:
    seconds: dict[str, list[float]] = {mode: [] for mode in MODES}
    with_torch: dict[str, int] = dict.fromkeys(MODES, 0)
    for _ in range(runs):
        for mode, settings in MODES.items():  # interleaved: drift hits both modes alike
            took, mapped = time_to_first_200(settings)
            seconds[mode].append(took)
            with_torch[mode] += mapped
    imported = {
        mode: json.loads(run_python(BUILD_AND_LIST_HEAVY, {**NO_DOWNLOADS, **settings}))
        for mode, settings in MODES.items()
    }
    import_times = [float(run_python(IMPORT_TIMER, {})) for _ in range(runs)]

    print(f"python -m studio, start to first HTTP 200 (n={runs})")
    print(f"{'':<24}{'median s':>9}{'min s':>8}{'max s':>8}  {'(d) imported':<14}libtorch in app")
    for mode, times in seconds.items():
        print(
            f"{mode:<24}{statistics.median(times):>9.2f}{min(times):>8.2f}{max(times):>8.2f}  "
            f"{', '.join(imported[mode]) or 'none':<14}{with_torch[mode]} of {runs} runs"
        )
    a, b = (statistics.median(times) for times in seconds.values())
    print(f"ratio b/a: {b / a:.2f}")
    print(
        f"(c) import studio.ui.app, fresh interpreter: median {statistics.median(import_times):.2f}"
        f" s (min {min(import_times):.2f}, max {max(import_times):.2f})"
    )
    print(f"(d) imported: which of {', '.join(HEAVY)} building the app imports")


# --- --first-request ---------------------------------------------------------------------------


def build_tiny_models(root: Path) -> dict[str, str]:
    from tests.local.tiny_models import build_all

    return {task: str(folder) for task, folder in build_all(root).items()}


def requests_by_task(client) -> dict[str, Callable[[], object]]:
    """One request per task as a person would send it. The tiny pipeline's VAE only halves the
    size, so its pictures stay small: at 512x512 it would be slower than a real model."""
    from gradio_client import handle_file

    return {
        "summarize": lambda: client.predict(TEXT, 6, 12, api_name="/summarize"),
        "ner": lambda: client.predict(TEXT, api_name="/ner"),
        "caption": lambda: client.predict(handle_file(str(PHOTO)), api_name="/caption"),
        "image": lambda: client.predict(
            "a red cat", None, 2, 7, 64, 64, 1, api_name="/generate_image"
        ),
        "chat": lambda: client.predict("Hello!", max_new_tokens=16, api_name="/chat"),
    }


def timed(send: Callable[[], object]) -> float:
    started = time.perf_counter()
    send()
    return time.perf_counter() - started


def one_app_run(models: dict[str, str]) -> tuple[dict[str, tuple[float, float]], float, float]:
    """({task: (first s, second s)}, peak MiB at start, peak MiB with all five loaded)."""
    from gradio_client import Client

    settings = {"STUDIO_LOCAL": "all", "STUDIO_DEVICE": "cpu", **NO_DOWNLOADS}
    settings |= {MODEL_SETTINGS[task]: folder for task, folder in models.items()}
    process, url = start_studio(settings)
    try:
        at_start = proc_status_mib(process.pid, "VmHWM")
        client = Client(url, verbose=False)
        latencies = {
            task: (timed(send), timed(send)) for task, send in requests_by_task(client).items()
        }
        return latencies, at_start, proc_status_mib(process.pid, "VmHWM")
    finally:
        stop_studio(process)


def measure_first_requests(runs: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        models = build_tiny_models(Path(scratch))
        results = [one_app_run(models) for _ in range(runs)]
    print(f"STUDIO_LOCAL=all with tiny random models, through gradio_client (n={runs} apps)")
    print(f"{'task':<10}{'first s':>9}{'second s':>10}{'first - second s':>18}")
    for task in MODEL_SETTINGS:
        first = statistics.median(latencies[task][0] for latencies, _, _ in results)
        second = statistics.median(latencies[task][1] for latencies, _, _ in results)
        print(f"{task:<10}{first:>9.2f}{second:>10.2f}{first - second:>18.2f}")
    print("(summarize's first request also imports torch and transformers; image's, diffusers)")
    at_start = statistics.median(start for _, start, _ in results)
    loaded = statistics.median(peak for _, _, peak in results)
    print(f"app peak RSS (VmHWM): {at_start:.0f} MiB at start, {loaded:.0f} MiB with five loaded")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument(
        "--first-request",
        action="store_true",
        help="measure first and second requests and memory with the tiny models instead",
    )
    args = parser.parse_args(argv)
    if args.first_request:
        measure_first_requests(args.runs)
    else:
        measure_startup(args.runs)


if __name__ == "__main__":
    main()
