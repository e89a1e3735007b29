"""The task and tab tables: what the studio knows about each task and each tab (a leaf module).

Tasks: settings' names, default models on the router and on this computer, labels for messages.
Tabs: their names, titles and the tasks they use, and the other names people type for them. The
app, the check, the banner, the command line and the code snippets read them here, so none of
them needs another to know a task's or a tab's names. Which server a task's setting points at
is the backends' business (`studio.backends.registry`), not this table's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

ROUTER = "https://router.huggingface.co"  # the default of STUDIO_ROUTER_URL
ROUTER_SETTING = "STUDIO_ROUTER_URL"
HF_INFERENCE = "hf-inference"  # HF's own Inference Provider
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
    answer: str  # what it answers, for people: "the summary"
    # The Inference Provider that serves it on the router: "" lets the router's chat API choose
    # one; a task with a `provider_setting` takes that setting's value (default: auto).
    router_provider: str = HF_INFERENCE
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
                answer="the summary",
            ),
            TaskSpec(
                "ner",
                "Entities",
                "token classification (NER)",
                "HF_API_NER_BASE",
                "STUDIO_NER_MODEL",
                default_model="dslim/bert-base-NER",
                local_model="dslim/bert-base-NER",
                answer="the entities",
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
                answer="the caption",
                router_provider="",
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
                answer="the picture",
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
                answer="the reply",
                router_provider="",
                chat_base_setting="STUDIO_CHAT_BASE",
            ),
        )
    }
)


@dataclass(frozen=True)
class TabSpec:
    """One tab of the app: its name (for --tabs and --local), its title, the tasks whose
    endpoints it uses, and the other names people may type for it."""

    name: str
    title: str
    tasks: tuple[str, ...]
    aliases: tuple[str, ...] = ()


TABS: Mapping[str, TabSpec] = MappingProxyType(
    {
        tab.name: tab
        for tab in (
            TabSpec("summarize", "Summarize", ("summarize",)),
            TabSpec("ner", "Entities", ("ner",), aliases=("entities",)),
            TabSpec("caption", "Caption", ("caption",)),
            TabSpec("imagine", "Imagine", ("image",), aliases=("image",)),
            TabSpec("game", "Describe and generate", ("caption", "image")),
            TabSpec("chat", "Chat", ("chat",)),
            TabSpec("next_word", "Next word", ("chat",), aliases=("next-word", "nextword")),
            TabSpec("compare", "Compare", ("chat", "image")),
            # the class wall: the teacher's round asks the chat model, a student's picture paints
            TabSpec("wall", "Class", ("chat", "image"), aliases=("class",)),
        )
    }
)
_ALIASES = {alias: tab.name for tab in TABS.values() for alias in tab.aliases}


def tab_named(name: str) -> TabSpec:
    """The tab people mean by `name`, in either spelling ("image" is the Imagine tab)."""
    tab = TABS.get(_ALIASES.get(name, name))
    if tab is None:
        raise ValueError(f"Unknown tab {name}; the tabs are {', '.join(TABS)}.")
    return tab


def tasks_named(name: str) -> tuple[str, ...]:
    """The tasks a tab's or a task's name means: the game plays caption and image."""
    if name in TASKS:
        return (name,)
    return tab_named(name).tasks


def tasks_of(tabs: Iterable[str]) -> list[str]:
    """The tasks the tabs named use, each once, in the task table's order."""
    wanted = {task for name in tabs for task in TABS[name].tasks}
    return [task for task in TASKS if task in wanted]
