"""The contract every backend keeps, and the pieces it is made of.

A backend is one way of reaching a model: one protocol, one module. It does three things:

    complete(endpoint, inputs, parameters)        one task request -> the task API's answer shape
    chat_request(endpoint, messages, settings)    a chat turn as data, built by pure code
    stream_chat(endpoint, request, cancel)        that request sent -> `Delta`s as they arrive

and shows what it sends, built by the same code and not sent ("Show the code"):

    request_for(endpoint, inputs, parameters)     the HTTP request `complete` sends
    chat_http_request(endpoint, request)          the HTTP request `stream_chat` sends

Answers come back in the task API's shapes whatever the protocol (a caption from a vision chat
model is `[{"generated_text": ...}]` too), so the tasks read one shape. A `Cancel` stops a request
from any thread: over HTTP it shuts the socket, in-process generation polls it. A stream gets it
as an argument; a task request, from the context its thread runs in (`transport.stop_with`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from studio.config import Endpoint
from studio.errors import ConfigurationError
from studio.tasks.chat import ChatSettings, Delta, Message

if TYPE_CHECKING:
    from studio.backends.transport import Cancel, HttpRequest

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ChatRequest:
    """One chat request as data: where it goes, what it says, and what the person should know."""

    path: str
    body: dict[str, Any]
    stops: tuple[str, ...] = ()  # trimmed from the reply on our side (raw text servers)
    notes: tuple[str, ...] = ()  # settings that were mapped or not sent, in words for people
    max_tokens: int | None = None  # our own cap, for servers that ignore theirs
    continues_exactly: bool = False  # the prompt ends inside the reply: the model continues it

    def shown(self) -> tuple[str, str | None]:
        """What the server receives, for people to read: the prompt a raw text server
        continues, exactly, or the messages as JSON; and the language to show it in."""
        inputs = self.body.get("inputs")
        if isinstance(inputs, str):
            return inputs, None
        return json.dumps(self.body.get("messages", []), indent=2, ensure_ascii=False), "json"

    def settings_shown(self) -> str:
        """The rest of the body, in one line: where it goes and with which settings."""
        rest = {k: v for k, v in self.body.items() if k not in ("inputs", "messages")}
        return f"{self.path or 'this computer'} · {json.dumps(rest, ensure_ascii=False)}"


@dataclass(frozen=True)
class Probe:
    """Whether a task can work, found without spending credits, and what to do if not."""

    ok: bool
    status: str  # a few words: "ready", "down", "model not listed"
    advice: str = ""


class Backend:
    """The contract. A backend that cannot do something says so in words a person can act on.

    Capabilities are plain class attributes: `protocol` is the name `Endpoint.protocol` uses,
    `tasks` the tasks it answers (`chat` among them when it streams chat).
    """

    protocol: ClassVar[str]
    tasks: ClassVar[frozenset[str]]
    speaks: ClassVar[str]  # how people would name the protocol: "chat completions"

    def describe(self, endpoint: Endpoint) -> str:
        """One line for people: which model, how it is asked, where."""
        model = f"Model `{endpoint.model}`" if endpoint.model else "The server's own model"
        return f"{model} via {self.speaks} at {endpoint.host}."

    def repetition_penalty_info(self, endpoint: Endpoint) -> str:
        """What the chat tab's repetition penalty slider does on this backend."""
        return "1 is off; higher discourages repeating words."

    def complete(
        self,
        endpoint: Endpoint,
        inputs: Any,
        parameters: dict | None = None,
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> Any:
        raise self._unsupported(endpoint)

    def request_for(
        self,
        endpoint: Endpoint,
        inputs: Any,
        parameters: dict | None = None,
        *,
        content_type: str | None = None,
    ) -> HttpRequest | None:
        """The HTTP request `complete` sends for these inputs, built by the same code, sending
        nothing; None when there is none to show (a model in this process, a lookup not made)."""
        return None

    def chat_http_request(self, endpoint: Endpoint, request: ChatRequest) -> HttpRequest | None:
        """The HTTP request `stream_chat` sends for `request`; None when it sends none."""
        return None

    def chat_request(
        self,
        endpoint: Endpoint,
        messages: Sequence[Message],
        settings: ChatSettings,
    ) -> ChatRequest:
        """`endpoint.template` formats the prompt for servers that continue raw text."""
        raise self._unsupported(endpoint)

    def stream_chat(
        self,
        endpoint: Endpoint,
        request: ChatRequest,
        cancel: Cancel,
        *,
        progress: Progress | None = None,
    ) -> Iterator[Delta]:
        raise self._unsupported(endpoint)

    def setup_problem(self, endpoint: Endpoint, token: str | None) -> str | None:
        """Why this endpoint cannot work yet, saying what to set; None when it can."""
        return None

    def probe(self, endpoint: Endpoint, token: str | None) -> Probe:
        """Ask the server whether this task would work, spending no credits (health routes,
        model lists, the Hub's model info). Backends that cannot ask say "configured"."""
        problem = self.setup_problem(endpoint, token)
        if problem:
            return Probe(False, "not set up", problem)
        return Probe(True, "configured")

    def ignored_options(self, endpoint: Endpoint) -> str | None:
        """Which of the Imagine tab's options this backend's server ignores, in a sentence for
        people; None when it uses them all, or cannot say."""
        return None

    def _unsupported(self, endpoint: Endpoint) -> ConfigurationError:
        return ConfigurationError(
            f"{endpoint.url_setting or 'This backend'} points at a {self.protocol} server, which "
            f"cannot do {endpoint.spec.label}. Set {endpoint.spec.own_server_setting} to a server "
            "for this task."
        )
