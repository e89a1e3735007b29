"""Two streams read together for the Compare tab: each item as it comes, from both at once, and
leaving closes both."""

from __future__ import annotations

import asyncio
import contextlib

from studio.chat.side_by_side import together


def test_both_streams_are_read_at_once_and_leaving_closes_both():
    closed = []

    async def first(b_started: asyncio.Event):
        try:
            yield "a1"
            await b_started.wait()  # read one stream after the other, this would never end
            yield "a2"
            await asyncio.Event().wait()  # still writing when the reader leaves
        finally:
            closed.append("a")

    async def second(b_started: asyncio.Event):
        try:
            b_started.set()
            yield "b1"
            await asyncio.Event().wait()
        finally:
            closed.append("b")

    async def read() -> list:
        b_started = asyncio.Event()
        seen = []
        both = together([first(b_started), second(b_started)])
        async with contextlib.aclosing(both) as items:
            async for item in items:
                seen.append(item)
                if len(seen) == 3:
                    break
        return seen

    seen = asyncio.run(asyncio.wait_for(read(), timeout=30))
    assert sorted(seen) == [(0, "a1"), (0, "a2"), (1, "b1")]
    assert seen.index((1, "b1")) < seen.index((0, "a2"))
    assert sorted(closed) == ["a", "b"]


def test_a_stream_that_ends_early_leaves_the_other_running_to_its_end():
    async def short():
        yield "a"

    async def long():
        for word in ("b1", "b2", "b3"):
            await asyncio.sleep(0)
            yield word

    async def read() -> list:
        return [item async for item in together([short(), long()])]

    seen = asyncio.run(asyncio.wait_for(read(), timeout=30))
    assert [item for item in seen if item[0] == 1] == [(1, "b1"), (1, "b2"), (1, "b3")]
    assert (0, "a") in seen
