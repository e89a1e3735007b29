"""The Compare tab: one prompt, two columns streaming together, the same chat settings but for
one thing; in blind mode the columns are named A and B until the person votes.

    compare_columns ─ two studio.chat.turn.stream_turn, read together ─ (texts, lines) ...
      └ the page's run (blind order, headings, status) and the API's /compare

Each column is an ordinary chat turn, streamed and counted as the Chat tab's are: no second
HTTP path. The pure parts (what differs, the blind order, the vote) are studio.tasks.compare.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Collection
from typing import Any, NoReturn

import gradio as gr

from studio.chat.side_by_side import compare_columns, read_sides
from studio.classroom.mcp_tools import as_tool
from studio.classroom.people import with_caller
from studio.classroom.usage import Caller, Meter
from studio.config import Config
from studio.services import with_model
from studio.tasks import compare as task
from studio.ui import compare_pictures
from studio.ui.common import notify_progress, setup_notice, shows_errors
from studio.ui.status_line import done_html, failure_html, status_line, waiting_html
from studio.ui.stop import lit_while_running, stop_button, stop_control
from studio.ui.viewer import page_handler

PRIVATE = dict(api_visibility="private")


async def compare(
    config: Config,
    prompt: str,
    differs: str = "Temperature",
    value_a: str = "0.2",
    value_b: str = "0.9",
    system_prompt: str = "",
    temperature: float | None = None,
    top_p: float | None = None,
    max_new_tokens: int | None = None,
    seed: int | None = None,
    thinking: str = "",
    model: str = "",
    *,
    caller: Caller | None = None,
):
    """Ask the chat model one prompt twice, with one setting changed, and stream both replies.

    The API's /compare: column A and column B grow together, each yields (reply A, reply B,
    line A, line B), a line being the first-token time, tokens per second, tokens and price.

    Args:
        prompt: what both columns are asked
        differs: the setting that differs: Model, Temperature, Top-p, System prompt, Seed or
            Thinking
        value_a: that setting's value in column A
        value_b: its value in column B
        system_prompt: the system prompt both columns share (unless it is what differs)
        temperature: shared temperature; empty: the default
        top_p: shared top-p; empty: the default
        max_new_tokens: the longest reply, in tokens; empty: the default
        seed: shared seed; empty: a random one
        thinking: empty, off, low, medium or high
        model: the model both columns ask; empty: the configured one

    Returns:
        reply A, reply B, line A, line B
    """
    failures: list = []
    controls = (differs, value_a, value_b, system_prompt, temperature, top_p, max_new_tokens)
    try:
        pair = read_sides(*controls, seed, thinking, model)
        replies = compare_columns(config, prompt, pair, progress=notify_progress, caller=caller)
        async with contextlib.aclosing(replies) as updates:
            async for texts, lines, failed in updates:
                failures = failed
                yield (*texts, *lines)
    except Exception as exc:
        raise_for_person(exc)
    for failure in failures:
        if failure is not None:
            raise_for_person(failure)


class ComparePage:
    """The page's run: blind order, headings, the columns and the status line."""

    def __init__(self, config: Config) -> None:
        self.config = config

    async def run(self, *inputs: Any, here: bool = False, caller: Caller | None = None):
        """`inputs`: the prompt, the settings as `read_sides` takes them, and Blind. Yields:
        heading ×2, reply ×2, line ×2, the revealed headings (State), the vote row, the
        verdict, the status line."""
        (prompt, *controls, blind), skip = inputs, gr.skip()
        started = time.monotonic()
        try:
            columns, first = self.start(controls, bool(blind))
            yield (*first, waiting_html("Asking both columns", 0, None))
            replies = compare_columns(
                self.config, prompt, columns, here=here, progress=notify_progress, caller=caller
            )
            async with contextlib.aclosing(replies) as updates:
                async for texts, lines, _ in updates:
                    waited = time.monotonic() - started
                    writing = waiting_html("Both columns are writing", waited, None)
                    yield (skip, skip, *texts, *lines, skip, skip, skip, writing)
        except Exception as exc:
            yield (skip,) * 9 + (failure_html(exc, "compare", here=here),)
            return
        yield (skip,) * 9 + (done_html(time.monotonic() - started),)

    def start(self, controls: list, blind: bool) -> tuple[tuple, tuple]:
        """The sides in the columns' order (swapped at random when blind), and the first
        update: the headings (A and B when blind), the columns emptied, the vote row."""
        differs = controls[0]
        pair = read_sides(*controls)
        swapped = blind and task.blind_order()
        configured = with_model(self.config.endpoint("chat"), None).model or ""
        described = tuple(task.describe(side, differs, configured) for side in pair)
        revealed = task.in_columns(described, swapped)
        named = [f"{n} · {h}" for n, h in zip(task.NAMES, revealed, strict=True)]
        heads = [f"### {h}" for h in (task.NAMES if blind else named)]
        vote_row = gr.update(visible=blind)
        return task.in_columns(pair, swapped), (*heads, "", "", "", "", revealed, vote_row, "")


@shows_errors
def raise_for_person(exc: Exception) -> NoReturn:
    """Raise `exc` as the message an API caller sees: shows_errors, the one place, makes it."""
    raise exc


def vote(choice: str, revealed: tuple | list | None) -> tuple:
    """The vote, then the columns' headings revealed and what the person chose."""
    if not revealed:
        return gr.skip(), gr.skip(), "Compare first: then vote for the reply you prefer."
    verdict = task.reveal(choice, tuple(revealed))
    heads = [f"### {n} · {h}" for n, h in zip(task.NAMES, verdict.headings, strict=True)]
    return *heads, verdict.message


def build(config: Config, served: Collection[str] = (), meter: Meter | None = None) -> None:
    """Text (two chat columns) and Pictures (a grid of one prompt: studio.ui.compare_pictures)."""
    with gr.Tabs(elem_id="compare-kinds"):
        with gr.Tab("Text", id="compare-text"):
            build_text(config, meter)
        with gr.Tab("Pictures", id="compare-pictures"):
            compare_pictures.build(config, meter)


def build_text(config: Config, meter: Meter | None = None) -> None:
    setup_notice(config, "chat")
    gr.Markdown(
        "One prompt, two columns: the same model and settings but for one thing. "
        "In blind mode the columns are A and B until you vote."
    )
    settings, blind, button, stop = controls()
    status = status_line("compare")
    heads, replies, lines = columns()
    revealed = gr.State(None)
    with gr.Row(visible=False) as vote_row:
        votes = [
            gr.Button(
                f"{choice} is better" if choice != "Tie" else "Tie",
                elem_id=f"compare-vote-{choice.lower()}",
            )
            for choice in task.VOTES
        ]
    verdict = gr.Markdown("", elem_id="compare-verdict")
    running = gr.on(
        [button.click, settings[0].submit],
        page_handler(lit_while_running(ComparePage(config).run, 10), meter),
        [*settings, blind],
        [*heads, *replies, *lines, revealed, vote_row, verdict, status, stop],
        show_progress="hidden",
        **PRIVATE,
    )
    stop_button(stop, [running], status)
    for choice, vote_button in zip(task.VOTES, votes, strict=True):
        vote_button.click(
            functools.partial(vote, choice), revealed, [*heads, verdict], queue=False, **PRIVATE
        )
    hidden = [gr.Textbox(visible=False) for _ in range(4)]  # the API's replies and lines
    gr.Button(visible=False).click(
        with_caller(as_tool(functools.partial(compare, config), "compare"), meter),
        settings,
        hidden,
        api_name="compare",
        preprocess=False,
    )


def controls() -> tuple[list, gr.Checkbox, gr.Button, gr.Button]:
    """The prompt and settings (in `compare`'s order), Blind, Compare and Stop."""
    with gr.Row():
        prompt = gr.Textbox(label="Prompt", lines=2, scale=3, elem_id="compare-prompt")
        with gr.Column(scale=2):
            differs = gr.Radio(
                list(task.DIFFERS),
                value="Temperature",
                label="What differs",
                elem_id="compare-differs",
            )
            with gr.Row():
                value_a = gr.Textbox("0.2", label="Column A", max_lines=1, elem_id="compare-a")
                value_b = gr.Textbox("0.9", label="Column B", max_lines=1, elem_id="compare-b")
    with gr.Accordion("Shared settings", open=False):
        with gr.Row():
            model = box("Model", "the configured one")
            system_prompt = gr.Textbox("", label="System prompt", max_lines=3)
            thinking = box("Thinking", "the model's default; or off, low, medium, high")
        with gr.Row():
            temperature, top_p = box("Temperature", "default"), box("Top-p", "default")
            max_new_tokens, seed = box("Max new tokens", "default"), box("Seed", "random")
    with gr.Row():
        blind = gr.Checkbox(
            label="Blind: name the columns A and B until I vote", elem_id="compare-blind"
        )
        button = gr.Button("Compare", variant="primary", elem_id="compare-go")
        stop = stop_control(elem_id="compare-stop")
    settings = [prompt, differs, value_a, value_b, system_prompt, temperature, top_p]
    return [*settings, max_new_tokens, seed, thinking, model], blind, button, stop


def box(label: str, empty: str) -> gr.Textbox:
    """A shared setting as text, so it can start empty: `empty` says what empty means."""
    return gr.Textbox("", label=label, placeholder=f"empty: {empty}", max_lines=1)


def columns() -> tuple[list, list, list]:
    """The two columns: each a heading, the reply as it grows, and its line of figures."""
    heads, replies, lines = [], [], []
    with gr.Row(equal_height=True):
        for name in task.NAMES:
            key = name.lower()
            with gr.Column():
                heads.append(gr.Markdown(f"### {name}", elem_id=f"compare-head-{key}"))
                replies.append(gr.Markdown("", elem_id=f"compare-reply-{key}", min_height=120))
                lines.append(gr.Markdown("", elem_id=f"compare-line-{key}"))
    return heads, replies, lines
