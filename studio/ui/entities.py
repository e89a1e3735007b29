"""The Entities tab: named entities marked in the text with their types, and as a table."""

from __future__ import annotations

import functools
import html
from collections.abc import Collection

import gradio as gr

from studio.classroom.usage import Caller, Meter
from studio.config import Config
from studio.errors import InputError
from studio.services import find_entities as entities_in
from studio.services import require_setup
from studio.tasks.entities import Entity, segments
from studio.tasks.text import checked_text
from studio.ui.code_panel import code_panel, panel_values
from studio.ui.common import notify_progress, setup_notice, shows_errors
from studio.ui.look import in_view_on_phone
from studio.ui.status_line import status_line
from studio.ui.stop import stop_button, stop_control
from studio.ui.waiting import api_event, page_event, time_limit

# Each type's colour, from a palette that stays apart for colour-blind eyes and on a
# projector, and its name, written beside each entity so colour is never the only clue.
TYPES = {
    "PER": ("person", "#e69f00"),
    "ORG": ("organisation", "#56b4e9"),
    "LOC": ("place", "#009e73"),
    "MISC": ("other name", "#cc79a7"),
}
COLORS = {kind: colour for kind, (_, colour) in TYPES.items()}
NONE_FOUND = (
    "No entities found: the model sees no people, organisations, places or other names in "
    "this text."
)
EXAMPLES = [
    "My name is Andrew, I'm building DeepLearningAI and I live in California",
    "Angela Merkel met Emmanuel Macron in Zürich before flying to 東京 with Lufthansa.",
    "New York City hired Hugging Face to help the United Nations translate documents.",
]
COLUMNS = ["Entity", "Type", "Score", "Start", "End"]
# NER models read about 512 tokens at once; the hosted service cuts the rest silently.
MAX_CHARS = 10_000


def entities_of(
    config: Config, text: str, calls: list | None = None, caller: Caller | None = None
) -> tuple[list, list[Entity]]:
    """The text as highlighted pieces, and the entities for the table; asked for `caller`."""
    if not checked_text(text, "The text", limit=MAX_CHARS):
        raise InputError("Type or paste some text to find entities in.")
    require_setup(config, "ner")
    endpoint = config.endpoint("ner")
    found = entities_in(endpoint, text, progress=notify_progress, calls=calls, caller=caller)
    return segments(text, found), found


@shows_errors
def find_entities(
    config: Config, text: str, *, caller: Caller | None = None
) -> tuple[list, list[Entity]]:
    """Find the named entities in a text: people (PER), organisations (ORG), places (LOC) and
    other names (MISC), with a token-classification model (BERT NER by default).

    The API's /ner and the MCP tool ner (the entities go to a State nobody reads).

    Args:
        text: the text to search, up to 10,000 characters

    Returns:
        the text cut into pieces, each with its entity type (PER, ORG, LOC, MISC) or none
    """
    return entities_of(config, text, caller=caller)


def entity_rows(found: list[Entity]) -> list[list]:
    return [[e.text, e.type, round(e.score, 3), e.start, e.end] for e in found]


def entities_view(
    config: Config, text: str, calls: list | None = None, caller: Caller | None = None
) -> tuple[str, list[list]]:
    """The page's view: the text with each entity marked and its type written beside it, then
    one legend, or a plain sentence when there is none; and the table's rows."""
    pieces, found = entities_of(config, text, calls, caller)
    if not found:
        return f"<p class='no-entities' role='status'>{NONE_FOUND}</p>", []
    marked = "".join(_piece(piece, kind) for piece, kind in pieces)
    kinds = [kind for kind in TYPES if any(e.type == kind for e in found)]
    kinds += sorted({e.type for e in found} - set(TYPES))
    legend = " ".join(_legend_item(kind) for kind in kinds)
    return (
        f"<div class='entities-text'>{marked}</div>"
        f"<div class='entity-legend' aria-label='Entity types'>{legend}</div>",
        entity_rows(found),
    )


def entities_with_code(config: Config, text: str, *, caller: Caller | None = None) -> tuple:
    """The page's view, then its card and code."""
    calls: list = []
    view = entities_view(config, text, calls, caller)
    return (*view, *panel_values(config, "Entities", calls, "/ner", [text]))


def _piece(piece: str, kind: str | None) -> str:
    text = html.escape(piece)
    if kind is None:
        return text
    name, colour = TYPES.get(kind, (kind.lower(), "#999999"))
    return (
        f"<mark class='entity' style='--entity-colour: {colour}' data-type='{html.escape(kind)}'>"
        f"<span class='entity-text'>{text}</span>"
        f"<span class='entity-type'>{html.escape(name)}</span></mark>"
    )


def _legend_item(kind: str) -> str:
    name, colour = TYPES.get(kind, (kind.lower(), "#999999"))
    return (
        f"<span class='legend-item' style='--entity-colour: {colour}'>"
        f"<b>{html.escape(kind)}</b> {html.escape(name)}</span>"
    )


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    setup_notice(config, "ner")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text to find entities in", lines=5, max_lines=20)
            with gr.Row():
                button = gr.Button("Find entities", variant="primary", scale=2)
                stop = stop_control(scale=1, elem_id="entities-stop")
                clear = gr.ClearButton(scale=1)
            status = status_line("entities")
        with gr.Column():
            gr.Markdown("**Entities**")
            marked = gr.HTML("", elem_id="entities-highlighted", padding=True)
    table = gr.Dataframe(
        headers=COLUMNS, label="Entity list", interactive=False, wrap=True, elem_id="entities-table"
    )
    panel = code_panel("entities")
    gr.Examples([[example] for example in EXAMPLES], inputs=[text], label="Examples")
    clear.add([text, marked, table, status, *panel.outputs])
    finding = page_event(
        [button.click],
        functools.partial(entities_with_code, config),
        [text],
        [marked, table, *panel.outputs],
        status,
        doing="Finding entities",
        limit=time_limit(config, "ner"),
        meter=meter,
        stop=stop,
    )
    stop_button(stop, [finding], status)
    in_view_on_phone(marked)
    # The API's /ner answers highlighted text, as it always did.
    highlighted = gr.HighlightedText(
        label="Entities", color_map=COLORS, combine_adjacent=False, visible=False
    )
    api_event(
        functools.partial(find_entities, config),
        text,
        [highlighted, gr.State([])],
        api_name="ner",
        meter=meter,
    )
