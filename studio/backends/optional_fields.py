"""Fields a chat request carries only when the person asked for them, which a server may refuse:
the Thinking setting (`reasoning_effort`, `chat_template_kwargs`) and token probabilities
(`logprobs`, `top_logprobs`). A server that refuses one (400 or 422 naming it) is asked again
at once without it, and the person is told in plain words; nothing else about the reply changes.
A server that ignores them answers as usual, and the chat says what did not come.
"""

from __future__ import annotations

import dataclasses
import re

from studio.backends.base import ChatRequest
from studio.endpoint import Endpoint
from studio.errors import BackendError, ValidationError

# How servers say a field is not theirs (as in studio.backends.self_hosted), and what "invalid"
# and "not supported" say about a value or a feature the provider lacks.
REFUSALS = ("unexpected", "unrecognized", "unknown", "extra", "not permitted", "not allowed")
REFUSALS += ("not supported", "unsupported", "invalid", "does not support")
WHAT = {
    "logprobs": "token probabilities",
    "top_logprobs": "token probabilities",
    "reasoning_effort": "the Thinking setting",
    "chat_template_kwargs": "the Thinking setting",
}
TOGETHER = (("logprobs", "top_logprobs"), ("reasoning_effort", "chat_template_kwargs"))


def without_refused(
    endpoint: Endpoint, request: ChatRequest, error: BackendError
) -> ChatRequest | None:
    """`request` again without the optional fields `error` refuses, or None when it refused
    none of them (or they were not sent)."""
    text = error.message.lower()
    if not isinstance(error, ValidationError) or error.status not in (400, 422):
        return None
    if not any(word in text for word in REFUSALS):
        return None
    named = [field for field in WHAT if field in request.body and _names(text, field)]
    if not named:
        return None
    dropped = {f for group in TOGETHER if set(group) & set(named) for f in group}
    body = {key: value for key, value in request.body.items() if key not in dropped}
    what = " and ".join(dict.fromkeys(WHAT[field] for field in named))
    # Token probabilities come first in WHAT, so the note then holds the words the chat looks
    # for (studio.tasks.token_probs.ASKED_AGAIN_WITHOUT) to not say again that none came.
    note = f"{endpoint.host} refused {', '.join(named)} ({error.status}), so the reply was "
    note += f"asked for again without {what}."
    about = tuple(WHAT[field] for field in dropped)
    kept = tuple(n for n in request.notes if not _about(n, about))
    return dataclasses.replace(
        request,
        body=body,
        notes=(*kept, note),
        asks_probabilities=request.asks_probabilities and "logprobs" not in dropped,
    )


def _names(text: str, field: str) -> bool:
    """Whether `text` names `field` as a word of its own (logprobs is not top_logprobs)."""
    return re.search(rf"(?<![a-z_]){field}(?![a-z_])", text) is not None


def _about(note: str, what: tuple[str, ...]) -> bool:
    """Whether a request note speaks of a setting that was dropped."""
    words = {"the Thinking setting": "Thinking", "token probabilities": "alternatives"}
    return any(words[w] in note for w in what)
