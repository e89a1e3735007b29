"""Throughput of many users against a slow model server: Gradio's default queue vs the studio's.

Starts the local task-API server with a fixed delay per answer, then the studio twice (one
request at a time per event, as Gradio's default; and the studio's default of 64), and lets
32 users summarize at once through gradio_client (after one untimed request each). Prints
requests per second and their ratio.

    python -m bench.concurrency [--users 32] [--delay 0.5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from gradio_client import Client

from tests.conftest import start_studio, stop_studio
from tests.servers import TaskServer


def measure(server_url: str, concurrency: int, users: int, rounds: int) -> float:
    env = {"HF_API_SUMMARY_BASE": f"{server_url}/summarize/models/bench"}
    process, url = start_studio(env, "--tabs", "summarize", "--concurrency", str(concurrency))
    try:
        clients = [Client(url, verbose=False) for _ in range(users)]

        def user(client: Client, requests: int) -> None:
            for n in range(requests):
                client.predict(f"request {n} of a user", api_name="/summarize")

        with ThreadPoolExecutor(max_workers=users) as pool:
            # A client's first call fetches the app's API description (about a second on this
            # machine with 32 at once): warm every client up so the timed rounds measure serving.
            list(pool.map(user, clients, [1] * users))
            started = time.perf_counter()
            list(pool.map(user, clients, [rounds] * users))
        return users * rounds / (time.perf_counter() - started)
    finally:
        stop_studio(process)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = TaskServer(delay=args.delay)
    url = server.start()
    try:
        one = measure(url, 1, args.users, args.rounds)
        many = measure(url, 64, args.users, args.rounds)
    finally:
        server.stop()
    print(f"{args.users} users, backend delay {args.delay} s, {args.rounds} requests each")
    print(f"  concurrency 1 (Gradio's default): {one:6.1f} requests/s")
    print(f"  concurrency 64 (the studio's):    {many:6.1f} requests/s")
    print(f"  ratio: {many / one:.1f}x")


if __name__ == "__main__":
    main()
