"""A server that misbehaves on purpose, for tests only: each route is one way a real server, a
proxy or an attacker's URL has been seen to answer. Every loop is bounded, and stops when the
client goes away.

    /trickle      a 200 whose body arrives one byte every half second
    /trickle-status  the status line and headers one byte a second, for a minute
    /hold         no answer at all, until the client hangs up (`held` says when)
    /keepalive    an event stream of keep-alive comments, never an event
    /stall        a close-delimited stream: two tokens, then silence
    /huge-line    an event stream of one line of 2 MB with no line end
    /huge-body    a 200 declaring 200 MB (and sending it, slowly, as long as it is read)
    /huge-chunked a 200 of 200 MB with no Content-Length, in chunks
    /deep         a 200 whose JSON nests 100,000 lists deep
    /runaway      chat chunks until the client leaves, whatever max_tokens said
    /echo-auth    a 401 whose error quotes the Authorization header
    /echo-auth-long a 200 (or ?status=N) whose error quotes it at the end of a long message
                  (?pad=N characters before it), whole or broken in two (?split=N, by a newline
                  or, with ?gap=space, a space)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.stand_ins.servers import LocalServer

LIMIT_SECONDS = 60  # no route runs longer, whoever is listening


@dataclass
class EvilServer(LocalServer):
    served: list[str] = field(default_factory=list)
    stopped_sending: dict[str, float] = field(default_factory=dict)
    held: list[threading.Event] = field(default_factory=list)  # per /hold: set at hang-up

    def handler_class(self) -> type:
        return type("Handler", (_Handler,), {"state": self})


def chunk(text: str) -> bytes:
    payload = {"choices": [{"delta": {"content": text}, "finish_reason": None}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


class _Handler(BaseHTTPRequestHandler):
    state: EvilServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        self.state.served.append(route)
        try:
            getattr(self, "route_" + route.replace("-", "_"))()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.state.stopped_sending[route] = time.monotonic()

    def head(self, content_type: str, length: int | None = None, close: bool = False) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def send_slowly(self, pieces, pause: float) -> None:
        deadline = time.monotonic() + LIMIT_SECONDS
        for piece in pieces:
            if time.monotonic() > deadline:
                return
            self.wfile.write(piece)
            self.wfile.flush()
            time.sleep(pause)

    def route_trickle(self) -> None:
        body = json.dumps([{"summary_text": "x" * 80}]).encode()
        self.head("application/json", len(body))
        self.send_slowly((body[i : i + 1] for i in range(len(body))), 0.5)

    def route_trickle_status(self) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"x" * 100
        self.close_connection = True
        self.send_slowly((head[i : i + 1] for i in range(len(head))), 1.0)

    def route_hold(self) -> None:
        hung_up = threading.Event()
        self.state.held.append(hung_up)
        self.close_connection = True
        self.connection.settimeout(LIMIT_SECONDS)
        try:
            if self.connection.recv(1) == b"":  # the client closed its end
                hung_up.set()
        except ConnectionResetError:
            hung_up.set()
        except TimeoutError:
            pass

    def route_keepalive(self) -> None:
        self.head("text/event-stream", close=True)
        self.send_slowly(iter(lambda: b": keep-alive\n\n", None), 0.2)

    def route_stall(self) -> None:
        self.head("text/event-stream", close=True)  # no length, no chunks: ends when it closes
        self.wfile.write(chunk("first") + chunk(" second"))
        self.wfile.flush()
        time.sleep(LIMIT_SECONDS / 2)

    def route_huge_line(self) -> None:
        self.head("text/event-stream", close=True)
        self.send_slowly((b"data: " + b"x" * 2**16 for _ in range(40)), 0)

    def route_huge_body(self) -> None:
        self.head("application/json", 200 * 2**20)
        self.send_slowly((b" " * 2**16 for _ in range(3200)), 0.001)

    def route_huge_chunked(self) -> None:
        self.head("application/json", close=True)
        self.send_slowly((b" " * 2**16 for _ in range(3200)), 0)

    def route_deep(self) -> None:
        body = b"[" * 100_000 + b"]" * 100_000
        self.head("application/json", len(body))
        self.wfile.write(body)

    def route_runaway(self) -> None:
        self.head("text/event-stream", close=True)
        self.send_slowly((chunk(f" w{i}") for i in range(10_000)), 0.002)

    def route_echo_auth(self) -> None:
        body = json.dumps({"error": f"Bad header: {self.headers.get('Authorization')}"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_echo_auth_long(self) -> None:
        """What a proxy that checks tokens itself, or a misconfigured server, has answered."""
        asked = {key: values[-1] for key, values in parse_qs(urlsplit(self.path).query).items()}
        quoted = self.headers.get("Authorization") or ""
        if "split" in asked:
            at = int(asked["split"])
            quoted = quoted[:at] + {"space": " "}.get(asked.get("gap", ""), "\n") + quoted[at:]
        words = "the token in this request was not accepted by the gateway; "
        pad = (words * 20)[: int(asked.get("pad", 0))]
        body = json.dumps({"error": f"Invalid token: {pad} in header '{quoted}'"}).encode()
        self.send_response(int(asked.get("status", 200)))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
