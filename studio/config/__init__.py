"""Configuration: read once at start from the environment, a `.env` file and flags; then frozen.

Each task resolves to one `Endpoint`: where to send requests, through which backend, with which
model. This module reads the settings; which backend a setting selects is for the backends to
say (`studio.backends.registry`). Resolution, per task:
  1. the task is chosen to run locally (`--local`, `STUDIO_LOCAL`)  -> the in-process backend
  2. a server setting of the task is set (the course's URL names,  -> that URL, used as given
     a chat base URL)
  3. otherwise the Hugging Face router (`STUDIO_ROUTER_URL`) with the task's model setting,
     through the task's Inference Provider (for text to image, the one `STUDIO_IMAGE_PROVIDER`
     names; by default the one the Hub maps the model to)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from studio.backends import registry
from studio.catalog import (
    AUTO_PROVIDER,
    HUB,
    HUB_SETTING,
    ROUTER,
    ROUTER_SETTING,
    TASKS,
    TOKEN_SETTINGS,
    TaskSpec,
    tab_named,
)
from studio.classroom.limits import FLOOD_GUARD, Limits, parse_rules
from studio.config import values
from studio.endpoint import Endpoint
from studio.errors import ConfigurationError
from studio.secrets import keep_secret

__all__ = ["Config", "Endpoint", "load_config", "read_environment"]

ON = ("1", "true", "yes", "on")  # HF_HUB_OFFLINE, read as huggingface_hub reads it


@dataclass(frozen=True)
class Config:
    """Everything the studio was told at start. The token and the time limit are in each task's
    `Endpoint`, with the rest of what its requests need."""

    endpoints: Mapping[str, Endpoint]
    auth: tuple[str, str] | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    tabs: tuple[str, ...] = ()  # empty: every tab
    per_tab_ports: bool = False
    concurrency: int = 100  # a class of 100 on one event at once, with no flag
    max_image_side: int = 1024  # long side of an image sent upstream
    chat_budget_chars: int = 24_000  # conversation kept per request, oldest turns dropped first
    allowed_hosts: tuple[str, ...] = ()  # names served besides the defaults (classroom.hosts)
    max_sessions: int = 1000  # Gradio sessions kept in memory; the oldest unused go first
    mcp: bool = False  # also serve the tabs' API as MCP tools (studio.classroom.mcp_tools)
    limits: Limits = Limits()  # none by default (studio.classroom.limits)
    admin: tuple[str, str] | None = field(default=None, repr=False)  # the usage view's login
    usage_prompts: bool = False  # the usage view shows what was asked
    # several replicas as one studio (docs/deploy.md): where they keep their counts ("": in
    # this process's memory), and the path prefix a reverse proxy serves the studio under
    redis_url: str = field(default="", repr=False)
    root_path: str = ""

    def endpoint(self, task: str) -> Endpoint:
        return self.endpoints[task]

    @property
    def has_token(self) -> bool:
        """Whether an access token was given: requests then spend its credits."""
        return any(endpoint.token for endpoint in self.endpoints.values())


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
    local_setting = "--local" if flags.get("local") else "STUDIO_LOCAL"
    chosen = flags.get("local") or env.get("STUDIO_LOCAL", "")
    local = values.task_list(chosen, local_setting)
    if local_extra and not token and not chosen:
        local = [name for name in TASKS if not _server_set(name, env)]
    common = dict(
        token=token,
        timeout=values.positive_float(env, "STUDIO_TIMEOUT", 60.0),
        device=env.get("STUDIO_DEVICE", "auto").strip() or "auto",
        offline=env.get("HF_HUB_OFFLINE", "").strip().lower() in ON,
        template=env.get("STUDIO_CHAT_TEMPLATE", "").strip().lower() or "falcon",
        router=values.base_url(env, ROUTER_SETTING, ROUTER),
        hub=values.base_url(env, HUB_SETTING, HUB),
        local_extra=local_extra,
    )
    endpoints = {
        name: _resolve(spec, env, local=name in local, **common) for name, spec in TASKS.items()
    }
    auth_text = flags.get("auth") or env.get("STUDIO_AUTH")
    keep_secret(auth_text.partition(":")[2] if auth_text else None, pieces=False)
    return Config(
        endpoints=MappingProxyType(endpoints),
        auth=values.parse_auth(auth_text) if auth_text else None,
        host=flags.get("host") or env.get("STUDIO_HOST", "127.0.0.1"),
        port=flags.get("port") or values.positive_int(env, "STUDIO_PORT", 7860, "a port"),
        share=bool(flags.get("share")),
        tabs=_tabs(flags.get("tabs") or ""),
        per_tab_ports=bool(flags.get("per_tab_ports")),
        concurrency=flags.get("concurrency")
        or values.positive_int(env, "STUDIO_CONCURRENCY", 100, "requests at once"),
        max_image_side=values.positive_int(env, "STUDIO_MAX_IMAGE_SIDE", 1024, "pixels"),
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
        redis_url=values.store_url(env, "STUDIO_REDIS_URL"),
        root_path=values.root_path(flags.get("root_path") or env.get("STUDIO_ROOT_PATH", "")),
    )


def _tabs(text: str) -> tuple[str, ...]:
    """The tabs --tabs names, in either spelling; an unknown one is refused here."""
    try:
        return tuple(dict.fromkeys(tab_named(name).name for name in values.name_list(text)))
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


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


def _server_set(task: str, env: Mapping[str, str]) -> bool:
    """Whether a setting points `task` at a server of one's own."""
    return any(env.get(setting, "").strip() for setting, _ in registry.server_settings(task))


def _resolve(spec: TaskSpec, env: Mapping[str, str], *, local: bool, **common) -> Endpoint:
    model = env.get(spec.model_setting, "").strip()
    common |= dict(task=spec.name, model_setting=spec.model_setting)
    if local:
        backend = registry.in_process(spec.name)
        return Endpoint(
            protocol=backend.caps.protocol,
            url="",
            model=model or spec.local_model,
            url_setting=spec.url_setting,
            **common,
        )
    for setting, backend in registry.server_settings(spec.name):
        url = env.get(setting, "").strip()
        if url:
            values.check_url(url, setting)
            return Endpoint(
                protocol=backend.caps.protocol,
                url=url,
                model=model,  # none: the one the server lists (see backends.model_list)
                url_setting=setting,
                **common,
            )
    model = model or spec.default_model
    provider = spec.router_provider
    if spec.provider_setting:
        provider = env.get(spec.provider_setting, "").strip().lower() or AUTO_PROVIDER
    backend = registry.on_router(spec.name, provider)
    return Endpoint(
        protocol=backend.caps.protocol,
        url=common["router"] + backend.caps.router.path.format(model=model),
        model=model,
        url_setting=spec.url_setting,
        provider=provider,
        **common,
    )
