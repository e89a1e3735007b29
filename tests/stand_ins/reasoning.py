"""What the chat stand-ins send for reasoning models and token probabilities, copied from the
real servers (docs/... protocols): the three spellings of thinking, and logprobs in the OpenAI
and TGI shapes.

    "reasoning"          vLLM since its rename, the router: `delta.reasoning`
    "reasoning_content"  DeepSeek, older vLLM, SGLang, llama.cpp, transformers serve
    "inline"             `<think>...</think>` in the content (templates without a parser)
    "inline_open"        the template opened `<think>` in the prompt: only `</think>` comes

The thinking is a fixed sentence, one token per word; `chat_template_kwargs.enable_thinking`
false turns it off, as Qwen3's template does. It counts against max tokens, as it does on real
servers: a small limit cuts the reply while the model still thinks.
"""

from __future__ import annotations

THOUGHT = "The person wants their words back, so I say them in order."
ALTERNATIVES = [" perhaps", " the", " a", " so", " and", " it", " we", " is", " to", " of"]
LOGPROB = -0.25


def thought_tokens(request: dict, spelling: str) -> list[str]:
    """The thinking tokens for this request: none when the server does not think or the
    request turns thinking off."""
    kwargs = request.get("chat_template_kwargs") or {}
    if not spelling or kwargs.get("enable_thinking") is False:
        return []
    words = THOUGHT.split()
    return [words[0], *(f" {word}" for word in words[1:])]


def framed(thought: list[str], spelling: str) -> list[str]:
    """The thinking as the content carries it inline, tags and blank lines included."""
    if not thought or not spelling.startswith("inline"):
        return []
    opening = ["<think>", "\n"] if spelling == "inline" else []
    return [*opening, *thought, "\n", "</think>", "\n\n"]


def openai_delta(token: str, spelling: str, thinking: bool) -> dict:
    """The delta of one token: thinking in its field, or content."""
    if thinking and spelling in ("reasoning", "reasoning_content"):
        return {spelling: token}
    return {"content": token}


def openai_logprobs(token: str, top: int) -> dict:
    """`choices[0].logprobs` for one token, as vLLM and llama.cpp's server send it."""

    def entry(text: str, logprob: float) -> dict:
        return {"token": text, "logprob": logprob, "bytes": list(text.encode())}

    alternatives = [entry(token, LOGPROB)]
    alternatives += [entry(text, -2.0 - i) for i, text in enumerate(ALTERNATIVES) if text != token]
    return {"content": [{**entry(token, LOGPROB), "top_logprobs": alternatives[:top]}]}


def tgi_top_tokens(token: str, index: int, top: int) -> list[dict]:
    """An event's `top_tokens`, as TGI sends them with `top_n_tokens`."""
    texts = [token, *(text for text in ALTERNATIVES if text != token)][:top]
    return [
        {"id": 2000 + index * 10 + i, "text": text, "logprob": LOGPROB - 2 * i, "special": False}
        for i, text in enumerate(texts)
    ]
