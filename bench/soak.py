"""A long soak: a class using every tab at once for minutes, against model servers that fail.

Starts the faulty stand-in model servers (bench/soak_servers.py: one request in ten gets a 5xx,
a 4xx, a stall, a connection dropped mid-answer or slow headers) in a process of their own, then
`python -m studio` with every tab pointed at them, and lets `--people` simulated people
(bench/soak_people.py) use Summarize, Entities, Caption, Imagine, the game and Chat for
`--minutes`: half through gradio_client, half through Gradio's REST API, a new session every
few requests, Stop pressed now and then. Each person checks that every answer is their own.

It prints what the people got per tab (answers, Stops, clear and unclear errors, crossed and
stale answers, no answer at all), and the studio process's memory, threads and open files (and
of those its connections to the model servers, which it keeps open for the next request) at the
start, at minute 2, the middle, the end, and once the load has stopped and settled. It exits
with status 1 when a goal is missed: no crossed, stale, unclear or lost answer; memory growing
under 10% from minute 2 to the end; threads and open files (less the model servers'
connections) back near their level at the start.

    python -m bench.soak [--minutes 10] [--people 100] [--share 0.1] [--seed 1]
    python -m bench.soak --minutes 1 --people 20      # a short smoke run
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

from bench.soak_asks import TABS, make_ask
from bench.soak_people import RestSession, Tally, live, numbers
from bench.soak_report import Facts, Sample, goals, print_report, process_facts
from tests.conftest import ROOT, start_studio, stop_studio

TOKEN = "hf_soak_secret_token_0123456789"
IDLE_SECONDS = 15  # after the load: longer than AnyIO's 10 s for an idle worker thread
SETTLE_SECONDS = 120  # then at most this long for threads and files to come back
THREAD_SLACK, FILE_SLACK = 4, 8  # what "back near the start" allows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--share", type=float, default=0.1, help="of model requests that fail")
    parser.add_argument("--timeout", type=float, default=8.0, help="the studio's STUDIO_TIMEOUT")
    parser.add_argument("--delay", type=float, default=0.3, help="the model servers' seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--session-calls", default="2-6", help="requests in one session, at random: FROM-TO"
    )
    return parser.parse_args()


def start_servers(args: argparse.Namespace) -> tuple[subprocess.Popen, dict]:
    command = [sys.executable, "-m", "bench.soak_servers", "--share", str(args.share)]
    command += ["--stall", str(args.timeout + 2), "--delay", str(args.delay)]
    command += ["--seed", str(args.seed)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    servers = subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    return servers, json.loads(servers.stdout.readline())


def stop_servers(servers: subprocess.Popen) -> dict:
    """Close their input, which ends them; what faults they made."""
    servers.stdin.close()
    line = servers.stdout.readline()
    servers.wait(timeout=30)
    return json.loads(line) if line.strip() else {}


def studio_env(urls: dict, timeout: float) -> dict:
    task = urls["task"]
    return {
        "HF_API_SUMMARY_BASE": f"{task}/summarize/models/soak",
        "HF_API_NER_BASE": f"{task}/ner/models/soak",
        "HF_API_ITT_BASE": f"{task}/itt/models/soak",
        "HF_API_TTI_BASE": f"{task}/tti/models/soak",
        "STUDIO_CHAT_BASE": f"{urls['chat']}/v1",
        "STUDIO_TIMEOUT": str(timeout),
        "HF_TOKEN": TOKEN,  # sent to the stand-ins, so a message or log line could leak it
    }


class Log:
    """The studio's output, read as it comes so that the pipe never fills and blocks it."""

    def __init__(self, stream) -> None:
        self.lines = self.tracebacks = self.leaks = 0
        self.kept: list[list[str]] = []  # the first tracebacks, each with the lines before it
        self.recent: list[str] = []
        self.thread = threading.Thread(target=self.read, args=(stream,), daemon=True)
        self.thread.start()

    def read(self, stream) -> None:
        for line in stream:
            self.lines += 1
            self.leaks += TOKEN in line
            self.recent = [*self.recent[-2:], line.rstrip()]
            if line.startswith("Traceback"):
                self.tracebacks += 1
                if len(self.kept) < 3:
                    self.kept.append(self.recent[:])
            elif self.kept and len(self.kept[-1]) < 40 and self.tracebacks <= 3:
                self.kept[-1].append(line.rstrip())


def warm_up(url: str, folder: str) -> None:
    """One request of each tab, so that what is made on first use is in the start figures."""
    session = RestSession(url, folder, Tally())
    for tab in TABS:
        session.call(make_ask(tab, next(numbers), random.Random(0)), None)
    session.close()


def run_load(args, url: str, facts, folder: str, tally: Tally) -> list[Sample]:
    """The load, and the studio's `facts()` at the start, minute 2, the middle, the end, and
    once settled."""
    seconds = args.minutes * 60
    low, _, high = args.session_calls.partition("-")
    calls = (int(low), int(high or low))

    def sessions() -> int:
        with tally.lock:
            return sum(tally.sessions.values())

    samples = [Sample("start", 0.0, facts(), 0)]
    started = time.monotonic()
    deadline = started + seconds
    people = [
        threading.Thread(
            target=live,
            args=(n, url, deadline, tally, folder, args.seed, calls),
            daemon=True,
        )
        for n in range(args.people)
    ]
    for person in people:
        person.start()
    points = [("minute 2", min(120.0, seconds / 5)), ("middle", seconds / 2), ("end", seconds)]
    for label, at in points:
        time.sleep(max(0.0, started + at - time.monotonic()))
        samples.append(Sample(label, time.monotonic() - started, facts(), sessions()))
        served = tally.total("served")
        print(f"  {label}: {served} served so far", flush=True)
    for person in people:
        person.join(timeout=max(1.0, deadline + 300 - time.monotonic()))
    settled = settle(url, facts, samples[0].facts, folder)
    samples.append(Sample("settled", time.monotonic() - started, settled, sessions()))
    return samples


def settle(url: str, facts, start: Facts, folder: str) -> Facts:
    """The studio's figures once threads and files are back near the start, or at the limit.

    AnyIO, which runs Gradio's handlers, ends a worker thread idle for 10 s only when the next
    handler starts (its pool is bounded: --concurrency plus 40). So after a quiet spell one
    person asks one thing every few seconds, as the next student of a class would."""
    time.sleep(IDLE_SECONDS)
    limit = time.monotonic() + SETTLE_SECONDS
    while True:
        session = RestSession(url, folder, Tally())
        session.call(make_ask("summarize", next(numbers), random.Random(0)), None)
        session.close()
        now = facts()
        near = (
            now.threads <= start.threads + THREAD_SLACK
            and now.own_files <= start.own_files + FILE_SLACK
        )
        if near or time.monotonic() > limit:
            return now
        time.sleep(5)


def main() -> int:
    args = parse_args()
    servers, urls = start_servers(args)
    tally, faults = Tally(), {}
    try:
        process, url = start_studio(
            studio_env(urls, args.timeout), "--concurrency", str(max(64, args.people))
        )
        log = Log(process.stdout)
        try:
            with tempfile.TemporaryDirectory(prefix="soak-") as folder:
                warm_up(url, folder)
                print(f"{args.people} people for {args.minutes:g} min on {url}", flush=True)
                ports = frozenset(urlsplit(u).port for u in urls.values())
                facts = functools.partial(process_facts, process.pid, ports)
                samples = run_load(args, url, facts, folder, tally)
        finally:
            process.stdout = None  # the reader thread owns it
            stop_studio(process)
            log.thread.join(timeout=10)
    finally:
        faults = stop_servers(servers)
    print_report(args, tally, samples, faults, log)
    missed = goals(tally, samples, THREAD_SLACK, FILE_SLACK, log)
    for line in missed:
        print(f"MISSED: {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
