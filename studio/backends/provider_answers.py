"""From an Inference Provider's answer to the picture, every request within the studio's bounds.

    together, nscale     the picture is in the answer: huggingface_hub's `get_response` decodes it
    fal-ai, replicate    the answer links to the picture, fetched without the token
    wavespeed, zai-org   the answer is a task, polled through the router until it links to one

huggingface_hub's own `get_response` fetches links and polls with its own client, outside the
studio's timeouts, size caps and error messages, so for those the studio reads the same fields
and makes the requests itself (`transport`). Polling stops after `POLL_SECONDS`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from studio import errors
from studio.backends import transport
from studio.backends.base import Progress
from studio.endpoint import Endpoint
from studio.tasks.image_answers import describe_answer

TASK = "text-to-image"

POLL_SECONDS = 120.0  # the longest a person should watch a spinner for one picture
FIRST_POLL, LONGEST_POLL = 0.5, 4.0  # seconds between polls, doubling
DECODED = ("together", "nscale")  # answers that hold the picture itself


def provider_helper(provider: str) -> Any:
    """huggingface_hub's text-to-image helper for a provider."""
    from huggingface_hub.inference._providers import PROVIDERS

    return PROVIDERS[provider][TASK]


def _fal_link(answer: dict) -> str:
    return answer["images"][0]["url"]


def _replicate_link(answer: dict) -> str:
    output = answer["output"]
    if output is None:  # "Prefer: wait" gave up before the model finished
        raise errors.BackendTimeoutError(
            f"replicate had not finished the picture when it answered (status "
            f"{answer.get('status')}). Try again: a model that was starting is warm now."
        )
    return output if isinstance(output, str) else output[0]


@dataclass(frozen=True)
class Poll:
    """How to follow a provider's task: where to ask, how to read its state, where the link is."""

    url: Callable[[dict, Endpoint], str]
    states: dict[str, str]  # the provider's status -> "done", "failed" or "pending"
    state: Callable[[dict], str]
    link: Callable[[dict], str]
    error: Callable[[dict], Any] = lambda answer: None


POLLS = {
    "wavespeed": Poll(
        url=lambda a, e: f"{e.router}/wavespeed{urlsplit(a['data']['urls']['get']).path}",
        states={
            "created": "pending",
            "processing": "pending",
            "completed": "done",
            "failed": "failed",
        },
        state=lambda a: a["data"]["status"],
        link=lambda a: a["data"]["outputs"][0],
        error=lambda a: a["data"].get("error"),
    ),
    "zai-org": Poll(
        url=lambda a, e: f"{e.router}/zai-org/api/paas/v4/async-result/{a['id']}",
        states={"PROCESSING": "pending", "SUCCESS": "done", "FAIL": "failed"},
        state=lambda a: a["task_status"],
        link=lambda a: a["image_result"][0]["url"],
    ),
}
LINKS: dict[str, Callable[[dict], str]] = {
    "fal-ai": _fal_link,
    "replicate": _replicate_link,
    **{provider: poll.link for provider, poll in POLLS.items()},
}


def picture(
    answer: Any,
    provider: str,
    request: transport.HttpRequest,
    endpoint: Endpoint,
    *,
    progress: Progress | None = None,
    sleep=time.sleep,
    clock=time.monotonic,
) -> Any:
    """The picture's bytes (or a data: URL) for a provider's first answer to `request`."""
    with _reading(provider, answer):
        if provider in DECODED:
            return provider_helper(provider).get_response(answer)
    if provider in POLLS:
        answer = _poll(POLLS[provider], provider, answer, request, endpoint, progress, sleep, clock)
    with _reading(provider, answer):
        link = LINKS[provider](answer)
    return fetch(link, provider, endpoint)


@contextlib.contextmanager
def _reading(provider: str, answer: Any):
    """An answer without the fields its provider's API names is a clear error."""
    try:
        yield
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        raise _unreadable(provider, answer) from None


def _poll(poll: Poll, provider: str, answer: Any, request, endpoint, progress, sleep, clock):
    """Ask again until the task is done or failed, or POLL_SECONDS have passed."""
    with _reading(provider, answer):
        url = poll.url(answer, endpoint)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
    deadline = clock() + POLL_SECONDS
    wait = FIRST_POLL
    while (state := _state(poll, provider, answer)) == "pending":
        if clock() + wait > deadline:
            raise errors.BackendTimeoutError(
                f"{provider} did not finish the picture within {POLL_SECONDS:g} seconds. It may "
                "be busy: try again in a minute."
            )
        if progress is not None and wait == FIRST_POLL:
            progress(f"{provider} is making the picture…")
        sleep(wait)
        wait = min(wait * 2, LONGEST_POLL)
        answer = transport.post(transport.HttpRequest(url, headers=headers, method="GET"), endpoint)
    if state == "failed":
        said = poll.error(answer)
        raise errors.ServerError(
            f"{provider} could not make the picture.{f' It said: {said}' if said else ''}"
        )
    return answer


def _state(poll: Poll, provider: str, answer: Any) -> str:
    with _reading(provider, answer):
        return poll.states[poll.state(answer)]


def fetch(link: Any, provider: str, endpoint: Endpoint) -> Any:
    """The picture a provider links to, within the studio's bounds. The token stays with the
    router: the link is another host's (a provider's storage)."""
    if not isinstance(link, str):
        raise errors.BadResponseError(f"{provider} answered with a link that is not text.")
    if link.startswith("data:"):
        return link  # decoded by the image task, with the same checks as every answer
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.BadResponseError(f"{provider} answered with a link the studio cannot fetch.")
    storage = dataclasses.replace(endpoint, url=link, token=None)
    request = transport.HttpRequest(
        link, headers=transport.auth_headers(storage, accept="*/*"), method="GET"
    )
    try:
        return transport.post(request, storage)
    except errors.BadResponseError:
        raise
    except errors.BackendError as exc:
        what = f"it answered {exc.status}" if exc.status else "no answer came"
        raise type(exc)(
            f"{provider} made the picture, but fetching it from {storage.host} failed ({what}). "
            "Try again.",
            status=exc.status,
        ) from None


def _unreadable(provider: str, answer: Any) -> errors.BadResponseError:
    return errors.BadResponseError(
        f"{provider} answered in a shape the studio does not know ({describe_answer(answer)}). "
        "It may have changed its API: try another provider with STUDIO_IMAGE_PROVIDER."
    )
