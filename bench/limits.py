"""What limits per person and usage metering cost a busy studio: limits off, on, and bare Gradio.

Starts the local task-API server (tests/stand_ins/servers.py) with a fixed delay per answer, then,
one
after the other, three apps:

    off        `python -m studio --tabs summarize --concurrency N`: no limit, usage still metered
    on         the same with every limit on but generous, so nothing is refused: STUDIO_LIMIT,
               STUDIO_IMAGE_LIMIT, STUDIO_CHAT_TOKEN_LIMIT, STUDIO_TOTAL_LIMIT and the flood
               guard STUDIO_NEW_SESSION_LIMIT (REST calls without a session each start one)
    bare       bench/concurrency.py's bare Gradio app forwarding the same request (no studio code)

Against each, after one untimed request, N users summarize at once through Gradio's HTTP API,
`--bursts` times (each user in one session of its own throughout, or a new session for every
call with `--new-sessions`). For each app it prints requests per second (every burst), the
ratio to the bare app, and the app process's CPU seconds per 1,000 requests (utime + stime from
/proc/<pid>/stat over all bursts; "beyond idle" less what it burns as long doing nothing).

Then, in this process, the cost of one `studio.classroom.usage.metered(...)` around a request
that does nothing, with `--people` people already known (each has asked once, so the studio's
ceiling holds that many requests in its window) and after the hour holds twice as many.

    python -m bench.limits [--users 100] [--delay 2] [--bursts 3] [--new-sessions] [--micro-only]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field

import requests

from bench.common import burst, call, start_app, stop_app
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.servers import TaskServer

MODEL_PATH = "/summarize/models/bench"
TICKS = os.sysconf("SC_CLK_TCK")
GENEROUS = {  # every limit on, none reached by this benchmark
    "STUDIO_LIMIT": "100000/hour",
    "STUDIO_IMAGE_LIMIT": "100000/hour",
    "STUDIO_CHAT_TOKEN_LIMIT": "10000000/hour",
    "STUDIO_TOTAL_LIMIT": "1000000/hour",
    "STUDIO_NEW_SESSION_LIMIT": "100000/minute",
}
TEXT = "Ada Lovelace wrote the first published program for a machine in London."


@dataclass
class Result:
    rates: list[float] = field(default_factory=list)  # requests per second, each burst
    peaks: list[int] = field(default_factory=list)  # most the model server had at once
    answered: int = 0
    failed: int = 0
    cpu: float = 0.0  # the app's CPU seconds over all bursts
    wall: float = 0.0  # seconds the bursts took
    idle: float = 0.0  # CPU seconds per second the app burns doing nothing
    usage: str = ""  # the studio's /usage.json, in a few words: what it counted

    def cpu_per_1000(self, beyond_idle: bool = False) -> float:
        spent = self.cpu - (self.idle * self.wall if beyond_idle else 0.0)
        return spent * 1000 / max(1, self.answered)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--delay", type=float, default=2.0, help="the model server's seconds")
    parser.add_argument("--bursts", type=int, default=3, help="bursts of N users per app")
    parser.add_argument("--new-sessions", action="store_true", help="a new session every call")
    parser.add_argument("--people", type=int, default=10_000, help="known, in the micro-measure")
    parser.add_argument("--calls", type=int, default=2_000, help="metered calls timed")
    parser.add_argument("--micro-only", action="store_true", help="only the in-process measure")
    return parser.parse_args()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def measure(pid: int, url: str, data: list, server: TaskServer, args: argparse.Namespace):
    server.delay = 0.0
    for _ in call(requests.Session(), url, "summarize", data):  # warm the app up, untimed
        pass
    before = cpu_seconds(pid)
    time.sleep(2.0)
    result = Result(idle=(cpu_seconds(pid) - before) / 2.0)
    server.delay = args.delay
    sessions = [None if args.new_sessions else uuid.uuid4().hex for _ in range(args.users)]
    cpu, started = cpu_seconds(pid), time.monotonic()
    for _ in range(args.bursts):
        run = burst(url, data, server, sessions)
        result.rates.append(run.rate)
        result.peaks.append(run.peak)
        result.answered += run.answered
        result.failed += run.failed
    result.wall = time.monotonic() - started
    result.cpu = cpu_seconds(pid) - cpu
    usage = requests.get(f"{url}usage.json", timeout=10)  # the studio's, from this computer
    if usage.ok and usage.headers.get("content-type", "").startswith("application/json"):
        seen = usage.json()
        counted = sum(person["requests"] for person in seen["people"])
        refused, limits = seen["refused"], len(seen["limits"])
        result.usage = f"/usage: {counted} requests, {refused} refused, {limits} limits on"
    return result


def serving(args: argparse.Namespace) -> dict[str, Result]:
    server = TaskServer()
    backend = server.start() + MODEL_PATH
    runs = {}
    studio_args = ("--tabs", "summarize", "--concurrency", str(args.users))
    try:
        for name, limits in (("off", {}), ("on", GENEROUS)):
            env = {"HF_API_SUMMARY_BASE": backend, **limits}
            process, url = start_studio(env, *studio_args)
            try:
                runs[name] = measure(process.pid, url, [TEXT, None, None], server, args)
            finally:
                stop_studio(process)
        process, url = start_app(
            "bench.concurrency",
            *("--backend", backend, "--users", str(args.users)),
            *("--bare-threads", str(args.users + 40)),
        )
        try:
            runs["bare"] = measure(process.pid, url, [TEXT], server, args)
        finally:
            stop_app(process)
    finally:
        server.stop()
    return runs


def report_serving(runs: dict[str, Result], args: argparse.Namespace) -> None:
    ideal = args.users / args.delay
    sessions = "a new session every call" if args.new_sessions else "each user in one session"
    print(
        f"{args.users} users at once, {args.bursts} bursts, a model server that takes "
        f"{args.delay:g} s (ideal {ideal:.1f} requests/s), {sessions}"
    )
    labels = {"off": "studio, limits off", "on": "studio, every limit on", "bare": "bare Gradio"}
    bare = statistics.median(runs["bare"].rates)
    for name, run in runs.items():
        rates = " ".join(f"{rate:4.1f}" for rate in run.rates)
        print(
            f"  {labels[name]:24} {rates} requests/s  (x{statistics.median(run.rates) / bare:.2f} "
            f"bare)  peak {max(run.peaks)} at once   CPU {run.cpu_per_1000():5.1f} s per 1,000 "
            f"({run.cpu_per_1000(True):5.1f} beyond idle {run.idle * 100:.0f}%)"
            + (f"   {run.failed} failed" if run.failed else "")
        )
        if run.usage:
            print(f"    {run.usage}")
    on, off = runs["on"], runs["off"]
    rates = statistics.median(on.rates) / statistics.median(off.rates)
    print(
        f"  limits on / off: requests/s {rates:.2f}"
        f", CPU per request {on.cpu_per_1000() / off.cpu_per_1000():.2f}"
        f" ({on.cpu_per_1000(True) / off.cpu_per_1000(True):.2f} beyond idle)"
    )


# --- one metered(...) in this process ---------------------------------------------------------


def micro(people: int, calls: int) -> None:
    from studio.classroom.usage import Caller, Meter, Person, metered
    from studio.config import load_config

    configs = {"off": load_config({}), "on": load_config(dict(GENEROUS))}
    everyone = [Person(f"session:{i:032x}", f"{i:08x}", "10.0.0.1") for i in range(people)]

    def timed(meter: Meter | None, rounds: int) -> float:
        """Seconds per metered call, cycling through everyone, `rounds` calls in all: the
        median of five slices (the machine is shared)."""
        if rounds <= 0:
            return 0.0
        slices = []
        for part in range(5):
            started = time.perf_counter()
            for i in range(part * rounds // 5, (part + 1) * rounds // 5):
                caller = Caller(meter, everyone[i % people]) if meter else None
                with metered(caller, "summarization", "127.0.0.1", prompt=TEXT):
                    pass
            slices.append((time.perf_counter() - started) / max(1, rounds // 5))
        return statistics.median(slices)

    print(f"one metered(...) call, {people:,} people known, {calls:,} calls (median of 5 slices)")
    print(f"  no caller (outside an event)   {timed(None, calls) * 1e6:7.1f} µs")
    for name, config in configs.items():
        meter = Meter(config.limits)
        timed(meter, people)  # everyone has asked once
        first = timed(meter, calls)
        timed(meter, people - calls)  # the hour now holds two requests per person (calls < people)
        second = timed(meter, calls)
        print(
            f"  limits {name:3}                     {first * 1e6:7.1f} µs with {people:,} requests "
            f"in the hour, {second * 1e6:7.1f} µs with {2 * people:,}"
        )


def main() -> None:
    args = parse_args()
    if not args.micro_only:
        report_serving(serving(args), args)
    micro(args.people, args.calls)


if __name__ == "__main__":
    main()
