"""Local streaming chat servers that speak the two protocols as the real ones do, for tests only.

    /v1/chat/completions   OpenAI-compatible (vLLM, llama.cpp's server, the router):
                           `data: {chunk}` lines, a first chunk with only the role, one chunk
                           per token, a last chunk with finish_reason, a usage chunk with no
                           choices, then `data: [DONE]`.
    /generate_stream       TGI's native stream: `data:{event}` (no space), no [DONE]; each event
                           has a token {id, text, logprob, special}; the last one carries the
                           whole generated_text and details.finish_reason. Out-of-range
                           parameters are answered as TGI does: status 200, then one event
                           `{"error": "Input validation error: ...", "error_type": "validation"}`.
                           A body of the wrong type gets 422 with a plain-text message.

The "model" echoes the words of the last user message, one token per word with its leading
space, and ends: on TGI, a question runs on into a made-up next turn that the first stop sequence
cuts ("stop_sequence"); anything else ends with the end-of-text token, marked special
("eos_token"). A message starting with "repeat:" repeats its words until max tokens ("length"):
long replies for Stop tests. Asked to continue a reply the token limit cut (the prompt ends
inside the reply, or a user turn asks to continue it), the echo continues from the next word.
Every request is recorded with the times it arrived, sent its first
and last tokens, finished, and saw the client go away: a failed write, or the connection closing
while the server waits between tokens.
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.stand_ins.reasoning import (
    framed,
    openai_delta,
    openai_logprobs,
    tgi_top_tokens,
    thought_tokens,
)
from tests.stand_ins.servers import LocalServer, model_list

EOS = "<|endoftext|>"  # the falcon-style end-of-text token TGI marks as special
MAX_TOTAL_TOKENS = 4096  # TGI's default --max-total-tokens: prompt + max_new_tokens
MESSAGE_WORDS = re.compile(r"\S+")


@dataclass
class StreamRecord:
    """What one request asked and what happened to its stream."""

    path: str
    headers: dict
    body: dict
    received_at: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    last_token_at: float | None = None
    finished_at: float | None = None
    disconnected_at: float | None = None
    tokens_sent: int = 0

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", [])


@dataclass
class Failure:
    """What to do to the next stream: drop the connection or send an error after `after` tokens."""

    after: int
    kind: str  # "drop" | "error"
    message: str = "CUDA out of memory"


@dataclass
class ChatServer(LocalServer):
    token_delay: float = 0.02  # seconds between tokens
    first_token_delay: float = 0.0  # extra wait before the first token (queue, prefill)
    models: tuple[str, ...] = ("stand-in/chat",)  # what GET /v1/models lists
    thinks: str = ""  # how a reasoning model's thinking is sent (tests.stand_ins.reasoning)
    gives_logprobs: bool = True  # False: logprobs and top_n_tokens are ignored, as some do
    refuses: tuple[str, ...] = ()  # fields answered with 400 "Extra inputs are not permitted"
    records: list[StreamRecord] = field(default_factory=list)
    failures: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler_class(self) -> type:
        return type("Handler", (_Handler,), {"state": self})

    def fail_next(self, after: int, kind: str, message: str = "CUDA out of memory") -> None:
        with self.lock:
            self.failures.append(Failure(after, kind, message))

    def take_failure(self) -> Failure | None:
        with self.lock:
            return self.failures.popleft() if self.failures else None

    def record(self, record: StreamRecord) -> None:
        with self.lock:
            self.records.append(record)

    def wait_for_disconnect(self, record: StreamRecord, timeout: float) -> float | None:
        """When the server saw the client go away (monotonic seconds), or None within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if record.disconnected_at is not None:
                return record.disconnected_at
            time.sleep(0.005)
        return record.disconnected_at


class ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    state: ChatServer
    protocol_version = "HTTP/1.1"  # chunked streams and keep-alive, as real servers do

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        """The routes that cost nothing: what the server serves, and TGI's health and info."""
        if self.path == "/v1/models":
            return self._json(200, model_list(self.state.models))
        if self.path == "/health":
            return self._json(200, None)
        if self.path == "/info":
            return self._json(200, {"model_id": self.state.models[0], "max_total_tokens": 4096})
        return self._plain(404, "Not Found")

    def _json(self, status: int, payload) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            request = json.loads(body)
        except ValueError:
            return self._plain(422, "Failed to parse the request body as JSON")
        if self.path == "/v1/chat/completions":
            return self._openai(request)
        if self.path == "/generate_stream":
            return self._tgi(request)
        return self._plain(404, "Not Found")

    # --- OpenAI-compatible ------------------------------------------------------------------

    def _openai(self, request: dict) -> None:
        record = StreamRecord(self.path, dict(self.headers), request)
        self.state.record(record)
        model = str(request.get("model", ""))
        if model.startswith("unknown/"):  # as the router answers for a model nobody serves
            message = f"The requested model '{model}' is not supported by any provider."
            error = {"message": message, "type": "invalid_request_error"}
            return self._json(400, {"error": {**error, "code": "model_not_supported"}})
        max_tokens = request.get("max_tokens") or 16
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in record.messages)
        if prompt_tokens + max_tokens > MAX_TOTAL_TOKENS:  # as vLLM words it
            message = (
                f"This model's maximum context length is {MAX_TOTAL_TOKENS} tokens. However, you "
                f"requested {prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, "
                f"{max_tokens} in the completion). Please reduce the length of the messages or "
                "completion."
            )
            error = {"object": "error", "message": message, "type": "BadRequestError", "code": 400}
            return self._json(400, error)
        refused = sorted(set(self.state.refuses) & set(request))
        if refused:  # as a server whose request model forbids extra fields words it
            message = f"[{{'type': 'extra_forbidden', 'loc': ('body', '{refused[0]}'), "
            message += "'msg': 'Extra inputs are not permitted'}]"
            return self._json(400, {"object": "error", "message": message, "code": 400})
        message, written = openai_echo(request.get("messages", []))
        spelling = self.state.thinks
        thought = thought_tokens(request, spelling)
        thinking = framed(thought, spelling) or thought
        # The server applies the chat template, which ends with a newline: no leading space.
        left = max(0, max_tokens - len(thinking))
        words, finish = reply_tokens(message, left, leading_space=False, skip=written)
        if len(thinking) >= max_tokens:
            thinking, words, finish = thinking[:max_tokens], [], "length"
        chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "stand-in"}
        top = request.get("top_logprobs") or 0
        logprobs = bool(request.get("logprobs")) and self.state.gives_logprobs

        def event(delta: dict, finish_reason: str | None = None) -> bytes:
            token = delta.get("content") or delta.get(spelling) or ""
            asked = openai_logprobs(token, top) if logprobs and token else None
            choice = {"index": 0, "delta": delta, "logprobs": asked, "finish_reason": finish_reason}
            return sse({**chunk, "choices": [choice]}, space=True)

        self._start_stream()
        try:
            self._send_chunk(event({"role": "assistant", "content": ""}))
            for number, token in enumerate(self._tokens(record, [*thinking, *words])):
                self._send_chunk(event(openai_delta(token, spelling, number < len(thinking))))
            self._send_chunk(event({}, finish))
            usage = {"prompt_tokens": 5, "completion_tokens": len(words)}
            self._send_chunk(sse({**chunk, "choices": [], "usage": usage}, space=True))
            self._send_chunk(b"data: [DONE]\n\n")
            self._end_stream(record)
        except _StreamFailed as failed:
            self._fail(record, failed, openai_error_event)
        except ClientGone:
            record.disconnected_at = time.monotonic()

    # --- TGI /generate_stream -----------------------------------------------------------------

    def _tgi(self, request: dict) -> None:
        record = StreamRecord(self.path, dict(self.headers), request)
        self.state.record(record)
        parameters = request.get("parameters") or {}
        inputs = request.get("inputs")
        if not isinstance(inputs, str) or not isinstance(parameters, dict):
            return self._plain(
                422, "Failed to deserialize the JSON body into the target type: missing `inputs`"
            )
        self._start_stream()
        try:
            problem = tgi_validation_error(inputs, parameters)
            if problem:
                self._send_chunk(sse({"error": problem, "error_type": "validation"}))
                return self._end_stream(record)
            max_new_tokens = parameters.get("max_new_tokens") or 20
            written = len(MESSAGE_WORDS.findall(tgi_open_reply(inputs)))
            # A raw model that thinks writes its thinking inline, before the answer.
            thinking = framed(thought_tokens({}, self.state.thinks), self.state.thinks)
            left = max(0, max_new_tokens - len(thinking))
            words, finish = reply_tokens(tgi_user_text(inputs), left, skip=written)
            words = [*thinking, *words]
            stops = parameters.get("stop") or []
            if finish == "stop" and stops and inputs.rstrip().endswith("?\nAssistant:"):
                # A raw model keeps going into the next turn; the server stops at the sequence
                # and, like TGI, includes it in the text, in pieces as a tokenizer cuts it.
                words, finish = [*words, *split_in_two(stops[0])], "stop_sequence"
            elif finish == "stop":
                words, finish = [*words, EOS], "eos_token"
            self._tgi_tokens(record, words, finish, parameters)
            self._end_stream(record)
        except _StreamFailed as failed:
            self._fail(record, failed, tgi_error_event)
        except ClientGone:
            record.disconnected_at = time.monotonic()

    def _tgi_tokens(self, record, words: list[str], finish: str, parameters: dict) -> None:
        generated = ""
        for index, token in enumerate(self._tokens(record, words), start=1):
            special = token == EOS
            generated += "" if special else token
            event = {
                "index": index,
                "token": {"id": 1000 + index, "text": token, "logprob": -0.25, "special": special},
                "generated_text": None,
                "details": None,
            }
            top = parameters.get("top_n_tokens")
            if top and self.state.gives_logprobs:
                event["top_tokens"] = tgi_top_tokens(token, index, top)
            if index == len(words):
                event["generated_text"] = generated
                if parameters.get("details"):
                    event["details"] = {
                        "finish_reason": finish,
                        "generated_tokens": len(words),
                        "seed": parameters.get("seed"),
                    }
            self._send_chunk(sse(event))

    # --- streaming --------------------------------------------------------------------------

    def _tokens(self, record: StreamRecord, words: list[str]):
        """Yield each token when it is "generated", failing as told, noticing a client gone."""
        failure = self.state.take_failure()
        self._wait(self.state.first_token_delay)
        for number, token in enumerate(words):
            if failure and number == failure.after:
                raise _StreamFailed(failure)
            if number:
                self._wait(self.state.token_delay)
            yield token
            record.tokens_sent += 1
            record.last_token_at = time.monotonic()
            if record.first_token_at is None:
                record.first_token_at = record.last_token_at

    def _wait(self, seconds: float) -> None:
        """Sleep, but notice at once when the client closes the connection meanwhile."""
        if seconds <= 0:
            return
        readable, _, _ = select.select([self.connection], [], [], seconds)
        if readable:
            try:
                if self.connection.recv(1, socket.MSG_PEEK) == b"":
                    raise ClientGone()
            except OSError:
                raise ClientGone() from None

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _send_chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except OSError:  # broken pipe, connection reset: the client went away
            raise ClientGone() from None

    def _end_stream(self, record: StreamRecord) -> None:
        self._send_chunk(b"")  # the zero-length chunk ends the body
        record.finished_at = time.monotonic()

    def _fail(self, record: StreamRecord, failed: _StreamFailed, error_event) -> None:
        failure = failed.failure
        try:
            if failure.kind == "error":
                self._send_chunk(error_event(failure.message))
                self._end_stream(record)
                return
        except ClientGone:
            record.disconnected_at = time.monotonic()
            return
        # "drop": close mid-body, without the last chunk, as a crashed server or proxy does
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    # --- plain answers ----------------------------------------------------------------------

    def _json(self, status: int, payload: dict) -> None:
        self._answer(status, json.dumps(payload).encode(), "application/json")

    def _plain(self, status: int, text: str) -> None:
        self._answer(status, text.encode(), "text/plain; charset=utf-8")

    def _answer(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _StreamFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind)
        self.failure = failure


def sse(payload: dict, *, space: bool = False) -> bytes:
    """One event: OpenAI-style servers write `data: `, TGI writes `data:`."""
    # Unescaped non-ASCII, as TGI (serde_json) and vLLM write it.
    data = json.dumps(payload, ensure_ascii=False).encode()
    return b"data:" + (b" " if space else b"") + data + b"\n\n"


def openai_error_event(message: str) -> bytes:
    error = {"object": "error", "message": message, "type": "InternalServerError", "code": 500}
    return sse({"error": error}, space=True)


def tgi_error_event(message: str) -> bytes:
    error = f"Request failed during generation: Server error: {message}"
    return sse({"error": error, "error_type": "generation"})


def split_in_two(text: str) -> list[str]:
    middle = max(1, len(text) // 2)
    return [text[:middle], text[middle:]] if len(text) > 1 else [text]


def last_user_text(messages: list[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def openai_echo(messages: list[dict]) -> tuple[str, int]:
    """The message to echo, and how many of its words the reply being continued has written."""
    last = messages[-1] if messages else {}
    asks_to_continue = str(last.get("content", "")).startswith("Continue your last reply")
    if asks_to_continue and len(messages) >= 3 and messages[-2].get("role") == "assistant":
        earlier = messages[:-2]
        return last_user_text(earlier), len(MESSAGE_WORDS.findall(messages[-2]["content"]))
    return last_user_text(messages), 0


def tgi_open_reply(prompt: str) -> str:
    """A falcon-format prompt that ends inside the assistant's reply: that reply so far."""
    if prompt.endswith("Assistant:"):
        return ""
    found = re.search(r"\nAssistant: ([^\n]*)\Z", prompt)
    return found.group(1) if found else ""


def tgi_user_text(prompt: str) -> str:
    """The last user turn of a falcon-format prompt; the last line of any other."""
    turns = re.findall(r"^User: (.*?)(?=\nAssistant:|\nUser:|\Z)", prompt, re.M | re.S)
    return turns[-1] if turns else prompt.strip().splitlines()[-1]


def reply_tokens(
    message: str, limit: int, *, leading_space: bool = True, skip: int = 0
) -> tuple[list[str], str]:
    """The echo model: the message's words as tokens, each with its leading space
    (SentencePiece style, as a raw model continuing "Assistant:" emits " Hello"), from word
    `skip` on (the words a reply being continued has written)."""
    repeat = message.startswith("repeat:")
    words = MESSAGE_WORDS.findall(message.removeprefix("repeat:")) or ["…"]
    left = len(words) - skip
    count = limit if repeat else max(0, min(left, limit))
    tokens = [f" {words[(skip + i) % len(words)]}" for i in range(count)]
    if tokens and not leading_space:
        tokens[0] = tokens[0].lstrip()
    return tokens, "length" if repeat or left > limit else "stop"


def tgi_validation_error(inputs: str, parameters: dict) -> str | None:
    """TGI's messages for out-of-range parameters (router/src/validation.rs)."""
    temperature = parameters.get("temperature")
    if temperature is not None and temperature <= 0:
        return "Input validation error: `temperature` must be strictly positive"
    top_p = parameters.get("top_p")
    if top_p is not None and not 0 < top_p < 1:
        return "Input validation error: `top_p` must be > 0.0 and < 1.0"
    penalty = parameters.get("repetition_penalty")
    if penalty is not None and penalty <= 0:
        return "Input validation error: `repetition_penalty` must be strictly positive"
    max_new_tokens = parameters.get("max_new_tokens") or 20
    input_tokens = len(inputs.split())
    if input_tokens + max_new_tokens > MAX_TOTAL_TOKENS:
        return (
            f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= "
            f"{MAX_TOTAL_TOKENS}. Given: {input_tokens} `inputs` tokens and {max_new_tokens} "
            "`max_new_tokens`"
        )
    stops = parameters.get("stop") or []
    if len(stops) > 4:
        return (
            f"Input validation error: `stop` supports up to 4 stop sequences. Given: {len(stops)}"
        )
    return None
