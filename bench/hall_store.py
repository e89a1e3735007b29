"""What a shared Redis adds to each request's limit check, against this process's memory.

Starts a redis-server of its own on a free port (Debian's `redis-server`; redis-py from
requirements-hall.txt), then, in this process, times one `Meter.admit` (the limit check, before
the model is asked) and one whole `metered(...)` (the check, then the usage record and the
chat tokens afterwards) with every limit on but generous, for `--people` people in turn:
with the memory store, then with the Redis store. Sequentially, then from `--threads` threads at
once (the events of a busy studio). Prints p50, p95 and p99 of each, and the p95 difference;
first, the same for a bare PING to the same server, the floor under any shared store on this
machine (on a busy machine its tail is the scheduler's, not Redis's).

    python -m bench.hall_store [--people 1000] [--calls 5000] [--threads 16]
"""

from __future__ import annotations

import argparse
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


def timings(meter: Meter, everyone: list[Person], calls: int, threads: int, whole: bool):
    """Seconds of each of `calls` checks (or whole metered calls), from `threads` threads."""

    def one(i: int) -> float:
        person = everyone[i % len(everyone)]
        started = time.perf_counter()
        if whole:
            with metered(Caller(meter, person), "chat", "127.0.0.1", prompt=TEXT) as call:
                call.tokens = 50
        else:
            meter.admit(person, "chat", prompt=TEXT)
        return time.perf_counter() - started

    if threads == 1:
        return [one(i) for i in range(calls)]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(calls)))


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
        stores = {"memory": MemoryStore(clock=time.time), "redis": RedisStore(redis.url)}
        print(f"{args.calls:,} calls, {args.people:,} people, every limit on (ms)")
        pings = []
        for _ in range(args.calls):
            started = time.perf_counter()
            stores["redis"].redis.ping()
            pings.append(time.perf_counter() - started)
        p50, p95, p99 = quantiles(pings)
        print(
            f"  PING, the floor        1 thread(s)  redis   p50 {p50:6.3f}  p95 {p95:6.3f}  "
            f"p99 {p99:6.3f}"
        )
        for threads in (1, args.threads):
            for whole, what in ((False, "Meter.admit"), (True, "whole metered()")):
                p95 = {}
                for name, store in stores.items():
                    meter = Meter(limits, store=store)
                    timings(meter, everyone, args.people, threads, whole)  # everyone known
                    p50, p95[name], p99 = quantiles(
                        timings(meter, everyone, args.calls, threads, whole)
                    )
                    print(
                        f"  {what:16} {threads:2} thread(s)  {name:6}  p50 {p50:6.3f}  "
                        f"p95 {p95[name]:6.3f}  p99 {p99:6.3f}"
                    )
                print(f"    Redis adds {p95['redis'] - p95['memory']:.3f} ms at p95")
        script = stores["redis"].redis.info("commandstats").get("cmdstat_evalsha", {})
        print(f"  Redis's own time per check script: {script.get('usec_per_call', 0):.0f} µs")
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
