"""Under every answer: its reproducibility card and "Show the code", both closed at first.

"Show the code" is one code box with a choice of language above it: every language's code of
the latest answer is kept in the page's state, and the choice shows one of them, so the panel
is as tall as one snippet whichever is read.

A tab puts `panel = code_panel("summarize")` under its result, adds `*panel.outputs` to its
page event's outputs, and returns `*panel_values(...)` after its own results. A tab whose answer
on screen changes before it is finished (the chat, the game) empties the panel when it starts
(`empty_panel()`), so that after Stop the panel never shows the answer before.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.backends.base import ChatRequest
from studio.chat.stats import ReplyStats
from studio.config import Config, Endpoint
from studio.services import with_model
from studio.snippets import GradioCall, Snippets, for_calls, for_chat
from studio.tasks.reproduce import Call, chat_card
from studio.ui.common import report

HINT = (
    "The request behind this answer, to copy and run. Set `HF_TOKEN` first "
    "(`export HF_TOKEN=hf_...`): the token is never shown."
)
LIBRARY = "Python with {name}"
UNWRITTEN = "The code behind this answer could not be written; the terminal says why."
NO_CODE = "# The code of the next answer shows here.\n"
CODE_LINES = 12  # the box's most lines before it scrolls: the page stays about a screen high


@dataclass(frozen=True)
class Language:
    snippet: str  # the field of studio.snippets.Snippets
    highlighting: str
    label: str  # the code box's label


# The languages "Show the code" offers, by the words of the choice.
LANGUAGES = {
    "Python (requests)": Language("requests", "python", "Python with requests"),
    "Python (library)": Language("library", "python", LIBRARY.format(name="huggingface_hub")),
    "curl": Language("curl", "shell", "curl, in a terminal"),
    "This studio's API": Language("gradio", "python", "This studio, with gradio_client"),
}
FIRST = next(iter(LANGUAGES))
PRIVATE = dict(queue=False, show_progress="hidden", api_visibility="private")


@dataclass(frozen=True)
class CodePanel:
    card: Any
    snippets: Any  # gr.State: the latest answer's code in every language (`values`)
    language: Any
    code: Any

    @property
    def outputs(self) -> list:
        """What an answer sets: its card and its code in every language; the box then shows
        the language chosen. The box itself is set only when the panel is emptied: a change
        of the state made by an instant event (queue=False) does not reach the box."""
        return [self.card, self.snippets, self.code]


def code_panel(tab: str) -> CodePanel:
    """The card and the code of a tab's latest answer; empty until there is one."""
    with gr.Accordion("Reproducibility card", open=False, elem_id=f"{tab}-card-panel"):
        card = gr.Textbox(
            label="How this answer was made",
            lines=8,
            max_lines=12,
            interactive=False,
            buttons=["copy"],
            elem_id=f"{tab}-card",
            elem_classes=["studio-card"],
        )
    snippets = gr.State({})
    with gr.Accordion("Show the code", open=False, elem_id=f"{tab}-code"):
        gr.Markdown(HINT)
        language = gr.Radio(
            list(LANGUAGES),
            value=FIRST,
            show_label=False,
            container=False,
            elem_id=f"{tab}-code-language",
        )
        code = gr.Code(
            NO_CODE,
            label=LANGUAGES[FIRST].label,
            language="python",
            interactive=False,
            buttons=["copy"],
            wrap_lines=True,
            lines=4,
            max_lines=CODE_LINES,
            elem_id=f"{tab}-code-shown",
            elem_classes=["studio-code"],
        )
    # Either change shows the chosen language's code of the latest answer.
    snippets.change(shown_code, [snippets, language], code, **PRIVATE)
    language.change(shown_code, [snippets, language], code, **PRIVATE)
    return CodePanel(card, snippets, language, code)


def shown_code(snippets: dict | None, language: str | None) -> gr.Code:
    """The code box for `language` (one of LANGUAGES) of the answer whose `snippets` these are."""
    chosen = LANGUAGES.get(language or "", LANGUAGES[FIRST])
    snippets = snippets or {}
    label = chosen.label
    if chosen.snippet == "library" and snippets.get("library_name"):
        label = LIBRARY.format(name=snippets["library_name"])
    text = snippets.get(chosen.snippet) or NO_CODE
    return gr.Code(text, label=label, language=chosen.highlighting)


def studio_url(config: Config) -> str:
    """Where this studio answers, as a client on this computer reaches it."""
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    return f"http://{host}:{config.port}/"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def api_call(
    endpoint: Endpoint, api_name: str, args: Sequence[Any], model: str | None
) -> tuple[str, list]:
    """The API call that makes an answer again: `api_name` with `args`, or, when the person
    picked another model than the configured one, its `_with_model` name with the model last
    (the published names keep the inputs they were published with)."""
    chosen = (model or "").strip()
    if chosen and chosen != endpoint.model:
        return f"{api_name}_with_model", [*args, chosen]
    return api_name, list(args)


def panel_values(
    config: Config,
    title: str,
    calls: Sequence[Call],
    api_name: str,
    args: Sequence[Any],
    **options: Any,
) -> tuple:
    """The panel's values for an answer made by `calls`, and the API call that makes it again.
    `options`: `settings` for the card, `stream` and `picture` for the gradio_client call."""
    settings = options.pop("settings", "")
    gradio = GradioCall(
        api_name, list(args), url=studio_url(config), login=bool(config.auth), **options
    )
    try:
        snippets = for_calls(title, calls, gradio, settings=settings, when=now())
    except Exception as exc:  # the answer stands even if its code cannot be written
        report(exc, "show the code")
        return (UNWRITTEN, {}, gr.skip())
    return values(snippets)


def chat_shown(
    config: Config,
    request: ChatRequest,
    stats: ReplyStats,
    message: str,
    *controls: Any,
    model: str | None = None,
) -> tuple:
    """The panel's values for a chat reply, for the Chat tab: `request` as `prepare` built it,
    `stats` the reply's (its final update's), `message` the person's, `controls` the /chat API's
    settings in its order (system prompt, temperature, top-p, max new tokens, repetition
    penalty, seed). The gradio_client call sends the last message only: a new Client starts a
    new conversation. `model`: the one the person picked (None: the configured one), which
    /chat_with_model takes."""
    configured = config.endpoint("chat")
    endpoint = with_model(configured, model)
    api_name, args = api_call(configured, "/chat", [message, *controls], model)
    while api_name == "/chat" and args[-1] is None:  # a seed left empty: left out
        args.pop()
    login = bool(config.auth)
    gradio = GradioCall(api_name, args, url=studio_url(config), stream=True, login=login)
    card = chat_card(
        endpoint,
        request.body,
        time_to_first_token=stats.time_to_first_token,
        tokens=stats.tokens,
        seconds=stats.seconds,
        finish_reason=stats.finish_reason,
        notes=(*request.notes, *stats.notes),
        when=now(),
    )
    try:
        snippets = for_chat(endpoint, request, gradio)
    except Exception as exc:  # the reply stands even if its code cannot be written
        report(exc, "show the code")
        return (card, {}, gr.skip())
    return values(dataclasses.replace(snippets, card=card))


def values(snippets: Snippets) -> tuple:
    """The panel's outputs for an answer: its card, and its code in every language."""
    kept = dataclasses.asdict(snippets)
    kept.pop("card")
    kept["library_name"] = snippets.library_name or "huggingface_hub"
    return (snippets.card, kept, gr.skip())


def empty_panel() -> tuple:
    """The panel of no answer: no card, no code."""
    return ("", {}, NO_CODE)
