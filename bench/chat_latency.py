"""Time to first token the studio adds to the model server's own.

Starts a local streaming server (tests/stand_ins/chat_servers.py) and `python -m studio` pointed at
it,
then asks N questions through gradio_client, as an API user would. For each reply:

    seen by the user   submit() until the first piece of the reply is in job.outputs()
    the server's own   the request reaching the server until it wrote its first token
    added              the difference: Gradio's queue, the studio, and both network hops,
                       split into the way in (submit until the server has the request) and
                       the way out (the server's first token until the user has it)

and, as the floor, the same through a bare Gradio app in its own process whose handler yields
at once: what Gradio's queue and gradio_client cost without the studio or a model server.

Run from the project's folder: python bench/chat_latency.py [--requests 20] [--protocol tgi]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradio_client import Client  # noqa: E402

from tests.conftest import free_port, start_studio, stop_studio  # noqa: E402
from tests.stand_ins.chat_servers import ChatServer  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--protocol", choices=["openai", "tgi", "both"], default="both")
    parser.add_argument(
        "--first-token-delay", type=float, default=0.2, help="the server's prefill, seconds"
    )
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds per token")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)  # the floor's app
    return parser.parse_args()


def first_output_after(job, submitted_at: float, timeout: float = 30.0) -> float:
    deadline = submitted_at + timeout
    while not job.outputs():
        if time.monotonic() > deadline:
            raise TimeoutError("no reply within 30 s")
        time.sleep(0.0005)
    return time.monotonic() - submitted_at


Sample = tuple[float, float, float]  # seen by the user, the server's own, the way in


def measure(protocol: str, server: ChatServer, requests: int) -> list[Sample]:
    """Time to first token per request, in seconds, with the way in."""
    env = (
        {"STUDIO_CHAT_BASE": f"{server.url}/v1"}
        if protocol == "openai"
        else {"HF_API_FALCOM_BASE": server.url}
    )
    process, url = start_studio(env, "--tabs", "chat")
    try:
        client = Client(url, verbose=False)
        client.predict("warm up", api_name="/chat")
        samples = []
        for number in range(requests):
            client.reset_session()  # a new conversation: the same prompt size every time
            submitted_at = time.monotonic()
            job = client.submit(f"question number {number} please", api_name="/chat")
            seen = first_output_after(job, submitted_at)
            job.result()
            record = server.records[-1]
            own = record.first_token_at - record.received_at
            samples.append((seen, own, record.received_at - submitted_at))
        return samples
    finally:
        stop_studio(process)


def serve_bare(port: int) -> None:
    """A Blocks app with the studio's queue settings whose streaming handler answers at once."""
    import gradio as gr

    async def reply(message: str):
        yield "first"
        await asyncio.sleep(0.01)
        yield "first second"

    with gr.Blocks() as app:
        message, answer = gr.Textbox(), gr.Textbox()
        message.submit(reply, message, answer, api_name="chat")
    app.queue(default_concurrency_limit=64).launch(server_port=port, quiet=True)


def measure_floor(requests: int) -> list[float]:
    """Submit until the first streamed piece, through a bare Gradio app, in seconds."""
    port = free_port()
    command = [sys.executable, __file__, "--serve-bare", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        client.predict("warm up", api_name="/chat")
        samples = []
        for _ in range(requests):
            submitted_at = time.monotonic()
            job = client.submit("hi", api_name="/chat")
            samples.append(first_output_after(job, submitted_at))
            job.result()
        return samples
    finally:
        process.terminate()
        process.wait(timeout=10)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(protocol: str, samples: list[Sample], floor: list[float]) -> None:
    added = [seen - own for seen, own, _ in samples]
    rows = {
        "seen by the user": [seen for seen, _, _ in samples],
        "the server's own": [own for _, own, _ in samples],
        "added over it": added,
        "  the way in": [way_in for _, _, way_in in samples],
        "  the way out": [seen - own - way_in for seen, own, way_in in samples],
    }
    print(f"{protocol}: {len(samples)} requests, time to first token")
    for name, values in rows.items():
        print(
            f"  {name:18} median {statistics.median(values) * 1000:6.1f} ms"
            f"   p90 {percentile(values, 0.9) * 1000:6.1f} ms"
        )
    beyond = (statistics.median(added) - statistics.median(floor)) * 1000
    print(f"  the studio's own share (added over it less the bare floor): {beyond:.1f} ms")


def main() -> None:
    args = parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    floor = measure_floor(args.requests)
    print(
        f"bare Gradio app, submit to first piece: median {statistics.median(floor) * 1000:.1f} ms"
        f"   p90 {percentile(floor, 0.9) * 1000:.1f} ms"
    )
    server = ChatServer()
    server.start()
    server.first_token_delay, server.token_delay = args.first_token_delay, args.token_delay
    protocols = ["openai", "tgi"] if args.protocol == "both" else [args.protocol]
    try:
        for protocol in protocols:
            report(protocol, measure(protocol, server, args.requests), floor)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
