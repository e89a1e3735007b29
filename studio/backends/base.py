"""The contract every backend keeps, and the pieces it is made of.

A backend is one way of reaching a model: one protocol, one module. Five methods:

    request(endpoint, asked)                      the HTTP request for a TaskRequest or a
                                                  ChatRequest, as data, not sent ("Show the code")
    complete(endpoint, asked)                     that task request sent -> its answer
    chat_request(endpoint, messages, settings)    a chat turn as data, built by pure code
    stream_chat(endpoint, request, cancel)        that chat request sent -> `Delta`s as they arrive
    probe(endpoint, network=...)                  whether it can work, and what to do if not

and one record, `caps` (`Capabilities`): which tasks it answers, which settings select it, and
its words for people, as data that the configuration, the UI and the snippets read.

Answers come back in the task API's shapes whatever the protocol (a caption from a vision chat
model is `[{"generated_text": ...}]` too), so the tasks read one shape. A `Cancel` stops a request
from any thread: over HTTP it shuts the socket, in-process generation polls it. A stream gets it
as an argument; a task request, from the context its thread runs in (`transport.stop_with`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from studio.catalog import INSTALL_LOCAL
from studio.endpoint import Endpoint
from studio.errors import ConfigurationError
from studio.tasks.chat import ChatSettings, Delta, Message
from studio.tasks.progress import Progress

if TYPE_CHECKING:
    from studio.backends.transport import Cancel, HttpRequest


@dataclass(frozen=True)
class TaskRequest:
    """One task request as data: what is asked (text, or an image's bytes) and with what."""

    inputs: Any
    parameters: dict | None = None
    content_type: str | None = None  # the type of raw bytes inputs: "image/jpeg"


@dataclass(frozen=True)
class ChatRequest:
    """One chat request as data: where it goes, what it says, and what the person should know."""

    path: str
    body: dict[str, Any]
    stops: tuple[str, ...] = ()  # trimmed from the reply on our side (raw text servers)
    notes: tuple[str, ...] = ()  # settings that were mapped or not sent, in words for people
    max_tokens: int | None = None  # our own cap, for servers that ignore theirs
    continues_exactly: bool = False  # the prompt ends inside the reply: the model continues it
    asks_probabilities: bool = False  # token probabilities were asked for

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


def via(speaks: str) -> Callable[[Endpoint], str]:
    """The usual line for people about an endpoint, for a backend that speaks `speaks`
    ("chat completions"): which model, how it is asked, where."""

    def describe(endpoint: Endpoint) -> str:
        model = f"Model `{endpoint.model}`" if endpoint.model else "The server's own model"
        return f"{model} via {speaks} at {endpoint.host}."

    return describe


def penalty_as_usual(endpoint: Endpoint) -> str:
    return "1 is off; higher discourages repeating words."


def nothing_to_say(endpoint: Endpoint) -> None:
    return None


@dataclass(frozen=True)
class Route:
    """How the Hugging Face router reaches a protocol: at `path` under the router's base URL
    (`{model}`: the model's id), through `provider`: a name, "" (the router's chat API chooses
    one), or None (whichever provider the task's provider setting names)."""

    path: str
    provider: str | None


@dataclass(frozen=True)
class Capabilities:
    """What a backend is, which settings select it, and its words for people: data that the
    configuration (through the registry), the page, the card and the snippets read, as `llm`
    keeps `can_stream` and huggingface_hub keeps a provider's routes. Where the answer depends
    on the endpoint, a small function of it."""

    protocol: str  # the name `Endpoint.protocol` uses, and the registry's key
    tasks: frozenset[str]  # the tasks it answers ("chat" among them when it streams chat)
    describe: Callable[[Endpoint], str]  # one line: which model, how it is asked, where
    # Selection. A task's setting whose URL points it at a server of this kind (used as given);
    # how the router reaches it, for the tasks it answers there; whether it runs the tasks
    # chosen with STUDIO_LOCAL (--local) in this process: no URL, no token, no time limit.
    servers: Mapping[str, str] = field(default_factory=dict)  # task -> setting
    router: Route | None = None
    in_process: bool = False
    # The server lists the models it serves (GET {base}/models) and takes any per request: the
    # model picker shows them, and a person's choice is sent.
    lists_models: bool = False
    # "Show the code": the library its requests are written with ("huggingface_hub", "openai"
    # or "transformers"; for chat, huggingface_hub is `text_generation` on TGI's stream), and
    # why a request cannot be shown when `request` has none.
    code: str = "huggingface_hub"
    unshown: str = "This backend makes no HTTP request that the studio can show."
    # For the page: what the chat's repetition penalty does; which of the Imagine tab's options
    # its server ignores (None: it uses them all, or cannot say); the Inference Provider that
    # serves the endpoint, once known (None: none, or not yet).
    penalty: Callable[[Endpoint], str] = penalty_as_usual
    ignored: Callable[[Endpoint], str | None] = nothing_to_say
    provider_of: Callable[[Endpoint], str | None] = nothing_to_say


CONFIGURED = Probe(True, "configured")


def not_set_up(problem: str) -> Probe:
    return Probe(False, "not set up", problem)


def router_setup_problem(endpoint: Endpoint) -> str | None:
    """The router needs a token; a server of one's own may not."""
    if not endpoint.on_router or endpoint.token:
        return None
    here = (
        f"set STUDIO_LOCAL (or --local) to include {endpoint.task}, or to all"
        if endpoint.local_extra  # so STUDIO_LOCAL (or --local) left this task out
        else f"install the local extra ({INSTALL_LOCAL}) and start the studio again"
    )
    return (
        f"No model server is configured for {endpoint.spec.title}. Set HF_TOKEN in a .env file "
        f"(a token from https://huggingface.co/settings/tokens with permission to call "
        f"Inference Providers) to use the Hugging Face router, set "
        f"{endpoint.spec.own_server_setting} to the URL of your own server, or run it on this "
        f"computer: {here}."
    )


class Backend:
    """The contract. A backend that cannot do something says so in words a person can act on."""

    caps: ClassVar[Capabilities]

    def request(self, endpoint: Endpoint, asked: TaskRequest | ChatRequest) -> HttpRequest | None:
        """The HTTP request `complete` sends for a `TaskRequest`, or `stream_chat` for a
        `ChatRequest`, built by the same code and not sent: what "Show the code" shows. None
        when there is none to show (a model in this process, a lookup not made yet)."""
        return None

    def complete(
        self, endpoint: Endpoint, asked: TaskRequest, *, progress: Progress | None = None
    ) -> Any:
        """One task request -> the task API's answer shape (`bytes` for a picture)."""
        raise self._unsupported(endpoint)

    def chat_request(
        self, endpoint: Endpoint, messages: Sequence[Message], settings: ChatSettings
    ) -> ChatRequest:
        """A chat turn as data, built by pure code (`endpoint.template` formats the prompt for
        servers that continue raw text)."""
        raise self._unsupported(endpoint)

    def stream_chat(
        self,
        endpoint: Endpoint,
        request: ChatRequest,
        cancel: Cancel,
        *,
        progress: Progress | None = None,
    ) -> Iterator[Delta]:
        """`request` sent -> the reply's `Delta`s as they arrive, until done or `cancel` is set."""
        raise self._unsupported(endpoint)

    def probe(self, endpoint: Endpoint, *, network: bool = True) -> Probe:
        """Whether this endpoint can work, and what to do if not. Without `network`, from the
        settings alone: why it cannot work yet, saying what to set (setup notes on the page and
        at start). With it, the server is asked too, spending no credits (health routes, model
        lists, the Hub's model info), for --check; a backend that cannot ask says "configured"."""
        return CONFIGURED

    def _unsupported(self, endpoint: Endpoint) -> ConfigurationError:
        return ConfigurationError(
            f"{endpoint.url_setting or 'This backend'} points at a {self.caps.protocol} server, "
            f"which cannot do {endpoint.spec.label}. Set {endpoint.spec.own_server_setting} to a "
            "server for this task."
        )
