"""Chat requests: from the Chatbot's history to messages, the settings checked, and the pieces
a reply streams in; what every backend builds a chat request from.

    Chatbot history ─ build_messages ─ messages ─ a backend's chat_request (studio.backends)
    the backend's stream ─ Delta ... ─ the reply (studio.chat streams it to the page and API)

Messages here are plain ``{"role": "system" | "user" | "assistant", "content": str}`` dicts; a
user message with pictures has a list of OpenAI parts instead (studio.tasks.chat_images).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from studio.errors import InputError
from studio.tasks.chat_images import IMAGE_CHARS, content_chars, message_content, pictures_in
from studio.tasks.text import NumberBox, checked_text
from studio.tasks.thinking import checked_thinking, without_thinking
from studio.tasks.token_probs import TokenProb, checked_alternatives

Message = dict[str, Any]

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


def field_of(item: Any, name: str) -> Any:
    """A field of a history item: a dict's key, or a gr.ChatMessage's attribute."""
    # History items are dicts, but gr.ChatMessage objects returned by the app may appear too.
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _is_note(item: Any) -> bool:
    """An error note or a reply's thinking: a message with a title is about the reply, never
    the reply itself."""
    metadata = field_of(item, "metadata")
    title = field_of(metadata, "title") if metadata else None
    return isinstance(title, str) and bool(title.strip())


def normalise_history(history: Iterable[Any] | None) -> list[Message]:
    """Gradio Chatbot history as ``[{"role", "content": str}]``.

    Keeps user and assistant messages with some text, and the pictures a user message carries
    (then its content is a list of parts). Dropped: empty messages, other files, error notes
    and a reasoning model's thinking (messages with a ``metadata`` title, as ``error_note`` and
    studio.chat.reasoning build them), and thinking left inline in a reply
    (``<think>...</think>``): it is never sent back to the model.
    """
    messages = []
    for item in history or ():
        role = field_of(item, "role")
        if role not in ("user", "assistant") or _is_note(item):
            continue
        content = field_of(item, "content")
        text = content_text(content)
        if role == "assistant":
            text = _as_written(content, text)
        if role == "user" and pictures_in(content):
            messages.append({"role": role, "content": message_content(text, content)})
        elif text:
            messages.append({"role": role, "content": text})
    return messages


def _as_written(content: Any, text: str) -> str:
    """A reply as it goes back to the model: its thinking taken out, and otherwise exactly as
    the model wrote it (a leading space is a token of its own to llama.cpp's tokenizers, and a
    stripped one changes the prompt)."""
    answer = without_thinking(text)
    exact = _exact_text(content)
    return exact if answer and exact is not None and exact.strip() == answer else answer


def _exact_text(content: Any) -> str | None:
    """The text of a str or of a single text part, unstripped; None for anything else."""
    if isinstance(content, (list, tuple)) and len(content) == 1:
        content = content[0]
    if isinstance(content, Mapping) and content.get("type", "text") == "text":
        content = content.get("text")
    return content if isinstance(content, str) else None


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
    ``user_message`` may be a str or the multimodal textbox's ``{"text", "files"}``, or a
    history message's content: its pictures are sent with it, each counted as IMAGE_CHARS.
    """
    system = checked_text(system_prompt, "The system prompt", limit=None)
    text = checked_text(content_text(user_message), "Your message", limit=None)
    question = message_content(text, user_message)
    if not question:
        raise InputError("Type a message first.")
    room = _room_for_history(system, question, budget_chars)
    messages = [{"role": "system", "content": system}] if system else []
    for turn in _newest_turns_within(_turns(normalise_history(history)), room):
        messages.extend(turn)
    messages.append({"role": "user", "content": question})
    return messages


def _room_for_history(system: str, question: Any, budget_chars: int) -> int:
    room_for_question = budget_chars - len(system)
    if room_for_question <= 0:
        raise InputError(
            f"The system prompt is {len(system):,} characters, more than this chat's limit of "
            f"{budget_chars:,}; shorten the system prompt."
        )
    size = content_chars(question)
    if size > room_for_question:
        also = " or the system prompt" if system else ""
        pictures = "" if isinstance(question, str) else f", counting a picture as {IMAGE_CHARS:,},"
        raise InputError(
            f"Your message is {size:,} characters{pictures}; it may be at most "
            f"{room_for_question:,} (about {room_for_question // CHARS_PER_TOKEN:,} tokens). "
            f"Shorten the message{also}."
        )
    return room_for_question - size


def _newest_turns_within(
    turns: Sequence[tuple[Message, Message]], room: int
) -> list[tuple[Message, Message]]:
    kept: list[tuple[Message, Message]] = []
    for turn in reversed(turns):
        size = sum(content_chars(message["content"]) for message in turn)
        if size > room:
            break  # keep the conversation contiguous: never skip a turn to fit an older one
        kept.append(turn)
        room -= size
    return kept[::-1]


# ---------------------------------------------------------------------------------------------
# Generation settings, and the pieces a reply streams in.


# The settings' sliders and boxes, and what /chat takes: one rule each (studio.tasks.text).
# Seeds are 64-bit signed on the servers (torch, vLLM): 2**63 and above cannot be used.
TEMPERATURE = NumberBox("Temperature", 0.0, 1.0, default=0.7)
TOP_P = NumberBox("Top-p", 0.05, 1.0, default=0.95)
MAX_NEW_TOKENS = NumberBox("Max new tokens", 1, 4096, whole=True, default=512, unit="tokens")
REPETITION_PENALTY = NumberBox("Repetition penalty", 1.0, 2.0, default=1.0)
SEED = NumberBox("Seed", 0, 2**63 - 1, whole=True)


@dataclass(frozen=True)
class ChatSettings:
    temperature: float = TEMPERATURE.default
    top_p: float = TOP_P.default
    max_new_tokens: int = MAX_NEW_TOKENS.default
    repetition_penalty: float = REPETITION_PENALTY.default
    seed: int | None = None
    thinking: str = ""  # studio.tasks.thinking.CHOICES: "" is the model's own default
    alternatives: int | None = None  # token probabilities with this many alternatives; None: off

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise InputError("Temperature must be 0 or more (0 always picks the likeliest word).")
        if self.max_new_tokens < 1:
            raise InputError("Max new tokens must be at least 1.")
        if self.repetition_penalty <= 0:
            raise InputError("Repetition penalty must be above 0 (1.0 means no penalty).")
        if self.seed is not None and self.seed < 0:
            raise InputError("Seed must be 0 or more, or empty for a random one.")

    @classmethod
    def from_controls(
        cls,
        temperature: object,
        top_p: object,
        max_new_tokens: object,
        repetition_penalty: object,
        seed: object,
        thinking: object = None,
        alternatives: object = None,
    ) -> ChatSettings:
        """From the controls' values or an API call's: numbers, text as typed in a box, or
        empty (None: an API call that left them out, the default; the seed: a random one).
        Each is read by its setting's rule, so NaN, infinities and values out of range are
        refused with the setting's name before anything is sent. `thinking`: empty, off, low,
        medium or high; `alternatives`: None (no token probabilities), True, or 0 to 10."""
        return cls(
            temperature=TEMPERATURE.read(temperature),
            top_p=TOP_P.read(top_p),
            max_new_tokens=MAX_NEW_TOKENS.read(max_new_tokens),
            repetition_penalty=REPETITION_PENALTY.read(repetition_penalty),
            seed=SEED.read(seed),
            thinking=checked_thinking(thinking),
            alternatives=checked_alternatives(alternatives),
        )

    @property
    def top_p_in_range(self) -> bool:
        """Whether to send top-p: TGI rejects it outside (0, 1), vLLM rejects 0, 1 is "off"."""
        return 0 < self.top_p < 1


# The finish reason of a reply the server ended without giving one: cut, so it can be continued.
UNFINISHED = "unfinished"


@dataclass(frozen=True)
class Delta:
    """A piece of a streamed reply; the last one may carry only a finish reason. A `note` tells
    the person how the request was sent when that changed on the way (a setting the server
    refused, sent again in the form it takes). `reasoning`: thinking the server sent apart from
    the text (`text` may still hold it inline, studio.tasks.thinking); `tokens`: the
    probabilities of the tokens in this piece, when asked for."""

    text: str
    finish_reason: str | None = None
    note: str = ""
    reasoning: str = ""
    tokens: tuple[TokenProb, ...] = ()
