"""The login: the right password at once, wrong ones ever slower.

Gradio checks a `user:password` given to `launch(auth=...)` as often as anyone asks, so a
password can be guessed at the speed of the network. The studio gives Gradio a check of its own:

  - Each client address has five tries free; after that each try waits for the one before:
    1 s after the fifth wrong password, then 2, 4, 8 s ... up to 5 minutes. A try that comes
    too early is not checked at all: Gradio answers 429 with Retry-After and a sentence saying
    how long to wait. A right password clears the address's record.
  - The user name, when it is the real one, also keeps a count, across addresses (many machines
    guessing together): after 20 wrong passwords it waits the same way, but only for addresses
    that have themselves given a wrong password lately. A classmate who types the right password
    from an address of their own is never slowed, whatever others are doing.
  - Wrong tries are forgotten after 15 quiet minutes. At most 4096 addresses are remembered (the
    least recent go first), and only the configured user names: memory stays bounded.
  - The counts are kept by the studio's store (studio.classroom.store): with several replicas,
    the one they share, so a guesser gets no more tries from being sent to another replica
    (there each count expires on its own after the same 15 quiet minutes).

The client address comes from the request (see `CLIENT`, set by studio.classroom.middleware).
A login sent as HTTP Basic auth (an MCP client's, the teacher's for the usage view) is read by
`basic_credentials`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from studio.classroom.store import MemoryStore, Store

# The address of the client whose request is being answered ("" when unknown).
CLIENT: ContextVar[str] = ContextVar("studio_client", default="")

# What the login page says, so that a login that "does nothing" (a 429) is understood.
LOGIN_MESSAGE = (
    "After five wrong passwords in a row, each try waits a little longer (up to 5 minutes): "
    "if Login seems to do nothing, wait a moment and try again."
)


class LoginThrottle:
    """How long a login try must wait, from the wrong passwords before it, as kept by `store`
    (by default this process's memory, with `clock` and at most `capacity` records a kind);
    `name` keeps apart the studio's login and the usage view's."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        name: str = "login",
        clock: Callable[[], float] = time.monotonic,
        free: int = 5,
        user_free: int = 20,
        first_wait: float = 1.0,
        longest_wait: float = 300.0,
        forget: float = 900.0,
        capacity: int = 4096,
    ) -> None:
        self.store = store or MemoryStore(clock=clock, capacity=capacity)
        self.free, self.user_free = free, user_free
        self.first_wait, self.longest_wait = first_wait, longest_wait
        self.forget = max(forget, longest_wait)
        self.addresses, self.users = f"{name}:address", f"{name}:user"

    def wait(self, address: str, user: str | None) -> float:
        """Seconds before a try from `address` for `user` (None: not a real user) is checked."""
        mine = self.store.failures(self.addresses, address, self.forget)
        if mine is None:
            return 0.0  # an address with no wrong password lately is always checked at once
        now = self.store.clock()
        wait = self._left(mine, self.free, now)
        if user is not None:
            theirs = self.store.failures(self.users, user, self.forget)
            if theirs is not None:
                wait = max(wait, self._left(theirs, self.user_free, now))
        return wait

    def failed(self, address: str, user: str | None) -> None:
        self.store.fail(self.addresses, address, self.forget)
        if user is not None:
            self.store.fail(self.users, user, self.forget)

    def succeeded(self, address: str) -> None:
        self.store.clear(self.addresses, address)

    def _left(self, record: tuple[int, float], free: int, now: float) -> float:
        failures, last = record
        if failures < free:
            return 0.0
        delay = min(self.first_wait * 2 ** (failures - free), self.longest_wait)
        return max(0.0, last + delay - now)


PasswordCheck = Callable[[str, str], Awaitable[bool]]


def password_check(account: tuple[str, str], throttle: LoginThrottle) -> PasswordCheck:
    """Gradio's `auth` callable for one `(user, password)`, slowed by `throttle`.

    It is a coroutine function, so Gradio awaits it on its event loop: nothing in it blocks. A
    try that must wait raises Gradio's HTTP 429 instead of answering False.
    """
    user, password = account

    async def check(username: str, given: str) -> bool:
        address = CLIENT.get()
        known = username if _same(username, user) else None
        wait = throttle.wait(address, known)
        if wait > 0:
            raise _too_early(wait)
        password_right = _same(given, password)  # compared whatever the name, in the same time
        right = known is not None and password_right
        if right:
            throttle.succeeded(address)
        else:
            throttle.failed(address, known)
        return right

    return check


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header; None without one, or when
    it is not well formed."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        given = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = given.partition(":")
    return (user, password) if sep else None


def _too_early(wait: float) -> Exception:
    from fastapi import HTTPException  # Gradio's web framework: its answer to a route's error

    seconds = max(1, math.ceil(wait))
    return HTTPException(
        429,
        detail=f"Too many wrong passwords from this address: try again in {seconds} s.",
        headers={"Retry-After": str(seconds)},
    )


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
