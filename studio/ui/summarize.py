"""The Summarize tab."""

from __future__ import annotations

import functools
from collections.abc import Collection

import gradio as gr

from studio.config import Config
from studio.services import require_setup, summarize_text
from studio.tasks import summarize as task
from studio.tasks.text import finite_number
from studio.ui.common import notify_progress, setup_notice, shows_errors

EIFFEL = (
    "The tower is 324 metres (1,063 ft) tall, about the same height as an 81-storey building, "
    "and the tallest structure in Paris. Its base is square, measuring 125 metres (410 ft) on "
    "each side. During its construction, the Eiffel Tower surpassed the Washington Monument to "
    "become the tallest man-made structure in the world, a title it held for 41 years until the "
    "Chrysler Building in New York City was finished in 1930. It was the first structure to "
    "reach a height of 300 metres. Due to the addition of a broadcasting aerial at the top of "
    "the tower in 1957, it is now taller than the Chrysler Building by 5.2 metres (17 ft). "
    "Excluding transmitters, the Eiffel Tower is the second tallest free-standing structure in "
    "France after the Millau Viaduct."
)
PHOTOSYNTHESIS = (
    "Photosynthesis is the process by which green plants, algae and some bacteria turn light "
    "into chemical energy. Inside the chloroplasts, chlorophyll absorbs mostly blue and red "
    "light. That energy splits water molecules, releasing oxygen as a by-product, and drives "
    "the production of ATP and NADPH. In the Calvin cycle, the plant then uses these molecules "
    "to fix carbon dioxide from the air into sugars such as glucose, which it burns for energy "
    "or stores as starch. Nearly all the oxygen in Earth's atmosphere comes from "
    "photosynthesis, and almost every food chain starts with it."
)


@shows_errors
def summarize(
    config: Config, text: str, min_length: float | None = None, max_length: float | None = None
) -> str:
    """The summary; a text longer than the model reads is summarized in parts, and told so."""
    require_setup(config, "summarize")
    result = summarize_text(
        config.endpoint("summarize"),
        text,
        min_length=_whole(min_length, "Minimum length"),
        max_length=_whole(max_length, "Maximum length"),
        progress=notify_progress,
    )
    if result.pieces > 1:
        gr.Info(
            f"The text is longer than the model reads at once, so it was summarized in "
            f"{result.pieces} parts of about {task.WORDS_PER_PIECE} words, one paragraph "
            "of summary each."
        )
    return result.text


def build(config: Config, served: Collection[str] = ()) -> None:
    setup_notice(config, "summarize")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text to summarize", lines=10, max_lines=30)
            with gr.Accordion("Length (optional)", open=False):
                with gr.Row():
                    min_length = gr.Number(
                        label="Minimum length (tokens)",
                        value=None,
                        precision=0,
                        minimum=1,
                        maximum=task.LENGTH_LIMIT,
                    )
                    max_length = gr.Number(
                        label="Maximum length (tokens)",
                        value=None,
                        precision=0,
                        minimum=1,
                        maximum=task.LENGTH_LIMIT,
                    )
            button = gr.Button("Summarize", variant="primary")
        with gr.Column():
            summary = gr.Textbox(label="Summary", lines=10, buttons=["copy"])
    gr.Examples([[EIFFEL], [PHOTOSYNTHESIS]], inputs=[text], label="Examples")
    button.click(
        functools.partial(summarize, config),
        inputs=[text, min_length, max_length],
        outputs=summary,
        api_name="summarize",
    )


def _whole(value: float | None, what: str) -> int | None:
    number = finite_number(value, what)
    return int(number) if number else None
