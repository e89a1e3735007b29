"""Configuration: read once at start from the environment, a `.env` file and flags; then frozen.

Each task resolves to one `Endpoint`: where to send requests, in which protocol, with which model.
Each task's `Endpoint.protocol` names the backend that serves it (see `studio.backends`); this
module imports none of them. Resolution, per task:
  1. the task is chosen to run locally (`--local`, `STUDIO_LOCAL`)   -> protocol "local"
  2. its endpoint URL setting is set (the course's names)            -> that URL, used as given
  3. otherwise the Hugging Face router (`STUDIO_ROUTER_URL`) with the task's model setting; for
     text to image, through the Inference Provider `STUDIO_IMAGE_PROVIDER` names (default: the
     one the Hub maps the model to), HF's own provider through the task API
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from studio import setting_values as values
from studio.catalog import (
    AUTO_PROVIDER,
    HUB,
    HUB_SETTING,
    ROUTER,
    ROUTER_CHAT_PATH,
    ROUTER_SETTING,
    ROUTER_TASK_PATH,
    TAB_ALIASES,
    TASKS,
    TOKEN_SETTINGS,
    TaskSpec,
)
from studio.classroom.limits import FLOOD_GUARD, Limits, parse_rules
from studio.secrets import keep_secret


@dataclass(frozen=True)
class Endpoint:
    """Where one task's requests go. The token is kept out of repr so it never reaches a log."""

    task: str
    protocol: str  # "task" | "openai" | "tgi" | "providers" | "local"
    url: str  # full URL for "task"; base URL for "openai", "tgi" and "providers"; "" for "local"
    model: str
    url_setting: str
    model_setting: str
    token: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    device: str = "auto"
    template: str = "falcon"  # the prompt format, for servers that continue raw text (TGI)
    router: str = ROUTER  # the router's base URL (STUDIO_ROUTER_URL)
    hub: str = HUB  # the Hub's base URL, asked for model info (HF_ENDPOINT)
    provider: str = ""  # on the router, the Inference Provider: a name, or "auto"

    @property
    def host(self) -> str:
        return values.host(self.url) if self.url else "this computer"

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self.task]

    @property
    def on_router(self) -> bool:
        return bool(self.url) and self.host == values.host(self.router)

    @property
    def backend(self) -> str:
        """A short name for people: router, endpoint or local."""
        if self.protocol == "local":
            return "local"
        if not self.on_router:
            return "endpoint"
        return f"Hugging Face router ({self.provider})" if self.provider else "Hugging Face router"


@dataclass(frozen=True)
class Config:
    endpoints: Mapping[str, Endpoint]
    token: str | None = field(default=None, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    timeout: float = 60.0
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    tabs: tuple[str, ...] = ()  # empty: every tab
    per_tab_ports: bool = False
    concurrency: int = 64
    max_image_side: int = 1024  # long side of an image sent upstream
    chat_template: str = "falcon"  # prompt format for a TGI server (HF_API_FALCOM_BASE)
    chat_budget_chars: int = 24_000  # conversation kept per request, oldest turns dropped first
    allowed_hosts: tuple[str, ...] = ()  # names served besides the defaults (classroom.hosts)
    max_sessions: int = 1000  # Gradio sessions kept in memory; the oldest unused go first
    mcp: bool = False  # also serve the tabs' API as MCP tools (studio.classroom.mcp_tools)
    limits: Limits = Limits()  # none by default (studio.classroom.limits)
    admin: tuple[str, str] | None = field(default=None, repr=False)  # the usage view's login
    usage_prompts: bool = False  # the usage view shows what was asked

    def endpoint(self, task: str) -> Endpoint:
        return self.endpoints[task]


def read_environment(dotenv_path: str | os.PathLike = ".env") -> dict[str, str]:
    """The process environment over the `.env` file: a variable set in the shell wins."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
    return {**values, **os.environ}


def load_config(env: Mapping[str, str], *, local_extra: bool = False, **flags) -> Config:
    """Build the frozen configuration. `flags` are the command line's values (None when unset).

    `local_extra`: whether the local extra is installed (the caller looks). Then a task with no
    token, no server and no choice made runs on this computer: a laptop without credits works
    out of the box. `STUDIO_LOCAL=none` says never.
    """
    token = values.first(env, TOKEN_SETTINGS)
    keep_secret(token)  # masked in every message and log line from now on
    timeout = values.positive_float(env, "STUDIO_TIMEOUT", 60.0)
    local_setting = "--local" if flags.get("local") else "STUDIO_LOCAL"
    chosen = flags.get("local") or env.get("STUDIO_LOCAL", "")
    local = values.task_list(chosen, local_setting)
    if local_extra and not token and not chosen:
        local = [name for name, spec in TASKS.items() if not values.server_set(spec, env)]
    device = env.get("STUDIO_DEVICE", "auto").strip() or "auto"
    template = env.get("STUDIO_CHAT_TEMPLATE", "").strip().lower() or "falcon"
    places = dict(
        router=values.base_url(env, ROUTER_SETTING, ROUTER),
        hub=values.base_url(env, HUB_SETTING, HUB),
    )
    endpoints = {
        name: _resolve(
            spec,
            env,
            token,
            timeout,
            local=name in local,
            device=device,
            template=template,
            **places,
        )
        for name, spec in TASKS.items()
    }
    auth_text = flags.get("auth") or env.get("STUDIO_AUTH")
    keep_secret(auth_text.partition(":")[2] if auth_text else None, pieces=False)
    return Config(
        endpoints=MappingProxyType(endpoints),
        token=token,
        auth=values.parse_auth(auth_text) if auth_text else None,
        timeout=timeout,
        host=flags.get("host") or env.get("STUDIO_HOST", "127.0.0.1"),
        port=flags.get("port") or values.positive_int(env, "STUDIO_PORT", 7860, "a port"),
        share=bool(flags.get("share")),
        tabs=tuple(
            dict.fromkeys(TAB_ALIASES.get(n, n) for n in values.name_list(flags.get("tabs") or ""))
        ),
        per_tab_ports=bool(flags.get("per_tab_ports")),
        concurrency=flags.get("concurrency")
        or values.positive_int(env, "STUDIO_CONCURRENCY", 64, "requests at once"),
        max_image_side=values.positive_int(env, "STUDIO_MAX_IMAGE_SIDE", 1024, "pixels"),
        chat_template=template,
        chat_budget_chars=values.positive_int(
            env, "STUDIO_CHAT_BUDGET_CHARS", 24_000, "characters"
        ),
        allowed_hosts=tuple(values.name_list(env.get("STUDIO_ALLOWED_HOSTS", ""))),
        max_sessions=values.positive_int(env, "STUDIO_MAX_SESSIONS", 1000, "sessions"),
        mcp=bool(flags.get("mcp")) or values.switch(env, "STUDIO_MCP"),
        limits=_limits(env, flags),
        admin=_admin(env, flags),
        usage_prompts=bool(flags.get("usage_prompts"))
        or values.switch(env, "STUDIO_USAGE_PROMPTS"),
    )


LIMIT_SETTINGS = {  # Limits field: (environment variable, flag)
    "requests": ("STUDIO_LIMIT", "limit"),
    "images": ("STUDIO_IMAGE_LIMIT", "image_limit"),
    "chat_tokens": ("STUDIO_CHAT_TOKEN_LIMIT", "chat_token_limit"),
    "total": ("STUDIO_TOTAL_LIMIT", "total_limit"),
}


def _limits(env: Mapping[str, str], flags: Mapping[str, object]) -> Limits:
    rules = {}
    for name, (setting, flag) in LIMIT_SETTINGS.items():
        given = flags.get(flag)
        text = str(given) if given else env.get(setting, "")
        rules[name] = parse_rules(text, f"--{flag.replace('_', '-')}" if given else setting)
    limits = Limits(**rules)
    if not limits.on:
        return limits
    guard = env.get("STUDIO_NEW_SESSION_LIMIT", FLOOD_GUARD)
    return Limits(**rules, new_sessions=parse_rules(guard, "STUDIO_NEW_SESSION_LIMIT"))


def _admin(env: Mapping[str, str], flags: Mapping[str, object]) -> tuple[str, str] | None:
    text = flags.get("admin") or env.get("STUDIO_ADMIN")
    if not text:
        return None
    keep_secret(str(text).partition(":")[2], pieces=False)
    return values.parse_auth(str(text), "STUDIO_ADMIN and --admin")


def _resolve(
    spec: TaskSpec, env, token, timeout, *, local: bool, device: str, template: str, **places
) -> Endpoint:
    url = env.get(spec.url_setting, "").strip()
    chat_base = env.get(spec.chat_base_setting, "").strip() if spec.chat_base_setting else ""
    model = env.get(spec.model_setting, "").strip()
    common = dict(
        task=spec.name,
        model_setting=spec.model_setting,
        timeout=timeout,
        device=device,
        template=template,
        **places,
    )
    if local:
        return Endpoint(
            protocol="local",
            url="",
            model=model or spec.local_model,
            url_setting=spec.url_setting,
            **common,
        )
    if chat_base:  # an OpenAI-compatible server chosen for this task wins
        values.check_url(chat_base, spec.chat_base_setting)
        return Endpoint(
            protocol="openai",
            url=chat_base,
            model=model,  # none: the one the server lists (see backends.model_list)
            token=token,
            url_setting=spec.chat_base_setting,
            **common,
        )
    if url:
        values.check_url(url, spec.url_setting)
        return Endpoint(
            protocol=spec.url_protocol,
            url=url,
            model=model,
            token=token,
            url_setting=spec.url_setting,
            **common,
        )
    model = model or spec.default_model
    provider = _provider(env, spec)
    protocol, router_url = _on_router(spec, places["router"], model, provider)
    return Endpoint(
        protocol=protocol,
        url=router_url,
        model=model,
        token=token,
        url_setting=spec.url_setting,
        provider=provider,
        **common,
    )


def _provider(env: Mapping[str, str], spec: TaskSpec) -> str:
    """The Inference Provider a task asks on the router: HF's own unless the task may choose."""
    if not spec.provider_setting:
        return "hf-inference" if spec.router_protocol == "task" else ""
    return env.get(spec.provider_setting, "").strip().lower() or AUTO_PROVIDER


def _on_router(spec: TaskSpec, router: str, model: str, provider: str) -> tuple[str, str]:
    """The protocol and URL for a task on the router. HF's own provider speaks the task API at
    one URL per model; the others are reached through the providers backend."""
    if spec.router_protocol == "openai":
        return "openai", router + ROUTER_CHAT_PATH
    if provider == "hf-inference":
        return "task", router + ROUTER_TASK_PATH.format(model=model)
    return spec.router_protocol, router


def _tab_names(text: str) -> tuple[str, ...]:
    """The tabs named, in either spelling; checked against the app's tabs when it is built."""
    return tuple(dict.fromkeys(TAB_ALIASES.get(name, name) for name in values.name_list(text)))
