"""A backend for tab tests: answers from a queue, and a record of every call.

It keeps the contract of `studio.backends.base.Backend` and is registered under its own protocol
name, so a configuration whose endpoints say `protocol="fake"` reaches it through the same
registry as every real backend: the tabs' code runs unchanged, with no network and no patching.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.backends.base import (
    Backend,
    Capabilities,
    ChatRequest,
    Probe,
    TaskRequest,
    not_set_up,
    via,
)
from studio.backends.transport import Cancel
from studio.config import Config, load_config
from studio.endpoint import Endpoint
from studio.tasks.chat import ChatSettings, Delta, Message


@dataclass
class Call:
    task: str
    inputs: Any
    parameters: dict | None = None
    content_type: str | None = None


@dataclass
class FakeBackend(Backend):
    caps = Capabilities(
        protocol="fake",
        tasks=frozenset({"summarize", "ner", "caption", "image", "chat"}),
        describe=via("a fake backend"),
    )

    answers: deque = field(default_factory=deque)  # an answer, or an exception to raise
    replies: deque = field(default_factory=deque)  # a list of Deltas (or an exception) per chat
    calls: list[Call] = field(default_factory=list)
    problem: str | None = None  # the setup problem its probe answers

    def answer(self, *answers: Any) -> FakeBackend:
        self.answers.extend(answers)
        return self

    def reply(self, *texts: str, finish_reason: str = "stop") -> FakeBackend:
        """Queue one streamed reply: one Delta per text, the last one finishing."""
        deltas = [Delta(text) for text in texts] + [Delta("", finish_reason)]
        self.replies.append(deltas)
        return self

    def complete(self, endpoint: Endpoint, asked: TaskRequest, *, progress=None) -> Any:
        self.calls.append(Call(endpoint.task, asked.inputs, asked.parameters, asked.content_type))
        answer = self.answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def chat_request(
        self, endpoint: Endpoint, messages: Sequence[Message], settings: ChatSettings
    ) -> ChatRequest:
        return ChatRequest("", {"messages": list(messages), "settings": settings})

    def stream_chat(
        self, endpoint: Endpoint, request: ChatRequest, cancel: Cancel, *, progress=None
    ) -> Iterator[Delta]:
        self.calls.append(Call("chat", request.body["messages"], request.body))
        reply = self.replies.popleft()
        if isinstance(reply, Exception):
            raise reply
        for delta in reply:
            if cancel.is_set():
                return
            if isinstance(delta, Exception):
                raise delta
            yield delta

    def probe(self, endpoint: Endpoint, *, network: bool = True) -> Probe:
        return not_set_up(self.problem) if self.problem else Probe(True, "configured")


def fake_config(env: dict | None = None) -> Config:
    """A configuration whose every task is served by the fake backend."""
    config = load_config(env or {})
    endpoints = {
        name: dataclasses.replace(endpoint, protocol="fake", url="http://fake.test/")
        for name, endpoint in config.endpoints.items()
    }
    return dataclasses.replace(config, endpoints=endpoints)
