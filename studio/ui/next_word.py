"""The Next word tab: a sentence's start, its top next tokens as bars, temperature and top-p
reshaping them, and a token picked and appended, step by step.

Asking is one request for one token with its alternatives (studio.chat.next_word). Moving a
slider redraws the bars from the probabilities already in the page's state, in an event that
asks no server (studio.tasks.next_word), so a class sees the bars move as the slider does.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import random
from collections.abc import Collection, Sequence
from typing import Any

import gradio as gr

from studio.backends.base import ChatRequest
from studio.chat.next_word import next_tokens
from studio.classroom.usage import Caller, Meter
from studio.config import Config, Endpoint
from studio.errors import InputError
from studio.services import require_setup
from studio.snippets import GradioCall, for_chat
from studio.tasks import next_word as task
from studio.tasks.continue_reply import continued_text
from studio.tasks.reproduce import Card, endpoint_lines, parameters_text
from studio.ui.code_panel import code_panel, empty_panel, now, studio_url, values
from studio.ui.common import report, setup_notice, shows_errors, slider
from studio.ui.status_line import status_line
from studio.ui.waiting import api_event, page_event, time_limit

START = "The best thing about a rainy day is"
EMPTY = "<p class='next-word-empty'>Type the start of a sentence and show its next words.</p>"


def found(config: Config, text: object, *, caller: Caller | None = None) -> tuple[dict, Any]:
    """The state the page keeps (the start, its top next tokens, and how to append one), and
    the request that asked for them."""
    require_setup(config, "chat")
    tokens = next_tokens(config.endpoint("chat"), text, caller=caller)
    choices = [list(choice) for choice in tokens.choices]
    return {"text": text, "choices": choices, "exact": tokens.exact}, tokens.request


def bars_of(state: dict | None, temperature: object, top_p: object) -> list[task.Bar]:
    """The bars for the state's tokens at these settings (none before anything was asked)."""
    cold, nucleus = read_settings(temperature, top_p)
    choices = [(str(token), float(logprob)) for token, logprob in (state or {}).get("choices", [])]
    return task.reshaped(choices, cold, nucleus)


def read_settings(temperature: object, top_p: object) -> tuple[float, float]:
    """Temperature and top-p by their rules, before anything is asked: a bad value costs no
    request."""
    return task.TEMPERATURE.read(temperature), task.TOP_P.read(top_p)


def redrawn(state: dict | None, temperature: object, top_p: object) -> str:
    """The bars again at new settings: no request, only the numbers already received."""
    try:
        return bars_html(bars_of(state, temperature, top_p))
    except InputError as exc:  # a value typed into a slider's box, out of its range
        return f"<p class='next-word-empty'>{html.escape(exc.message)}</p>"


def shown(config: Config, text, temperature, top_p, *, caller: Caller | None = None) -> tuple:
    """The page's answer to "Show the next words": the state, its bars, and the card and code
    of the request (the same /next_words call in gradio_client)."""
    read_settings(temperature, top_p)
    state, request = found(config, text, caller=caller)
    bars = bars_of(state, temperature, top_p)
    return state, bars_html(bars), *code_of(config, request, [text, temperature, top_p])


def code_of(config: Config, request: ChatRequest, args: list) -> tuple:
    """The code panel's values: the request as sent, and the /next_words call that makes it."""
    endpoint = config.endpoint("chat")
    gradio = GradioCall("/next_words", args, url=studio_url(config), login=bool(config.auth))
    try:
        snippets = for_chat(endpoint, request, gradio)
    except Exception as exc:  # the bars stand even if their code cannot be written
        report(exc, "show the code")
        return empty_panel()
    return values(dataclasses.replace(snippets, card=card_of(endpoint, request)))


def card_of(endpoint: Endpoint, request: ChatRequest) -> str:
    """How the bars were made: where, and the request's settings as sent."""
    sent = request.body.get("parameters") or request.body
    settings = {k: v for k, v in sent.items() if k not in ("model", "messages", "inputs")}
    lines = [("Answer", "Next words: one token and its likeliest alternatives")]
    lines += [*endpoint_lines(endpoint), ("Parameters", parameters_text(settings))]
    if request.notes:
        lines.append(("Notes", " ".join(request.notes)))
    return Card([*lines, ("Made at", now())]).text()


def step(
    config: Config, how: str, text, state, temperature, top_p, *, caller: Caller | None = None
) -> tuple:
    """One step: a token chosen from the bars shown (`how`: "pick" samples, "most likely"
    takes the top one), appended to the text, and the next words of the longer text asked."""
    bars = bars_of(state, temperature, top_p)
    chosen = task.pick(bars, random.random) if how == "pick" else task.most_likely(bars)
    # The bars belong to the text they were asked for, even if the box was edited since.
    longer = continued_text(state["text"], chosen.token, exact=state["exact"])
    return longer, *shown(config, longer, temperature, top_p, caller=caller)


@shows_errors
def next_words(
    config: Config,
    text: str,
    temperature: float | None = None,
    top_p: float | None = None,
    *,
    caller: Caller | None = None,
) -> dict:
    """The words a chat model finds likeliest to come next after the start of a sentence,
    with their probabilities and their chances of being picked at this temperature and top-p
    (one request for one token; the chances are shares among the words returned).

    The API's /next_words (and the MCP tool next_words).

    Args:
        text: the start of a sentence, as typed (a space at its end matters)
        temperature: 0 to 2; 0 always takes the likeliest word, 1 keeps the model's own odds
        top_p: 0.05 to 1; keep the fewest likeliest words whose chances add up to this

    Returns:
        {"text", "words": [{"token", "probability", "chance", "kept"}]}, likeliest first;
        "kept" is false for the words the top-p cut leaves out
    """
    read_settings(temperature, top_p)
    state, _ = found(config, text, caller=caller)
    words = [bar.__dict__ for bar in bars_of(state, temperature, top_p)]
    return {"text": text, "words": words}


def bars_html(bars: Sequence[task.Bar]) -> str:
    """One row per token: its text, a bar as long as its chance, the percentage in words, and
    the model's own probability; a dashed line where top-p cuts, the cut rows hatched and
    marked "cut" (not told by colour alone)."""
    if not bars:
        return EMPTY
    rows = []
    for i, bar in enumerate(bars):
        if not bar.kept and (i == 0 or bars[i - 1].kept):
            rows.append(
                "<div class='next-word-cut'>top-p cut: the words below are never picked</div>"
            )
        rows.append(_row(bar))
    return f"<div class='next-word-bars' role='list'>{''.join(rows)}</div>"


def _row(bar: task.Bar) -> str:
    token = html.escape(task.shown_token(bar.token))
    chance = f"{bar.chance:.0%}" if bar.kept else "cut"
    width = 100 * (bar.chance if bar.kept else bar.probability)
    fill = "next-word-fill" if bar.kept else "next-word-fill next-word-hatched"
    return (
        f"<div class='next-word-row' role='listitem' data-token='{html.escape(bar.token)}' "
        f"data-chance='{bar.chance:.4f}'>"
        f"<code class='next-word-token'>{token}</code>"
        f"<span class='next-word-track'><span class='{fill}' style='width:{width:.1f}%'>"
        "</span></span>"
        f"<b class='next-word-chance'>{chance}</b>"
        f"<span class='next-word-model'>model {bar.probability:.1%}</span></div>"
    )


# Thick bars and large type for a projector; the cut rows hatched, so print and colour-blind eyes
# tell them apart without the colour.
CSS = """
.next-word-row { display: grid; gap: .5em; align-items: center; margin: .25em 0;
  grid-template-columns: minmax(3em, 9em) minmax(3em, 1fr) 3.5em minmax(0, 7em); font-size: 1.1em; }
.next-word-token { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.next-word-track { background: #e5e7eb; height: 1.4em; border-radius: 3px; overflow: hidden; }
.next-word-fill { display: block; height: 100%; background: #1d4ed8; }
.next-word-hatched { background: repeating-linear-gradient(45deg, #9ca3af 0 4px, #f3f4f6 4px 8px); }
.next-word-cut { border-top: 3px dashed #b91c1c; margin: .4em 0; padding-top: .2em;
  font-size: .9em; }
.next-word-model { font-size: .85em; opacity: .8; }
"""


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    setup_notice(config, "chat")
    gr.HTML(f"<style>{CSS}</style>", padding=False)
    text, show, pick, top, temperature, top_p, status, bars = layout()
    panel = code_panel("next_word")
    state = gr.State(None)
    limit = time_limit(config, "chat")
    page_event(
        [show.click, text.submit],
        functools.partial(shown, config),
        [text, temperature, top_p],
        [state, bars, *panel.outputs],
        status,
        doing="Asking for the next words",
        limit=limit,
        meter=meter,
    )
    for button, how in ((pick, "pick"), (top, "most likely")):
        page_event(
            [button.click],
            functools.partial(step, config, how),
            [text, state, temperature, top_p],
            [text, state, bars, *panel.outputs],
            status,
            doing="Adding the word and asking for the next",
            limit=limit,
            meter=meter,
        )
    gr.on(
        [temperature.change, top_p.change],
        redrawn,
        [state, temperature, top_p],
        bars,
        queue=False,
        show_progress="hidden",
        api_visibility="private",
        preprocess=False,
    )
    # The API's start has no default, unlike the page's box, which shows an example.
    api_text = gr.Textbox(label="The start of a sentence", visible=False)
    api_event(
        functools.partial(next_words, config),
        [api_text, temperature, top_p],
        gr.JSON(visible=False),
        api_name="next_words",
        meter=meter,
        preprocess=False,
    )


def layout() -> tuple:
    """The start, the three buttons, the two sliders, the status line, and the bars."""
    with gr.Row():
        with gr.Column(scale=2):
            text = gr.Textbox(label="The start of a sentence", value=START, lines=3)
            with gr.Row():
                show = gr.Button("Show the next words", variant="primary")
                pick = gr.Button("Pick")
                top = gr.Button("Most likely")
            temperature = slider(
                task.TEMPERATURE,
                0.05,
                label="Temperature",
                info="0 always takes the likeliest word; 1 keeps the model's odds; above 1 "
                "evens them out.",
                elem_id="next-word-temperature",
            )
            top_p = slider(
                task.TOP_P,
                0.05,
                label="Top-p",
                info="Keep only the likeliest words whose chances add up to this; 1 keeps all.",
                elem_id="next-word-top-p",
            )
            status = status_line("next_word")
        with gr.Column(scale=3):
            gr.Markdown(
                "Each bar is a word's chance of being picked next, among the words the model "
                "found likeliest; *model* is the probability the model gave it. Move the sliders: "
                "the bars change at once, with no new question to the model."
            )
            bars = gr.HTML(EMPTY, elem_id="next-word-bars")
    return text, show, pick, top, temperature, top_p, status, bars
