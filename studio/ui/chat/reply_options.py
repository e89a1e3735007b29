"""The Chat tab's settings for what a reply brings besides its text: how much a reasoning model
thinks, and whether to keep each token's probabilities (for the lab to show after the fact)."""

from __future__ import annotations

import gradio as gr

from studio.tasks.thinking import CHOICES, LABELS


def reply_options() -> list[gr.components.Component]:
    """Thinking (the model's default, off, or an effort) and the probabilities switch."""
    with gr.Row():
        thinking = gr.Dropdown(
            [(LABELS[choice], choice) for choice in CHOICES],
            value="",
            label="Thinking",
            info="For reasoning models. Sent where the server takes it; the note under the "
            "reply says where it does not.",
            elem_id="chat-thinking",
        )
        probabilities = gr.Checkbox(
            False,
            label="Keep token probabilities",
            info="Asks the server for each token's probability and its 5 likeliest "
            "alternatives; off, nothing is asked.",
            elem_id="chat-probabilities",
        )
    return [thinking, probabilities]
