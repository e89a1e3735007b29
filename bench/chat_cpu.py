"""Server CPU per streamed token, time to first token and end lag: the studio against bare Gradio.

Four processes: this one, which drives both apps as their users do; the stand-in
OpenAI-compatible server (tests/stand_ins/chat_servers.py); `python -m studio --tabs chat` pointed
at it;
and a bare Gradio app with the same queue and the same input components, whose handlers are
plain per-token generators over the same server (requests, one yield per token). Each reply
goes through Gradio's queue over loopback, as the page and gradio_client send it, one at a
time, the two apps taking turns:

    page   the Chat tab's event, the history into a gr.Chatbot   vs  a generator of the history
    api    /chat, the reply into a Textbox, history in a State   vs  a generator of the text

For each, three figures:

    CPU per 1,000 tokens   the app process's user + system time (/proc/<pid>/stat) over long
                           replies, per 1,000 tokens the server sent; and beyond idling: less
                           what the app spends as long doing nothing (Gradio's queue polls),
                           which one process pays once however many people stream at once
    first token            the join request until the first piece of the reply arrives
    end lag                the server's last token until the app says the reply is complete

    python -m bench.chat_cpu [--tokens 1000] [--rate 200] [--replies 3] [--short-replies 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import requests

from tests.conftest import free_port, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer

REPLY_TIMEOUT = 120.0  # seconds: no reply of this benchmark takes nearly as long
TICKS = os.sysconf("SC_CLK_TCK")
IDLE_SECONDS = 5.0  # to measure what each app spends doing nothing


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1000, help="tokens per long reply")
    parser.add_argument("--rate", type=float, default=200.0, help="the server's tokens per second")
    parser.add_argument("--replies", type=int, default=3, help="long replies per app and path")
    parser.add_argument("--short-replies", type=int, default=10, help="for time to first token")
    parser.add_argument("--first-token-delay", type=float, default=0.05, help="seconds")
    parser.add_argument("--serve-model", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "MODEL"), help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the stand-in server and the bare app, each in a process of its own ------------------------


class TimedServer(ChatServer):
    """The stand-in chat server, which also answers GET / with the times of its last stream
    (other paths, such as the model list the studio asks for, as the stand-in does)."""

    def handler_class(self) -> type:
        parent = super().handler_class()

        def do_get(handler) -> None:
            if handler.path.rstrip("/"):
                return parent.do_GET(handler)
            return _send_last_record(handler)

        return type("Handler", (parent,), {"do_GET": do_get})


def _send_last_record(handler) -> None:
    records = handler.state.records
    last = records[-1] if records else None
    fields = ("received_at", "first_token_at", "last_token_at", "finished_at", "tokens_sent")
    handler._json(200, {name: getattr(last, name) for name in fields} if last else {})


def serve_model(args: argparse.Namespace) -> None:
    server = TimedServer(token_delay=1 / args.rate, first_token_delay=args.first_token_delay)
    print(server.start(), flush=True)
    sys.stdin.read()  # until the benchmark closes the pipe


def serve_bare(port: int, model: str) -> None:
    """What a Gradio demo does: a generator that yields after every token it reads. It takes
    the Chat tab's settings through the same components, as Gradio preprocesses each input."""
    import gradio as gr

    def tokens(message: str, system: str, *settings: float | None):
        temperature, top_p, max_tokens, repetition_penalty, seed = settings
        messages = [{"role": "user", "content": message}]
        messages[:0] = [{"role": "system", "content": system}] if system else []
        body = {"messages": messages, "stream": True, "max_tokens": int(max_tokens)}
        body.update(temperature=temperature, top_p=top_p, repetition_penalty=repetition_penalty)
        body.update({"seed": int(seed)} if seed is not None else {})
        with requests.post(f"{model}/v1/chat/completions", json=body, stream=True) as response:
            for line in response.iter_lines():
                if line.startswith(b"data: {"):
                    for choice in json.loads(line[6:])["choices"]:
                        if text := choice["delta"].get("content"):
                            yield text

    def chat(message: str, *settings):
        reply = ""
        for token in tokens(message, *settings):
            reply += token
            yield reply

    def page(history: list, *settings):
        content = history[-1]["content"]
        message = content if isinstance(content, str) else content[0]["text"]
        reply = ""
        for token in tokens(message, *settings):
            reply += token
            yield [*history, {"role": "assistant", "content": reply}]

    with gr.Blocks() as app:
        message, answer, chatbot = gr.Textbox(), gr.Textbox(), gr.Chatbot()
        settings = [
            gr.Textbox(),
            gr.Slider(0.0, 1.0),
            gr.Slider(0.05, 1.0),
            gr.Slider(1, 4096, step=1),
            gr.Slider(1.0, 2.0),
            gr.Number(precision=0, minimum=0),
        ]
        gr.Button().click(chat, [message, *settings], answer, api_name="chat")
        gr.Button().click(page, [chatbot, *settings], chatbot, api_name="page")
    app.queue(default_concurrency_limit=64).launch(server_port=port, quiet=True)


# --- driving an app through Gradio's queue -----------------------------------------------------


@dataclass
class Reply:
    cpu: float  # seconds of the app's CPU from the join request until complete
    idle_cpu: float  # what the app would have spent doing nothing meanwhile
    first_piece: float  # seconds from the join request
    end_lag: float  # seconds from the server's last token until complete
    tokens: int
    updates: int  # messages with a piece of the reply


class App:
    """One app's process and the two events to time: how each is called, with what."""

    def __init__(self, name: str, url: str, pid: int, events: Events) -> None:
        self.name, self.url, self.pid = name, url, pid
        self.events = {"page": events.page, "api": events.api}
        self.ask, self.model = events.ask, events.model
        self.http = requests.Session()
        self.idle_rate = 0.0  # CPU seconds per second with nothing to do (Gradio's own timers)

    def measure_idle(self, seconds: float) -> None:
        before = cpu_seconds(self.pid)
        time.sleep(seconds)
        self.idle_rate = (cpu_seconds(self.pid) - before) / seconds

    def data(self, path: str, message: str, tokens: int) -> list:
        settings = ["", 0.7, 0.95, tokens, 1.0, None]  # system prompt ... seed
        if path == "page" and self.ask is not None:  # the studio's turn: its State, the model
            return [None, self.model, *settings]
        if path == "page":
            return [[{"role": "user", "content": [{"type": "text", "text": message}]}], *settings]
        state = [None] if self.name == "studio" else []  # /chat's history, a State
        return [message, *settings, *state]

    def join(self, fn_index: int, data: list, session: str) -> None:
        body = {
            "data": data,
            "fn_index": fn_index,
            "session_hash": session,
            "event_data": None,
            "trigger_id": None,
        }
        self.http.post(f"{self.url}gradio_api/queue/join", json=body, timeout=10).raise_for_status()

    def reply(self, path: str, message: str, tokens: int, model: str) -> Reply:
        session = uuid.uuid4().hex
        cpu_before = cpu_seconds(self.pid)
        joined_at = time.monotonic()
        if path == "page" and self.ask is not None:
            # The page sends the message first (into the chat and the session's State), then
            # the turn that streams the reply: both are what pressing Enter costs.
            self.join(self.ask, [message, [], None], session)
            read_stream(self.http, self.url, session)
        self.join(self.events[path], self.data(path, message, tokens), session)
        first_at, updates, done_at = read_stream(self.http, self.url, session)
        cpu = cpu_seconds(self.pid) - cpu_before
        record = self.http.get(model, timeout=10).json()
        return Reply(
            cpu=cpu,
            idle_cpu=self.idle_rate * (done_at - joined_at),
            first_piece=first_at - joined_at,
            end_lag=done_at - record["last_token_at"],
            tokens=record["tokens_sent"],
            updates=updates,
        )


def read_stream(http: requests.Session, url: str, session: str) -> tuple[float, int, float]:
    """(first piece at, pieces, complete at) from the session's event stream, monotonic."""
    deadline = time.monotonic() + REPLY_TIMEOUT
    first_at, updates = None, 0
    params = {"session_hash": session}
    with http.get(f"{url}gradio_api/queue/data", params=params, stream=True, timeout=30) as stream:
        for line in stream.iter_lines():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete reply within {REPLY_TIMEOUT:.0f} s")
            if not line.startswith(b"data:"):
                continue
            message = json.loads(line[5:])
            if message["msg"] == "process_generating":
                first_at = first_at or time.monotonic()
                updates += 1
            elif message["msg"] == "process_completed":
                done_at = time.monotonic()
                if not message.get("success"):
                    raise RuntimeError(f"the reply failed: {message.get('output')}")
                return first_at or done_at, updates, done_at
    raise RuntimeError("the event stream ended before the reply was complete")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and all its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass(frozen=True)
class Events:
    """An app's events by fn_index: the page's streaming one, /chat, and for the studio the
    event that takes the message first (ask), with the model picker's value the turn sends."""

    page: int
    api: int
    ask: int | None = None
    model: str | None = None


def studio_events(url: str) -> Events:
    """The Chat tab's ask and the turn it triggers (history and stats out), and /chat."""
    config = requests.get(f"{url}config", timeout=10).json()
    components = {c["id"]: c.get("props", {}) for c in config["components"]}
    ids = {props.get("elem_id"): id_ for id_, props in components.items()}
    names = {d.get("api_name"): d for d in config["dependencies"]}
    ask, turn = names.get("ask"), names.get("turn")
    assert ask and turn and "chat" in names, "the Chat tab's events were not found"
    assert turn["outputs"][0] == ids["chat-bot"] and ids["chat-stats"] in turn["outputs"]
    model = components[ids["chat-model"]].get("value")
    return Events(page=turn["id"], api=names["chat"]["id"], ask=ask["id"], model=model)


def bare_events(url: str) -> Events:
    config = requests.get(f"{url}config", timeout=10).json()
    names = {d.get("api_name"): d["id"] for d in config["dependencies"]}
    return Events(page=names["page"], api=names["chat"])


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the bare app exited")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"the bare app did not start within {seconds:.0f} s")


# --- the run -----------------------------------------------------------------------------------


def measure(apps: list[App], args: argparse.Namespace, model: str) -> dict:
    """Replies by (app, path), then kind: the apps take turns so both share the machine's noise."""
    results: dict = {}
    plan = [("long", args.tokens, args.replies), ("short", 16, args.short_replies)]
    for path in ("page", "api"):
        for app in apps:  # warm up: the first call of each event imports and compiles
            app.reply(path, "repeat: warm up", 8, model)
    for app in apps:
        app.measure_idle(IDLE_SECONDS)
    for path in ("page", "api"):
        for kind, tokens, count in plan:
            for number in range(count):
                for app in apps:
                    reply = app.reply(path, f"repeat: token{number}", tokens, model)
                    results.setdefault((app.name, path), {}).setdefault(kind, []).append(reply)
    return results


def report(results: dict, args: argparse.Namespace) -> None:
    print(
        f"{args.tokens}-token replies at {args.rate:.0f} tokens/s ({args.replies} per app), "
        f"{args.short_replies} short ones; the server's first token after "
        f"{args.first_token_delay * 1000:.0f} ms"
    )
    for path in ("page", "api"):
        studio, bare = (Figures.of(results[name, path]) for name in ("studio", "bare"))
        print(f"{path}:")
        print(f"  studio  {studio}")
        print(f"  bare    {bare}")
        print(
            f"  studio/bare: CPU {studio.cpu / bare.cpu:.2f}x ({studio.busy / bare.busy:.2f}x "
            "beyond idling; goal 0.5x or less), first token "
            f"{(studio.first - bare.first) * 1000:+.1f} ms (goal +10 ms or less), "
            f"end lag {studio.lag * 1000:.1f} ms (goal 50 ms or less)"
        )


@dataclass
class Figures:
    cpu: float  # seconds per 1,000 tokens, over the long replies
    busy: float  # the same less what the app spends idle in as long
    first: float  # median seconds to the first piece, over all replies
    lag: float  # median seconds of end lag, over the long replies
    updates: float  # pieces sent per 1,000 tokens

    @classmethod
    def of(cls, replies: dict[str, list[Reply]]) -> Figures:
        long, short = replies["long"], replies["short"]
        tokens = sum(reply.tokens for reply in long)
        return cls(
            cpu=sum(reply.cpu for reply in long) / tokens * 1000,
            busy=sum(reply.cpu - reply.idle_cpu for reply in long) / tokens * 1000,
            first=statistics.median(reply.first_piece for reply in [*long, *short]),
            lag=statistics.median(reply.end_lag for reply in long),
            updates=sum(reply.updates for reply in long) / tokens * 1000,
        )

    def __str__(self) -> str:
        return (
            f"CPU {self.cpu:4.2f} s per 1,000 tokens ({self.busy:4.2f} s beyond idling)   "
            f"first token {self.first * 1000:5.1f} ms   "
            f"end lag {self.lag * 1000:5.1f} ms   {self.updates:4.0f} updates per 1,000 tokens"
        )


def main() -> None:
    args = parse_args()
    if args.serve_model:
        return serve_model(args)
    if args.serve_bare:
        return serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
    itself = [sys.executable, "-m", "bench.chat_cpu"]
    timing = ["--rate", str(args.rate), "--first-token-delay", str(args.first_token_delay)]
    server = subprocess.Popen(
        [*itself, "--serve-model", *timing],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    model = server.stdout.readline().strip()
    port = free_port()
    bare_process = subprocess.Popen(
        [*itself, "--serve-bare", str(port), model],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    studio_process, studio_url = start_studio({"STUDIO_CHAT_BASE": f"{model}/v1"}, "--tabs", "chat")
    try:
        bare_url = f"http://127.0.0.1:{port}/"
        wait_for(bare_url, bare_process)
        apps = [
            App("studio", studio_url, studio_process.pid, studio_events(studio_url)),
            App("bare", bare_url, bare_process.pid, bare_events(bare_url)),
        ]
        report(measure(apps, args, model), args)
    finally:
        stop_studio(studio_process)
        bare_process.terminate()
        bare_process.wait(timeout=10)
        server.stdin.close()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
