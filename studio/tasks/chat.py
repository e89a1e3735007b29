"""Chat: from the Chatbot's history to a request, and from a stream back to reply text.

    Chatbot history ─ build_messages ─┬─ openai_body                      chat-completions servers
                                      └─ render_prompt + tgi_parameters   raw text servers (TGI)
    stream chunks ─ openai_deltas | tgi_deltas ─ trim_stops ─ reply text (ReplyStats times it)

Messages here are plain ``{"role": "system" | "user" | "assistant", "content": str}`` dicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from studio.errors import InputError

Message = dict[str, str]

# ---------------------------------------------------------------------------------------------
# Prompt templates for servers that only continue raw text (TGI's /generate_stream).
# Chat-completions servers apply the model's own template; these are only for raw servers.


@dataclass(frozen=True)
class ChatTemplate:
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
    return "".join(parts)


_FALCON_ROLES = {"user": "User", "assistant": "Assistant"}


def _render_falcon(messages: Sequence[Message]) -> str:
    system, turns = _split_system(messages)
    lines = [f"System: {system}"] if system else []
    lines += [f"{_FALCON_ROLES[m['role']]}: {m['content']}" for m in turns]
    return "\n".join([*lines, "Assistant:"])


def _render_llama3(messages: Sequence[Message]) -> str:
    def block(role: str, content: str) -> str:
        return f"<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>"

    reply_header = "<|start_header_id|>assistant<|end_header_id|>\n\n"
    return "<|begin_of_text|>" + _blocks(messages, block) + reply_header


def _render_chatml(messages: Sequence[Message]) -> str:
    def block(role: str, content: str) -> str:
        return f"<|im_start|>{role}\n{content}<|im_end|>\n"

    return _blocks(messages, block) + "<|im_start|>assistant\n"


def _render_zephyr(messages: Sequence[Message]) -> str:
    def block(role: str, content: str) -> str:
        return f"<|{role}|>\n{content}</s>\n"

    return _blocks(messages, block) + "<|assistant|>\n"


def _blocks(messages: Sequence[Message], block: Callable[[str, str], str]) -> str:
    """One block per message; the system block only when there is a system prompt."""
    system, turns = _split_system(messages)
    head = block("system", system) if system else ""
    return head + "".join(block(m["role"], m["content"]) for m in turns)


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


def render_prompt(template_name: str, messages: Sequence[Message]) -> str:
    """The prompt for a raw text server; ``messages`` end with the user turn to answer."""
    return get_template(template_name).render(messages)


# ---------------------------------------------------------------------------------------------
# History: Gradio's Chatbot messages to plain messages that fit the context.

# Without a tokenizer a character budget is the honest measure; English text averages about
# four characters per token, so a budget of N tokens is roughly N * CHARS_PER_TOKEN characters.
CHARS_PER_TOKEN = 4

# A failed reply is shown in the chat as an assistant message whose metadata title starts with
# this mark (see ``error_note``); such notes are for the person, never sent back to the model.
ERROR_MARK = "⚠"


def error_note(message: str) -> dict[str, Any]:
    """A Chatbot message telling the person a reply failed; ``normalise_history`` drops it."""
    return {"role": "assistant", "content": message, "metadata": {"title": f"{ERROR_MARK} Error"}}


def content_text(content: Any) -> str:
    """The text of a message's content: a str, one part, or a list of parts.

    Parts may be ``{"type": "text", "text": ...}``, ``{"text": ...}`` (also the multimodal
    textbox's value) or plain strs; files, images and other components carry no text and are
    dropped.
    """
    if isinstance(content, (list, tuple)):
        return "\n".join(text for text in map(_part_text, content) if text)
    return _part_text(content)


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part.strip()
    if isinstance(part, Mapping) and part.get("type", "text") == "text":
        text = part.get("text")
        return text.strip() if isinstance(text, str) else ""
    return ""


def _field(item: Any, name: str) -> Any:
    # History items are dicts, but gr.ChatMessage objects returned by the app may appear too.
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _is_error_note(item: Any) -> bool:
    metadata = _field(item, "metadata")
    title = _field(metadata, "title") if metadata else None
    return isinstance(title, str) and title.strip().startswith(ERROR_MARK)


def normalise_history(history: Iterable[Any] | None) -> list[Message]:
    """Gradio Chatbot history as ``[{"role", "content": str}]``.

    Keeps user and assistant messages with some text. Dropped: empty messages, file-only
    messages, and error notes (assistant messages whose ``metadata["title"]`` starts with
    ``ERROR_MARK``, as ``error_note`` builds them).
    """
    messages = []
    for item in history or ():
        role = _field(item, "role")
        if role not in ("user", "assistant") or _is_error_note(item):
            continue
        text = content_text(_field(item, "content"))
        if text:
            messages.append({"role": role, "content": text})
    return messages


def _turns(messages: Sequence[Message]) -> list[tuple[Message, Message]]:
    """Pair each user message with the reply to it, so the result alternates strictly.

    Many chat templates reject anything else. A user message with no reply (its reply failed)
    is dropped: the person asked again after it. Consecutive assistant messages are one reply
    shown in pieces and are joined; an assistant message before any user message (a greeting)
    is dropped.
    """
    turns: list[tuple[Message, Message]] = []
    asking: Message | None = None
    for message in messages:
        if message["role"] == "user":
            asking = message
        elif asking is not None:
            turns.append((asking, message))
            asking = None
        elif turns:
            question, reply = turns[-1]
            joined = f"{reply['content']}\n\n{message['content']}"
            turns[-1] = (question, {"role": "assistant", "content": joined})
    return turns


def count_turns(history: Iterable[Any] | None) -> int:
    """How many question-and-reply turns of ``history`` could be sent (see ``build_messages``)."""
    return len(_turns(normalise_history(history)))


def build_messages(
    system_prompt: str | None,
    history: Iterable[Any] | None,
    user_message: Any,
    *,
    budget_chars: int,
) -> list[Message]:
    """System prompt, then as much recent history as fits, then the new user message.

    ``budget_chars`` counts the characters of all contents (see ``CHARS_PER_TOKEN``). The oldest
    question-and-reply turns are dropped first; the system prompt and the new message never are.
    ``user_message`` may be a str or the multimodal textbox's ``{"text", "files"}``.
    """
    system = (system_prompt or "").strip()
    question = content_text(user_message)
    if not question:
        raise InputError("Type a message first.")
    room = _room_for_history(system, question, budget_chars)
    messages = [{"role": "system", "content": system}] if system else []
    for turn in _newest_turns_within(_turns(normalise_history(history)), room):
        messages.extend(turn)
    messages.append({"role": "user", "content": question})
    return messages


def _room_for_history(system: str, question: str, budget_chars: int) -> int:
    room_for_question = budget_chars - len(system)
    if room_for_question <= 0:
        raise InputError(
            f"The system prompt is {len(system):,} characters, more than this chat's limit of "
            f"{budget_chars:,}; shorten the system prompt."
        )
    if len(question) > room_for_question:
        also = " or the system prompt" if system else ""
        raise InputError(
            f"Your message is {len(question):,} characters; it may be at most "
            f"{room_for_question:,} (about {room_for_question // CHARS_PER_TOKEN:,} tokens). "
            f"Shorten the message{also}."
        )
    return room_for_question - len(question)


def _newest_turns_within(
    turns: Sequence[tuple[Message, Message]], room: int
) -> list[tuple[Message, Message]]:
    kept: list[tuple[Message, Message]] = []
    for turn in reversed(turns):
        size = sum(len(message["content"]) for message in turn)
        if size > room:
            break  # keep the conversation contiguous: never skip a turn to fit an older one
        kept.append(turn)
        room -= size
    return kept[::-1]


# ---------------------------------------------------------------------------------------------
# Generation settings and how each protocol spells them.

TGI_MAX_STOPS = 4  # TGI's default --max-stop-sequences


@dataclass(frozen=True)
class ChatSettings:
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 512
    repetition_penalty: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise InputError("Temperature must be 0 or more (0 always picks the likeliest word).")
        if self.max_new_tokens < 1:
            raise InputError("Max new tokens must be at least 1.")
        if self.repetition_penalty <= 0:
            raise InputError("Repetition penalty must be above 0 (1.0 means no penalty).")
        if self.seed is not None and self.seed < 0:
            raise InputError("Seed must be 0 or more, or empty for a random one.")


def _top_p_in_range(top_p: float) -> bool:
    # TGI rejects top_p outside (0, 1) and vLLM rejects 0; 1.0 means "off" anyway.
    return 0 < top_p < 1


def tgi_parameters(settings: ChatSettings, stop: Sequence[str]) -> dict[str, Any]:
    """``parameters`` for TGI's ``/generate_stream``, leaving out what TGI would reject.

    Only the first ``TGI_MAX_STOPS`` stop sequences are sent; ``trim_stops`` applies them all.
    """
    parameters: dict[str, Any] = {
        "max_new_tokens": int(settings.max_new_tokens),
        "details": True,  # the last event then carries finish_reason
        "return_full_text": False,
    }
    if settings.temperature > 0:
        parameters["do_sample"] = True
        parameters["temperature"] = settings.temperature
        if _top_p_in_range(settings.top_p):
            parameters["top_p"] = settings.top_p
    else:
        # TGI rejects temperature 0, and any top_p would switch sampling back on.
        parameters["do_sample"] = False
    if settings.repetition_penalty != 1.0:
        parameters["repetition_penalty"] = settings.repetition_penalty
    if settings.seed is not None:
        parameters["seed"] = int(settings.seed)
    stops = list(dict.fromkeys(s for s in stop if s))[:TGI_MAX_STOPS]
    if stops:
        parameters["stop"] = stops
    return parameters


def openai_body(
    settings: ChatSettings,
    model: str,
    messages: Sequence[Message],
    *,
    stream: bool = True,
    send_repetition_penalty: bool,
) -> tuple[dict[str, Any], list[str]]:
    """A ``/chat/completions`` body, and notes for the person about settings mapped or dropped.

    ``send_repetition_penalty``: whether the server takes the non-standard field (vLLM, TGI do;
    the router's providers may not).
    """
    body: dict[str, Any] = {
        "model": model,
        "messages": list(messages),
        "stream": stream,
        "max_tokens": int(settings.max_new_tokens),
        "temperature": settings.temperature,
    }
    notes = []
    if _top_p_in_range(settings.top_p):
        body["top_p"] = settings.top_p
    elif settings.top_p <= 0:
        notes.append(f"Top-p {settings.top_p:g} must be above 0; the server's default was used.")
    if settings.seed is not None:
        body["seed"] = int(settings.seed)
    penalty = settings.repetition_penalty
    if penalty != 1.0 and send_repetition_penalty:
        body["repetition_penalty"] = penalty
        notes.append(
            f"Repetition penalty {penalty:g} is not part of the OpenAI API; sent as "
            "repetition_penalty, which vLLM and TGI accept."
        )
    elif penalty != 1.0:
        notes.append(
            f"Repetition penalty {penalty:g} was not sent: this server's API has no such setting."
        )
    return body, notes


# ---------------------------------------------------------------------------------------------
# Streams: both protocols become Deltas.


@dataclass(frozen=True)
class Delta:
    text: str
    finish_reason: str | None = None


def openai_deltas(events: Iterable[Mapping[str, Any]]) -> Iterator[Delta]:
    """Deltas from ``chat.completion.chunk`` objects (the first choice only)."""
    for event in events:
        choices = event.get("choices") or []
        if not choices:
            continue  # a usage-only chunk
        choice = choices[0]
        text = (choice.get("delta") or {}).get("content") or ""
        finish_reason = choice.get("finish_reason")
        if text or finish_reason:
            yield Delta(text, finish_reason)


def tgi_deltas(events: Iterable[Mapping[str, Any]]) -> Iterator[Delta]:
    """Deltas from TGI ``/generate_stream`` events.

    The last event repeats the whole reply in ``generated_text``; only its token is used.
    """
    for event in events:
        token = event.get("token") or {}
        text = "" if token.get("special") else token.get("text") or ""
        finish_reason = (event.get("details") or {}).get("finish_reason")
        if text or finish_reason:
            yield Delta(text, finish_reason)


def trim_stops(
    deltas: Iterable[Delta], stops: Sequence[str], *, drop_leading_space: bool = True
) -> Iterator[Delta]:
    """The reply up to the first stop sequence, safe to show as it streams.

    Text that could be the start of a stop sequence is held back until the next delta shows
    whether it is; a complete stop sequence ends the reply with finish reason
    ``"stop_sequence"``. The reply's leading space is dropped (SentencePiece models emit
    " Hello" as the first token). Empty deltas are never yielded, except one carrying a finish
    reason. The source stream is closed when this one ends, so the server stops generating.
    """
    stops = [stop for stop in stops if stop]
    upstream = iter(deltas)
    held = ""
    started = not drop_leading_space
    try:
        for delta in upstream:
            text = delta.text
            if not started and text:
                text = text.removeprefix(" ")
                started = bool(text)
            pending = held + text
            cut = _first_stop_at(pending, stops)
            if cut is not None:
                yield Delta(pending[:cut], "stop_sequence")
                return
            if delta.finish_reason:
                yield Delta(pending, delta.finish_reason)
                return
            ready = len(pending) - _partial_stop_length(pending, stops)
            held = pending[ready:]
            if ready:
                yield Delta(pending[:ready])
        if held:
            yield Delta(held)
    finally:
        close = getattr(upstream, "close", None)
        if close is not None:
            close()


def _first_stop_at(text: str, stops: Sequence[str]) -> int | None:
    return min((at for stop in stops if (at := text.find(stop)) >= 0), default=None)


def _partial_stop_length(text: str, stops: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that is the beginning of a stop sequence."""
    longest = 0
    for stop in stops:
        for length in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:length]):
                longest = length
                break
    return longest


# ---------------------------------------------------------------------------------------------
# Timing


class ReplyStats:
    """Times one reply: create it just before sending the request, then ``add`` each delta.

    Each delta with text counts as one token: servers stream about one token per chunk, and
    ``trim_stops`` merges only the few it holds back, so the rate is a close estimate. The rate
    is of generation after the first token; the wait before it is ``time_to_first_token``.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sent_at = clock()
        self._first_token_at: float | None = None
        self._last_token_at: float | None = None
        self.tokens = 0
        self.finish_reason: str | None = None

    def add(self, delta: Delta) -> None:
        if delta.text:
            now = self._clock()
            if self._first_token_at is None:
                self._first_token_at = now
            self._last_token_at = now
            self.tokens += 1
        if delta.finish_reason:
            self.finish_reason = delta.finish_reason

    def watch(self, deltas: Iterable[Delta]) -> Iterator[Delta]:
        """Pass deltas through, adding each."""
        for delta in deltas:
            self.add(delta)
            yield delta

    @property
    def time_to_first_token(self) -> float | None:
        """Seconds from the request to the first text; None before any."""
        if self._first_token_at is None:
            return None
        return self._first_token_at - self._sent_at

    @property
    def tokens_per_second(self) -> float | None:
        """Tokens after the first per second since the first; None until it can be measured."""
        if self._first_token_at is None or self._last_token_at is None or self.tokens < 2:
            return None
        elapsed = self._last_token_at - self._first_token_at
        return (self.tokens - 1) / elapsed if elapsed > 0 else None

    def summary(self) -> str:
        """E.g. ``"first token 0.42 s · 31.5 tok/s · finished: length"``."""
        first = self.time_to_first_token
        parts = ["no text received" if first is None else f"first token {first:.2f} s"]
        if (rate := self.tokens_per_second) is not None:
            parts.append(f"{rate:.1f} tok/s")
        if self.finish_reason:
            parts.append(f"finished: {self.finish_reason}")
        return " · ".join(parts)
