"""Where one task's requests go: the `Endpoint` the configuration resolves for each task.

A leaf beside the catalog: the backends, the tasks' card and the configuration all read it, and
it imports none of them. Which backend serves it is `protocol`, a name the backends' registry
knows (`studio.backends.registry`); what that name means is the backend's business alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from studio.catalog import HUB, ROUTER, TASKS, TaskSpec


@dataclass(frozen=True)
class Endpoint:
    """Where one task's requests go. The token is kept out of repr so it never reaches a log."""

    task: str
    protocol: str  # the backend that serves it: a name in `registry.BACKENDS`
    url: str  # as its backend takes it (a model's URL, a base URL); "" when it runs in this process
    model: str
    url_setting: str
    model_setting: str
    token: str | None = field(default=None, repr=False)
    timeout: float = 60.0  # seconds without an answer before giving up (STUDIO_TIMEOUT)
    device: str = "auto"  # where a model in this process runs (STUDIO_DEVICE)
    offline: bool = False  # a model in this process comes from disk only (HF_HUB_OFFLINE)
    template: str = "falcon"  # the prompt format, for servers that continue raw text (TGI)
    router: str = ROUTER  # the router's base URL (STUDIO_ROUTER_URL)
    hub: str = HUB  # the Hub's base URL, asked for model info (HF_ENDPOINT)
    provider: str = ""  # on the router, the Inference Provider: a name, "auto", or "" (its own)
    local_extra: bool = False  # whether the local extra is installed (the CLI looks), for advice

    @property
    def host(self) -> str:
        return host_of(self.url) if self.url else "this computer"

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self.task]

    @property
    def on_router(self) -> bool:
        return bool(self.url) and self.host == host_of(self.router)

    @property
    def where(self) -> str:
        """Where the model runs, in a few words for people: local (no URL: in this process),
        an endpoint of one's own, or the Hugging Face router and its provider."""
        if not self.url:
            return "local"
        if not self.on_router:
            return "endpoint"
        return f"Hugging Face router ({self.provider})" if self.provider else "Hugging Face router"


def host_of(url: str) -> str:
    """The host a URL names, without any user:password@ it may carry: hosts are shown to
    people and logged."""
    return urlsplit(url).netloc.rpartition("@")[2]
