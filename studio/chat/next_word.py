"""The top next tokens of a text, asked of the chat server: one token, with its alternatives.

The text goes as the start of the model's own reply, as Continue sends a cut reply: a raw text
server (TGI) gets a prompt that ends inside that reply, so its next token follows the text's
last character; a chat-completions server (and a model on this computer) gets a user turn after
it asking to continue. The user turn before it asks for a text that begins so, which is what the
start is. Temperature 1 and no top-p: the probabilities come as the model gives them, and the
panel reshapes them itself (studio.tasks.next_word).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from studio.backends import registry as backends
from studio.backends.registry import Cancel, ChatRequest
from studio.classroom.usage import Caller, metered
from studio.endpoint import Endpoint
from studio.errors import ConfigurationError
from studio.tasks.chat import ChatSettings, Message
from studio.tasks.next_word import ASKED, checked_start
from studio.tasks.token_probs import MAX_ALTERNATIVES, ROUTER_MAX, TGI_MAX

ASK = "Write a short text that begins with: {start}"
NO_ALTERNATIVES = (
    "The chat server sent no alternatives for the next token, so there are no next words to "
    "show. Point the chat at a server that gives them (vLLM, llama.cpp's server, TGI started "
    "with --max-top-n-tokens 5 or more), or run the chat on this computer (--local chat)."
)


@dataclass(frozen=True)
class NextTokens:
    """What the server found likeliest next, as (token, log probability), likeliest first, and
    whether it continued the text from its last character (`ChatRequest.continues_exactly`);
    `request`: what was sent, for "Show the code"."""

    choices: tuple[tuple[str, float], ...]
    exact: bool
    request: ChatRequest


def alternatives_for(endpoint: Endpoint) -> int:
    """As many top tokens as the server gives: the router and TGI stop at 5, a model on this
    computer at the chat's 10."""
    if endpoint.on_router:
        return ROUTER_MAX
    return {"tgi": TGI_MAX, "local": MAX_ALTERNATIVES}.get(endpoint.protocol, ASKED)


def next_word_request(endpoint: Endpoint, start: str) -> ChatRequest:
    """The request for one token after `start`, with the server's top alternatives."""
    settings = ChatSettings(
        temperature=1.0, top_p=1.0, max_new_tokens=1, alternatives=alternatives_for(endpoint)
    )
    messages: list[Message] = [
        {"role": "user", "content": ASK.format(start=start.strip())},
        {"role": "assistant", "content": start},
    ]
    return backends.chat_request(endpoint, messages, settings)


def next_tokens(endpoint: Endpoint, start: object, *, caller: Caller | None = None) -> NextTokens:
    """The top next tokens after `start`, asked once for `caller` (counted as one token)."""
    text = checked_start(start)
    request = next_word_request(endpoint, text)
    cancel = Cancel()
    with metered(caller, endpoint.task, endpoint.host, prompt=text) as call:
        try:
            with contextlib.closing(backends.stream_chat(endpoint, request, cancel)) as deltas:
                first = next((delta.tokens[0] for delta in deltas if delta.tokens), None)
        finally:
            cancel.set()  # the one token is in: whatever else comes is not wanted
        call.tokens = 1
    # TGI sends the chosen token's own probability even when it gives no alternatives: one bar
    # of 100% would tell a class nothing true.
    if first is None or not first.top:
        raise ConfigurationError(NO_ALTERNATIVES)
    return NextTokens(first.top, request.continues_exactly, request)
