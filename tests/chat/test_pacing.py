"""How often a streamed reply is shown (studio.chat.pacing), on a clock the test moves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from studio.chat.pacing import (
    MAX_INTERVAL,
    UPDATE_INTERVAL,
    UPDATES_PER_SECOND,
    ReplyBuffer,
    Streams,
    Update,
    paced_interval,
)
from studio.errors import BackendConnectionError
from studio.tasks.chat import Delta

INTERVAL = 0.04


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reply(clock) -> ReplyBuffer:
    return ReplyBuffer(INTERVAL, clock)


def test_the_first_token_wakes_the_waiting_loop_and_is_shown_alone(reply, clock):
    assert reply.wait_time() is None, "nothing yet: wait until woken"
    clock.now += 0.3
    assert reply.add(Delta("Hello")) is True
    assert reply.wait_time() == 0
    update = reply.take()
    assert (update.text, update.new, update.final) == ("Hello", True, False)
    assert update.stats.time_to_first_token == pytest.approx(0.3)


def test_tokens_within_the_interval_gather_without_waking_the_loop(reply, clock):
    reply.add(Delta("Hello"))
    reply.take()
    assert reply.wait_time() == pytest.approx(INTERVAL), "paced: only the end may wake it"
    for text in [" there", " my", " friend"]:
        clock.now += 0.01
        assert reply.add(Delta(text)) is False
    assert reply.wait_time() == pytest.approx(INTERVAL - 0.03)
    clock.now += 0.01
    assert reply.wait_time() == 0
    update = reply.take()
    assert update.text == "Hello there my friend"
    assert update.stats.tokens == 4, "tokens are counted, not updates"


def test_the_end_cuts_the_pause_short_and_the_whole_reply_is_final(reply, clock):
    reply.add(Delta("Hello"))
    reply.take()
    reply.wait_time()
    clock.now += 0.005
    reply.add(Delta(" there", "stop"))
    assert reply.end() is True, "the loop pauses; the end wakes it"
    assert reply.wait_time() == 0
    update = reply.take()
    assert (update.text, update.new, update.final, update.error) == (
        "Hello there",
        True,
        True,
        None,
    )
    assert update.stats.finish_reason == "stop"


def test_after_a_quiet_interval_the_next_token_wakes_the_loop_at_once(reply, clock):
    reply.add(Delta("Hello"))
    reply.take()
    clock.now += 1.0  # a slow server
    assert reply.wait_time() is None
    assert reply.add(Delta(" there")) is True
    assert reply.add(Delta(" again")) is False, "one wake is enough"
    assert reply.wait_time() == 0 and reply.take().text == "Hello there again"


def test_a_finish_reason_alone_is_news_but_changes_no_text(reply, clock):
    reply.add(Delta("Hi"))
    reply.take()
    clock.now += 1.0
    reply.wait_time()
    assert reply.add(Delta("", "length")) is True
    update = reply.take()
    assert (update.text, update.new, update.stats.tokens) == ("Hi", True, 1)


def test_a_failure_keeps_the_text_before_it(reply, clock):
    reply.add(Delta("Half"))
    reply.take()
    reply.wait_time()
    reply.add(Delta(" a"))
    failure = BackendConnectionError("The connection dropped.")
    assert reply.end(failure) is True
    update = reply.take()
    assert (update.text, update.new, update.final, update.error) == ("Half a", True, False, failure)


def test_an_end_with_nothing_new_is_final_but_not_new(reply, clock):
    reply.add(Delta("Done", "stop"))
    reply.take()
    clock.now += 1.0
    assert reply.wait_time() is None
    assert reply.end() is True
    update = reply.take()
    assert (update.text, update.new, update.final) == ("Done", False, True)


def follow(
    token_times: list[float], interval: float | Callable[[], float]
) -> tuple[list[tuple[float, Update]], int]:
    """Run a stream and a loop that obeys `wait_time`, on one fake clock: (time, update) for
    each update taken, and how often the reader had to wake the loop."""
    clock = Clock(0.0)
    reply = ReplyBuffer(interval, clock)
    arrivals = [*((at, Delta(" x")) for at in token_times), (token_times[-1], None)]  # None: end
    updates, wakes, looks_at = [], 0, 0.0  # looks_at None: the loop waits to be woken
    while True:
        if arrivals and (looks_at is None or arrivals[0][0] < looks_at):
            clock.now, delta = arrivals.pop(0)
            woken = reply.add(delta) if delta is not None else reply.end()
            if woken:
                wakes, looks_at = wakes + 1, clock.now
            continue
        clock.now = looks_at
        delay = reply.wait_time()
        if delay == 0:
            updates.append((clock.now, reply.take()))
            if updates[-1][1].final:
                return updates, wakes
        looks_at = None if delay is None else clock.now + delay


def test_a_fast_stream_is_shown_at_most_once_per_interval_and_whole_at_its_end():
    times = [0.2 + n * 0.005 for n in range(1000)]  # 1,000 tokens at 200 a second
    updates, wakes = follow(times, INTERVAL)
    (first_at, first), (last_at, last) = updates[0], updates[-1]
    assert first.text == " x" and first_at == times[0], "the first token at once"
    assert last.text == " x" * 1000 and last.stats.tokens == 1000
    assert last_at == times[-1], "the end is not held back"
    taken_at = [at for at, _ in updates[:-1]]
    assert all(b - a >= INTERVAL - 1e-9 for a, b in zip(taken_at, taken_at[1:], strict=False))
    assert len(updates) <= 5.0 / INTERVAL + 2
    assert wakes <= 2, "the reader woke the loop for the first token and the end, not per token"


def test_a_slow_stream_is_shown_token_by_token():
    times = [n * 0.1 for n in range(20)]  # slower than the interval
    updates, wakes = follow(times, INTERVAL)
    texts = [update.text for _, update in updates if update.new]
    assert texts == [" x" * n for n in range(1, 21)]
    assert wakes == len(updates), "each update woken once, by its token or the end"


# --- under load: the interval grows with the number of replies streaming ---------------------


def test_few_streams_keep_the_smooth_interval_and_many_share_the_updates():
    assert paced_interval(0) == paced_interval(1) == UPDATE_INTERVAL
    few = int(UPDATE_INTERVAL * UPDATES_PER_SECOND)  # up to here 25 updates a second each
    assert paced_interval(few) == UPDATE_INTERVAL
    assert paced_interval(few + 1) > UPDATE_INTERVAL
    loads = [1, 10, 20, 50, 80, 100, 150, 200, 1000, 100_000]
    intervals = [paced_interval(n) for n in loads]
    assert intervals == sorted(intervals), "more streams never mean more updates each"
    assert paced_interval(50) == pytest.approx(50 / UPDATES_PER_SECOND)
    for n in loads:  # the process's updates a second stay near the budget, or under it
        assert n / paced_interval(n) <= max(UPDATES_PER_SECOND, n / UPDATE_INTERVAL) + 1e-6


def test_however_many_stream_a_reply_moves_at_least_every_max_interval():
    assert 0.25 <= MAX_INTERVAL <= 0.5
    assert paced_interval(200) == paced_interval(100_000) == MAX_INTERVAL
    assert paced_interval(100_000, interval=60.0) == 60.0, "a longer interval asked for is kept"


def test_a_reply_follows_the_load_as_it_changes():
    clock, load = Clock(), [1]
    reply = ReplyBuffer(lambda: paced_interval(load[0]), clock)
    reply.add(Delta("Hello"))
    reply.take()
    assert reply.wait_time() == pytest.approx(UPDATE_INTERVAL)
    load[0] = 200  # a class starts chatting
    assert reply.wait_time() == pytest.approx(MAX_INTERVAL)
    clock.now += 0.1
    load[0] = 50  # some have finished: the wait is shorter, counted from the last update
    assert reply.wait_time() == pytest.approx(50 / UPDATES_PER_SECOND - 0.1)


def test_under_load_a_fast_stream_gathers_more_per_update_yet_starts_and_ends_at_once():
    times = [0.2 + n * 0.005 for n in range(1000)]  # 1,000 tokens at 200 a second
    alone, _ = follow(times, lambda: paced_interval(1))
    crowded, wakes = follow(times, lambda: paced_interval(200))
    assert crowded[0] == (times[0], crowded[0][1]) and crowded[0][1].text == " x"
    assert crowded[-1][0] == times[-1] and crowded[-1][1].text == " x" * 1000
    taken_at = [at for at, _ in crowded]
    assert max(b - a for a, b in zip(taken_at, taken_at[1:], strict=False)) <= MAX_INTERVAL + 1e-9
    assert len(crowded) <= 5.0 / MAX_INTERVAL + 2 < len(alone) / 5
    assert wakes <= 2


def test_streams_are_counted_while_they_run_however_they_end():
    streams = Streams()
    with streams.running(), streams.running():
        assert streams.count == 2
    with pytest.raises(RuntimeError), streams.running():
        raise RuntimeError("the stream failed")
    assert streams.count == 0
    go = threading.Barrier(8)

    def one() -> None:
        go.wait()  # all at once
        for _ in range(500):
            with streams.running():
                pass

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert streams.count == 0, "counted from many threads, none lost"
