"""The store every replica shares (STUDIO_REDIS_URL), and what happens when it does not answer.

Each sliding window is a sorted set: one member per use, scored by when it came, named by the
running total before it and its own cost ("000000000000041:3"), so that a window's sum is the
difference of two running totals and the wait is a bisection, as in memory
(studio.classroom.limits). A request's checks are one Lua script: Redis runs it whole, so two
replicas can never both see room for the last request (no read, then write, from Python).

    studio:w:<name>:<key>      a window's uses, trimmed to the longest rule, expiring with it
    studio:seen:<session>      when a session last asked (the flood guard's "new session")
    studio:ledger              the usage record: a list of JSON records, the last hour's
    studio:try:<space>:<key>   wrong passwords: a hash of n (how many) and last (when)

Keys expire on their own, so Redis holds only what the limits still need. A studio of its own
per Redis database: redis://host:6379/0 for one, /1 for another.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from studio.classroom.store import HOUR, Check, MemoryStore, Over, Store, StoreAway
from studio.errors import ConfigurationError

log = logging.getLogger("studio.classroom.shared")
PREFIX = "studio:"
MAX_ENTRIES = 20_000

_WINDOWS = """
local function parse(member)
  local before, cost = string.match(member, '^(%d+):(%d+)')
  return tonumber(before), tonumber(cost)
end
local function state(key)  -- the running total after the last use, when it came, and the first
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #last == 0 then return {sum = 0, first = 0} end
  local before, cost = parse(last[1])
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {sum = before + cost, last = tonumber(last[2]), first = parse(first[1]),
          oldest = tonumber(first[2])}
end
local function wait(key, st, count, seconds, cost, now)
  if st.sum - st.first + cost <= count then return 0 end  -- all that is kept fits: no bisection
  local size = redis.call('ZCARD', key)
  local start = redis.call('ZCOUNT', key, '-inf', now - seconds)  -- the window's first use
  local base = st.sum
  if start < size then base = parse(redis.call('ZRANGE', key, start, start)[1]) end
  local over = st.sum - base + cost - count
  if over <= 0 then return 0 end
  if cost > count then return seconds end
  local lo, hi = start, size - 1  -- the first use whose leaving frees `over`
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local before, spent = parse(redis.call('ZRANGE', key, mid, mid)[1])
    if before + spent >= base + over then hi = mid else lo = mid + 1 end
  end
  local at = redis.call('ZRANGE', key, lo, lo, 'WITHSCORES')[2]
  return tonumber(at) + seconds - now
end
local function add(key, st, spend, longest, now)
  if spend <= 0 then return end
  local at = now
  if st.last and st.last > at then at = st.last end  -- a replica's clock behind: keep the order
  redis.call('ZADD', key, at, string.format('%015d:%d', st.sum, spend))
  if st.oldest and st.oldest <= now - longest then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest)
  end
  redis.call('PEXPIRE', key, math.ceil(longest * 1000) + 1000)
end
"""

# KEYS: the session's key, then one per check. ARGV: now, session given (1/0), then per check
# cost, spend, new_only, longest, rule count, and each rule's count and seconds.
ADMIT = (
    _WINDOWS
    + """
local now = tonumber(ARGV[1])
local new = false
if ARGV[2] == '1' then
  local seen = redis.call('GET', KEYS[1])
  new = not seen or tonumber(seen) <= now - 3600
end
local checks, pos = {}, 3
for i = 2, #KEYS do
  local c = {key = KEYS[i], cost = tonumber(ARGV[pos]), spend = tonumber(ARGV[pos + 1]),
             new_only = ARGV[pos + 2] == '1', longest = tonumber(ARGV[pos + 3]), rules = {}}
  local n = tonumber(ARGV[pos + 4])
  pos = pos + 5
  for r = 1, n do c.rules[r] = {tonumber(ARGV[pos]), tonumber(ARGV[pos + 1])}; pos = pos + 2 end
  c.applies = new or not c.new_only
  if c.applies then c.state = state(c.key) end
  checks[#checks + 1] = c
end
for i, c in ipairs(checks) do
  if c.applies and c.cost > 0 then
    local worst, which = 0, 0
    for r, rule in ipairs(c.rules) do
      local w = wait(c.key, c.state, rule[1], rule[2], c.cost, now)
      if w > worst then worst, which = w, r end
    end
    if worst > 0 then return {i, which, tostring(worst)} end
  end
end
for _, c in ipairs(checks) do
  if c.applies then add(c.key, c.state, c.spend, c.longest, now) end
end
if ARGV[2] == '1' then redis.call('SET', KEYS[1], tostring(now), 'PX', 3600000) end
return 0
"""
)
SPEND = _WINDOWS + (
    "add(KEYS[1], state(KEYS[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[1]))\n"
)


def _longest(check: Check) -> float:
    return max(rule.seconds for rule in check.rules)


class RedisStore:
    """The store on a Redis server; every failure to reach it is a StoreAway."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                "STUDIO_REDIS_URL needs redis-py: pip install -r requirements-hall.txt"
            ) from None
        self.clock, self.name = clock, f"Redis {shown_url(url)}"  # no password in it
        self.where = f"shared ({shown_url(url)})"
        self._errors = (redis.RedisError, OSError)
        # short timeouts and no retries: a store that does not answer is left for a while
        # (Fallback), not waited on by every request
        retry = redis.retry.Retry(redis.backoff.NoBackoff(), 0)
        self.redis = redis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, retry=retry
        )
        self._admit = self.redis.register_script(ADMIT)
        self._spend = self.redis.register_script(SPEND)

    def admit(self, checks: Sequence[Check], session: str | None = None) -> Over | None:
        counted = [(i, c) for i, c in enumerate(checks) if c.counted]
        keys = [f"{PREFIX}seen:{session or ''}"]
        args: list = [self.clock(), 1 if session is not None else 0]
        for _, check in counted:
            keys.append(f"{PREFIX}w:{check.name}:{check.key}")
            args += [check.cost, check.spend, int(check.new_only), _longest(check)]
            args.append(len(check.rules))
            for rule in check.rules:
                args += [rule.count, rule.seconds]
        answer = self._run(self._admit, keys, args)
        if not answer:
            return None
        which, rule, wait = answer
        index, check = counted[int(which) - 1]
        return Over(index, check.rules[int(rule) - 1], float(wait))

    def spend(self, name: str, key: str, rules: tuple, cost: int) -> None:
        if rules and cost > 0:
            longest = max(rule.seconds for rule in rules)
            self._run(self._spend, [f"{PREFIX}w:{name}:{key}"], [self.clock(), cost, longest])

    def log(self, record: dict, spent: Check | None = None) -> None:
        """The record, and what the request spent, in one round trip."""
        key = PREFIX + "ledger"
        with self._away():
            pipe = self.redis.pipeline(transaction=True)
            if spent is not None and spent.rules and spent.spend > 0:
                window = [f"{PREFIX}w:{spent.name}:{spent.key}"]
                args = [self.clock(), spent.spend, _longest(spent)]
                self._spend(keys=window, args=args, client=pipe)
            pipe.rpush(key, json.dumps(record)).ltrim(key, -MAX_ENTRIES, -1)
            pipe.expire(key, int(HOUR)).execute()

    def records(self) -> list[dict]:
        with self._away():
            raw = self.redis.lrange(PREFIX + "ledger", 0, -1)
        cutoff = self.clock() - HOUR
        return [r for r in map(json.loads, raw) if r["at"] > cutoff]

    def failures(self, space: str, key: str, forget: float) -> tuple[int, float] | None:
        with self._away():
            n, last = self.redis.hmget(f"{PREFIX}try:{space}:{key}", "n", "last")
        if n is None or last is None or self.clock() - float(last) > forget:
            return None
        return int(n), float(last)

    def fail(self, space: str, key: str, forget: float) -> None:
        name, now = f"{PREFIX}try:{space}:{key}", self.clock()
        with self._away():
            if self.failures(space, key, forget) is None:
                self.redis.delete(name)  # an old record's count starts again
            pipe = self.redis.pipeline(transaction=True)
            pipe.hincrby(name, "n", 1).hset(name, "last", repr(now))
            pipe.expire(name, math.ceil(forget)).execute()

    def clear(self, space: str, key: str) -> None:
        with self._away():
            self.redis.delete(f"{PREFIX}try:{space}:{key}")

    def _run(self, script, keys: list, args: list):
        with self._away():
            return script(keys=keys, args=args)

    @contextmanager
    def _away(self) -> Iterator[None]:
        """Turns the client's connection errors into StoreAway."""
        try:
            yield
        except self._errors as error:
            raise StoreAway(f"{type(error).__name__}: {error}") from error


def shown_url(url: str) -> str:
    """The URL without its password, for a log line or the usage view."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def open_store(url: str) -> Store:
    """The store for STUDIO_REDIS_URL: this process's memory without one."""
    if not url:
        return MemoryStore()
    from studio.classroom.fallback import Fallback

    shared = RedisStore(url)
    return Fallback(shared, MemoryStore(clock=shared.clock))
