"""What the side-by-side serving benchmarks share.

start_app(command)   a Gradio app in a process of its own, once its page answers
call(...)            one job through Gradio's HTTP API, as an API user sends it: POST
                     /gradio_api/call/{name} for an event id, then read that event's
                     server-sent events ("generating" for each streamed piece, "complete")
burst(...)           every user sends one summarize job at the same moment: the rate, and
                     how many the stand-in model server had at once
peak_overlap(...)    how many (start, end) intervals were open at once: what a stand-in
                     server had in hand at its busiest
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import requests

from tests.conftest import ROOT, free_port
from tests.stand_ins.servers import TaskServer


class JobFailed(RuntimeError):
    pass


def start_app(module: str, *args: str, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """Run `python -m {module} --serve-bare PORT *args` and wait for its page."""
    port = free_port()
    command = [sys.executable, "-m", module, "--serve-bare", str(port), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=1).ok:
                return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{' '.join(command)} did not start within {timeout:.0f} s")


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def call(
    session: requests.Session,
    url: str,
    api_name: str,
    data: Sequence,
    timeout: float = 120,
    session_hash: str | None = None,
) -> Iterator[tuple[str, list]]:
    """The events of one job: ("generating", outputs) for each piece, then ("complete", outputs).
    Without `session_hash` each call is a new Gradio session, as curl's are."""
    body: dict = {"data": list(data)}
    if session_hash:
        body["session_hash"] = session_hash
    answer = session.post(f"{url}gradio_api/call/{api_name}", json=body, timeout=timeout)
    answer.raise_for_status()
    event_id = answer.json()["event_id"]
    stream_url = f"{url}gradio_api/call/{api_name}/{event_id}"
    with session.get(stream_url, stream=True, timeout=timeout) as stream:
        stream.raise_for_status()
        event = ""
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                if event == "error":
                    raise JobFailed(line.removeprefix("data:").strip())
                if event in ("generating", "complete"):
                    yield event, json.loads(line.removeprefix("data:"))
                if event == "complete":
                    return
    raise JobFailed("the event stream ended without a result")


@dataclass(frozen=True)
class Burst:
    rate: float  # answered per second, first sent to last answered
    peak: int  # most requests the model server had at once
    answered: int
    failed: int


def burst(url: str, data: list, server: TaskServer, sessions: Sequence[str | None]) -> Burst:
    """Every user (one per item of `sessions`: a Gradio session to name, or None for a new one
    each call) sends one summarize job at the same moment and waits for its answer."""
    users = len(sessions)
    already = len(server.requests)
    ready = threading.Barrier(users + 1)
    finished: list[float] = []
    failures: list[Exception] = []

    def user(session_hash: str | None) -> None:
        http = requests.Session()
        ready.wait()
        try:
            for _ in call(http, url, "summarize", data, session_hash=session_hash):
                pass
            finished.append(time.perf_counter())
        except Exception as exc:  # counted and shown: a benchmark reports, it does not stop
            failures.append(exc)

    started = together([functools.partial(user, s) for s in sessions], ready)
    if failures:
        print(f"  {len(failures)} failed, the first: {failures[0]!r}")
    served = [r for r in server.requests[already:] if r.answered_at is not None]
    peak = peak_overlap([(r.received_at, r.answered_at) for r in served])
    elapsed = (max(finished) - started) if finished else float("inf")
    return Burst(len(finished) / elapsed, peak, len(finished), len(failures))


def together(users: Sequence[Callable[[], None]], ready: threading.Barrier) -> float:
    """Run each user in a thread of its own; each waits on `ready` (of len(users) + 1 parties)
    so that all start at once. When they started (perf_counter), once all have ended."""
    threads = [threading.Thread(target=user) for user in users]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return started


def first_token_seconds(http: requests.Session, url: str, data: list) -> float:
    """Seconds from sending one chat to the first piece of its reply (inf if none came)."""
    sent, first = time.perf_counter(), None
    for event, outputs in call(http, url, "chat", data):
        if first is None and event == "generating" and outputs and outputs[0]:
            first = time.perf_counter() - sent
    return first if first is not None else float("inf")


def peak_overlap(intervals: Sequence[tuple[float, float]]) -> int:
    """The most intervals open at one instant (an end and a start at the same time: not both)."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = now = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
