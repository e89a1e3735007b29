"""Chat servers of one's own, as they really answer: what the OpenAI-compatible backend does
about the ways they differ from the router.

    repetition penalty   not in the OpenAI schema. vLLM and TGI take `repetition_penalty`;
                         `transformers serve` refuses it (422 "Unexpected fields in the request")
                         and reads `frequency_penalty` as a repetition penalty of 1 + value. A
                         refusal is answered by asking again at once in the form the server
                         takes, which is remembered for that server for the rest of the process.
                         llama.cpp's servers read `repeat_penalty` and ignore the other
                         without a word: told apart by what they say of themselves
                         (`server_quirks`), they get theirs, 1.0 included.
    a long conversation  trimmed to the context a server says it has, before sending; a
                         server that refuses a prompt as too long (llama-cpp-python: an empty
                         stream, so it is asked again not streamed to say why) is asked again
                         with the oldest exchanges left out, or the person is told in words.
    a plain 500          `transformers serve` answers one for a model it cannot load: the
                         message names the model setting and the models the server lists
                         (`GET {base}/models`). Retried once at most: a 500 that repeats at
                         once is the server's answer, not a hiccup.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator

from studio.backends import optional_fields, transport
from studio.backends import server_quirks as quirks
from studio.backends.base import ChatRequest
from studio.backends.chat_shapes import (
    FREQUENCY_PENALTY,
    REPEAT_PENALTY,
    REPETITION_PENALTY,
    as_frequency_penalty,
    penalty_note,
)
from studio.backends.model_list import served_models
from studio.backends.transport import Cancel
from studio.endpoint import Endpoint
from studio.errors import (
    BackendConnectionError,
    BackendError,
    ConfigurationError,
    IncompleteStreamError,
    InputError,
    ServerError,
    ValidationError,
)
from studio.tasks.chat import Delta

Send = Callable[[Endpoint, ChatRequest, Cancel], Iterator[Delta]]

RETRY = dataclasses.replace(transport.DEFAULT_RETRY, server_error_retries=1)
MODELS_SHOWN = 5  # names of listed models in a message; the rest are counted
# How servers say a field is not theirs: transformers serve ("Unexpected fields in the request"),
# FastAPI models that forbid extras ("Extra inputs are not permitted"), OpenAI ("Unrecognized").
REFUSALS = ("unexpected", "unrecognized", "unknown", "extra", "not permitted", "not allowed")
TRANSFORMERS_REFUSAL = "unexpected fields in the request"
CANNOT_LOAD = "Servers such as transformers serve answer a plain 500 for a model they cannot load"
# Sends of one turn at most: two refused optional fields, a refused penalty form, then a
# prompt too long, twice.
TRIES = 5


class ServerNotes:
    """What servers of one's own have shown they take, by base URL, for this process."""

    def __init__(self) -> None:
        self._penalty_forms: dict[str, str | None] = {}
        self._facts: dict[str, quirks.ServerFacts] = {}
        self._rates: dict[str, float] = {}  # characters per token, as the server counted them
        self._lock = threading.Lock()

    def penalty_form(self, endpoint: Endpoint) -> str | None:
        """The field to send the repetition penalty in (None: leave it out)."""
        with self._lock:
            facts = self._facts.get(_server(endpoint))
            if facts is not None and facts.kind in quirks.LLAMA_CPP:
                return REPEAT_PENALTY
            return self._penalty_forms.get(_server(endpoint), REPETITION_PENALTY)

    def facts(self, endpoint: Endpoint) -> quirks.ServerFacts:
        """What the server says of itself, asked once per server for the process."""
        with self._lock:
            known = self._facts.get(_server(endpoint))
        if known is None:
            known = quirks.read_facts(endpoint)
            with self._lock:
                known = self._facts.setdefault(_server(endpoint), known)
        return known

    def stream(
        self, endpoint: Endpoint, request: ChatRequest, cancel: Cancel, send: Send
    ) -> Iterator[Delta]:
        """`send` the request in the form the server takes and within its context; a refusal
        that comes before any piece of the reply (a penalty field it does not know, a prompt
        too long for it) is answered by sending again as it takes it, with a note saying so."""
        notes = request.notes  # the stats line has these already
        request = self.prepared(endpoint, request)
        for attempt in range(1, TRIES + 1):
            started = False
            try:
                for delta in send(endpoint, request, cancel):
                    if not started and (new := [n for n in request.notes if n not in notes]):
                        yield Delta("", note=" ".join(new))
                    started = True
                    yield delta
                return
            except BackendError as error:
                again = None
                if not started and attempt < TRIES:
                    again = self.after_failure(endpoint, request, error)
                if again is None:
                    raise explained(endpoint, error) from None
                request = again

    def prepared(self, endpoint: Endpoint, request: ChatRequest) -> ChatRequest:
        """The request with the penalty in the field this server reads, and within the context
        it says it has (the oldest exchanges left out; InputError when the last message alone
        does not fit)."""
        facts = self.facts(endpoint)
        body, notes = dict(request.body), list(request.notes)
        if facts.kind in quirks.LLAMA_CPP and REPEAT_PENALTY not in body:
            penalty = body.pop(REPETITION_PENALTY, 1.0)
            body[REPEAT_PENALTY] = penalty  # always: llama-cpp-python's own default is 1.1
            notes = [n for n in notes if not n.startswith("Repetition penalty")]
            notes += [penalty_note(penalty, REPEAT_PENALTY)] if penalty != 1.0 else []
        request = dataclasses.replace(request, body=body, notes=tuple(notes))
        with self._lock:
            context = self._facts[_server(endpoint)].context
        return self._fitted(endpoint, request, context) if context else request

    def _fitted(self, endpoint: Endpoint, request: ChatRequest, context: int) -> ChatRequest:
        with self._lock:
            rate = self._rates.get(_server(endpoint))
        max_tokens = int(request.body.get("max_tokens") or 0)
        messages, dropped = quirks.fit_messages(request.body["messages"], context, max_tokens, rate)
        if not dropped:
            return request
        note = quirks.left_out_note(dropped, context)
        body = {**request.body, "messages": messages}
        return dataclasses.replace(request, body=body, notes=(*request.notes, note))

    def after_failure(
        self, endpoint: Endpoint, request: ChatRequest, error: BackendError
    ) -> ChatRequest | None:
        """The request again in a form the server takes after `error`, or None."""
        again = optional_fields.without_refused(endpoint, request, error)
        again = again or self.after_refusal(endpoint, request, error)
        if again is not None:
            return again
        said = quirks.context_said(error.message) if isinstance(error, ValidationError) else None
        if said is None and isinstance(error, IncompleteStreamError):
            said = self._why_empty(endpoint, request)
        if said is None:
            return None
        context, prompt_tokens = said
        chars = sum(len(str(m.get("content", ""))) for m in request.body["messages"])
        with self._lock:
            facts = self._facts.get(_server(endpoint), quirks.ServerFacts())
            self._facts[_server(endpoint)] = dataclasses.replace(facts, context=context)
            self._rates[_server(endpoint)] = 0.9 * chars / max(prompt_tokens, 1)
        fitted = self._fitted(endpoint, request, context)
        reply = request.max_tokens or 0
        if fitted is request and reply and prompt_tokens < quirks.prompt_room(context, reply):
            # The conversation fits: the reply's room asked for is what does not.
            raise InputError(quirks.reply_too_long(context, prompt_tokens, reply))
        if fitted is request:  # nothing more to leave out: the message alone is too long
            raise InputError(quirks.too_long(context, prompt_tokens))
        return fitted

    def _why_empty(self, endpoint: Endpoint, request: ChatRequest) -> tuple[int, int] | None:
        """llama-cpp-python answers a stream 200 with nothing in it for a prompt too long for
        its context; the same request not streamed, for one token, says so. It closes the
        connection after that stream though it said keep-alive, so a request that finds it
        closed is sent once more on a new one."""
        if self.facts(endpoint).kind != quirks.LLAMA_CPP_PYTHON:
            return None
        body = {**request.body, "stream": False, "max_tokens": 1}
        asked = transport.at_path(endpoint, request.path, body)
        for _ in range(2):
            try:
                transport.post(asked, endpoint, retry=RETRY)
            except ValidationError as error:
                return quirks.context_said(error.message)
            except BackendConnectionError:
                continue
            except BackendError:
                return None
            return None
        return None

    def after_refusal(
        self, endpoint: Endpoint, request: ChatRequest, error: BackendError
    ) -> ChatRequest | None:
        """The request again in the form the server takes, when `error` refused its
        `repetition_penalty`; None when it did not. The form is remembered for the server."""
        penalty = request.body.get(REPETITION_PENALTY)
        if penalty is None or not refuses_repetition_penalty(error):
            return None
        form = FREQUENCY_PENALTY if TRANSFORMERS_REFUSAL in error.message.lower() else None
        with self._lock:
            self._penalty_forms[_server(endpoint)] = form
        body = {key: value for key, value in request.body.items() if key != REPETITION_PENALTY}
        if form == FREQUENCY_PENALTY:
            body[FREQUENCY_PENALTY] = as_frequency_penalty(penalty)
        note = retry_note(endpoint, penalty, form, error.status)
        kept = tuple(n for n in request.notes if not n.startswith("Repetition penalty"))
        return dataclasses.replace(request, body=body, notes=(*kept, note))


def _server(endpoint: Endpoint) -> str:
    return endpoint.url.rstrip("/")


def refuses_repetition_penalty(error: BackendError) -> bool:
    """A 400 or 422 saying `repetition_penalty` is a field the server does not know."""
    text = error.message.lower()
    return (
        isinstance(error, ValidationError)
        and error.status in (400, 422)
        and REPETITION_PENALTY in text
        and any(word in text for word in REFUSALS)
    )


def retry_note(endpoint: Endpoint, penalty: float, form: str | None, status: int | None) -> str:
    """What the person is told when the request was sent again without repetition_penalty."""
    how = (
        f"as frequency_penalty {as_frequency_penalty(penalty):g}, which it reads as a repetition "
        f"penalty of {penalty:g} (as transformers serve does)"
        if form == FREQUENCY_PENALTY
        else "without it"
    )
    return (
        f"{endpoint.host} refused repetition_penalty ({status}), so the request was sent again "
        f"{how}; later requests to it are sent that way at once."
    )


# --- a plain 500 ---------------------------------------------------------------------------


def explained(endpoint: Endpoint, error: BackendError) -> BackendError:
    """`error`, or for a 500 the same with what to check: the model setting against the models
    the server lists. An error the server sends inside the stream before any reply (status None:
    newer `transformers serve` answers a seed it cannot take that way) is a 500 by another name."""
    if not isinstance(error, ServerError) or error.status not in (500, None):
        return error
    said = error.message if error.message.endswith((".", "!", "?")) else error.message + "."
    hint = model_hint(endpoint, listed_models(endpoint))
    return ServerError(f"{said} {hint}", status=error.status)


def listed_models(endpoint: Endpoint) -> tuple[str, ...] | None:
    """The ids `GET {base}/models` lists, asked afresh; None when the server lists none that way."""
    try:
        return served_models(endpoint, refresh=True, timeout=5.0)
    except ConfigurationError:
        return None


def model_hint(endpoint: Endpoint, listed: tuple[str, ...] | None) -> str:
    """What to check after a 500, from the models the server lists (None: it lists none)."""
    model, setting, cannot_load = endpoint.model, endpoint.model_setting, CANNOT_LOAD
    if listed is None:
        return f"{cannot_load}: check that {setting} ({model}) names a model this server can load."
    if model in listed:
        return (
            f"The server lists {model} among its models, so the model is not the cause: the "
            "server's log says what failed; a setting it cannot take, such as a very large "
            "seed, does this."
        )
    if not listed:
        return (
            f"It lists no models at {_server(endpoint)}/models. {cannot_load}: check that "
            f"{setting} ({model}) names a model or folder this server can load."
        )
    names = ", ".join(listed[:MODELS_SHOWN])
    if len(listed) > MODELS_SHOWN:
        names += f" and {len(listed) - MODELS_SHOWN} more"
    return (
        f"It does not list {model} among its models ({names}). {cannot_load}: set {setting} to "
        "one it lists, or to a model or folder it can load."
    )
