"""Chat with a causal LM: the tokenizer's own chat template, streamed token by token.

generate() runs in a thread and feeds a TextIteratorStreamer; the caller's generator reads it
and answers OpenAI chat-completion chunks. A StoppingCriteria checks two events between tokens:
the caller's `cancel`, and our own `halt` (a stop string was seen, or the reader went away), so
generation itself ends within a token of either.

Request fields: messages, max_tokens (or max_completion_tokens; default 512), temperature
(0 means greedy; absent means the model's own defaults), top_p, seed (seeds torch's global
generator: reproducible when one request runs at a time), stop (a string or a list), and
repetition_penalty (not OpenAI's, but TGI and vLLM take it), chat_template_kwargs and
reasoning_effort (given to the template where it reads them), logprobs and top_logprobs
(studio.local.chat_extras). frequency_penalty, presence_penalty, n and tools are not mapped.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from jinja2 import TemplateError
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
)

from studio.errors import BackendError, InputError, WrongKindOfModelError
from studio.local.cache import LoadedModel
from studio.local.chat_extras import (
    chunk,
    logprobs_chunk,
    opens_thinking,
    template_options,
    wanted_alternatives,
)
from studio.local.models import (
    EXAMPLE_MODELS,
    SETTINGS,
    checked_model_config,
    first_line,
    is_out_of_memory,
    load_network,
    out_of_memory,
)
from studio.local.options import optional

DEFAULT_MAX_TOKENS = 512
CHAT_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")


@dataclass
class ChatModel:
    tokenizer: Any
    model: Any


def load(model: str, source: str, device: str, *, offline: bool = False) -> ChatModel:
    config = checked_model_config(
        "chat",
        model,
        source,
        suffixes=CHAT_SUFFIXES,
        auto_class=AutoModelForCausalLM,
        offline=offline,
    )
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=offline)
    if not getattr(tokenizer, "chat_template", None):
        raise WrongKindOfModelError(
            f"{model} has no chat template, so it is a base model rather than a chat model. "
            f"Set {SETTINGS['chat']} to an instruct model such as {EXAMPLE_MODELS['chat']}."
        )
    return ChatModel(tokenizer, load_network(AutoModelForCausalLM, source, config, device, offline))


# ---- request -> prompt and generate() options (pure) ----


def plain_messages(messages: Any) -> list[dict[str, str]]:
    """OpenAI messages with text content; a list of parts is joined, images are refused."""
    if not isinstance(messages, Sequence) or isinstance(messages, str) or not messages:
        raise InputError("The chat request has no messages.")
    plain = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            if any(isinstance(p, Mapping) and p.get("type") not in (None, "text") for p in content):
                raise InputError("The local chat model reads text only: remove images.")
            content = "\n".join(
                str(p.get("text", "")) if isinstance(p, Mapping) else str(p) for p in content
            )
        plain.append({"role": str(message.get("role", "user")), "content": content or ""})
    return plain


def fold_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """For templates that refuse a system role (Mistral, Gemma): fold it into the first turn."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest and rest[0]["role"] == "user":
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    elif system:
        rest.insert(0, {"role": "user", "content": system})
    return rest


def generate_options(body: Mapping[str, Any]) -> dict[str, Any]:
    max_tokens = optional(body, "max_tokens", int)
    if max_tokens is None:
        max_tokens = optional(body, "max_completion_tokens", int)
    if max_tokens is not None and max_tokens < 1:
        raise InputError("max_tokens must be at least 1.")
    options: dict[str, Any] = {"max_new_tokens": max_tokens or DEFAULT_MAX_TOKENS}
    temperature = optional(body, "temperature", float)
    if temperature is not None and temperature <= 0:
        options["do_sample"] = False  # OpenAI's temperature 0: always the likeliest token
    elif temperature is not None:
        options.update(do_sample=True, temperature=temperature)
    top_p = optional(body, "top_p", float)
    if top_p is not None and options.get("do_sample") is not False:
        options["top_p"] = top_p
    penalty = optional(body, "repetition_penalty", float)
    if penalty is not None:
        options["repetition_penalty"] = penalty
    return options


def stop_strings(body: Mapping[str, Any]) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else list(stop)
    return [str(s) for s in stops if s]


def split_at_stop(text: str, stops: Sequence[str]) -> tuple[str, str, bool]:
    """Answer (text safe to send, text held back, whether a stop string was reached).

    Text that might be the start of a stop string is held back until the next piece decides.
    """
    hits = [text.find(stop) for stop in stops if stop in text]
    if hits:
        return text[: min(hits)], "", True
    held = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:size]):
                held = max(held, size)
                break
    return text[: len(text) - held], text[len(text) - held :], False


# ---- streaming ----


class StopWhenSet(StoppingCriteria):
    """Stop generating as soon as any of the events is set (checked after every token)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        stop = any(event.is_set() for event in self.events)
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


def encode_prompt(
    chat: ChatModel, messages: list[dict[str, str]], options: Mapping[str, Any] | None = None
) -> Any:
    """The prompt in the model's template; `options`: what the template reads (thinking)."""

    def encode(turns: list[dict[str, str]]) -> Any:
        return chat.tokenizer.apply_chat_template(
            turns,
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
            **(options or {}),
        )

    try:
        return encode(messages)
    except TemplateError:
        return encode(fold_system(messages))


def raise_failure(error: BaseException | None) -> None:
    """What generate() raised in its thread, as the error a person sees; nothing if none."""
    if error is None:
        return
    if is_out_of_memory(error):
        raise out_of_memory("chat") from error
    raise BackendError(f"Local generation failed: {first_line(str(error))}") from error


def stream(
    loaded: LoadedModel,
    body: Mapping[str, Any],
    cancel: threading.Event,
) -> Iterator[dict]:
    chat: ChatModel = loaded.value
    messages = plain_messages(body.get("messages"))
    options = generate_options(body)
    stops = stop_strings(body)
    seed = optional(body, "seed", int)
    template_kwargs, note = template_options(chat.tokenizer.chat_template, body)
    alternatives = wanted_alternatives(body)
    if alternatives is not None:  # the raw logits of every step, for their probabilities
        options.update(output_logits=True, return_dict_in_generate=True)
    with loaded.lock:  # a fast tokenizer is not safe to call from two threads at once
        prompt = encode_prompt(chat, messages, template_kwargs).to(chat.model.device)
        opened = opens_thinking(chat.tokenizer, prompt["input_ids"])
    prompt_length = prompt["input_ids"].shape[1]

    halt = threading.Event()
    streamer = TextIteratorStreamer(chat.tokenizer, skip_prompt=True, skip_special_tokens=True)
    outcome: dict[str, Any] = {}
    criteria = StoppingCriteriaList([StopWhenSet(cancel, halt)])
    generate = functools.partial(
        _generate, chat, prompt, options, seed, streamer, criteria, outcome
    )

    chunk_id = f"chatcmpl-local-{uuid.uuid4().hex[:24]}"
    worker = threading.Thread(target=generate, name="studio-local-chat", daemon=True)
    finish = None
    try:
        # A block the template opened is the reply's start: the chat tells thinking apart by it.
        first = {"role": "assistant", "content": "<think>" if opened else ""}
        yield chunk(loaded.model, chunk_id, first, **({"studio_note": note} if note else {}))
        worker.start()
        held = ""
        for piece in streamer:
            if cancel.is_set():
                break
            safe, held, stopped = split_at_stop(held + piece, stops)
            if safe:
                yield chunk(loaded.model, chunk_id, {"content": safe})
            if stopped:
                halt.set()
                finish = "stop"
                break
        else:
            worker.join()  # generate() ended the stream; its output is stored just after
            if held and not cancel.is_set():
                yield chunk(loaded.model, chunk_id, {"content": held})
        raise_failure(outcome.get("error"))
        output = outcome.get("output")
        if finish is None:
            finish = finish_reason(chat, output, prompt_length, options, cancel)
        if alternatives is not None and output is not None:
            logprobs = logprobs_chunk(chat.tokenizer, output, prompt_length, alternatives)
            yield chunk(loaded.model, chunk_id, {}, logprobs=logprobs)
        yield chunk(loaded.model, chunk_id, {}, finish)
    finally:
        halt.set()  # the reader stopped early or went away: end generation too


def finish_reason(
    chat: ChatModel, output: Any, prompt_length: int, options: dict, cancel: threading.Event
) -> str:
    """Answer "length" when max_tokens ran out before the model ended its turn, else "stop"."""
    if cancel.is_set() or output is None:
        return "stop"
    new_tokens = getattr(output, "sequences", output)[0][prompt_length:]
    eos = chat.model.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
    ended = len(new_tokens) > 0 and int(new_tokens[-1]) in eos_ids
    return "length" if len(new_tokens) >= options["max_new_tokens"] and not ended else "stop"


def _generate(chat, prompt, options, seed, streamer, criteria, outcome: dict[str, Any]) -> None:
    """The model's generation, in a thread of its own: its pieces go to `streamer`, its output
    or its failure to `outcome`, which the reader raises."""
    try:
        if seed is not None:
            torch.manual_seed(seed)
        with torch.inference_mode():
            outcome["output"] = chat.model.generate(
                **prompt, **options, streamer=streamer, stopping_criteria=criteria
            )
    except BaseException as exc:  # handed to the reader, which raises it
        outcome["error"] = exc
    finally:
        streamer.end()  # a second end() after generate's own is harmless
