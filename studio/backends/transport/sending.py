"""Sending: the process's one keep-alive session, bounded retries, and the one deadline of each
attempt; `post` reads a whole answer, `look` makes a GET that costs nothing.

`send` sends an `HttpRequest` with retries for a loading model (503), rate limits (429) and
other 5xx, and turns every other failure into our error through `status`. Each attempt has one
deadline, the endpoint's timeout, from the moment it is sent to the answer's last byte, and Stop
(a `Cancel`) cuts it at once, whatever it waits for (`wire.Wire`); `reading` bounds the size.
Waits take an injected `sleep` and `clock`, so tests need not wait.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from studio import errors
from studio.backends.transport.reading import READ_SIZE, decode_answer, load_json, read_body
from studio.backends.transport.request import HttpRequest, auth_headers
from studio.backends.transport.status import error_for, estimated_time, retry_after
from studio.backends.transport.stop import Cancel, Cancelled, current_cancel
from studio.backends.transport.wire import Sent, Wire, WiredAdapter
from studio.endpoint import Endpoint

log = logging.getLogger(__name__)

# What a send or read that a deadline, Stop or the server cut short raises.
READ_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on waiting: a person is watching a spinner, so every wait has a ceiling."""

    total_seconds: float = 120.0  # all attempts and waits of one call
    loading_wait_cap: float = 30.0  # longest single wait for a loading model (503)
    rate_limit_retries: int = 3  # 429
    rate_limit_wait_cap: float = 20.0
    server_error_retries: int = 2  # other 5xx
    backoff_seconds: float = 1.0  # doubled on each 5xx retry, with jitter


DEFAULT_RETRY = RetryPolicy()


def post(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep=None,
    clock=time.monotonic,
) -> Any:
    """Send and read the answer: parsed JSON, or `bytes` when it is an image.

    The whole answer, status line and headers included, must arrive within the endpoint's
    timeout of the request being sent, whatever pace the server sends it at; it may be at most
    `reading.MAX_ANSWER_BYTES`. Stop (the context's `Cancel`) cuts it and raises `Cancelled`.
    """
    with send(request, endpoint, retry=retry, sleep=sleep, clock=clock) as sent:
        try:
            body = read_body(sent.response.raw, sent.response.headers.get("Content-Length"))
        except READ_ERRORS:
            body = None
        if sent.stopped:
            raise Cancelled()
        if sent.wire.timed_out:  # a shut socket may read as the end of the body rather than fail
            raise errors.BackendTimeoutError(
                f"{endpoint.host} did not finish its answer within {endpoint.timeout:g} "
                "seconds. The server may be overloaded: try again, or raise STUDIO_TIMEOUT."
            )
        if body is None:
            raise dropped(endpoint)
        return decode_answer(sent.response, body, endpoint)


def dropped(endpoint: Endpoint) -> errors.BackendConnectionError:
    return errors.BackendConnectionError(
        f"The connection to {endpoint.host} dropped in the middle of the answer. What arrived "
        "before is kept; try again."
    )


_session: requests.Session | None = None
_session_lock = threading.Lock()
# Connections kept per host: a class of 200 streaming chats at once, and the other tabs' requests
# beside them, find theirs open the next time rather than connecting again.
POOL_SIZE = 256


def session() -> requests.Session:
    """The process's one keep-alive session, made on first use (urllib3's pool is thread-safe)."""
    global _session
    with _session_lock:
        if _session is None:
            _session = requests.Session()
            # Users share this session: keep no server cookies that could tie one user to another.
            _session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            adapter = WiredAdapter(pool_connections=16, pool_maxsize=POOL_SIZE, max_retries=0)
            _session.mount("http://", adapter)
            _session.mount("https://", adapter)
        return _session


# Seconds a server may take to close an answer's body after its last event: servers send both
# at once, so a person never waits for this, but one that does not is not waited on for long.
END_WAIT = 1.0


def keep_alive(sent: Sent) -> None:
    """Read the end of an answer whose last event has come (the empty chunk that closes the
    body), so that the pool takes its connection back for the next request: left unread, the
    connection was closed, and every streamed reply connected anew (a TLS handshake each to a
    remote server). A server that sends more after its last event, or keeps the body open past
    END_WAIT, is closed as before: the reply ends that little late at most. The read is on the
    answer's wire, so Stop cuts it as any other."""
    sent.wire.alarm.push(END_WAIT)
    with contextlib.suppress(*READ_ERRORS, errors.BadResponseError):
        sent.response.raw.read1(READ_SIZE, decode_content=True)
    sent.wire.done()  # the connection may serve another request now: no cut may reach it


def send(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep=None,
    clock=time.monotonic,
    cancel: Cancel | None = None,
) -> Sent:
    """Send with bounded retries for 503 loading, 429 and 5xx; raise our errors otherwise.

    The answer's body is left unread (streamed), for the caller to read within the deadline.
    `cancel` (by default the context's, see `stop.stop_with`), when set, cuts the attempt in
    flight or the wait before the next and raises `Cancelled`.
    """
    cancel = cancel if cancel is not None else current_cancel()
    sleep = sleep or (time.sleep if cancel is None else cancel.sleep)
    deadline = clock() + retry.total_seconds
    rate_limited = server_errors = 0
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        sent = _post(request, endpoint, cancel)
        response = sent.response
        if response.ok:
            return sent
        status = response.status_code
        with sent:
            body = _error_body(response)
        if sent.stopped:
            raise Cancelled()
        error = error_for(response, endpoint, body)
        remaining = deadline - clock()
        if status == 503 and isinstance(error, errors.ModelLoadingError):
            wait = min(max(estimated_time(body) or 5.0, 1.0), retry.loading_wait_cap)
        elif status == 429 and rate_limited < retry.rate_limit_retries:
            rate_limited += 1
            hint = retry_after(response)
            if hint is not None and hint > retry.rate_limit_wait_cap:
                raise error  # the server asks for longer than a person should watch a spinner
            wait = 2.0 * rate_limited if hint is None else hint
        elif status >= 500 and server_errors < retry.server_error_retries:
            server_errors += 1
            wait = retry.backoff_seconds * 2 ** (server_errors - 1) * random.uniform(0.8, 1.2)
        else:
            raise error
        if wait > remaining:
            raise error
        log.info("%s answered %s; retrying in %.1f s", endpoint.host, status, wait)
        sleep(wait)


@dataclass(frozen=True)
class Looked:
    """What a GET found: the status (None when nothing answered), the body, and why not."""

    status: int | None
    body: bytes = b""
    failure: str = ""

    def json(self) -> Any:
        return load_json(self.body)


def look(url: str, endpoint: Endpoint, *, timeout: float = 5.0) -> Looked:
    """One GET, for probes that must cost nothing: health, model lists, info. A refused
    connection is asked once more: a server that has just failed may close the kept-alive
    connection as this reuses it (uvicorn does after a 500, without saying so)."""
    headers = auth_headers(endpoint)
    with Wire(timeout) as wire:  # one deadline for both attempts and the answer
        with wire.sending():
            for attempt in range(2):
                try:
                    response = session().get(url, headers=headers, timeout=timeout, stream=True)
                    break
                except requests.Timeout:
                    return Looked(None, failure=f"no answer within {timeout:g} s")
                except requests.ConnectionError:
                    if wire.timed_out:
                        return Looked(None, failure=f"no answer within {timeout:g} s")
                    if attempt:
                        return Looked(None, failure="cannot connect")
                except requests.RequestException:
                    return Looked(None, failure="cannot connect")
        with response:
            try:
                body = read_body(response.raw, None, limit=2**20)
            except (*READ_ERRORS, errors.BadResponseError):
                body = b""
    return Looked(response.status_code, body)


def _error_body(response: requests.Response) -> bytes:
    """A failed answer's body, of which the first MB is plenty."""
    try:
        return read_body(response.raw, None, limit=2**20)
    except (*READ_ERRORS, errors.BadResponseError):
        return b""


def _post(request: HttpRequest, endpoint: Endpoint, cancel: Cancel | None) -> Sent:
    """One attempt, on a `Wire` of its own: its deadline runs from here to the answer's last
    byte, and `cancel` cuts it whatever it waits for."""
    wire = Wire(endpoint.timeout)
    if cancel is not None:
        cancel.call_on_set(wire.cut)
    try:
        with wire.sending():
            response = session().request(
                request.method,
                request.url,
                json=request.json,
                data=request.data,
                headers=request.headers,
                timeout=(min(10.0, endpoint.timeout), endpoint.timeout),
                stream=True,
            )
    except READ_ERRORS as exc:
        wire.done()
        raise _unsent(exc, endpoint, wire, cancel) from None
    except BaseException:
        wire.done()
        raise
    return Sent(response, wire, cancel)


def _unsent(
    exc: BaseException, endpoint: Endpoint, wire: Wire, cancel: Cancel | None
) -> BaseException:
    """Ours for what stopped an attempt before its answer's headers were in."""
    if isinstance(exc, requests.exceptions.InvalidJSONError):
        return errors.InputError(
            "A setting is not a number that can be sent (NaN or infinity); change it and try again."
        )
    if cancel is not None and cancel.is_set():
        return Cancelled()
    if isinstance(exc, requests.ConnectTimeout):
        return errors.BackendTimeoutError(
            f"Could not connect to {endpoint.host} within {min(10.0, endpoint.timeout):g} "
            f"seconds. Check that the server is running and that {endpoint.url_setting} is "
            "right, or your network."
        )
    if wire.timed_out or isinstance(exc, requests.Timeout):
        return errors.BackendTimeoutError(
            f"{endpoint.host} did not answer within {endpoint.timeout:g} seconds. The server may "
            "be busy or starting: try again, or raise STUDIO_TIMEOUT."
        )
    if isinstance(exc, requests.ConnectionError):
        return errors.BackendConnectionError(
            f"Cannot connect to {endpoint.host}. Check that the server is running and that "
            f"{endpoint.url_setting} is right, or check your network."
        )
    return errors.BackendConnectionError(
        f"The request to {endpoint.host} failed ({type(exc).__name__})."
    )
