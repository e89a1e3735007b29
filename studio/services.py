"""What the tabs do with models, shared by every tab that needs it: no Gradio, no HTTP.

Each service joins the pure task logic (`studio.tasks`) to a backend (`studio.backends`):
summarize a text, find entities, caption an image, paint a prompt, build a chat request (the
chat's turn and its stream are in `studio.chat`). The UI calls these; no UI module imports
another to reach one.

Each model request is counted here, whoever calls (page or API), a chat reply's tokens in
`studio.chat.stream` as it streams: the UI hands each service the
`caller` (the app's meter and the person asking; None: nothing is counted), and
`studio.classroom.usage.metered` refuses with the wait when they are over a limit, and notes the
request for the teacher's usage view.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from PIL import Image

from studio.backends import registry as backends
from studio.backends.model_list import ModelChoices, listed_facts, model_choices, taking_images
from studio.backends.registry import ChatRequest
from studio.backends.transport import Cancel as Cancel  # Stop, for every tab: see `stop_with`
from studio.backends.transport import Cancelled as Cancelled
from studio.backends.transport import stop_with as stop_with
from studio.classroom.usage import Caller, metered
from studio.config import Config
from studio.endpoint import Endpoint
from studio.errors import ConfigurationError, InputError
from studio.tasks import summarize as summaries
from studio.tasks.chat import ChatSettings, Message
from studio.tasks.chat_images import PICTURES_NOT_TAKEN, has_pictures, text_only_model
from studio.tasks.entities import Entity, merge_entities
from studio.tasks.image_answers import caption_from_answer, image_from_answer
from studio.tasks.image_settings import ImageRequest
from studio.tasks.model_facts import picker_line, provider_for
from studio.tasks.models import checked_model_id
from studio.tasks.progress import Progress
from studio.tasks.reproduce import Call
from studio.tasks.uploads import PreparedImage


def setup_problem(config: Config, task: str) -> str | None:
    """Why a task cannot run yet, in words that say what to set; None when it can."""
    return backends.setup_problem(config.endpoint(task))


def require_setup(config: Config, task: str) -> None:
    """Refuse early, with what to set, when a task has no server and no token."""
    problem = setup_problem(config, task)
    if problem:
        raise ConfigurationError(problem)


# --- what the endpoint's backend says, for the page -------------------------------------------


def describe_backend(endpoint: Endpoint) -> str:
    """One line for people: which model, how it is asked, where."""
    return backends.capabilities(endpoint).describe(endpoint)


def repetition_penalty_info(endpoint: Endpoint) -> str:
    """What the chat's repetition penalty slider does on this endpoint's backend."""
    return backends.capabilities(endpoint).penalty(endpoint)


def ignored_options(endpoint: Endpoint) -> str | None:
    """Which image options the endpoint's server ignores, in a sentence; None: it uses them all."""
    return backends.capabilities(endpoint).ignored(endpoint)


def runs_here(endpoint: Endpoint) -> bool:
    """Whether the endpoint's model runs in this process: no server, no time limit."""
    return backends.capabilities(endpoint).in_process


def lists_models(endpoint: Endpoint) -> bool:
    """Whether the endpoint's server lists the models it serves and takes any per request."""
    return backends.capabilities(endpoint).lists_models


def carries_pictures(endpoint: Endpoint) -> bool:
    """Whether the endpoint's chat requests can carry pictures (whether its model reads them is
    the model's business: see `refuse_pictures`)."""
    return backends.capabilities(endpoint).takes_images


# --- the model, chosen per person -------------------------------------------------------------

FIXED_MODEL = (
    "This tab's model is set where the studio runs ({setting}); it cannot be chosen per request."
)


def served_model_choices(endpoint: Endpoint, *, refresh: bool = False) -> ModelChoices:
    """What a model picker offers: `choices` (the server's `GET /v1/models`, the configured
    model first), `default` ("" when the person must pick) and `problem` (None, or what the
    person can do: the reason, with the setting, goes to the log). Never raises for a server
    that is down; the list is asked once per server unless `refresh`. A server that lists no
    models offers the configured one alone."""
    if not lists_models(endpoint):
        return ModelChoices((endpoint.model,) if endpoint.model else (), endpoint.model)
    return model_choices(endpoint, refresh=refresh)


def model_line(endpoint: Endpoint, model: str | None) -> str:
    """What the server's model list says of the chosen model (`model`, else the endpoint's),
    in one short line: price, context length, speed, provider, whether it takes images; ""
    when the list says nothing of it. Never raises: a picker's line is only a help."""
    if not lists_models(endpoint):
        return ""
    try:
        chosen = checked_model_id(model) or endpoint.model
    except InputError:
        return ""
    return picker_line(listed_facts(endpoint, chosen), chosen) if chosen else ""


def output_price(endpoint: Endpoint, model: str | None) -> float | None:
    """USD per million output tokens of the provider the server's list says would most likely
    answer `model` (else the endpoint's); None when the list says nothing. Never raises."""
    if not lists_models(endpoint):
        return None
    try:
        chosen = checked_model_id(model) or endpoint.model
    except InputError:
        return None
    facts = listed_facts(endpoint, chosen) if chosen else None
    provider = provider_for(facts, chosen)[0] if facts is not None else None
    return provider.price_out if provider is not None else None


def with_model(endpoint: Endpoint, model: str | None) -> Endpoint:
    """The endpoint asking `model` instead of its own (None or "": its own). Only servers that
    list their models take one per request; any id is sent as typed (the router's list is
    long), and a server that does not serve it says so."""
    chosen = checked_model_id(model)
    if chosen is None or chosen == endpoint.model:
        return endpoint
    if not lists_models(endpoint):
        raise InputError(FIXED_MODEL.format(setting=endpoint.model_setting))
    return dataclasses.replace(endpoint, model=chosen)


def chat_request(
    endpoint: Endpoint,
    messages: list[Message],
    settings: ChatSettings,
    *,
    model: str | None = None,
) -> ChatRequest:
    """The request for a chat turn, for `model` when one was chosen (see `with_model`). A
    picture goes only where it can be read: InputError, before sending, for a backend whose
    requests carry text alone and for a model the server's list says reads text only."""
    endpoint = with_model(endpoint, model)
    if has_pictures(messages):
        refuse_pictures(endpoint)
    return backends.chat_request(endpoint, messages, settings)


def refuse_pictures(endpoint: Endpoint) -> None:
    """InputError when the endpoint's model cannot read a picture, as far as can be told
    before sending; a model the list says nothing of is asked, and its refusal explained."""
    if not backends.capabilities(endpoint).takes_images:
        raise InputError(PICTURES_NOT_TAKEN)
    facts = listed_facts(endpoint, endpoint.model) if endpoint.model else None
    if facts is not None and facts.takes_images is False:
        raise InputError(text_only_model(endpoint.model, taking_images(endpoint)))


def ask(
    endpoint: Endpoint,
    inputs: Any,
    parameters: dict | None = None,
    *,
    content_type: str | None = None,
    progress: Progress | None = None,
    calls: list[Call] | None = None,
    seed: int | None = None,
) -> Any:
    """`get_completion`, and a `Call` for "Show the code" appended to `calls` once answered."""
    started = time.monotonic()
    answer = backends.get_completion(
        endpoint, inputs, parameters, content_type=content_type, progress=progress
    )
    if calls is not None:
        seconds = time.monotonic() - started
        calls.append(Call(endpoint, inputs, parameters, content_type, seconds, seed))
    return answer


def summarize_text(
    endpoint: Endpoint,
    text: str,
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    progress: Progress | None = None,
    calls: list[Call] | None = None,
    caller: Caller | None = None,
) -> summaries.Summary:
    """A summary, asked in pieces when the text is longer than the model reads at once."""

    def complete(piece: str, parameters: dict | None) -> Any:
        return ask(endpoint, piece, parameters, progress=progress, calls=calls)

    summaries.validate(text, min_length, max_length)  # the person's input costs no request
    with metered(caller, endpoint.task, endpoint.host, prompt=text):
        return summaries.summarize(text, complete, min_length=min_length, max_length=max_length)


def find_entities(
    endpoint: Endpoint,
    text: str,
    *,
    progress: Progress | None = None,
    calls: list[Call] | None = None,
    caller: Caller | None = None,
) -> list[Entity]:
    """Whole entities in `text`, merged from whatever tokens or groups the server answers."""
    with metered(caller, endpoint.task, endpoint.host, prompt=text):
        answer = ask(endpoint, text, progress=progress, calls=calls)
    return merge_entities(text, answer)


def caption_image(
    endpoint: Endpoint,
    image: PreparedImage,
    *,
    model: str | None = None,
    progress: Progress | None = None,
    calls: list[Call] | None = None,
    caller: Caller | None = None,
) -> str:
    """A one-sentence caption of a prepared upload, stripped; by `model` when one was chosen."""
    endpoint = with_model(endpoint, model)
    with metered(caller, endpoint.task, endpoint.host):
        answer = ask(
            endpoint, image.jpeg, content_type="image/jpeg", progress=progress, calls=calls
        )
        return caption_from_answer(answer)


def paint_picture(
    endpoint: Endpoint,
    request: ImageRequest,
    *,
    progress: Progress | None = None,
    calls: list[Call] | None = None,
    caller: Caller | None = None,
) -> Image.Image:
    """The picture for checked settings; raw bytes, base64 in JSON and `b64_json` all decode."""
    with metered(caller, endpoint.task, endpoint.host, images=1, prompt=request.prompt):
        answer = ask(
            endpoint,
            request.prompt,
            request.to_parameters(),
            progress=progress,
            calls=calls,
            seed=request.seed,
        )
        return image_from_answer(answer)
