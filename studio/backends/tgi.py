"""TGI's native stream: `POST {base}/generate_stream` with a prompt the studio formats itself.

For servers that only continue raw text (the course's Falcon endpoint). The prompt is rendered
in the format `STUDIO_CHAT_TEMPLATE` names; the stream is `data:{event}` lines with no `[DONE]`,
the last event carrying `details.finish_reason`; stop sequences are trimmed here, since the
server returns them as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from studio.backends import transport
from studio.backends.base import (
    CONFIGURED,
    Backend,
    Capabilities,
    ChatRequest,
    Probe,
    TaskRequest,
    not_set_up,
)
from studio.backends.chat_shapes import CUT_SHORT
from studio.backends.transport import Cancel
from studio.catalog import TASKS
from studio.endpoint import Endpoint
from studio.errors import BadResponseError, IncompleteStreamError
from studio.tasks.chat import ChatSettings, Delta, Message
from studio.tasks.continue_reply import continues_reply
from studio.tasks.progress import Progress
from studio.tasks.templates import TEMPLATES, get_template
from studio.tasks.token_probs import TGI_MAX, from_tgi

STREAM_PATH = "/generate_stream"
TGI_MAX_STOPS = 4  # TGI's default --max-stop-sequences


def tgi_parameters(settings: ChatSettings, stop: Sequence[str]) -> dict[str, Any]:
    """``parameters`` for TGI's ``/generate_stream``, leaving out what TGI would reject.

    Only the first ``TGI_MAX_STOPS`` stop sequences are sent; ``trim_stops`` applies them all.
    """
    parameters: dict[str, Any] = {
        "max_new_tokens": int(settings.max_new_tokens),
        "details": True,  # the last event then carries finish_reason
        "return_full_text": False,
    }
    if settings.temperature > 0:
        parameters["do_sample"] = True
        parameters["temperature"] = settings.temperature
        if settings.top_p_in_range:
            parameters["top_p"] = settings.top_p
    else:
        # TGI rejects temperature 0, and any top_p would switch sampling back on.
        parameters["do_sample"] = False
    if settings.repetition_penalty != 1.0:
        parameters["repetition_penalty"] = settings.repetition_penalty
    if settings.seed is not None:
        parameters["seed"] = int(settings.seed)
    stops = list(dict.fromkeys(s for s in stop if s))[:TGI_MAX_STOPS]
    if stops:
        parameters["stop"] = stops
    if settings.alternatives:  # each token's own logprob comes with details; these are extra
        parameters["top_n_tokens"] = min(settings.alternatives, TGI_MAX)
    return parameters


def tgi_notes(settings: ChatSettings) -> tuple[str, ...]:
    """What the person is told about settings TGI's raw prompt cannot carry as asked."""
    notes = []
    if settings.thinking:
        notes.append(
            "Thinking was not sent: TGI's /generate_stream continues a prompt and has no such "
            "setting. A model that thinks shows its thinking apart all the same."
        )
    if settings.alternatives and settings.alternatives > TGI_MAX:
        notes.append(
            f"TGI gives at most {TGI_MAX} alternatives per token unless started with a larger "
            f"--max-top-n-tokens; {TGI_MAX} were asked."
        )
    return tuple(notes)


def tgi_deltas(
    events: Iterable[Mapping[str, Any]], *, probabilities: bool = False
) -> Iterator[Delta]:
    """Deltas from TGI ``/generate_stream`` events; with `probabilities`, each token's logprob
    and its ``top_tokens``.

    The last event repeats the whole reply in ``generated_text``; only its token is used. A
    stream that ends before that event was cut, and raises IncompleteStreamError after what came.
    """
    complete = False
    for event in events:
        token = event.get("token") or {}
        text = "" if token.get("special") else token.get("text") or ""
        if not isinstance(text, str):
            raise BadResponseError(
                f"The server sent a token that is not text: {type(text).__name__}."
            )
        finish_reason = (event.get("details") or {}).get("finish_reason")
        complete = complete or event.get("generated_text") is not None or bool(finish_reason)
        tokens = from_tgi(token, event.get("top_tokens")) if probabilities and text else ()
        if text or finish_reason:
            yield Delta(text, finish_reason, tokens=tokens)
    if not complete:
        raise IncompleteStreamError(CUT_SHORT)


def trim_stops(
    deltas: Iterable[Delta], stops: Sequence[str], *, drop_leading_space: bool = True
) -> Iterator[Delta]:
    """The reply up to the first stop sequence, safe to show as it streams.

    Text that could be the start of a stop sequence is held back until the next delta shows
    whether it is; a complete stop sequence ends the reply with finish reason
    ``"stop_sequence"``. The reply's leading space is dropped (SentencePiece models emit
    " Hello" as the first token). Empty deltas are never yielded, except one carrying a finish
    reason. The source stream is closed when this one ends, so the server stops generating.
    """
    stops = [stop for stop in stops if stop]
    upstream = iter(deltas)
    held = ""
    tokens: tuple = ()  # the probabilities of the text held, given with it
    started = not drop_leading_space
    try:
        for delta in upstream:
            text = delta.text
            if not started and text:
                text = text.removeprefix(" ")
                started = bool(text)
            pending, tokens = held + text, tokens + delta.tokens
            cut = _first_stop_at(pending, stops)
            if cut is not None:
                yield Delta(pending[:cut], "stop_sequence", tokens=tokens)
                return
            if delta.finish_reason:
                yield Delta(pending, delta.finish_reason, tokens=tokens)
                return
            ready = len(pending) - _partial_stop_length(pending, stops)
            held = pending[ready:]
            if ready:
                yield Delta(pending[:ready], tokens=tokens)
                tokens = ()
        if held:
            yield Delta(held, tokens=tokens)
    finally:
        close = getattr(upstream, "close", None)
        if close is not None:
            close()


def _first_stop_at(text: str, stops: Sequence[str]) -> int | None:
    return min((at for stop in stops if (at := text.find(stop)) >= 0), default=None)


def _partial_stop_length(text: str, stops: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that is the beginning of a stop sequence."""
    longest = 0
    for stop in stops:
        for length in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:length]):
                longest = length
                break
    return longest


def describe(endpoint: Endpoint) -> str:
    model = f"Model `{endpoint.model}`" if endpoint.model else "The server's own model"
    return (
        f"{model} via TGI's `/generate_stream`, prompt format `{endpoint.template}`, at "
        f"{endpoint.host}."
    )


def template_problem(endpoint: Endpoint) -> str | None:
    if endpoint.template in TEMPLATES:
        return None
    return (
        f"STUDIO_CHAT_TEMPLATE={endpoint.template} is not a prompt format the studio knows; "
        f"set it to one of {', '.join(TEMPLATES)} (the format the model was trained on)."
    )


class TgiBackend(Backend):
    caps = Capabilities(
        protocol="tgi",
        tasks=frozenset({"chat"}),
        describe=describe,
        servers={"chat": TASKS["chat"].url_setting},  # the course's Falcon endpoint
    )

    def request(
        self, endpoint: Endpoint, asked: TaskRequest | ChatRequest
    ) -> transport.HttpRequest | None:
        if isinstance(asked, ChatRequest):
            return transport.at_path(endpoint, asked.path, asked.body)
        return None

    def chat_request(
        self,
        endpoint: Endpoint,
        messages: Sequence[Message],
        settings: ChatSettings,
    ) -> ChatRequest:
        chat_template = get_template(endpoint.template)
        body = {
            "inputs": chat_template.render(messages),
            "parameters": tgi_parameters(settings, chat_template.stop),
        }
        return ChatRequest(
            STREAM_PATH,
            body,
            stops=chat_template.stop,
            notes=tgi_notes(settings),
            max_tokens=settings.max_new_tokens,
            continues_exactly=continues_reply(messages),  # the prompt ends inside the reply
            asks_probabilities=settings.alternatives is not None,
        )

    def stream_chat(
        self,
        endpoint: Endpoint,
        request: ChatRequest,
        cancel: Cancel,
        *,
        progress: Progress | None = None,
    ) -> Iterator[Delta]:
        events = transport.stream(
            transport.at_path(endpoint, request.path, request.body), endpoint, cancel=cancel
        )
        try:
            # Going on with a reply, its next token's space belongs between the words.
            deltas = tgi_deltas(events, probabilities=request.asks_probabilities)
            yield from trim_stops(
                deltas, request.stops, drop_leading_space=not request.continues_exactly
            )
        except IncompleteStreamError:
            if not cancel.is_set():  # Stop cut it, on purpose
                raise

    def probe(self, endpoint: Endpoint, *, network: bool = True) -> Probe:
        if problem := template_problem(endpoint):
            return not_set_up(problem)
        if not network:
            return CONFIGURED
        base = endpoint.url.rstrip("/")
        health = transport.look(base + "/health", endpoint)
        if health.status != 200:
            why = health.failure or f"/health answered {health.status}"
            return Probe(
                False,
                "down" if health.status is None else "not ready",
                f"{endpoint.host}: {why}. Check that TGI is running and {endpoint.url_setting}.",
            )
        try:
            model = transport.look(base + "/info", endpoint).json().get("model_id")
        except (ValueError, AttributeError):
            model = None
        return Probe(True, f"ready: {model}" if model else "ready")
