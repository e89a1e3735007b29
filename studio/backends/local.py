"""Models in this process (`studio.local`: transformers, diffusers, torch), behind the same
contract as the servers.

The extra is optional: this module imports none of it, and `studio.local` is imported on the
first request, so the app starts as fast without it. Requests are the task API's and the chat
completions' bodies; answers and stream chunks have their shapes, so nothing above the seam can
tell this backend from a server.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from studio.backends.base import Backend, ChatRequest, Probe, Progress
from studio.backends.openai_chat import openai_body, openai_deltas
from studio.backends.self_hosted import REPETITION_PENALTY
from studio.backends.transport import Cancel
from studio.catalog import LOCAL_EXTRA_MISSING
from studio.config import Endpoint
from studio.tasks.chat import ChatSettings, Delta, Message


class LocalBackend(Backend):
    protocol = "local"
    tasks = frozenset({"summarize", "ner", "caption", "image", "chat"})
    speaks = "this computer"

    def describe(self, endpoint: Endpoint) -> str:
        return f"Model `{endpoint.model}`, running on this computer."

    def complete(
        self,
        endpoint: Endpoint,
        inputs: Any,
        parameters: dict | None = None,
        *,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> Any:
        from studio import local  # the optional extra: imported only when chosen

        return local.complete(
            endpoint.task,
            endpoint.model,
            inputs,
            parameters,
            device=endpoint.device,
            progress=progress,
        )

    def chat_request(
        self,
        endpoint: Endpoint,
        messages: Sequence[Message],
        settings: ChatSettings,
    ) -> ChatRequest:
        # The model's own chat template applies; every setting is honoured, so no notes.
        body, _ = openai_body(settings, endpoint.model, messages, penalty_as=REPETITION_PENALTY)
        return ChatRequest("", body, max_tokens=settings.max_new_tokens)

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
            endpoint.model, request.body, cancel, device=endpoint.device, progress=progress
        )
        try:
            yield from openai_deltas(chunks)
        finally:
            chunks.close()

    def probe(self, endpoint: Endpoint, token: str | None) -> Probe:
        if problem := self.setup_problem(endpoint, token):
            return Probe(False, "extra missing", problem)
        folder = Path(endpoint.model).expanduser()
        if folder.is_dir():
            found = any((folder / name).is_file() for name in ("config.json", "model_index.json"))
            if found:
                return Probe(True, "on disk")
            return Probe(False, "no model there", f"{folder} holds no model files.")
        from huggingface_hub import try_to_load_from_cache  # installed with Gradio

        for name in ("config.json", "model_index.json"):
            if isinstance(try_to_load_from_cache(endpoint.model, name), str):
                return Probe(True, "downloaded")
        return Probe(
            True,
            "downloads on first use",
            f"{endpoint.model} is not downloaded yet; the first request downloads it "
            "(with network access), or run: hf download " + endpoint.model,
        )

    def setup_problem(self, endpoint: Endpoint, token: str | None) -> str | None:
        from studio.local import is_available  # light: looks for the extra, imports none

        return None if is_available() else LOCAL_EXTRA_MISSING
