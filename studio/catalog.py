"""The task table: what the studio knows about each task, and nothing else (a leaf module).

Settings' names, default models on the router and on this computer, labels for messages. Every
other module reads these from here, so none of them needs another to know a task's names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

ROUTER = "https://router.huggingface.co"  # the default of STUDIO_ROUTER_URL
ROUTER_SETTING = "STUDIO_ROUTER_URL"
ROUTER_TASK_PATH = "/hf-inference/models/{model}"  # HF's own provider, the task API
ROUTER_CHAT_PATH = "/v1"  # OpenAI-compatible chat, every provider
HUB = "https://huggingface.co"  # the Hub's API (model info), as huggingface_hub reads HF_ENDPOINT
HUB_SETTING = "HF_ENDPOINT"
AUTO_PROVIDER = "auto"  # the provider the Hub maps the model to
TOKEN_SETTINGS = ("HF_TOKEN", "HF_API_KEY")
INSTALL_LOCAL = "pip install -r requirements-local.txt"
LOCAL_EXTRA_MISSING = (
    f"Running models on this computer needs the local extra: {INSTALL_LOCAL} "
    "(for a CPU-only machine, install a CPU build of torch first)."
)


@dataclass(frozen=True)
class TaskSpec:
    """What the studio knows about one task: its settings' names and default models."""

    name: str
    title: str
    label: str  # what the task is, in a sentence: "a summarization model"
    url_setting: str  # the course's name: a server for this task, used as given
    model_setting: str
    default_model: str  # served on the router today
    local_model: str  # the course's model, for the in-process backend
    url_protocol: str = "task"  # what a server in `url_setting` speaks: "task" or "tgi"
    router_protocol: str = "task"  # "task" (hf-inference), "openai" (chat) or "providers"
    chat_base_setting: str | None = None  # an OpenAI-compatible server for this task
    provider_setting: str | None = None  # which Inference Provider serves it on the router

    @property
    def own_server_setting(self) -> str:
        """The setting that points this task at a server of one's own."""
        return self.chat_base_setting or self.url_setting


TASKS: Mapping[str, TaskSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            TaskSpec(
                "summarize",
                "Summarize",
                "summarization",
                "HF_API_SUMMARY_BASE",
                "STUDIO_SUMMARY_MODEL",
                default_model="facebook/bart-large-cnn",
                local_model="sshleifer/distilbart-cnn-12-6",
            ),
            TaskSpec(
                "ner",
                "Entities",
                "token classification (NER)",
                "HF_API_NER_BASE",
                "STUDIO_NER_MODEL",
                default_model="dslim/bert-base-NER",
                local_model="dslim/bert-base-NER",
            ),
            TaskSpec(
                # Which BLIP models the router still serves is unconfirmed; vision chat models
                # are served by many providers, so the default asks one for a caption.
                "caption",
                "Caption",
                "image captioning",
                "HF_API_ITT_BASE",
                "STUDIO_CAPTION_MODEL",
                default_model="Qwen/Qwen2.5-VL-7B-Instruct",
                local_model="Salesforce/blip-image-captioning-base",
                router_protocol="openai",
                chat_base_setting="STUDIO_CAPTION_CHAT_BASE",
            ),
            TaskSpec(
                "image",
                "Imagine",
                "text-to-image",
                "HF_API_TTI_BASE",
                "STUDIO_IMAGE_MODEL",
                default_model="stabilityai/stable-diffusion-xl-base-1.0",
                local_model="stabilityai/sd-turbo",
                router_protocol="providers",
                provider_setting="STUDIO_IMAGE_PROVIDER",
            ),
            TaskSpec(
                "chat",
                "Chat",
                "chat",
                "HF_API_FALCOM_BASE",
                "STUDIO_CHAT_MODEL",
                default_model="Qwen/Qwen2.5-7B-Instruct",
                local_model="Qwen/Qwen2.5-0.5B-Instruct",
                url_protocol="tgi",
                router_protocol="openai",
                chat_base_setting="STUDIO_CHAT_BASE",
            ),
        )
    }
)

# What people type for a tab or a task, in either spelling: the Imagine tab runs the task
# "image", the Entities tab the task "ner", the game two tasks.
TAB_ALIASES: Mapping[str, str] = MappingProxyType({"image": "imagine", "entities": "ner"})
TASK_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"imagine": ("image",), "entities": ("ner",), "game": ("caption", "image")}
)
