"""Sending over HTTP, for every backend that speaks to a server: one keep-alive session,
timeouts, bounded retries, and reading answers and event streams.

Requests are plain data (`HttpRequest`), built by each protocol's module; `send` does the I/O
with retries for a loading model (503), rate limits (429) and other 5xx, and turns every other
failure into our error through `studio.backends.status`. Waits take an injected `sleep` and
`clock`, so tests need not wait.
"""

from __future__ import annotations

import http.cookiejar
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import requests.adapters
import urllib3

from studio import errors
from studio.backends import reading
from studio.backends.base import load_json
from studio.backends.status import error_for, estimated_time, retry_after
from studio.config import Endpoint

log = logging.getLogger(__name__)

JSON = "application/json"
# What a read that a deadline, Stop or the server cut short raises.
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


@dataclass(frozen=True)
class HttpRequest:
    """A request as data, so that building it can be tested without a network."""

    url: str
    json: Any = None
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    method: str = "POST"  # or GET: a lookup, a poll, a picture to fetch


def auth_headers(endpoint: Endpoint, *, accept: str = JSON) -> dict[str, str]:
    """`Accept` and, when there is a token, `Authorization: Bearer`. Servers such as the
    inference toolkit match Accept as an exact string, so it is one type, never a list."""
    headers = {"Accept": accept}
    if endpoint.token:
        headers["Authorization"] = f"Bearer {endpoint.token}"
    return headers


def json_request(endpoint: Endpoint, url: str, body: Any, *, accept: str = JSON) -> HttpRequest:
    """A request whose body is JSON."""
    headers = {**auth_headers(endpoint, accept=accept), "Content-Type": JSON}
    return HttpRequest(url=url, json=body, headers=headers)


def at_path(endpoint: Endpoint, path: str, body: Any) -> HttpRequest:
    """A JSON request to a path under the endpoint's base URL (chat servers)."""
    return json_request(endpoint, endpoint.url.rstrip("/") + path, body)


def post(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep=time.sleep,
    clock=time.monotonic,
) -> Any:
    """Send and read the answer: parsed JSON, or `bytes` when it is an image.

    The whole answer must arrive within the endpoint's timeout of its headers, whatever pace
    the server sends it at; it may be at most `reading.MAX_ANSWER_BYTES`.
    """
    with send(request, endpoint, retry=retry, sleep=sleep, clock=clock) as response:
        alarm = reading.WATCHDOG.arm(endpoint.timeout, lambda: interrupt(response))
        try:
            body = reading.read_body(response.raw, response.headers.get("Content-Length"))
        except READ_ERRORS:
            if not alarm.fired:
                raise dropped(endpoint) from None
        finally:
            alarm.cancel()
        if alarm.fired:  # a shut socket may read as the end of the body rather than fail
            raise errors.BackendTimeoutError(
                f"{endpoint.host} did not finish its answer within {endpoint.timeout:g} "
                "seconds. The server may be overloaded: try again, or raise STUDIO_TIMEOUT."
            )
        return reading.decode_answer(response, body, endpoint)


def dropped(endpoint: Endpoint) -> errors.BackendConnectionError:
    return errors.BackendConnectionError(
        f"The connection to {endpoint.host} dropped in the middle of the answer. What arrived "
        "before is kept; try again."
    )


def interrupt(response: requests.Response) -> None:
    """Wake a thread blocked reading `response`; it then closes the connection."""
    try:
        response.raw.shutdown()  # urllib3: shut the socket for reading, safe from any thread
    except (AttributeError, OSError, RuntimeError, ValueError):
        pass  # already closed or released: nothing is reading it


_session: requests.Session | None = None
_session_lock = threading.Lock()
POOL_SIZE = 128  # connections kept per host: many users at once should not reconnect


def session() -> requests.Session:
    """The process's one keep-alive session, made on first use (urllib3's pool is thread-safe)."""
    global _session
    with _session_lock:
        if _session is None:
            _session = requests.Session()
            # Users share this session: keep no server cookies that could tie one user to another.
            _session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=16, pool_maxsize=POOL_SIZE, max_retries=0
            )
            _session.mount("http://", adapter)
            _session.mount("https://", adapter)
        return _session


def send(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep=time.sleep,
    clock=time.monotonic,
) -> requests.Response:
    """Send with bounded retries for 503 loading, 429 and 5xx; raise our errors otherwise.

    The answer's body is left unread (streamed), for the caller to read within bounds.
    """
    deadline = clock() + retry.total_seconds
    rate_limited = server_errors = 0
    while True:
        response = _post(request, endpoint)
        if response.ok:
            return response
        status = response.status_code
        body = _error_body(response)
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
    for attempt in range(2):
        try:
            response = session().get(url, headers=headers, timeout=(timeout, timeout), stream=True)
            break
        except requests.Timeout:
            return Looked(None, failure=f"no answer within {timeout:g} s")
        except requests.ConnectionError:
            if attempt:
                return Looked(None, failure="cannot connect")
        except requests.RequestException:
            return Looked(None, failure="cannot connect")
    with response:
        try:
            body = reading.read_body(response.raw, None, limit=2**20)
        except (*READ_ERRORS, errors.BadResponseError):
            body = b""
    return Looked(response.status_code, body)


def _error_body(response: requests.Response) -> bytes:
    """A failed answer's body, of which the first MB is plenty; the response is closed."""
    try:
        return reading.read_body(response.raw, None, limit=2**20)
    except (*READ_ERRORS, errors.BadResponseError):
        return b""
    finally:
        response.close()


def _post(request: HttpRequest, endpoint: Endpoint) -> requests.Response:
    connect_timeout = min(10.0, endpoint.timeout)
    try:
        return session().request(
            request.method,
            request.url,
            json=request.json,
            data=request.data,
            headers=request.headers,
            timeout=(connect_timeout, endpoint.timeout),
            stream=True,
        )
    except requests.exceptions.InvalidJSONError:
        raise errors.InputError(
            "A setting is not a number that can be sent (NaN or infinity); change it and try again."
        ) from None
    except requests.ConnectTimeout:
        raise errors.BackendTimeoutError(
            f"Could not connect to {endpoint.host} within {connect_timeout:g} seconds. Check that "
            f"the server is running and that {endpoint.url_setting} is right, or your network."
        ) from None
    except requests.Timeout:
        raise errors.BackendTimeoutError(
            f"{endpoint.host} did not answer within {endpoint.timeout:g} seconds. The server may "
            "be busy or starting: try again, or raise STUDIO_TIMEOUT."
        ) from None
    except requests.ConnectionError:
        raise errors.BackendConnectionError(
            f"Cannot connect to {endpoint.host}. Check that the server is running and that "
            f"{endpoint.url_setting} is right, or check your network."
        ) from None
    except requests.RequestException as exc:
        raise errors.BackendConnectionError(
            f"The request to {endpoint.host} failed ({type(exc).__name__})."
        ) from None
