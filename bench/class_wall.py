"""100 students answering a round of the class wall, against the same number of plain chats.

Starts the stand-in OpenAI-compatible chat server (tests/stand_ins/chat_servers.py) and
`python -m studio --tabs wall,chat --concurrency N` pointed at it, opens a "guess the next
token" round on /wall (from this computer, which needs no login), then:

    polls    every student's Class tab looking for the round, as its timer does every 2 s
             (the event that skips the queue), for `--poll-seconds`: the idle cost of a class
    answers  N students (threads, each a new Gradio session, through the REST API) send their
             guess at the same moment, while the teacher's wall polls /wall/state every 50 ms:
             the time from sending until the guess shows on the wall, p50 and p95
    chats    the same N students each send one short chat (/chat, `--tokens` tokens) at the
             same moment: the time until the reply is complete, p50 and p95

and for each, the studio process's CPU seconds (/proc) over it; the answers' CPU is given less
what the wall's fast polling costs alone over as long (measured first).

    python -m bench.class_wall [--students 100] [--tokens 16] [--poll-seconds 10]
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from bench.common import call, percentile
from bench.limits import cpu_seconds
from studio.tasks.chat import ChatSettings
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer

PROMPT = "The best thing about a rainy day is"
WALL_POLL = 0.05  # seconds between the teacher's polls here (the page's own: 1.5 s)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=16, help="tokens in each chat reply")
    parser.add_argument("--poll-seconds", type=float, default=10.0, help="of the Class tabs' timer")
    return parser.parse_args()


@dataclass
class Timed:
    seconds: list[float] = field(default_factory=list)  # per student
    failed: list[str] = field(default_factory=list)
    cpu: float = 0.0

    def line(self, what: str) -> str:
        if not self.seconds:
            return f"{what}: none answered; {len(self.failed)} failed: {self.failed[:1]}"
        p50, p95 = percentile(self.seconds, 0.5), percentile(self.seconds, 0.95)
        return (
            f"{what}: {len(self.seconds)} answered, {len(self.failed)} failed; "
            f"p50 {p50:.2f} s, p95 {p95:.2f} s; studio CPU {self.cpu:.2f} s"
        )


def at_once(count: int, work) -> list[float | Exception]:
    """`work(n)` in `count` threads released at the same moment; each one's result."""
    ready = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        ready.wait()
        try:
            results[n] = work(n)
        except Exception as exc:  # counted and shown: a benchmark reports, it does not stop
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class WallWatcher:
    """The teacher's wall, polled fast: when each guess first showed in its bars."""

    def __init__(self, url: str) -> None:
        self.url, self.seen, self.polls = url, {}, 0
        self.http = requests.Session()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def watch(self) -> None:
        while not self.stopped.is_set():
            state = self.http.get(f"{self.url}wall/state", timeout=30).json()
            now = time.perf_counter()
            self.polls += 1
            for bar in state["bars"]:
                self.seen.setdefault(bar["text"], now)
            self.stopped.wait(WALL_POLL)

    def __enter__(self) -> WallWatcher:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.stopped.set()
        self.thread.join()


def timer_event(url: str) -> int:
    """The fn_index of the Class tab's timer event, from the page's config."""
    config = requests.get(f"{url}config", timeout=10).json()
    timers = {c["id"] for c in config["components"] if c.get("type") == "timer"}
    for index, dependency in enumerate(config["dependencies"]):
        if any(target[0] in timers for target in dependency["targets"]):
            return dependency.get("id", index)
    raise RuntimeError("the Class tab has no timer")


def polls(pid: int, url: str, students: int, seconds: float) -> tuple[int, float, float]:
    """Every student's timer for `seconds`: ticks answered, their p95 seconds, the CPU."""
    fn_index, times = timer_event(url), []
    lock = threading.Lock()

    def student(_: int) -> None:
        http, session = requests.Session(), uuid.uuid4().hex
        shown, ends = None, time.monotonic() + seconds
        while time.monotonic() < ends:
            body = {"data": [shown], "fn_index": fn_index, "session_hash": session}
            started = time.perf_counter()
            answer = http.post(f"{url}gradio_api/run/predict", json=body, timeout=30)
            answer.raise_for_status()
            with lock:
                times.append(time.perf_counter() - started)
            data = answer.json()["data"]
            shown = data[0] if isinstance(data[0], dict) and "open" in data[0] else shown
            time.sleep(2.0)

    before = cpu_seconds(pid)
    at_once(students, student)
    return len(times), percentile(times, 0.95), cpu_seconds(pid) - before


def answers(pid: int, url: str, students: int) -> Timed:
    result = Timed()
    with WallWatcher(url) as watcher:
        time.sleep(2.0)  # what the fast polling alone costs, to take from the figure
        idle_before = cpu_seconds(pid)
        time.sleep(2.0)
        polling_rate = (cpu_seconds(pid) - idle_before) / 2.0
        before, started = cpu_seconds(pid), time.monotonic()

        def student(n: int) -> float:
            sent = time.perf_counter()
            for _ in call(requests.Session(), url, "wall_answer", [f"guess{n}", None]):
                pass
            return sent

        sent = at_once(students, student)
        deadline = time.monotonic() + 30
        while len(watcher.seen) < students and time.monotonic() < deadline:
            time.sleep(WALL_POLL)
        spent = time.monotonic() - started
        result.cpu = cpu_seconds(pid) - before - polling_rate * spent
    for n, at in enumerate(sent):
        if isinstance(at, Exception):
            result.failed.append(repr(at))
        elif f"guess{n}" in watcher.seen:
            result.seconds.append(watcher.seen[f"guess{n}"] - at)
        else:
            result.failed.append(f"guess{n} never showed on the wall")
    return result


def chats(pid: int, url: str, students: int, tokens: int) -> Timed:
    settings = ChatSettings()
    data = ["repeat: tick tock", "", settings.temperature, settings.top_p, tokens]
    data += [settings.repetition_penalty, None]
    result = Timed()
    before = cpu_seconds(pid)

    def student(_: int) -> float:
        started = time.perf_counter()
        for _event in call(requests.Session(), url, "chat", data):
            pass
        return time.perf_counter() - started

    for outcome in at_once(students, student):
        if isinstance(outcome, Exception):
            result.failed.append(repr(outcome))
        else:
            result.seconds.append(outcome)
    result.cpu = cpu_seconds(pid) - before
    return result


def main() -> None:
    args = parse_args()
    server = ChatServer(token_delay=0.01, first_token_delay=0.05)
    backend = server.start()
    env = {"STUDIO_CHAT_BASE": f"{backend}/v1", "STUDIO_TIMEOUT": "30"}
    concurrency = str(max(args.students, 10))
    process, url = start_studio(env, "--tabs", "wall,chat", "--concurrency", concurrency)
    try:
        opened = requests.post(
            f"{url}wall", data={"do": "open", "kind": "next_word", "prompt": PROMPT}, timeout=30
        )
        opened.raise_for_status()
        for _ in call(requests.Session(), url, "chat", ["hi", "", 0.7, 0.95, 4, 1.0, None]):
            pass  # warm the chat up, untimed
        ticks, p95, cpu = polls(process.pid, url, args.students, args.poll_seconds)
        print(
            f"Class tabs polling: {args.students} students for {args.poll_seconds:g} s, {ticks} "
            f"ticks, p95 {p95 * 1000:.0f} ms; studio CPU {cpu:.2f} s "
            f"({cpu / max(ticks, 1) * 1000:.2f} ms a tick)"
        )
        print(answers(process.pid, url, args.students).line("Guesses until on the wall"))
        print(chats(process.pid, url, args.students, args.tokens).line("Chats until complete"))
    finally:
        stop_studio(process)
        server.stop()


if __name__ == "__main__":
    main()
