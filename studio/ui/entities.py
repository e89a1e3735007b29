"""The Entities tab: named entities as highlighted text, and as a table."""

from __future__ import annotations

import functools
from collections.abc import Collection

import gradio as gr

from studio.config import Config
from studio.errors import InputError
from studio.services import find_entities as entities_in
from studio.services import require_setup
from studio.tasks.entities import Entity, segments
from studio.tasks.text import checked_text
from studio.ui.common import notify_progress, setup_notice, shows_errors

COLORS = {"PER": "#f4a261", "ORG": "#2a9d8f", "LOC": "#8ab17d", "MISC": "#b392ac"}
LEGEND = "PER person · ORG organisation · LOC location · MISC other names"
EXAMPLES = [
    "My name is Andrew, I'm building DeepLearningAI and I live in California",
    "Angela Merkel met Emmanuel Macron in Zürich before flying to 東京 with Lufthansa.",
    "New York City hired Hugging Face to help the United Nations translate documents.",
]
COLUMNS = ["Entity", "Type", "Score", "Start", "End"]
# NER models read about 512 tokens at once; the hosted service cuts the rest silently.
MAX_CHARS = 10_000


@shows_errors
def find_entities(config: Config, text: str) -> tuple[list, list[Entity]]:
    """The text as highlighted pieces, and the entities for the table."""
    if not checked_text(text, "The text", limit=MAX_CHARS):
        raise InputError("Type or paste some text to find entities in.")
    require_setup(config, "ner")
    found = entities_in(config.endpoint("ner"), text, progress=notify_progress)
    return segments(text, found), found


def entity_rows(found: list[Entity]) -> list[list]:
    return [[e.text, e.type, round(e.score, 3), e.start, e.end] for e in found]


def build(config: Config, served: Collection[str] = ()) -> None:
    setup_notice(config, "ner")
    entities = gr.State([])
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text to find entities in", lines=5, max_lines=20)
            button = gr.Button("Find entities", variant="primary")
        with gr.Column():
            highlighted = gr.HighlightedText(
                label="Entities",
                show_legend=True,
                color_map=COLORS,
                combine_adjacent=False,
                elem_id="entities-highlighted",
            )
            gr.Markdown(LEGEND)
    table = gr.Dataframe(
        headers=COLUMNS, label="Entity list", interactive=False, wrap=True, elem_id="entities-table"
    )
    gr.Examples([[example] for example in EXAMPLES], inputs=[text], label="Examples")

    # The API returns only the highlighted text; the table follows from the state, privately.
    button.click(
        functools.partial(find_entities, config),
        inputs=text,
        outputs=[highlighted, entities],
        api_name="ner",
    ).success(entity_rows, inputs=entities, outputs=table, api_visibility="private")
