"""A local chat model that thinks, and token probabilities from local scores: the model's own
template opens a <think> block (the DeepSeek-R1 distills' way) or, with the Thinking setting
off, closes it empty (Qwen3's switch); the chat shows what follows as thinking. Probabilities
come from the raw logits of each step, in the OpenAI shape."""

from __future__ import annotations

import math
import threading

import pytest

import studio.local as local
from studio.chat.reasoning import CUT_WHILE_THINKING
from studio.chat.turn import Turn, stream_turn
from studio.config import load_config
from tests.ui.test_tabs import collect

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def thinker(local_extra, tmp_path_factory) -> str:
    from tests.local.tiny_models import build_chat

    return str(build_chat(tmp_path_factory.mktemp("thinker") / "tiny-thinker", thinking=True))


def last_state(folder: str, *settings):
    env = {"STUDIO_LOCAL": "chat", "STUDIO_CHAT_MODEL": folder, "STUDIO_DEVICE": "cpu"}
    config = load_config({**env, "HF_HUB_OFFLINE": "1"})
    return collect(stream_turn(config, Turn(HELLO, "", (0, 0.95, 6, 1.0, 0, *settings))))[-1]


def thinking_messages(chat: list) -> list[dict]:
    return [m for m in chat if (m.get("metadata") or {}).get("title", "").startswith("Thinking")]


def test_a_template_that_opens_thinking_makes_the_reply_thinking(thinker):
    last = last_state(thinker)
    (thinking,) = thinking_messages(last.chat)
    assert thinking["content"].strip() and thinking["metadata"]["status"] == "done"
    assert thinking["metadata"]["title"] == "Thinking · 6 tokens"
    # Six tokens, all spent thinking: no answer to continue, Retry is the way.
    assert last.reply == "" and not last.ended.cut
    assert CUT_WHILE_THINKING in last.stats_line


def test_thinking_off_reaches_the_template_and_the_reply_is_the_answer(thinker):
    last = last_state(thinker, "off")
    assert thinking_messages(last.chat) == []
    assert last.reply and last.chat[-1] == {"role": "assistant", "content": last.reply}
    assert "not applied" not in last.stats_line


def test_a_template_without_a_switch_is_said_in_words(tiny):
    last = last_state(tiny["chat"], "high")
    assert "Thinking high was not applied: this model's chat template has no such switch" in (
        last.stats_line
    )
    assert last.reply and thinking_messages(last.chat) == []


def test_token_probabilities_come_from_the_raw_scores_of_each_step(tiny):
    request, cancel = {"messages": HELLO, "temperature": 0, "max_tokens": 5}, threading.Event()
    chunks = list(
        local.stream_chat(tiny["chat"], {**request, "logprobs": True, "top_logprobs": 3}, cancel)
    )
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    (scored,) = [c["choices"][0]["logprobs"] for c in chunks if "logprobs" in c["choices"][0]]
    tokens = scored["content"]
    assert len(tokens) == 5 and "".join(t["token"] for t in tokens) == text
    for token in tokens:
        top = [t["logprob"] for t in token["top_logprobs"]]
        assert len(top) == 3 and top == sorted(top, reverse=True)
        assert token["logprob"] <= top[0] <= 0 and sum(map(math.exp, top)) <= 1 + 1e-6
    plain = list(local.stream_chat(tiny["chat"], request, cancel))
    assert not any("logprobs" in c["choices"][0] for c in plain), "asked only when wanted"


def test_the_chat_keeps_the_probabilities_of_a_local_reply(tiny):
    last = last_state(tiny["chat"], "", 10)
    assert len(last.ended.tokens) == 6
    assert all(len(token.top) == 10 for token in last.ended.tokens)
    assert "".join(token.token for token in last.ended.tokens) == last.reply
    assert "Probabilities kept for 6 tokens." in last.stats_line
