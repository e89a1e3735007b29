"""Many users at once on a slow model server: the studio against a bare Gradio app.

Starts the local task-API server (tests/stand_ins/servers.py) with a fixed delay per answer, then,
one
after the other:

    studio     `python -m studio --tabs summarize --concurrency N`, as a teacher starts it
    bare       a Gradio app whose handler forwards the same request with requests, its queue
               and thread pool set by hand for N at once (no studio code)

and lets N users summarize at once through Gradio's HTTP API (after one untimed request). For
each it prints requests per second, the most requests the model server had at once, and the
fraction of the ideal rate: all N answered in one delay, N / delay requests per second.
`--bare-threads 40` runs the bare app with Gradio's default thread pool instead.

    python -m bench.concurrency [--users 100] [--delay 2] [--bare-threads N]
"""

from __future__ import annotations

import argparse

import requests

from bench.common import Burst, burst, call, start_app, stop_app
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.servers import TaskServer

MODEL_PATH = "/summarize/models/bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--delay", type=float, default=2.0, help="the model server's seconds")
    parser.add_argument(
        "--bare-threads", type=int, help="the bare app's max_threads (default: users + 40)"
    )
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)  # the bare app's port
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    return parser.parse_args()


def serve_bare(port: int, backend: str, users: int, threads: int) -> None:
    """A Blocks app whose one handler does what the studio's does: one POST, the summary back."""
    import gradio as gr

    def summarize(text: str) -> str:
        answer = requests.post(backend, json={"inputs": text, "parameters": {}}, timeout=60)
        answer.raise_for_status()
        return answer.json()[0]["summary_text"]

    with gr.Blocks() as app:
        text, summary = gr.Textbox(), gr.Textbox()
        text.submit(summarize, text, summary, api_name="summarize")
    app.queue(default_concurrency_limit=users)
    app.launch(server_port=port, max_threads=threads, quiet=True)


def timed(url: str, data: list, server: TaskServer, users: int, delay: float) -> Burst:
    """All users send one request at the same moment, each in a new session; each waits for
    its answer. One request first, untimed, warms the app up."""
    server.delay = 0.0
    for _ in call(requests.Session(), url, "summarize", data):
        pass
    server.delay = delay
    return burst(url, data, server, [None] * users)


def main() -> None:
    args = parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.backend, args.users, args.bare_threads)
        return
    bare_threads = args.bare_threads or args.users + 40
    server = TaskServer()
    backend = server.start() + MODEL_PATH
    text = ["Ada Lovelace wrote the first published program for a machine in London."]
    runs = {}
    try:
        env = {"HF_API_SUMMARY_BASE": backend}
        process, url = start_studio(env, "--tabs", "summarize", "--concurrency", str(args.users))
        try:
            runs["studio"] = timed(url, [*text, None, None], server, args.users, args.delay)
        finally:
            stop_studio(process)
        process, url = start_app(
            "bench.concurrency",
            *("--backend", backend, "--users", str(args.users)),
            *("--bare-threads", str(bare_threads)),
        )
        try:
            runs["bare"] = timed(url, text, server, args.users, args.delay)
        finally:
            stop_app(process)
    finally:
        server.stop()
    ideal = args.users / args.delay
    print(
        f"{args.users} users at once, a model server that takes {args.delay:g} s "
        f"(ideal {ideal:.1f} requests/s)"
    )
    labels = {
        "studio": f"studio (--concurrency {args.users})",
        "bare": f"bare Gradio (max_threads {bare_threads})",
    }
    for name, run in runs.items():
        print(
            f"  {labels[name]:34} {run.rate:5.1f} requests/s   {run.peak:3d} at once   "
            f"{run.rate / ideal:.2f} of ideal" + (f"   {run.failed} failed" if run.failed else "")
        )
    print(f"  studio / bare: {runs['studio'].rate / runs['bare'].rate:.2f}")


if __name__ == "__main__":
    main()
