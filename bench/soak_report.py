"""The soak's figures: the studio process's memory, threads and open files, what the people got,
printed as plain tables, and which goals were missed."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bench.common import percentile
from bench.soak_people import OUTCOMES, Tally

RSS_GROWTH_GOAL = 0.10  # from minute 2 to the end


@dataclass(frozen=True)
class Facts:
    rss_mib: float
    threads: int
    files: int
    model_links: int | None = None  # of the files: connections to the model servers

    @property
    def own_files(self) -> int:
        """Open files less the keep-alive connections kept for the next request to a model
        server (at most studio.backends.http.POOL_SIZE a server)."""
        return self.files - (self.model_links or 0)


@dataclass(frozen=True)
class Sample:
    label: str
    at: float  # seconds since the load started
    facts: Facts
    sessions: int  # started by then


def process_facts(pid: int, ports: frozenset[int] = frozenset()) -> Facts:
    """Resident memory, threads and open file descriptors, and how many of those are TCP
    connections to `ports`: psutil where installed, else /proc (without the connections)."""
    try:
        import psutil
    except ImportError:
        status = open(f"/proc/{pid}/status").read().splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        return Facts(
            int(fields["VmRSS"].split()[0]) / 1024,
            int(fields["Threads"]),
            len(os.listdir(f"/proc/{pid}/fd")),
        )
    process = psutil.Process(pid)
    links = sum(1 for c in process.net_connections("tcp") if c.raddr and c.raddr.port in ports)
    rss = process.memory_info().rss / 2**20
    return Facts(rss, process.num_threads(), process.num_fds(), links)


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def print_report(args, tally: Tally, samples: list[Sample], faults: dict, log) -> None:
    print()
    print(f"Soak: {args.people} people, {args.minutes:g} min, {args.share:.0%} of model requests")
    print(f"failing (faults made: {faults_line(faults)})")
    print()
    print(f"{'Studio process':16}" + "".join(f"{s.label:>10}" for s in samples))
    print(f"{'at (m:ss)':16}" + "".join(f"{clock(s.at):>10}" for s in samples))
    print(f"{'RSS (MiB)':16}" + "".join(f"{s.facts.rss_mib:>10.1f}" for s in samples))
    print(f"{'threads':16}" + "".join(f"{s.facts.threads:>10}" for s in samples))
    print(f"{'open files':16}" + "".join(f"{s.facts.files:>10}" for s in samples))
    if samples[0].facts.model_links is not None:
        links = "".join(f"{s.facts.model_links:>10}" for s in samples)
        print(f"{'  to models':16}{links}")
    print(f"{'sessions':16}" + "".join(f"{s.sessions:>10}" for s in samples))
    print()
    tabs = sorted({tab for tab, _ in tally.counts}, key=lambda t: (t == "new session", t))
    print(f"{'Requests':12}" + "".join(f"{o:>9}" for o in OUTCOMES) + f"{'all':>9}")
    for tab in [*tabs, "all"]:
        row = [tally_of(tally, tab, o) for o in OUTCOMES]
        print(f"{tab:12}" + "".join(f"{n:>9}" for n in row) + f"{sum(row):>9}")
    print()
    if tally.stops:
        stops = sorted(tally.stops)
        print(
            f"Stop through gradio_client (job.cancel()): {len(stops)}, acknowledged in "
            f"{percentile(stops, 0.5):.2f} s at the median, {percentile(stops, 0.95):.2f} s at "
            f"95%, {stops[-1]:.2f} s at most; {len(tally.failed_stops)} failed"
        )
        for failure in tally.failed_stops[:5]:
            print(f"  {failure[:200]}")
    warm, end = samples[1], samples[-2]
    if end.sessions > warm.sessions:
        kib = (end.facts.rss_mib - warm.facts.rss_mib) * 1024 / (end.sessions - warm.sessions)
        print(
            f"Sessions: {sum(tally.sessions.values())} started "
            f"({', '.join(f'{n} {way}' for way, n in tally.sessions.items())}); memory from "
            f"{warm.label} to {end.label}: {kib:.1f} KiB per session started"
        )
    print(f"Studio log: {log.lines} lines, {log.tracebacks} tracebacks, {log.leaks} with the token")
    for lines in log.kept:
        print("  " + "\n  ".join(lines[:40]))
    if tally.messages:
        print("Clear errors, by kind (most frequent first):")
        for kind, count in tally.messages.most_common(12):
            print(f"  {count:6}  {kind}")
    for outcome, examples in tally.examples.items():
        print(f"Examples of {outcome}:")
        for example in examples:
            print(f"  {example}")


def faults_line(faults: dict) -> str:
    made = {k: v for k, v in faults.items() if k != "requests"}
    total = sum(made.values())
    words = ", ".join(f"{v} {k}" for k, v in sorted(made.items()))
    return f"{total} of {faults.get('requests', 0)} requests: {words}" if made else "none"


def tally_of(tally: Tally, tab: str, outcome: str) -> int:
    if tab == "all":
        return tally.total(outcome)
    return tally.counts[tab, outcome]


def goals(tally: Tally, samples: list[Sample], thread_slack: int, file_slack: int, log) -> list:
    """The goals missed, each in a sentence."""
    by_label = {s.label: s.facts for s in samples}
    start, warm, end, settled = (by_label[k] for k in ("start", "minute 2", "end", "settled"))
    missed = [
        f"{tally.total(outcome)} {outcome} answers (goal: 0)"
        for outcome in ("crossed", "stale", "unclear", "lost")
        if tally.total(outcome)
    ]
    if not tally.total("served"):
        missed.append("no request was served")
    growth = end.rss_mib / warm.rss_mib - 1
    if growth >= RSS_GROWTH_GOAL:
        missed.append(f"memory grew {growth:.1%} from minute 2 to the end (goal: under 10%)")
    if settled.threads > start.threads + thread_slack:
        missed.append(f"threads {settled.threads} after the load, {start.threads} at the start")
    if settled.own_files > start.own_files + file_slack:
        missed.append(
            f"open files {settled.own_files} after the load, {start.own_files} at the start "
            "(less connections to the model servers)"
        )
    if log.leaks:
        missed.append(f"the token appeared in {log.leaks} log lines")
    return missed
