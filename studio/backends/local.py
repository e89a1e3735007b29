"""Models in this process (`studio.local`: transformers, diffusers, torch), behind the same
contract as the servers.

The extra is optional: this module imports none of it, and `studio.local` is imported on the
first request, so the app starts as fast without it. Requests are the task API's and the chat
completions' bodies; answers and stream chunks have their shapes, so nothing above the seam can
tell this backend from a server.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from studio.backends.base import (
    CONFIGURED,
    Backend,
    Capabilities,
    ChatRequest,
    Probe,
    TaskRequest,
)
from studio.backends.chat_shapes import REPETITION_PENALTY, openai_body, openai_deltas
from studio.backends.transport import Cancel, current_cancel
from studio.catalog import LOCAL_EXTRA_MISSING
from studio.endpoint import Endpoint
from studio.tasks.chat import ChatSettings, Delta, Message
from studio.tasks.progress import Progress


def describe(endpoint: Endpoint) -> str:
    return f"Model `{endpoint.model}`, running on this computer."


class LocalBackend(Backend):
    caps = Capabilities(
        protocol="local",
        tasks=frozenset({"summarize", "ner", "caption", "image", "chat"}),
        describe=describe,
        in_process=True,
        code="transformers",
    )

    def complete(
        self, endpoint: Endpoint, asked: TaskRequest, *, progress: Progress | None = None
    ) -> Any:
        from studio import local  # the optional extra: imported only when chosen

        cancel = current_cancel()  # Stop: the context's, as a request over HTTP is cut by it
        return local.complete(
            endpoint.task,
            endpoint.model,
            asked.inputs,
            asked.parameters,
            device=endpoint.device,
            offline=endpoint.offline,
            progress=progress,
            check_stop=cancel.check if cancel is not None else None,
        )

    def chat_request(
        self,
        endpoint: Endpoint,
        messages: Sequence[Message],
        settings: ChatSettings,
    ) -> ChatRequest:
        # The model's own chat template applies; every setting is honoured, so no notes here:
        # the model says, on the stream's first chunk, if its template has no thinking switch.
        body, _ = openai_body(settings, endpoint.model, messages, penalty_as=REPETITION_PENALTY)
        asks = settings.alternatives is not None
        return ChatRequest("", body, max_tokens=settings.max_new_tokens, asks_probabilities=asks)

    def stream_chat(
        self,
        endpoint: Endpoint,
        request: ChatRequest,
        cancel: Cancel,
        *,
        progress: Progress | None = None,
    ) -> Iterator[Delta]:
        from studio import local

        chunks = local.stream_chat(
            endpoint.model,
            request.body,
            cancel,
            device=endpoint.device,
            offline=endpoint.offline,
            progress=progress,
        )
        try:
            yield from openai_deltas(chunks)
        finally:
            chunks.close()

    def probe(self, endpoint: Endpoint, *, network: bool = True) -> Probe:
        from studio.local import is_available  # light: looks for the extra, imports none

        if not is_available():
            return Probe(False, "extra missing", LOCAL_EXTRA_MISSING)
        if not network:
            return CONFIGURED
        from studio.local.prepare import readiness  # asks the Hub, downloads nothing

        ready = readiness(endpoint.task, endpoint.model, offline=endpoint.offline, hub=endpoint.hub)
        return Probe(ready.ok, ready.status, ready.advice)
