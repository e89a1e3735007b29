"""llama.cpp's servers, told apart by what they say of themselves, and the length of a
conversation measured against a server's context.

    who       `GET {base}/models`: llama.cpp's `llama-server` lists its model `owned_by`
              "llamacpp", with `meta.n_ctx` (the context of one slot; older versions: `GET
              /props`, `default_generation_settings.n_ctx`). llama-cpp-python's server lists
              `owned_by` "me", and its `GET /openapi.json` is titled "llama.cpp Python API".
    penalty   both read `repeat_penalty` and ignore `repetition_penalty` without a word, and
              llama-cpp-python's own default is 1.1: it is sent always, 1.0 included.
    context   a prompt as long as the context is refused: llama-server answers 400 ("request
              (N tokens) exceeds the available context size (M tokens)"); llama-cpp-python
              answers a stream 200 with an empty body, and the same request not streamed 400
              ("This model's maximum context length is M tokens. However, you requested ...",
              as vLLM words it). The context is read where the server says it; without a
              tokenizer, the tokens of the messages are estimated from their characters, at the
              rate the server's own count showed once it refused one.

Pure but for `read_facts`, which asks the server (GETs that cost nothing).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from studio.backends import transport
from studio.endpoint import Endpoint
from studio.errors import InputError
from studio.tasks.chat import CHARS_PER_TOKEN, Message
from studio.tasks.continue_reply import CONTINUE_INSTRUCTION

LLAMA_SERVER = "llama.cpp's llama-server"
LLAMA_CPP_PYTHON = "llama-cpp-python"
LLAMA_CPP = (LLAMA_SERVER, LLAMA_CPP_PYTHON)
MESSAGE_TOKENS = 8  # a chat template's tokens around each message
LOOK_TIMEOUT = 5.0
CONTEXT_SAID = (  # (context, prompt tokens) in what servers say when a prompt is too long
    re.compile(r"maximum context length is (?P<ctx>\d+) tokens.*?\((?P<prompt>\d+) in the"),
    re.compile(r"\((?P<prompt>\d+) tokens\) exceeds the available context size \((?P<ctx>\d+)"),
    re.compile(r"\((?P<prompt>\d+) tokens\) is larger than the max context size \((?P<ctx>\d+)"),
)


@dataclass(frozen=True)
class ServerFacts:
    """What a server says of itself: which llama.cpp server it is (None: another kind, or it
    did not say), and its context in tokens (None: not said)."""

    kind: str | None = None
    context: int | None = None


def read_facts(endpoint: Endpoint) -> ServerFacts:
    """Ask the server who it is and how long its context is. A server that does not answer is
    another kind: nothing changes for it."""
    base = endpoint.url.rstrip("/")
    root = base.removesuffix("/v1")
    data = _json(f"{base}/models", endpoint).get("data")
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    owner = first.get("owned_by")
    if owner == "llamacpp":
        meta = first.get("meta") if isinstance(first.get("meta"), dict) else {}
        context = _positive(meta.get("n_ctx"))
        if context is None:
            settings = _json(f"{root}/props", endpoint).get("default_generation_settings")
            context = _positive(settings.get("n_ctx")) if isinstance(settings, dict) else None
        return ServerFacts(LLAMA_SERVER, context)
    if owner == "me":
        info = _json(f"{root}/openapi.json", endpoint).get("info")
        if isinstance(info, dict) and "llama.cpp python" in str(info.get("title", "")).lower():
            return ServerFacts(LLAMA_CPP_PYTHON)
    return ServerFacts()


def _json(url: str, endpoint: Endpoint) -> dict:
    looked = transport.look(url, endpoint, timeout=min(endpoint.timeout, LOOK_TIMEOUT))
    if looked.status != 200:
        return {}
    try:
        answer = looked.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def context_said(text: str) -> tuple[int, int] | None:
    """(context, prompt tokens) from a server's words about a prompt too long for it."""
    for pattern in CONTEXT_SAID:
        if found := pattern.search(text):
            return int(found["ctx"]), int(found["prompt"])
    return None


# --- fitting a conversation into the context -----------------------------------------------


def estimated_tokens(messages: Sequence[Message], chars_per_token: float) -> int:
    chars = sum(len(str(message.get("content", ""))) for message in messages)
    return math.ceil(chars / chars_per_token) + MESSAGE_TOKENS * len(messages)


def prompt_room(context: int, max_tokens: int) -> int:
    """Tokens the messages may take: the context, less room for the reply (llama.cpp's
    servers shorten a reply to what is left, so up to a quarter of the context is kept)."""
    return context - min(max_tokens, context // 4)


def fit_messages(
    messages: Sequence[Message], context: int, max_tokens: int, chars_per_token: float | None
) -> tuple[list[Message], int]:
    """The messages with the oldest exchanges left out until they fit the context, and how
    many were. The system prompt, the last question, and a reply being continued always stay;
    InputError, in words for the person, when they alone do not fit."""
    rate = chars_per_token or CHARS_PER_TOKEN
    room = prompt_room(context, max_tokens)
    messages = list(messages)
    head = 1 if messages and messages[0].get("role") == "system" else 0
    continuing = messages[-1].get("content") == CONTINUE_INSTRUCTION and len(messages) >= 3
    tail = 3 if continuing else 1
    dropped = 0
    while estimated_tokens(messages, rate) > room:
        if len(messages) - head - tail < 2:
            raise InputError(too_long(context, estimated_tokens(messages, rate)))
        del messages[head : head + 2]  # a question and its reply
        dropped += 1
    return messages, dropped


def too_long(context: int, tokens: int) -> str:
    return (
        f"This message is too long for the model: its server reads at most {context:,} tokens "
        f"at once, and your message with the system prompt comes to about {tokens:,}. Shorten "
        "your message or the system prompt, or ask the teacher for a model server with a longer "
        "context (llama.cpp: --ctx-size; llama-cpp-python: --n_ctx)."
    )


def reply_too_long(context: int, tokens: int, max_tokens: int) -> str:
    return (
        f"The model's server reads at most {context:,} tokens at once: the conversation "
        f"(about {tokens:,}) and a reply of up to {max_tokens:,} (Max new tokens, "
        "max_new_tokens) do not fit together. Lower Max new tokens in the settings and send again."
    )


def left_out_note(dropped: int, context: int) -> str:
    turns = "exchange was" if dropped == 1 else "exchanges were"
    return (
        f"The {dropped} oldest {turns} left out: the model's server reads at most {context:,} "
        "tokens at once."
    )
