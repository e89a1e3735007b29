"""Local stand-ins for llama.cpp's two servers, answering as the real ones do, for fast tests;
tests/llama_server/test_llama_server.py runs the real llama-cpp-python server.

    llama-cpp-python   GET /v1/models lists the model `owned_by` "me"; GET /openapi.json is
                       titled "🦙 llama.cpp Python API". Its stream is replayed from one recorded
                       from the real server (recorded/llama_cpp_python.json): a first chunk with
                       only the role, a chunk per token, a last chunk with an empty delta and the
                       finish reason, then `data: [DONE]`. When another request arrives while it
                       streams, it ends the running stream with `data: [DONE]` and no finish
                       reason (its `interrupt_requests`, on by default). A prompt as long as its
                       context (2048 tokens by default): streamed, 200 and an empty body, and
                       the connection closed though kept alive was said (a request sent on it
                       again gets no answer); not streamed, 400 with the context and the tokens
                       asked for.
    llama-server       GET /v1/models lists it `owned_by` "llamacpp" with `meta.n_ctx`; GET /props
                       gives `default_generation_settings.n_ctx`. A prompt too long: 400
                       `{"error": {"code": 400, "message": "request (N tokens) exceeds the
                       available context size (M tokens), try increasing it", "type":
                       "exceed_context_size_error", "n_prompt_tokens": N, "n_ctx": M}}`.

Both read `repeat_penalty` and ignore `repetition_penalty` (llama-cpp-python's default: 1.1).
The model echoes the last user message as the other stand-ins do; "repeat:" loops until max
tokens, unless a repeat penalty above 1 is in effect, which breaks the loop after one round
("stop"). A token is a word; a message costs its words and 8 tokens of template.
"""

from __future__ import annotations

import json
import select
from dataclasses import dataclass, field
from pathlib import Path

from tests.stand_ins.chat_servers import (
    ChatServer,
    ClientGone,
    StreamRecord,
    _Handler,
    last_user_text,
    reply_tokens,
)

RECORDED = json.loads((Path(__file__).parent / "recorded" / "llama_cpp_python.json").read_text())
PYTHON, SERVER = "llama-cpp-python", "llama-server"
DEFAULT_PENALTY = {PYTHON: 1.1, SERVER: 1.0}
MESSAGE_TOKENS = 8
# The real reply starts with a space: its first token is a word with its leading space.
LEADING_SPACE = RECORDED["leading"] == " "


@dataclass
class LlamaCppStandIn(ChatServer):
    program: str = PYTHON  # which of the two it answers as
    n_ctx: int = 2048
    penalties: list[float] = field(default_factory=list)  # the penalty each reply was made with
    arrived: int = 0  # requests so far: a stream sees a newer one come

    def handler_class(self) -> type:
        return type("Handler", (_LlamaHandler,), {"state": self})

    def arrive(self) -> int:
        with self.lock:
            self.arrived += 1
            return self.arrived

    def newer_than(self, number: int) -> bool:
        with self.lock:
            return self.arrived > number


def prompt_tokens(messages: list[dict]) -> int:
    return sum(len(str(m.get("content", "")).split()) + MESSAGE_TOKENS for m in messages)


class _LlamaHandler(_Handler):
    state: LlamaCppStandIn

    def do_GET(self) -> None:
        state = self.state
        if self.path == "/v1/models":
            return self._json(200, models_answer(state))
        if self.path == "/openapi.json" and state.program == PYTHON:
            return self._json(200, {"openapi": "3.1.0", "info": RECORDED["openapi_info"]})
        if self.path == "/props" and state.program == SERVER:
            settings = {"n_ctx": state.n_ctx, "params": {"repeat_penalty": 1.0}}
            return self._json(200, {"default_generation_settings": settings, "total_slots": 1})
        return self._json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = json.loads(body)
        if self.path != "/v1/chat/completions":
            return self._json(404, {"detail": "Not Found"})
        number = self.state.arrive()
        record = StreamRecord(self.path, dict(self.headers), request)
        self.state.record(record)
        messages = request.get("messages", [])
        tokens = prompt_tokens(messages)
        if tokens >= self.state.n_ctx:
            return self._too_long(request, tokens)
        penalty = float(request.get("repeat_penalty", DEFAULT_PENALTY[self.state.program]))
        self.state.penalties.append(penalty)
        message = last_user_text(messages)
        max_tokens = request.get("max_tokens") or 16
        words, finish = reply_tokens(message, max_tokens, leading_space=LEADING_SPACE)
        if penalty > 1.0 and finish == "length" and message.startswith("repeat:"):
            once = len(message.removeprefix("repeat:").split())
            words, finish = words[:once], "stop"
        if not request.get("stream"):
            return self._json(200, completion(request, "".join(words), finish))
        self._stream(record, number, words, finish)

    def _too_long(self, request: dict, tokens: int) -> None:
        n_ctx = self.state.n_ctx
        if self.state.program == SERVER:
            message = (
                f"request ({tokens} tokens) exceeds the available context size ({n_ctx} "
                "tokens), try increasing it"
            )
            error = {"code": 400, "message": message, "type": "exceed_context_size_error"}
            return self._json(400, {"error": {**error, "n_prompt_tokens": tokens, "n_ctx": n_ctx}})
        if request.get("stream"):  # the generator fails after the headers: an empty body
            self._start_stream()
            self._send_chunk(b"")
            return self._drop_next_request()
        answer = json.loads(json.dumps(RECORDED["too_long"]["body"]))
        answer["error"]["message"] = too_long_message(n_ctx, tokens, request.get("max_tokens"))
        return self._json(400, answer)

    def _drop_next_request(self) -> None:
        """Close the connection, as uvicorn does after that empty stream though it said
        keep-alive: a request a client sends on it again gets no answer."""
        select.select([self.connection], [], [], 5.0)  # the next request, or none in a while
        self.close_connection = True

    def _stream(self, record: StreamRecord, number: int, words: list[str], finish: str) -> None:
        self._start_stream()
        try:
            self._send_chunk(event(chunk({"role": "assistant"})))
            for token in self._tokens(record, words):
                self._send_chunk(event(chunk({"content": token})))
                if self.state.program == PYTHON and self.state.newer_than(number):
                    break  # interrupt_requests: [DONE], and no finish reason
            else:
                self._send_chunk(event(chunk({}, finish)))
            self._send_chunk(b"data: [DONE]\n\n")
            self._end_stream(record)
        except ClientGone:
            record.disconnected_at = record.disconnected_at or record.last_token_at


def models_answer(state: LlamaCppStandIn) -> dict:
    model = state.models[0]
    if state.program == PYTHON:
        return {"object": "list", "data": [RECORDED["models"]["data"][0] | {"id": model}]}
    meta = {"vocab_type": 1, "n_vocab": 373, "n_ctx": state.n_ctx, "n_ctx_train": 8192}
    entry = {"id": model, "object": "model", "owned_by": "llamacpp", "meta": meta}
    return {"object": "list", "data": [entry]}


def chunk(delta: dict, finish_reason: str | None = None) -> dict:
    """A chunk in the recorded one's shape, with this delta and finish reason."""
    shaped = json.loads(json.dumps(RECORDED["chunk"]))
    shaped["choices"][0].update(delta=delta, finish_reason=finish_reason)
    return shaped


def event(payload: dict) -> bytes:
    """One event as the recorded stream frames it."""
    return RECORDED["framing"].replace("{json}", json.dumps(payload)).encode()


def completion(request: dict, text: str, finish: str) -> dict:
    message = {"role": "assistant", "content": text}
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    return {"id": "chatcmpl-1", "object": "chat.completion", "choices": [choice]}


def too_long_message(n_ctx: int, tokens: int, max_tokens: int | None) -> str:
    """llama-cpp-python's words (llama_cpp/server/errors.py), as vLLM's."""
    return (
        f"This model's maximum context length is {n_ctx} tokens. However, you requested "
        f"{tokens + (max_tokens or 0)} tokens ({tokens} in the messages, {max_tokens} in the "
        "completion). Please reduce the length of the messages or completion."
    )
