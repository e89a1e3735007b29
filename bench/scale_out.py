"""One studio process against two behind nginx, on the same machine (docs/deploy.md).

Starts the local task-API server (a summary takes `--delay` seconds) and the local streaming
chat server, then, one after the other:

    1 process      `python -m studio --tabs summarize,chat --concurrency N`, asked directly
    2 processes    two of them with STUDIO_REDIS_URL (one redis-server) and STUDIO_ROOT_PATH,
                   behind nginx with docs/deploy.md's configuration (sticky by cookie)

and against each, `--bursts` times: N chats at the same moment (each a reply of `--tokens`
tokens), then N people summarizing at the same moment, each a browser of its own (its cookie
keeps it on one replica). It prints chats and summaries per second, the chats' time to first
token p50 and p95, errors, and the CPU seconds the studios spent per 1,000 requests (nginx's
and Redis's apart). From the CPU per request it prints what the same work would allow on 2 and
4 cores if the studios were the only thing running: on a machine of 2 cores a second process
can only spread the same CPU over the same cores.

    python -m bench.scale_out [--users 200] [--delay 2] [--tokens 30] [--bursts 2]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.common import burst, call, first_token_seconds, percentile, together
from bench.limits import TEXT, cpu_seconds
from studio.tasks.chat import ChatSettings
from tests.classroom.real_servers import Nginx, RedisServer
from tests.conftest import free_port, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import TaskServer

MESSAGE = "repeat: tick tock"  # the stand-in repeats these words until max tokens
MODEL_PATH = "/summarize/models/bench"


@dataclass
class Result:
    chat_rates: list[float] = field(default_factory=list)  # chats finished per second
    summary_rates: list[float] = field(default_factory=list)
    first_tokens: list[float] = field(default_factory=list)  # seconds, every chat
    answered: int = 0
    failed: int = 0
    studio_cpu: float = 0.0  # the studio processes' CPU seconds over every burst
    other_cpu: float = 0.0  # nginx's and Redis's

    def cpu_per_1000(self) -> float:
        return self.studio_cpu * 1000 / max(1, self.answered)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--delay", type=float, default=2.0, help="a summary's seconds")
    parser.add_argument("--tokens", type=int, default=30, help="tokens in each chat reply")
    parser.add_argument("--token-delay", type=float, default=0.1, help="seconds per token")
    parser.add_argument("--bursts", type=int, default=2, help="bursts of each kind per setup")
    return parser.parse_args()


def chats(url: str, data: list, users: int) -> tuple[float, list[float], int]:
    """All users start a chat at the same moment: chats per second, first tokens, failures."""
    ready = threading.Barrier(users + 1)
    firsts: list[float] = []
    failures: list[Exception] = []

    def user() -> None:
        http = requests.Session()  # a browser: its cookie keeps it on one replica
        ready.wait()
        try:
            firsts.append(first_token_seconds(http, url, data))
        except Exception as exc:  # counted and shown: a benchmark reports, it does not stop
            failures.append(exc)

    started = together([user] * users, ready)
    if failures:
        print(f"  {len(failures)} chats failed, the first: {failures[0]!r}")
    return len(firsts) / (time.perf_counter() - started), firsts, len(failures)


def children(pid: int) -> list[int]:
    """nginx's workers, whose CPU is nginx's too."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(n) for n in path.read_text().split()] if path.exists() else []


def measure(url: str, studios: dict[int, str], others: list[int], servers, args) -> Result:
    """`studios`: each studio's process id and its own address, where it is warmed up."""
    task_server, chat_server = servers
    settings = ChatSettings()
    chat = [MESSAGE, "", settings.temperature, settings.top_p, args.tokens]
    chat += [settings.repetition_penalty, None]
    task_server.delay = 0.0
    for direct in studios.values():  # every replica warmed up, untimed
        for api, data in (("chat", chat), ("summarize", [TEXT, None, None])):
            for _ in call(requests.Session(), direct, api, data):
                pass
    task_server.delay = args.delay
    others = others + [child for pid in others for child in children(pid)]
    result = Result()
    before = [sum(map(cpu_seconds, pids)) for pids in (studios, others)]
    for _ in range(args.bursts):
        rate, firsts, failed = chats(url, chat, args.users)
        result.chat_rates.append(rate)
        result.first_tokens += firsts
        result.answered, result.failed = result.answered + len(firsts), result.failed + failed
        run = burst(url, [TEXT, None, None], task_server, [None] * args.users)
        result.summary_rates.append(run.rate)
        result.answered, result.failed = result.answered + run.answered, result.failed + run.failed
    result.studio_cpu = sum(map(cpu_seconds, studios)) - before[0]
    result.other_cpu = sum(map(cpu_seconds, others)) - before[1]
    return result


def one_process(env: dict, args, servers) -> Result:
    process, url = start_studio(env, "--tabs", "summarize,chat", "--concurrency", str(args.users))
    try:
        return measure(url, {process.pid: url}, [], servers, args)
    finally:
        stop_studio(process)


def two_processes(env: dict, args, servers) -> Result:
    redis = RedisServer().start()
    env = {**env, "STUDIO_REDIS_URL": redis.url, "STUDIO_ROOT_PATH": "/studio"}
    ports, studios, nginx = [free_port(), free_port()], [], None
    try:
        for port in ports:
            flags = ("--tabs", "summarize,chat", "--concurrency", str(args.users))
            studios.append(start_studio(env, *flags, port=port)[0])
        nginx = Nginx(ports).start()
        pids = [nginx.process.pid, redis.process.pid]
        direct = {
            s.pid: f"http://127.0.0.1:{port}/" for s, port in zip(studios, ports, strict=True)
        }
        return measure(f"{nginx.url}/studio/", direct, pids, servers, args)
    finally:
        if nginx is not None:
            nginx.stop()
        for studio in studios:
            stop_studio(studio)
        redis.stop()


def report(runs: dict[str, Result], args) -> None:
    reply = 0.2 + args.token_delay * (args.tokens - 1)
    print(
        f"{args.users} chats at once (replies of {args.tokens} tokens, {reply:.1f} s on the "
        f"server), then {args.users} summaries at once ({args.delay:g} s each), "
        f"{args.bursts} bursts of each"
    )
    for name, run in runs.items():
        firsts = run.first_tokens or [float("nan")]
        print(
            f"  {name:12} chats/s {' '.join(f'{r:5.1f}' for r in run.chat_rates)}   "
            f"first token p50 {statistics.median(firsts) * 1000:5.0f} ms "
            f"p95 {percentile(firsts, 0.95) * 1000:5.0f} ms   "
            f"summaries/s {' '.join(f'{r:5.1f}' for r in run.summary_rates)}   "
            f"errors {run.failed}"
        )
        per = run.cpu_per_1000()
        print(
            f"  {'':12} studio CPU {per:5.1f} s per 1,000 requests (nginx and Redis "
            f"{run.other_cpu * 1000 / max(1, run.answered):4.1f} more); the studios' CPU "
            f"alone would allow {2000 / per:5.0f} requests/s on 2 cores, {4000 / per:5.0f} on 4"
        )


def main() -> None:
    args = parse_args()
    task_server, chat_server = TaskServer(), ChatServer()
    env = {
        "HF_API_SUMMARY_BASE": task_server.start() + MODEL_PATH,
        "STUDIO_CHAT_BASE": chat_server.start() + "/v1",
    }
    chat_server.first_token_delay, chat_server.token_delay = 0.2, args.token_delay
    servers, runs = (task_server, chat_server), {}
    try:
        runs["1 process"] = one_process(env, args, servers)
        runs["2 processes"] = two_processes(env, args, servers)
    finally:
        task_server.stop()
        chat_server.stop()
    report(runs, args)


if __name__ == "__main__":
    main()
