"""The Next word tab with a chat model on this computer: its scores give the bars, with no
server and no token, and a step appends the top word."""

from __future__ import annotations

import math

from studio.config import load_config
from studio.tasks.token_probs import MAX_ALTERNATIVES
from studio.ui import next_word as tab


def local_config(folder: str):
    env = {"STUDIO_LOCAL": "chat", "STUDIO_CHAT_MODEL": folder, "STUDIO_DEVICE": "cpu"}
    return load_config({**env, "HF_HUB_OFFLINE": "1"})


def test_a_local_model_gives_ten_next_words_and_a_step_appends_the_top_one(tiny):
    config = local_config(tiny["chat"])
    state, bars, *_ = tab.shown(config, "The cat", 1.0, 1.0)
    choices = state["choices"]
    assert len(choices) == MAX_ALTERNATIVES and "next-word-row" in bars
    logprobs = [logprob for _, logprob in choices]
    assert logprobs == sorted(logprobs, reverse=True) and sum(map(math.exp, logprobs)) <= 1 + 1e-6
    longer, state, *_ = tab.step(config, "most likely", "The cat", state, 1.0, 1.0)
    assert longer.startswith("The cat") and len(longer) > len("The cat")
    assert state["text"] == longer and len(state["choices"]) == MAX_ALTERNATIVES
