"""A local stand-in for `transformers serve`, answering as the real one does (transformers 5),
for fast tests only; tests/local/test_transformers_serve.py runs the real one.

    POST /v1/chat/completions   a field outside the OpenAI schema (plus the server's own
                                `generation_config`, `seed`, `chat_template_kwargs`): 422
                                `{"detail": "Unexpected fields in the request: {'...'}"}`.
                                `frequency_penalty` is read as a repetition penalty of 1 + value.
                                A model it cannot load ("unknown/..."), or a seed torch cannot
                                take (2**64 or more): a plain-text 500 "Internal Server Error",
                                and the kept-alive connection closed, with no header saying so.
                                The stream: a first chunk with only the role, a chunk per token,
                                a last chunk with finish_reason and usage, and no `data: [DONE]`;
                                an error in it is `data: {"error": "..."}`, formatted as a string.
    GET /v1/models              `{"object": "list", "data": [...]}`: the models it has loaded
                                (its cache of downloads is empty here).

The model echoes the last user message as the other stand-ins do (tests/stand_ins/chat_servers.py),
whose
streaming, failures (`fail_next`) and records it shares.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from tests.stand_ins.chat_servers import (
    ChatServer,
    ClientGone,
    StreamRecord,
    _Handler,
    _StreamFailed,
    last_user_text,
    reply_tokens,
    sse,
)

SCHEMA_FIELDS = frozenset(
    """audio chat_template_kwargs frequency_penalty function_call functions generation_config
    logit_bias logprobs max_completion_tokens max_tokens messages metadata modalities model
    moderation n parallel_tool_calls prediction presence_penalty prompt_cache_key
    prompt_cache_options prompt_cache_retention reasoning_effort response_format
    safety_identifier seed service_tier stop store stream stream_options temperature tool_choice
    tools top_logprobs top_p user verbosity web_search_options""".split()
)
SEED_LIMIT = 2**64  # torch.manual_seed: "Overflow when unpacking long long"


@dataclass
class TransformersServeStandIn(ChatServer):
    loaded: list[str] = field(default_factory=list)  # models it has loaded, in order

    def handler_class(self) -> type:
        return type("Handler", (_TransformersHandler,), {"state": self})

    def load(self, model: str) -> None:
        with self.lock:
            if model not in self.loaded:
                self.loaded.append(model)


class _TransformersHandler(_Handler):
    state: TransformersServeStandIn

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            listed = [_listed(model) for model in list(self.state.loaded)]
            return self._json(200, {"object": "list", "data": listed})
        if self.path == "/health":
            return self._json(200, {"status": "ok"})
        return self._json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if self.path != "/v1/chat/completions":
            return self._json(404, {"detail": "Not Found"})
        record = StreamRecord(self.path, dict(self.headers), request)
        self.state.record(record)
        unexpected = set(request) - SCHEMA_FIELDS
        if unexpected:
            return self._json(422, {"detail": f"Unexpected fields in the request: {unexpected}"})
        model = str(request.get("model", ""))
        if model.startswith("unknown/") or int(request.get("seed") or 0) >= SEED_LIMIT:
            self.close_connection = True  # as uvicorn does, without saying so in a header
            return self._plain(500, "Internal Server Error")
        self.state.load(model)
        self._stream(record, request, model)

    def _stream(self, record: StreamRecord, request: dict, model: str) -> None:
        chunk = {"id": "4f1c", "model": model, "object": "chat.completion.chunk"}

        def event(delta: dict) -> bytes:
            choice = {"delta": delta, "index": 0}
            return sse({**chunk, "choices": [choice], "system_fingerprint": ""}, space=True)

        max_tokens = request.get("max_tokens")
        self._start_stream()
        try:
            self._send_chunk(event({"role": "assistant"}))
            if max_tokens is not None and max_tokens < 1:
                message = f"`max_new_tokens` must be greater than 0, but is {max_tokens}."
                self._send_chunk(error_event(message))
                return self._end_stream(record)
            text = last_user_text(record.messages)
            words, finish = reply_tokens(text, max_tokens or 1024, leading_space=False)
            for token in self._tokens(record, words):
                self._send_chunk(event({"content": token}))
            usage = {"completion_tokens": len(words), "prompt_tokens": 22}
            self._send_chunk(last_chunk(chunk, finish, usage))
            self._end_stream(record)
        except _StreamFailed as failed:
            self._fail(record, failed, error_event)
        except ClientGone:
            record.disconnected_at = time.monotonic()


def last_chunk(chunk: dict, finish: str, usage: dict) -> bytes:
    usage = {**usage, "total_tokens": usage["completion_tokens"] + usage["prompt_tokens"]}
    choice = {"delta": {}, "index": 0, "finish_reason": finish}
    return sse({**chunk, "choices": [choice], "system_fingerprint": "", "usage": usage}, space=True)


def error_event(message: str) -> bytes:
    """As transformers serve builds it: by string formatting, so a quote breaks the JSON."""
    return f'data: {{"error": "{message}"}}\n\n'.encode()


def _listed(model: str) -> dict:
    owner = model.split("/")[0] if "/" in model else ""
    return {
        "owned_by": "local" if model.startswith("/") else owner,
        "id": model,
        "object": "model",
        "created": 0,
        "status": {"value": "loaded"},
    }
