"""Two chat turns read together, for the Compare tab: one prompt, two sides, each an ordinary
chat turn (studio.chat.turn.stream_turn), streamed and counted as the Chat tab's are.

    compare_columns ─ together(stream_turn A, stream_turn B) ─ (texts, lines, failures) ...

No Gradio; the backends do the HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from studio.chat.turn import Shown, Turn, said, stream_turn
from studio.classroom.usage import Caller
from studio.config import Config
from studio.errors import InputError
from studio.services import output_price, require_setup
from studio.tasks import compare as task
from studio.tasks.thinking import checked_thinking

_DONE = object()


async def together(streams: list[AsyncIterator]) -> AsyncIterator[tuple[int, Any]]:
    """(index, item) from each stream as it comes, so the columns grow at once. Leaving closes
    both streams, which closes their upstream connections."""
    queue: asyncio.Queue = asyncio.Queue()

    async def pump(index: int, stream: AsyncIterator) -> None:
        try:
            async with contextlib.aclosing(stream) as items:
                async for item in items:
                    await queue.put((index, item))
        finally:
            await queue.put((index, _DONE))

    tasks = [asyncio.ensure_future(pump(i, stream)) for i, stream in enumerate(streams)]
    try:
        running = len(tasks)
        while running:
            index, item = await queue.get()
            if item is _DONE:
                running -= 1
            else:
                yield index, item
    finally:
        for pending in tasks:
            pending.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def compare_columns(
    config: Config,
    prompt: str,
    pair: tuple[task.Side, task.Side],
    *,
    here: bool = False,
    progress: Callable[[str], None] | None = None,
    caller: Caller | None = None,
) -> AsyncIterator[tuple[list[str], list[str], list[Exception | None]]]:
    """Both replies, their lines and their failures, as either grows (side A first)."""
    if not str(prompt or "").strip():
        raise InputError("Type a prompt: both columns answer the same one.")
    require_setup(config, "chat")
    chat = [{"role": "user", "content": prompt}]
    turns = [
        Turn(chat, side.system_prompt, side.settings, model=side.model or None) for side in pair
    ]
    streams = [stream_turn(config, turn, progress=progress, caller=caller) for turn in turns]
    texts, lines, failures = ["", ""], ["", ""], [None, None]
    async with contextlib.aclosing(together(streams)) as shown:
        async for index, state in shown:
            price = None
            if state.ended is not None:  # the model list may be read once: not on the loop
                chat_endpoint = config.endpoint("chat")
                price = await asyncio.to_thread(output_price, chat_endpoint, pair[index].model)
            texts[index], lines[index] = state.reply, _line(state, price, here)
            failures[index] = state.failure
            yield list(texts), list(lines), list(failures)


def _line(state: Shown, price: float | None, here: bool) -> str:
    """Under a column: the chat's stats line while it streams, the figures once it ended,
    or what went wrong."""
    if state.failure is not None:
        return f"**Failed:** {said(state.failure, here)}"
    if state.ended is None:
        return state.stats_line or ""
    stats = state.ended.stats
    return task.column_line(stats.time_to_first_token, stats.tokens_per_second, stats.tokens, price)


def read_sides(
    differs: str,
    value_a,
    value_b,
    system_prompt,
    temperature,
    top_p,
    max_new_tokens,
    seed,
    thinking,
    model,
) -> tuple[task.Side, task.Side]:
    """The two sides from the controls' values (or an API call's)."""
    base = task.Side(
        model=str(model or "").strip(),
        system_prompt=str(system_prompt or ""),
        temperature=temperature,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        seed=seed,
        thinking=checked_thinking(thinking),
    )
    return task.sides(base, differs, value_a, value_b)
