"""Many streaming chats at once: the studio's /chat against a bare Gradio streaming app.

Starts the local OpenAI-compatible streaming server (tests/stand_ins/chat_servers.py), then, one
after the
other:

    studio     `python -m studio --tabs chat --concurrency N` with STUDIO_CHAT_BASE pointed at it
    bare       a Gradio app whose generator forwards the same request with requests and yields
               the reply so far, its queue and thread pool set by hand for N at once

and starts N chats at the same moment through Gradio's HTTP API (after one untimed chat), each a
reply long enough that all N should be streaming together. For each it prints the most streams
the server had open at once, and the time to first token as the user sees it (sending the
request until the first piece of the reply arrives), median and 95th percentile, and the app
process's CPU time (/proc) per 1,000 tokens the server sent over the burst.

With `--client-processes N` the users' threads run in N processes of their own rather than
beside the stand-in server in this one: how much of the first token's wait is the benchmark's
own clients sharing one interpreter.

    python -m bench.chat_concurrency [--users 50] [--tokens 30] [--token-delay 0.1]
                                     [--client-processes 1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass

import requests

from bench.common import call, first_token_seconds, peak_overlap, percentile, start_app, stop_app
from bench.limits import cpu_seconds
from studio.tasks.chat import ChatSettings
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer

MESSAGE = "repeat: tick tock"  # the stand-in repeats these words until max tokens


@dataclass
class Run:
    peak: int  # most streams the model server had open at once
    first_tokens: list[float]  # seconds, per chat
    failed: int
    cpu_per_1000: float  # the app process's CPU seconds per 1,000 tokens sent over the burst
    # From the moment the users start, for each chat: when the model server had the request, and
    # when it sent the first token. Before: the clients and the app; after: the app and clients.
    reached: list[float]
    served: list[float]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=30, help="tokens in each reply")
    parser.add_argument("--token-delay", type=float, default=0.1, help="seconds per token")
    parser.add_argument(
        "--first-token-delay", type=float, default=0.2, help="the server's prefill, seconds"
    )
    parser.add_argument(
        "--bare-threads", type=int, help="the bare app's max_threads (default: users + 40)"
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="processes the users' threads are spread over (default: this one, beside the server)",
    )
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)  # the bare app's port
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    return parser.parse_args()


def serve_bare(port: int, backend: str, users: int, threads: int) -> None:
    """A Blocks app whose generator streams an OpenAI-compatible reply, as the studio's does."""
    import gradio as gr

    def chat(message: str, max_tokens: float):
        body = {
            "model": "bench",
            "messages": [{"role": "user", "content": message}],
            "max_tokens": int(max_tokens),
            "stream": True,
        }
        reply = ""
        with requests.post(f"{backend}/chat/completions", json=body, stream=True) as answer:
            answer.raise_for_status()
            for line in answer.iter_lines(decode_unicode=True):
                data = line.removeprefix("data:").strip()
                if not line.startswith("data:") or data == "[DONE]":
                    continue
                for choice in json.loads(data).get("choices", []):
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        reply += piece
                        yield reply

    with gr.Blocks() as app:
        message, max_tokens, reply = gr.Textbox(), gr.Number(), gr.Textbox()
        message.submit(chat, [message, max_tokens], reply, api_name="chat")
    app.queue(default_concurrency_limit=users)
    app.launch(server_port=port, max_threads=threads, quiet=True)


def burst(
    pid: int, url: str, data: list, server: ChatServer, users: int, processes: int = 1
) -> Run:
    """All users start a chat at the same moment and read their replies to the end: from
    threads of this process, which also runs the stand-in server, or spread over `processes`
    processes of their own, so that neither the server nor one interpreter lock holds them."""
    for _ in call(requests.Session(), url, "chat", data):  # warm the app up, untimed
        pass
    already = len(server.records)
    cpu_before = cpu_seconds(pid)
    start_at = time.monotonic() + 2.0 + processes  # once every process has started its threads
    if processes > 1:
        first_tokens, failures = _in_processes(url, data, users, processes, start_at)
    else:
        first_tokens, failures = _chats(url, data, users, start_at)
    cpu = cpu_seconds(pid) - cpu_before
    if failures:
        print(f"  {len(failures)} failed, the first: {failures[0]}")
    now = time.monotonic()
    streams = [
        (r.received_at, r.finished_at or r.disconnected_at or now) for r in server.records[already:]
    ]
    records = server.records[already:]
    tokens = sum(r.tokens_sent for r in records)
    reached = [r.received_at - start_at for r in records]
    served = [r.first_token_at - start_at for r in records if r.first_token_at is not None]
    cpu_per_1000 = cpu * 1000 / max(1, tokens)
    return Run(peak_overlap(streams), first_tokens, len(failures), cpu_per_1000, reached, served)


def _chats(url: str, data: list, users: int, start_at: float) -> tuple[list[float], list[str]]:
    """`users` threads that each start one chat at `start_at` (monotonic seconds, the same in
    every process): the time to each one's first token, and what failed."""
    ready = threading.Barrier(users)
    first_tokens: list[float] = []
    failures: list[str] = []

    def user(session: requests.Session) -> None:
        ready.wait()
        time.sleep(max(0.0, start_at - time.monotonic()))
        try:
            first_tokens.append(first_token_seconds(session, url, data))
        except Exception as exc:  # counted and shown: a benchmark reports, it does not stop
            failures.append(repr(exc))

    threads = [threading.Thread(target=user, args=(requests.Session(),)) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return first_tokens, failures


def _in_processes(url: str, data: list, users: int, processes: int, start_at: float):
    """`_chats` spread over `processes` processes, all starting at `start_at`."""
    context = multiprocessing.get_context("spawn")  # no copy of the stand-in server's threads
    shares = [users // processes + (n < users % processes) for n in range(processes)]
    with context.Pool(processes) as pool:
        answers = pool.starmap(_chats, [(url, data, share, start_at) for share in shares])
    return [t for firsts, _ in answers for t in firsts], [f for _, f in answers for f in f]


def main() -> None:
    args = parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.backend, args.users, args.bare_threads)
        return
    bare_threads = args.bare_threads or args.users + 40
    server = ChatServer()
    backend = server.start() + "/v1"
    server.first_token_delay, server.token_delay = args.first_token_delay, args.token_delay
    settings = ChatSettings()
    studio_data = [MESSAGE, "", settings.temperature, settings.top_p, args.tokens]
    studio_data += [settings.repetition_penalty, None]
    runs = {}
    try:
        env = {"STUDIO_CHAT_BASE": backend}
        process, url = start_studio(env, "--tabs", "chat", "--concurrency", str(args.users))
        try:
            runs["studio"] = burst(
                process.pid, url, studio_data, server, args.users, args.client_processes
            )
        finally:
            stop_studio(process)
        process, url = start_app(
            "bench.chat_concurrency",
            *("--backend", backend, "--users", str(args.users)),
            *("--bare-threads", str(bare_threads)),
        )
        try:
            bare_data = [MESSAGE, args.tokens]
            runs["bare"] = burst(
                process.pid, url, bare_data, server, args.users, args.client_processes
            )
        finally:
            stop_app(process)
    finally:
        server.stop()
    report(runs, args, bare_threads)


def report(runs: dict[str, Run], args: argparse.Namespace, bare_threads: int) -> None:
    stream = args.first_token_delay + args.token_delay * (args.tokens - 1)
    print(
        f"{args.users} chats at once, replies of {args.tokens} tokens: on the server "
        f"{args.first_token_delay:g} s to the first token, {stream:.1f} s in all"
    )
    labels = {
        "studio": f"studio (--concurrency {args.users})",
        "bare": f"bare Gradio (max_threads {bare_threads})",
    }
    for name, run in runs.items():
        print(
            f"  {labels[name]:34} {run.peak:3d} streamed at once   first token "
            f"{_quantiles(run.first_tokens)}   CPU {run.cpu_per_1000:5.2f} s per 1,000 tokens"
            + (f"   {run.failed} failed" if run.failed else "")
        )
        print(
            f"  {'':34} after the users began, the model server had the requests "
            f"{_quantiles(run.reached)}, sent their first tokens {_quantiles(run.served)}"
        )


def _quantiles(seconds: list[float]) -> str:
    seconds = seconds or [float("nan")]
    median, high = statistics.median(seconds), percentile(seconds, 0.95)
    return f"p50 {median * 1000:5.0f} ms p95 {high * 1000:5.0f} ms"


if __name__ == "__main__":
    main()
