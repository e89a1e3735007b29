"""Prompt templates for servers that only continue raw text (TGI's /generate_stream).

Chat-completions servers apply the model's own template; these are only for raw servers.
`{s}` system, `{u}` user, `{a}` assistant, as in each model family's documentation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from studio.errors import InputError
from studio.tasks.chat import Message
from studio.tasks.continue_reply import continues_reply


@dataclass(frozen=True)
class ChatTemplate:
    """`render(messages)`: the prompt for a raw text server; the messages end with the user
    turn to answer, or with a reply to continue, which the prompt then ends with, open."""

    name: str
    render: Callable[[Sequence[Message]], str]
    stop: tuple[str, ...]


def _split_system(messages: Sequence[Message]) -> tuple[str, list[Message]]:
    """The system prompt (empty when absent) and the user/assistant turns after it."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    return system, [m for m in messages if m["role"] != "system"]


def _render_mistral(messages: Sequence[Message]) -> str:
    # Mistral-Instruct has no system role: the system prompt opens the first user turn.
    system, turns = _split_system(messages)
    parts = ["<s>"]
    for message in turns:
        content = message["content"]
        if message["role"] == "user":
            if system:
                content, system = f"{system}\n\n{content}", ""
            parts.append(f"[INST] {content} [/INST]")
        else:
            parts.append(f" {content}</s>")
    if continues_reply(messages):
        parts[-1] = parts[-1].removesuffix("</s>")
    return "".join(parts)


_FALCON_ROLES = {"user": "User", "assistant": "Assistant"}


def _render_falcon(messages: Sequence[Message]) -> str:
    system, turns = _split_system(messages)
    lines = [f"System: {system}"] if system else []
    lines += [f"{_FALCON_ROLES[m['role']]}: {m['content']}" for m in turns]
    return "\n".join(lines if continues_reply(messages) else [*lines, "Assistant:"])


def _render_llama3(messages: Sequence[Message]) -> str:
    def block(role: str, content: str) -> str:
        return f"<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>"

    reply_header = "<|start_header_id|>assistant<|end_header_id|>\n\n"
    return "<|begin_of_text|>" + _blocks(messages, block, reply_header)


def _render_chatml(messages: Sequence[Message]) -> str:
    def block(role: str, content: str) -> str:
        return f"<|im_start|>{role}\n{content}<|im_end|>\n"

    return _blocks(messages, block, "<|im_start|>assistant\n")


def _render_zephyr(messages: Sequence[Message]) -> str:
    def block(role: str, content: str) -> str:
        return f"<|{role}|>\n{content}</s>\n"

    return _blocks(messages, block, "<|assistant|>\n")


def _blocks(
    messages: Sequence[Message], block: Callable[[str, str], str], reply_header: str
) -> str:
    """One block per message, the system block only when there is a system prompt, then the
    header of the reply; a last assistant message stays open after that header instead."""
    system, turns = _split_system(messages)
    head = block("system", system) if system else ""
    reply_to_continue = turns.pop()["content"] if continues_reply(messages) else ""
    closed = "".join(block(m["role"], m["content"]) for m in turns)
    return head + closed + reply_header + reply_to_continue


# Read-only: shared by every session.
TEMPLATES: Mapping[str, ChatTemplate] = MappingProxyType(
    {
        "mistral": ChatTemplate("mistral", _render_mistral, ("</s>",)),
        "falcon": ChatTemplate("falcon", _render_falcon, ("\nUser:", "<|endoftext|>")),
        "llama3": ChatTemplate("llama3", _render_llama3, ("<|eot_id|>",)),
        "chatml": ChatTemplate("chatml", _render_chatml, ("<|im_end|>",)),
        "zephyr": ChatTemplate("zephyr", _render_zephyr, ("</s>",)),
    }
)


def get_template(name: str) -> ChatTemplate:
    template = TEMPLATES.get(name.strip().lower())
    if template is None:
        raise InputError(
            f"There is no prompt template called {name!r}; choose one of: {', '.join(TEMPLATES)}."
        )
    return template
