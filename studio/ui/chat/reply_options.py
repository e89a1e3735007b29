"""The Chat tab's settings for what a reply brings besides its text: how much a reasoning model
thinks, and whether to keep each token's probabilities (for the lab to show after the fact)."""

from __future__ import annotations

import gradio as gr

from studio.tasks.thinking import CHOICES, LABELS
from studio.tasks.token_probs import MAX_ALTERNATIVES

# Off, or the number of alternatives kept per token; text values, as the setting's rule reads them.
PROBABILITIES = [("off", ""), ("each token alone", "0")] + [
    (f"with {k} alternative{'s' if k > 1 else ''}", str(k)) for k in range(1, MAX_ALTERNATIVES + 1)
]


def reply_options() -> list[gr.components.Component]:
    """Thinking (the model's default, off, or an effort) and token probabilities (off, or how
    many alternatives to keep per token)."""
    with gr.Row():
        thinking = gr.Dropdown(
            [(LABELS[choice], choice) for choice in CHOICES],
            value="",
            label="Thinking",
            info="For reasoning models. Sent where the server takes it; the note under the "
            "reply says where it does not.",
            elem_id="chat-thinking",
        )
        probabilities = gr.Dropdown(
            PROBABILITIES,
            value="",
            label="Token probabilities",
            # The router and TGI give at most 5 alternatives a token.
            info="How sure the model was of each piece of a word (token), and what it nearly "
            "wrote instead; off, nothing is asked.",
            elem_id="chat-probabilities",
        )
    return [thinking, probabilities]
