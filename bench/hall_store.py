"""What a shared Redis adds to each request's limit check, against this process's memory.

Starts a redis-server of its own on a free port (Debian's `redis-server`; redis-py from
requirements-hall.txt), then, in this process, times one `Meter.admit` (the limit check, before
the model is asked) and one whole `metered(...)` (the check, then the usage record and the
chat tokens afterwards) with every limit on but generous, for `--people` people in turn, with
the memory store and with the Redis store, and a bare PING to the same server: the floor under
any shared store on this machine. The three are timed in turn, call by call, so that each sees
the same load (on a shared machine the tail is the scheduler's, not Redis's). Sequentially,
then from `--threads` threads at once (the events of a busy studio). Prints p50, p95 and p99
of each, what Redis adds at p50 and p95, and Redis's own time per check script.

    python -m bench.hall_store [--people 1000] [--calls 5000] [--threads 16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from bench.limits import GENEROUS, TEXT
from studio.classroom.store import MemoryStore
from studio.classroom.usage import Caller, Meter, Person, metered
from studio.config import load_config
from tests.classroom.real_servers import RedisServer


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=16)
    return parser.parse_args()


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def side_by_side(meters: dict, ping, everyone: list[Person], calls: int, threads: int, whole):
    """Seconds of each of `calls` checks (or whole metered calls) per store, and of a PING,
    each call timed for every one in turn, from `threads` threads."""

    def check(meter: Meter, person: Person) -> None:
        if whole:
            with metered(Caller(meter, person), "chat", "127.0.0.1", prompt=TEXT) as call:
                call.tokens = 50
        else:
            meter.admit(person, "chat", prompt=TEXT)

    def one(i: int) -> dict[str, float]:
        person = everyone[i % len(everyone)]
        times = {name: timed(lambda m=meter: check(m, person)) for name, meter in meters.items()}
        return {**times, "PING": timed(ping)}

    if threads == 1:
        rows = [one(i) for i in range(calls)]
    else:
        with ThreadPoolExecutor(threads) as pool:
            rows = list(pool.map(one, range(calls)))
    return {name: [row[name] for row in rows] for name in rows[0]}


def quantiles(seconds: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(seconds, n=100)
    return cuts[49] * 1e3, cuts[94] * 1e3, cuts[98] * 1e3


def main() -> None:
    args = parse_args()
    from studio.classroom.shared import RedisStore

    limits = load_config(dict(GENEROUS)).limits
    everyone = [Person(f"session:{i:032x}", f"{i:08x}", "10.0.0.1") for i in range(args.people)]
    redis = RedisServer().start()
    try:
        shared = RedisStore(redis.url)
        ping = shared.redis.ping
        print(f"{args.calls:,} calls, {args.people:,} people, every limit on, load {load()} (ms)")
        for threads in (1, args.threads):
            for whole, what in ((False, "Meter.admit"), (True, "whole metered()")):
                shared.redis.flushdb()
                meters = {"memory": MemoryStore(clock=time.time), "redis": shared}
                meters = {name: Meter(limits, store=store) for name, store in meters.items()}
                side_by_side(meters, ping, everyone, args.people, threads, whole)  # all known
                seconds = side_by_side(meters, ping, everyone, args.calls, threads, whole)
                cuts = {name: quantiles(times) for name, times in seconds.items()}
                for name, (p50, p95, p99) in cuts.items():
                    print(
                        f"  {what:16} {threads:2} thread(s)  {name:6}  p50 {p50:6.3f}  "
                        f"p95 {p95:6.3f}  p99 {p99:6.3f}"
                    )
                added = [cuts["redis"][n] - cuts["memory"][n] for n in (0, 1)]
                print(f"    Redis adds {added[0]:.3f} ms at p50, {added[1]:.3f} ms at p95")
        script = shared.redis.info("commandstats").get("cmdstat_evalsha", {})
        print(f"  Redis's own time per check script: {script.get('usec_per_call', 0):.0f} µs")
        print(f"  load average after: {load()}")
    finally:
        redis.stop()


def load() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


if __name__ == "__main__":
    main()
