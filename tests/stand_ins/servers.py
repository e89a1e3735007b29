"""A local model server that speaks the Hugging Face task API, for tests only.

It answers like the documented protocol (shapes, statuses, headers), computing each answer from
the request it received, and records every request so tests can check what was sent, with the
times it arrived and was answered (for how many the server had at once).

Routes (POST):
  /summarize/models/{model}     -> [{"summary_text"}]: the first words, up to max_length
  /ner/models/{model}           -> raw tokens: B-/I- tags, "##" word pieces, offsets
  /ner-grouped/models/{model}   -> [{"entity_group", ...}] as the router sends
  /hang/...                     -> never answers in time
Any route can be told to fail first: `server.fail_next("/ner", (503, {...}, {}), ...)`.

Every stand-in server in tests/ is a `LocalServer`: a test module gets one with
`chat_server = server_fixture(ChatServer, models=...)`, started once for the module and reset
(`reset()`) before each of its tests.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

# Names the toy NER "model" knows, and their types.
GAZETTEER = {
    "Andrew": "PER",
    "Angela Merkel": "PER",
    "Emmanuel Macron": "PER",
    "Ada Lovelace": "PER",
    "DeepLearningAI": "ORG",
    "Hugging Face": "ORG",
    "Lufthansa": "ORG",
    "United Nations": "ORG",
    "California": "LOC",
    "Zürich": "LOC",
    "東京": "LOC",
    "New York City": "LOC",
    "Paris": "LOC",
    "London": "LOC",
    "Berlin": "LOC",
}
PIECE = 4  # the toy tokenizer cuts words into pieces of four characters, like WordPiece's "##"


@dataclass
class Recorded:
    path: str
    headers: dict
    body: bytes
    received_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None  # None while the server works on it, or never answered

    def json(self):
        return json.loads(self.body)


class LocalServer:
    """What every stand-in server shares: threads on a free loopback port, started and stopped
    the same way (`running`), and made clean again by `reset`. A subclass says which handler
    class answers, given itself; as a dataclass, its fields are the settings and records that
    `reset` restores (a subclass that is none has nothing to reset)."""

    url: str = ""
    kept: ClassVar[tuple[str, ...]] = ("lock",)  # fields `reset` leaves alone

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def reset(self) -> None:
        """Every field as it was when the server started: records and queued failures empty,
        settings a test changed (delays, models) back to what the server was built with. A
        request still in flight from before records into the old lists, not the new ones."""
        for name, value in self._as_started.items():
            setattr(self, name, copy.deepcopy(value))

    def start(self) -> str:
        fields = dataclasses.fields(self) if dataclasses.is_dataclass(self) else ()
        self._as_started = {
            f.name: copy.deepcopy(getattr(self, f.name)) for f in fields if f.name not in self.kept
        }
        self.httpd = _Server(("127.0.0.1", 0), self.handler_class())
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        return self.url

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def model_list(ids) -> dict:
    """`GET /v1/models` as vLLM, llama.cpp's server and Ollama answer it."""
    return {
        "object": "list",
        "data": [{"id": id_, "object": "model", "owned_by": "local"} for id_ in ids],
    }


def router_entry(id_: str, *providers: dict, inputs: tuple[str, ...] | None = ("text",)) -> dict:
    """One model of the router's `GET /v1/models`, as it writes them: `architecture` with
    `input_modalities` (left out when `inputs` is None) and one item per provider."""
    entry = {"id": id_, "object": "model", "created": 1_750_000_000, "owned_by": "stand-in"}
    if inputs is not None:
        entry["architecture"] = {"input_modalities": list(inputs), "output_modalities": ["text"]}
    return {**entry, "providers": list(providers)}


def router_provider(name: str, **fields) -> dict:
    """A provider of a router list entry: live, with whatever `fields` give (`context_length`,
    `pricing={"input": .., "output": ..}`, speed figures, `supports_tools`...)."""
    return {"provider": name, "status": "live", **fields}


@contextlib.contextmanager
def running(server: LocalServer):
    """The server, started on a free port (its `url`), and stopped on leaving."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


_SERVING: list[LocalServer] = []  # started by a `server_fixture`, not yet stopped


def server_fixture(kind: Callable[..., LocalServer], *, scope: str = "module", **settings):
    """A fixture of the server `kind(**settings)`, started once for the module (or `scope`)
    and stopped after it, so the module's apps can be pointed at it once. Each test still gets
    it clean: conftest's autouse `clean_servers` resets every one serving before each test."""

    @pytest.fixture(scope=scope)
    def server():
        with running(kind(**settings)) as started:
            _SERVING.append(started)
            try:
                yield started
            finally:
                _SERVING.remove(started)

    return server


def reset_serving() -> None:
    """Reset each server a `server_fixture` serves now (see `server_fixture`)."""
    for server in _SERVING:
        server.reset()


@dataclass
class TaskServer(LocalServer):
    delay: float = 0.0  # seconds before every answer, for concurrency measurements
    requests: list[Recorded] = field(default_factory=list)
    failures: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, prefix: str, *answers: tuple[int, object, dict]) -> None:
        """Answer the next requests under `prefix` with these (status, body, headers) first."""
        with self.lock:
            self.failures[prefix].extend(answers)

    def take_failure(self, path: str):
        with self.lock:
            for prefix, queue in self.failures.items():
                if path.startswith(prefix) and queue:
                    return queue.popleft()
        return None

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"server_state": self})


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many users at once: the default backlog of 5 refuses connections

    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away mid-answer (Stop, a timeout) is what tests are about

    def get_request(self):
        # Real servers (uvicorn, llama.cpp's) send each streamed piece at once (TCP_NODELAY):
        # without it, a warm keep-alive connection holds a stream's first tokens back behind
        # the client's delayed ACK, about 40 ms, and they arrive together.
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _Handler(BaseHTTPRequestHandler):
    server_state: TaskServer
    post_routes: tuple[str, ...] = ("/summarize/", "/ner/", "/ner-grouped/", "/hang")
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        """A model route takes POST only: a GET gets what Starlette-based servers answer."""
        failure = self.server_state.take_failure(self.path)
        if failure:
            status, payload, headers = failure
            return self._send(status, payload, headers)
        if self.path.startswith(self.post_routes):
            return self._send(405, {"detail": "Method Not Allowed"})
        return self._send(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        record = Recorded(self.path, dict(self.headers), body)
        self.server_state.requests.append(record)
        if self.path.startswith("/hang"):
            time.sleep(30)
            return
        try:
            self._respond(body)
        finally:
            record.answered_at = time.monotonic()

    def _respond(self, body: bytes) -> None:
        state = self.server_state
        if state.delay:
            time.sleep(state.delay)
        failure = state.take_failure(self.path)
        if failure:
            status, payload, headers = failure
            return self._send(status, payload, headers)
        try:
            answer = self._answer(body)
        except _Invalid as exc:  # what TGI-style servers say for a bad parameter
            return self._send(422, {"error": str(exc), "error_type": "validation"})
        if answer is None:
            return self._send(404, {"error": "Model not found"})
        return self._send(200, answer)

    def _answer(self, body: bytes):
        request = json.loads(body)
        inputs, parameters = request.get("inputs"), request.get("parameters") or {}
        if self.path.startswith("/summarize/"):
            return summarize(inputs, parameters)
        if self.path.startswith("/ner-grouped/"):
            return group(inputs, ner_tokens(inputs))
        if self.path.startswith("/ner/"):
            return ner_tokens(inputs)
        return None

    def _send(self, status: int, payload, headers: dict | None = None) -> None:
        if isinstance(payload, bytes):
            kind = "text/html" if payload.lstrip().startswith(b"<") else "text/plain"
            data, content_type = payload, f"{kind}; charset=utf-8"
        else:
            data, content_type = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _Invalid(ValueError):
    pass


def summarize(text: str, parameters: dict) -> list[dict]:
    """A toy summary: the first words of the text, honouring max_length and min_length in words.

    Accepts lengths inside `generate_parameters` (today's API) or at the top (older servers).
    """
    lengths = parameters.get("generate_parameters") or parameters
    max_length = int(lengths.get("max_length") or 12)
    min_length = int(lengths.get("min_length") or 0)
    if min_length > max_length:
        raise _Invalid("min_length must be less than or equal to max_length")
    words = text.split()
    return [{"summary_text": " " + " ".join(words[: max(max_length, min_length)])}]


def ner_tokens(text: str) -> list[dict]:
    """Raw token classification (aggregation none), as a WordPiece model answers."""
    tokens = []
    for name, kind in GAZETTEER.items():
        for match in re.finditer(re.escape(name), text):
            for number, (start, end) in enumerate(_word_spans(match.start(), name)):
                for piece, (p_start, p_end) in enumerate(_pieces(start, end, text)):
                    tag = "B" if number == 0 and piece == 0 else "I"
                    word = text[p_start:p_end]
                    tokens.append(
                        {
                            "entity": f"{tag}-{kind}",
                            "score": 0.99 - 0.01 * piece,
                            "word": word if piece == 0 else "##" + word,
                            "start": p_start,
                            "end": p_end,
                        }
                    )
    tokens.sort(key=lambda t: t["start"])
    for index, token in enumerate(tokens, start=1):
        token["index"] = index
    return tokens


def _word_spans(offset: int, name: str):
    for match in re.finditer(r"\S+", name):
        yield offset + match.start(), offset + match.end()


def _pieces(start: int, end: int, text: str):
    # CJK characters are one token each and never "##" pieces, as in BERT's tokenizer.
    step = 1 if ord(text[start]) > 0x2E80 else PIECE
    for p_start in range(start, end, step):
        yield p_start, min(p_start + step, end)


def group(text: str, tokens: list[dict]) -> list[dict]:
    """What aggregation "simple" makes of raw tokens: one group per B- run."""
    groups: list[dict] = []
    for token in tokens:
        tag, kind = token["entity"].split("-", 1)
        if groups and tag == "I" and groups[-1]["entity_group"] == kind:
            last = groups[-1]
            last["end"], last["scores"] = token["end"], [*last["scores"], token["score"]]
        else:
            groups.append(
                {
                    "entity_group": kind,
                    "start": token["start"],
                    "end": token["end"],
                    "scores": [token["score"]],
                }
            )
    return [
        {
            "entity_group": g["entity_group"],
            "score": sum(g["scores"]) / len(g["scores"]),
            "word": text[g["start"] : g["end"]],
            "start": g["start"],
            "end": g["end"],
        }
        for g in groups
    ]
