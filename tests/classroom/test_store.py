"""The store behind the limits, the login throttle and the usage record: the same answers from
this process's memory and from a real Redis; replicas that race for the last request; and the
rule when the shared store goes away (each replica goes on with its own memory)."""

from __future__ import annotations

import logging
import threading

import pytest

from studio.classroom.limits import Limits, parse_rules
from studio.classroom.login import LoginThrottle
from studio.classroom.store import Check, MemoryStore
from studio.classroom.usage import Entry, Meter, Person
from studio.errors import LimitReached
from tests.classroom.real_servers import RedisServer
from tests.classroom.test_limits import reference_wait


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0  # a wall clock's time, as Redis stores are given

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


def redis_store(server: RedisServer, clock: Clock):
    from studio.classroom.shared import RedisStore

    return RedisStore(server.url, clock=clock)


@pytest.fixture(params=["memory", "redis"])
def make_store(request):
    """Stores on one clock: in memory one store (one process); on Redis, each call a replica's
    own client of one server, emptied first."""
    clock = Clock()
    if request.param == "memory":
        store = MemoryStore(clock=clock)
        yield lambda: store
        return
    server = request.getfixturevalue("redis_server")
    first = redis_store(server, clock)
    first.redis.flushdb()
    yield lambda: redis_store(server, clock)


def test_waits_are_exact_over_long_runs_of_uneven_costs(make_store):
    store = make_store()
    rules = parse_rules("40/minute,300/hour")
    spent: list[tuple[float, int]] = []
    for step in range(1500):
        store.clock.now += (step * 7919) % 13 * 0.9  # uneven gaps, sometimes none
        cost = 1 + step % 5
        expected = max(reference_wait(rule, spent, store.clock.now, cost) for rule in rules)
        over = store.admit([Check("requests", "ada", rules, cost, cost)])
        if over is None:
            assert expected == 0.0
            spent.append((store.clock.now, cost))
        else:
            assert over.index == 0 and over.wait == pytest.approx(expected)


def test_a_refusal_counts_nothing_and_names_the_check(make_store):
    store = make_store()
    one, five = parse_rules("1/minute"), parse_rules("5/hour")
    checks = [Check("requests", "ada", five, 1, 1), Check("images", "ada", one, 1, 1)]
    assert store.admit(checks) is None
    for _ in range(3):
        over = store.admit(checks)
        assert over.index == 1 and over.rule == one[0] and over.wait == pytest.approx(60)
    store.clock.now += 61
    for _ in range(4):  # the refused requests spent no request either: 1 + 4 fit in 5/hour
        assert store.admit(checks[:1]) is None
    assert store.admit(checks[:1]).index == 0


def test_the_flood_guard_counts_only_new_sessions(make_store):
    store = make_store()
    guard = Check("new_sessions", "10.0.0.7", parse_rules("2/minute"), 1, 1, new_only=True)
    assert store.admit([guard], "session:a") is None
    assert store.admit([guard], "session:a") is None  # known: not a new session
    assert store.admit([guard], "session:b") is None
    assert store.admit([guard], "session:c").index == 0  # a third new one from the address
    assert store.admit([guard], None) is None  # a login is no new session
    assert store.admit([guard], "session:a") is None


def test_tokens_spent_afterwards_count_against_the_next_request(make_store):
    store = make_store()
    rules = parse_rules("100/hour")
    tokens = Check("tokens", "ada", rules, 1, 0)
    assert store.admit([tokens]) is None
    store.spend("tokens", "ada", rules, 100)
    assert store.admit([tokens]).wait == pytest.approx(3600)
    # counted with the request's record instead (one round trip to Redis)
    bobs = Check("tokens", "bob", rules, 1, 0)
    assert store.admit([bobs]) is None
    store.log({"at": store.clock(), "person": "bob"}, Check("tokens", "bob", rules, 0, 100))
    assert store.admit([bobs]).wait == pytest.approx(3600)
    assert store.records() == [{"at": store.clock(), "person": "bob"}]


def test_the_login_throttle_is_the_same_on_every_replica(make_store):
    one, other = LoginThrottle(make_store()), LoginThrottle(make_store())
    for _ in range(5):
        one.failed("10.0.0.5", "teacher")
    assert other.wait("10.0.0.5", "teacher") == 1.0  # five wrong on one replica
    other.failed("10.0.0.5", "teacher")
    assert one.wait("10.0.0.5", "teacher") == 2.0
    assert one.wait("10.0.0.6", "teacher") == 0  # another address is not slowed
    other.store.clock.now += 901
    assert one.wait("10.0.0.5", "teacher") == 0  # forgotten after 15 quiet minutes
    usage = LoginThrottle(make_store(), name="usage")
    one.failed("10.0.0.5", None)
    assert usage.store.failures(usage.addresses, "10.0.0.5", usage.forget) is None


def test_the_usage_record_holds_every_replicas_requests_for_an_hour(make_store):
    limits = Limits(requests=parse_rules("3/hour"))
    meters = [Meter(limits, store=make_store()) for _ in range(2)]
    ada = Person("user:ada", "ada", "10.0.0.5", logged_in=True)
    for meter in (*meters, meters[0]):
        meter.admit(ada, "summarization")
        meter.done(ada, Entry(meter.clock(), "ada", "summarization", "ok", host="h"))
    with pytest.raises(LimitReached, match="3 per hour"):
        meters[1].admit(ada, "summarization")
    for meter in meters:
        (person,) = meter.report()["people"]
        assert (person["requests"], person["refused"]) == (3, 1)
    meters[0].clock.now += 3601
    assert meters[1].report()["people"] == []


def test_replicas_racing_for_the_last_requests_never_get_more(redis_server):
    """Eight threads on two clients (two replicas) ask at once: exactly the limit is let in.
    A check that read the count and then wrote it would let in more."""
    clock = Clock()
    stores = [redis_store(redis_server, clock) for _ in range(2)]
    stores[0].redis.flushdb()
    rules, admitted = parse_rules("50/minute"), []
    start = threading.Barrier(8)

    def ask(store) -> None:
        start.wait()
        for _ in range(40):
            if store.admit([Check("total", "studio", rules, 1, 1)]) is None:
                admitted.append(1)

    threads = [threading.Thread(target=ask, args=(stores[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 50


def test_a_store_that_goes_away_is_said_once_and_each_replica_goes_on(caplog):
    from studio.classroom.fallback import Fallback
    from studio.classroom.shared import RedisStore

    server = RedisServer().start()
    clock = Clock()
    store = Fallback(RedisStore(server.url, clock=clock), MemoryStore(clock=clock), retry_after=0)
    rules = parse_rules("2/hour")
    ask = [Check("requests", "ada", rules, 1, 1)]
    assert store.admit(ask) is None and store.where.startswith("shared (redis://127.0.0.1:")
    server.stop()
    with caplog.at_level(logging.WARNING, logger="studio.classroom.fallback"):
        assert store.admit(ask) is None  # admitted, counted in this replica's memory
        assert store.admit(ask) is None
        assert store.admit(ask).wait == pytest.approx(3600)  # its own limit still holds
        store.log({"at": clock(), "person": "ada"})
        assert store.records() == [{"at": clock(), "person": "ada"}]  # once, from memory
        assert "does not answer" in store.where
        server.start()  # the same port again, empty (it keeps nothing on disk)
        assert store.admit(ask) is None  # counted in the shared store again
        assert store.where.startswith("shared")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "does not answer" in lines[0] and "on its own" in lines[0]
    assert "answers again" in lines[1]
    assert store.records() == [{"at": clock(), "person": "ada"}]  # kept here meanwhile
    server.stop()
