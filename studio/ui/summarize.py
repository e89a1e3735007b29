"""The Summarize tab."""

from __future__ import annotations

import functools
from collections.abc import Collection

import gradio as gr

from studio.classroom.usage import Caller, Meter
from studio.config import Config
from studio.services import require_setup, summarize_text
from studio.tasks import summarize as task
from studio.ui.code_panel import code_panel, panel_values
from studio.ui.common import notify_progress, setup_notice, shows_errors
from studio.ui.look import in_view_on_phone
from studio.ui.status_line import status_line
from studio.ui.stop import stop_button, stop_control
from studio.ui.waiting import api_event, page_event, time_limit

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


def summary(
    config: Config,
    text: str,
    min_length: object = None,
    max_length: object = None,
    calls: list | None = None,
    caller: Caller | None = None,
) -> str:
    """The summary; a text longer than the model reads is summarized in parts, and told so.
    The lengths are numbers, text typed in a box, or empty; `calls` hears of each request, made
    for `caller`."""
    shortest, longest = task.read_lengths(min_length, max_length)
    require_setup(config, "summarize")
    result = summarize_text(
        config.endpoint("summarize"),
        text,
        min_length=shortest,
        max_length=longest,
        progress=notify_progress,
        calls=calls,
        caller=caller,
    )
    if result.pieces > 1:
        gr.Info(
            f"The text is longer than the model reads at once, so it was summarized in "
            f"{result.pieces} parts of about {task.WORDS_PER_PIECE} words, one paragraph "
            "of summary each."
        )
    return result.text


def summary_with_code(
    config: Config, text: str, min_length=None, max_length=None, *, caller: Caller | None = None
) -> tuple:
    """The page's summary, then its card and code."""
    calls: list = []
    answer = summary(config, text, min_length, max_length, calls, caller)
    lengths = task.read_lengths(min_length, max_length)
    args = [text, *lengths] if any(lengths) else [text]
    return answer, *panel_values(config, "Summary", calls, "/summarize", args)


@shows_errors
def summarize(
    config: Config,
    text: str,
    min_length: float | None = None,
    max_length: float | None = None,
    *,
    caller: Caller | None = None,
) -> str:
    """Summarize an English text with a summarization model (BART by default); a text longer
    than the model reads at once is summarized in parts, one paragraph each.

    The API's /summarize (and the MCP tool summarize): the summary, or the full message of what
    went wrong.

    Args:
        text: the text to summarize, in English, up to a few thousand words
        min_length: the shortest summary, in tokens (1 to 1024); empty: the model's default
        max_length: the longest summary, in tokens (1 to 1024); empty: the model's default

    Returns:
        the summary, as plain text
    """
    return summary(config, text, min_length, max_length, caller=caller)


def length_box(label: str) -> gr.Textbox:
    """A length that starts empty (a number box cannot), so the model's default applies."""
    return gr.Textbox(
        label=label,
        info=f"In tokens, pieces of words: 100 are about 75 words. 1 to {task.LENGTH_LIMIT}.",
        placeholder="empty: the model's default",
        max_lines=1,
        elem_classes=["length-box"],
    )


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    setup_notice(config, "summarize")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text to summarize", lines=10, max_lines=30)
            with gr.Accordion("Length (optional)", open=False):
                with gr.Row():
                    min_length = length_box("Minimum length")
                    max_length = length_box("Maximum length")
            with gr.Row():
                button = gr.Button("Summarize", variant="primary", scale=2)
                stop = stop_control(scale=1, elem_id="summarize-stop")
                clear = gr.ClearButton(scale=1)
            status = status_line("summarize")
        with gr.Column():
            summary_box = gr.Textbox(label="Summary", lines=10, buttons=["copy"], elem_id="summary")
            panel = code_panel("summarize")
    gr.Examples([[EIFFEL], [PHOTOSYNTHESIS]], inputs=[text], label="Examples")
    clear.add([text, min_length, max_length, summary_box, status, *panel.outputs])
    summarizing = page_event(
        [button.click],
        functools.partial(summary_with_code, config),
        [text, min_length, max_length],
        [summary_box, *panel.outputs],
        status,
        doing="Summarizing",
        limit=time_limit(config, "summarize"),
        meter=meter,
        stop=stop,
    )
    stop_button(stop, [summarizing], status)
    in_view_on_phone(summary_box)
    # The API's lengths are numbers, as they always were; the page's boxes are text. Not
    # preprocessed: Gradio's rounding fails on NaN with no message, the lengths' rule says which.
    api_lengths = [
        gr.Number(label=label, precision=0, minimum=1, maximum=task.LENGTH_LIMIT, visible=False)
        for label in ("Minimum length (tokens)", "Maximum length (tokens)")
    ]
    api_event(
        functools.partial(summarize, config),
        [text, *api_lengths],
        summary_box,
        api_name="summarize",
        meter=meter,
        preprocess=False,
    )
