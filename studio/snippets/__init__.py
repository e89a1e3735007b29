"""The code behind every answer: the request a tab made, as code a person can copy and run.

Each snippet is written from the request the backend builds to send (`registry.request`),
built again for an endpoint whose token is a placeholder, so the token cannot be in it: where it
goes stands `$HF_TOKEN` or os.environ["HF_TOKEN"]. Nothing is sent here. Which library writes
it is the backend's to say (`Capabilities.code`): huggingface_hub, openai or transformers.

    for_calls(title, calls, gradio)      a task answer: Summarize, Entities, Caption, Imagine
    for_chat(endpoint, request, gradio)  a chat reply, streamed
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from studio.backends import registry as backends
from studio.backends.base import ChatRequest, TaskRequest
from studio.backends.transport import HttpRequest
from studio.catalog import TASKS
from studio.endpoint import Endpoint
from studio.secrets import redact
from studio.snippets import libraries
from studio.snippets.chat_code import chat_curl_line, chat_requests_snippet
from studio.snippets.http_code import PHOTO, PICTURE, TOKEN_MARK, curl_line, requests_snippet
from studio.tasks.reproduce import Call, Expr, card, py

HERE = (
    "# The model runs inside the studio, so there is no HTTP request: this is the code that "
    "runs it on your computer.\n"
)


@dataclass(frozen=True)
class GradioCall:
    """This studio's API called with the same inputs: `Client(url).predict(*args, api_name)`."""

    api_name: str
    args: Sequence[Any]
    url: str = "http://127.0.0.1:7860/"
    stream: bool = False  # a generator endpoint: iterate client.submit(...)
    picture: bool = False  # the answer is a picture's path: copied to picture.png
    login: bool = False


@dataclass(frozen=True)
class Snippets:
    """What "Show the code" shows, and the reproducibility card."""

    card: str = ""
    requests: str = ""
    library: str = ""
    library_name: str = ""  # "huggingface_hub", "openai" or "transformers"
    curl: str = ""
    gradio: str = ""

    def values(self) -> tuple[str, ...]:
        return (self.card, self.requests, self.library, self.curl, self.gradio)


def photo() -> Expr:
    """The photo argument of a gradio_client call."""
    return Expr(f'handle_file("{PHOTO}")')


def with_token_placeholder(endpoint: Endpoint) -> Endpoint:
    """The endpoint with its token replaced by the placeholder (or none, as the real one)."""
    return dataclasses.replace(endpoint, token=TOKEN_MARK if endpoint.token else None)


def gradio_snippet(call: GradioCall) -> str:
    uses_file = any(isinstance(arg, Expr) and "handle_file" in arg.source for arg in call.args)
    names = "Client, handle_file" if uses_file else "Client"
    lines = (["import shutil", ""] if call.picture else []) + [f"from gradio_client import {names}"]
    login = ', auth=("user", "password")' if call.login else ""
    lines += ["", f"client = Client({json.dumps(call.url)}{login})"]
    arguments = "".join(f"    {py(arg, 4)},\n" for arg in call.args)
    arguments += f'    api_name="{call.api_name}",\n'
    if call.stream:
        lines += [f"for result in client.submit(\n{arguments}):", "    print(result)"]
    else:
        lines.append(f"result = client.predict(\n{arguments})")
        if call.picture:
            lines += [
                "path = result[0] if isinstance(result, (list, tuple)) else result",
                f'shutil.copy(path, "{PICTURE}")',
            ]
        else:
            lines.append("print(result)")
    return "\n".join(lines) + "\n"


def _call_code(call: Call) -> tuple[str, str, str, str]:
    """(requests, library, library name, curl) for one call, in its backend's library."""
    code = backends.capabilities(call.endpoint).code
    if code not in CALL_CODE:
        raise ValueError(
            f"The studio writes no code with {code!r}; it knows {', '.join(CALL_CODE)}."
        )
    return CALL_CODE[code](call)


def _here_code(call: Call) -> tuple[str, str, str, str]:
    """A model in this process: no request, and the code that runs it on your computer."""
    code = libraries.local_snippet(call.endpoint, call.inputs, call.parameters)
    return HERE, code, "transformers", HERE


def _sent_code(call: Call) -> tuple[HttpRequest | None, str, str]:
    """The request the backend sends for the call, and the requests and curl code of it."""
    endpoint = call.endpoint
    asked = TaskRequest(call.inputs, call.parameters, call.content_type)
    request = backends.request(with_token_placeholder(endpoint), asked)
    if request is None:
        unshown = f"# {backends.capabilities(endpoint).unshown}\n"
        return None, unshown, unshown
    image = endpoint.task == "image"
    code = requests_snippet(request, timeout=endpoint.timeout, answer_is_image=image)
    return request, code, curl_line(request, answer_is_image=image)


def _hub_code(call: Call) -> tuple[str, str, str, str]:
    _, code, curl = _sent_code(call)
    library = libraries.hub_snippet(call.endpoint, call.inputs, call.parameters, _provider([call]))
    return code, library, "huggingface_hub", curl


def _openai_code(call: Call) -> tuple[str, str, str, str]:
    request, code, curl = _sent_code(call)
    library = libraries.openai_snippet(call.endpoint, request.json) if request else code
    return code, library, "openai", curl


# The library each backend's task requests are shown with (`Capabilities.code`).
CALL_CODE = {"huggingface_hub": _hub_code, "openai": _openai_code, "transformers": _here_code}


def _provider(calls: Sequence[Call]) -> str | None:
    """The Inference Provider that painted, once the Hub has said (image calls only)."""
    endpoint = calls[-1].endpoint
    return backends.capabilities(endpoint).provider_of(endpoint)


def for_calls(
    title: str, calls: Sequence[Call], gradio: GradioCall, *, settings: str = "", when: str = ""
) -> Snippets:
    """The code of a task answer. A summary asked in parts shows its first request; an answer
    of two tasks (the game: a caption, then a picture) shows each task's last request."""
    if not calls:
        return Snippets()
    chosen: dict[str, Call] = {}
    for call in calls:
        if call.endpoint.task != "summarize" or "summarize" not in chosen:
            chosen[call.endpoint.task] = call
    parts = [_call_code(call) for call in chosen.values()]
    note = (
        f"# The studio asked in {len(calls)} parts; this is the first.\n"
        if ("summarize" in chosen and len(calls) > 1)
        else ""
    )
    cards = []
    for task in chosen:
        of_task = [call for call in calls if call.endpoint.task == task]
        named = title if len(chosen) == 1 else f"{title}: {TASKS[task].answer}"
        shown_settings = settings if task == "image" or len(chosen) == 1 else ""
        cards.append(
            card(named, of_task, settings=shown_settings, when=when, provider=_provider(of_task))
        )
    return _redacted(
        Snippets(
            card="\n\n".join(cards),
            requests=note + "\n\n".join(part[0] for part in parts),
            library="\n\n".join(part[1] for part in parts),
            library_name=" and ".join(dict.fromkeys(part[2] for part in parts)),
            curl="\n".join(part[3] for part in parts),
            gradio=gradio_snippet(gradio),
        )
    )


def for_chat(endpoint: Endpoint, request: ChatRequest, gradio: GradioCall) -> Snippets:
    """The code of a chat reply (streamed): the request `registry.chat_request` built. The card
    comes from `studio.tasks.reproduce.chat_card`, once the reply has ended."""
    code = backends.capabilities(endpoint).code
    if code not in CHAT_CODE:
        raise ValueError(
            f"The studio writes no chat code with {code!r}; it knows {', '.join(CHAT_CODE)}."
        )
    way = CHAT_CODE[code]
    written = way.library(endpoint, request.body)
    if not way.sent:
        return _redacted(Snippets("", HERE, written, code, HERE, gradio_snippet(gradio)))
    sent = backends.request(with_token_placeholder(endpoint), request)
    requests = chat_requests_snippet(sent, tgi=way.tgi_stream, timeout=endpoint.timeout)
    curl = chat_curl_line(curl_line(sent))
    return _redacted(Snippets("", requests, written, code, curl, gradio_snippet(gradio)))


class ChatCode(NamedTuple):
    library: Callable[[Endpoint, Mapping[str, Any]], str]  # (endpoint, the request's body)
    sent: bool = True  # a request to show (False: a model in this process)
    tgi_stream: bool = False  # the requests code reads TGI's stream, not chat completions'


# The library each backend's chat is shown with (`Capabilities.code`): huggingface_hub's
# text_generation reads TGI's stream.
CHAT_CODE = {
    "huggingface_hub": ChatCode(libraries.tgi_snippet, tgi_stream=True),
    "openai": ChatCode(libraries.openai_snippet),
    "transformers": ChatCode(libraries.local_chat_snippet, sent=False),
}


def _redacted(snippets: Snippets) -> Snippets:
    """Every text masked again, and the placeholder never left behind: belt and braces."""
    fields = {
        field.name: redact(getattr(snippets, field.name)).replace(TOKEN_MARK, "$HF_TOKEN")
        for field in dataclasses.fields(snippets)
    }
    return Snippets(**fields)
