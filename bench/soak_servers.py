"""Stand-in model servers that fail now and then, for the soak (bench/soak.py).

Two servers, run in a process of their own so that the simulated people do not slow them down:

    task   tests/image_servers.py's server, which also summarizes and finds names as
           tests/stand_ins/servers.py's does: /summarize/, /ner/, /itt/ (captions), /tti/ (pictures)
    chat   tests/stand_ins/chat_servers.py's OpenAI-compatible echo: /v1/chat/completions

Each answer echoes what it was sent (the words of a text or a message, the size of a picture),
so a person can tell their answer from someone else's. A share of the requests (`--share`,
one in ten by default) get one fault, drawn at random:

    server error   a 5xx before any answer (the chat: also an error event mid-stream)
    refusal        a 4xx: 400, 401, 403, 404, 422, or 429 with Retry-After
    stall          nothing for longer than the studio waits (the chat: after a few tokens)
    drop           the connection closed in the middle of the answer
    slow headers   the status line and each header a fraction of a second apart, then the answer

    python -m bench.soak_servers [--share 0.1] [--stall 10] [--delay 0.3] [--seed 1]

prints one JSON line with the servers' URLs, serves until its standard input closes or it is
terminated, then prints one JSON line counting the faults it made.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import signal
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.stand_ins.chat_servers import ChatServer, ClientGone
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import ner_tokens, summarize

KINDS = ("server error", "refusal", "stall", "drop", "slow headers")
SERVER_ERRORS = [
    (500, {"error": "Internal Server Error"}, {}),
    (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {}),
    (503, {"error": "Service Unavailable"}, {}),
    (504, b"<html><body><h1>504 Gateway Time-out</h1></body></html>", {}),
]
REFUSALS = [
    (400, {"error": "Bad request: the request could not be read"}, {}),
    (401, {"error": "Invalid credentials in Authorization header"}, {}),
    (403, {"error": "This model is gated: ask for access on its page"}, {}),
    (404, {"error": "Model not found"}, {}),
    (
        422,
        {"error": "Input validation error: `inputs` is too long", "error_type": "validation"},
        {},
    ),
    (429, {"error": "Rate limit reached, slow down"}, {"Retry-After": "1"}),
]


@dataclass
class Faults:
    """Which fault, if any, each request gets; drawn under a lock from one seeded generator."""

    share: float = 0.1
    stall_seconds: float = 10.0  # longer than the studio's STUDIO_TIMEOUT
    seed: int = 1
    counts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def draw(self) -> str | None:
        with self.lock:
            self.counts["requests"] += 1
            if self.random.random() >= self.share:
                return None
            kind = self.random.choice(KINDS)
            self.counts[kind] += 1
            return kind

    def pick(self, choices: list):
        with self.lock:
            return self.random.choice(choices)

    def uniform(self, low: float, high: float) -> float:
        with self.lock:
            return self.random.uniform(low, high)


class _Faulty:
    """What both handlers share: the fault of the request being answered, and slow headers."""

    faults: Faults
    fault: str | None = None

    def handle_one_request(self) -> None:
        self.fault = None  # a kept-alive connection's next request draws its own
        super().handle_one_request()

    def send_header(self, keyword: str, value: str) -> None:
        super().send_header(keyword, value)
        if self.fault == "slow headers":
            self.flush_headers()
            time.sleep(self.faults.uniform(0.1, 0.6))

    def stall(self) -> None:
        time.sleep(self.faults.stall_seconds)
        self.close_connection = True


class _FaultyTask(_Faulty):
    def _respond(self, body: bytes) -> None:
        self.fault = self.faults.draw()
        if self.fault == "stall":
            return self.stall()
        if self.fault in ("server error", "refusal"):
            status, payload, headers = self.faults.pick(
                SERVER_ERRORS if self.fault == "server error" else REFUSALS
            )
            return self._send(status, payload, headers)
        super()._respond(body)

    def _answer(self, body: bytes):
        """The image server's routes, and the text ones of tests/stand_ins/servers.py."""
        if self.path.startswith(("/summarize/", "/ner/")):
            request = json.loads(body)
            if self.path.startswith("/ner/"):
                return ner_tokens(request["inputs"])
            return summarize(request["inputs"], request.get("parameters") or {})
        return super()._answer(body)

    def _send(self, status: int, payload, headers: dict | None = None) -> None:
        if self.fault != "drop":
            return super()._send(status, payload, headers)
        wire, self.wfile = self.wfile, io.BytesIO()  # the whole answer, then half of it sent
        try:
            super()._send(status, payload, headers)
        finally:
            answer, self.wfile = self.wfile.getvalue(), wire
        head, _, body = answer.partition(b"\r\n\r\n")
        wire.write(head + b"\r\n\r\n" + body[: len(body) // 2])
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


class _FaultyChat(_Faulty):
    cut_at: int = 0  # the token after which a stall begins

    def _openai(self, request: dict) -> None:
        self.fault = self.faults.draw()
        self.cut_at = int(self.faults.uniform(0, 4))
        if self.fault == "server error" and self.faults.uniform(0, 1) < 0.5:
            self.state.fail_next(self.cut_at, "error")  # an error event mid-stream
        elif self.fault in ("server error", "refusal"):
            status, payload, _ = self.faults.pick(
                SERVER_ERRORS if self.fault == "server error" else REFUSALS
            )
            if isinstance(payload, bytes):
                return self._answer(status, payload, "text/html")
            return self._json(status, payload)
        elif self.fault == "drop":
            self.state.fail_next(self.cut_at, "drop")
        super()._openai(request)

    def _tokens(self, record, words: list[str]):
        for number, token in enumerate(super()._tokens(record, words)):
            if self.fault == "stall" and number == self.cut_at:
                self._wait(self.faults.stall_seconds)  # ClientGone as soon as the studio leaves
                self.close_connection = True
                raise ClientGone()
            yield token


@dataclass
class FaultyTaskServer(ImageServer):
    faults: Faults = field(default_factory=Faults)

    def handler_class(self) -> type:
        handler = super().handler_class()
        return type("Handler", (_FaultyTask, handler), {"faults": self.faults})


@dataclass
class FaultyChatServer(ChatServer):
    faults: Faults = field(default_factory=Faults)

    def handler_class(self) -> type:
        handler = super().handler_class()
        return type("Handler", (_FaultyChat, handler), {"faults": self.faults})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", type=float, default=0.1, help="of requests that get a fault")
    parser.add_argument("--stall", type=float, default=10.0, help="seconds a stall lasts")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds before each answer")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    faults = Faults(args.share, args.stall, args.seed)
    task, chat = FaultyTaskServer(delay=args.delay, faults=faults), FaultyChatServer(faults=faults)
    chat.first_token_delay = args.delay
    print(json.dumps({"task": task.start(), "chat": chat.start()}), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stopped.set()), daemon=True).start()
    while not stopped.wait(2):
        task.requests.clear()  # the records of every request: a soak needs none of them
        chat.records.clear()
    with faults.lock, contextlib.suppress(BrokenPipeError):  # the soak may be gone
        print(json.dumps(dict(faults.counts)), flush=True)


if __name__ == "__main__":
    main()
