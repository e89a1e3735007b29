"""Sending over HTTP, for every backend that speaks to a server: one keep-alive session,
timeouts, bounded retries, and reading answers and event streams.

Requests are plain data (`HttpRequest`), built by each protocol's module; `send` does the I/O
with retries for a loading model (503), rate limits (429) and other 5xx, and turns every other
failure into our error through `studio.backends.status`. Waits take an injected `sleep` and
`clock`, so tests need not wait.
"""

from __future__ import annotations

import base64
import binascii
import http.cookiejar
import json
import logging
import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
import requests.adapters

from studio import errors
from studio.backends.base import Cancel, Cancelled
from studio.backends.sse import json_events, parse_sse
from studio.backends.status import describe_body, error_for
from studio.config import Endpoint

log = logging.getLogger(__name__)

JSON = "application/json"
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"RIFF")


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


def post(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep=time.sleep,
    clock=time.monotonic,
) -> Any:
    """Send and read the answer: parsed JSON, or `bytes` when it is an image."""
    with send(request, endpoint, retry=retry, sleep=sleep, clock=clock) as response:
        return decode_answer(response, endpoint)


def stream_events(
    request: HttpRequest,
    endpoint: Endpoint,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    cancel: Cancel | None = None,
) -> Iterator[dict]:
    """Send and read Server-Sent Events as JSON objects until the stream ends.

    Closing this generator (a person pressed Stop) closes the connection, which tells the
    server to stop generating. Setting `cancel` does the same from another thread, even while
    this one is blocked waiting for the next event; the stream then ends quietly. Before the
    server has sent its headers there is no response to shut yet: the connection closes as soon
    as they arrive (TGI, vLLM and the router send them at once when streaming).
    """
    sleep = time.sleep if cancel is None else cancel.sleep
    try:
        response = send(request, endpoint, retry=retry, stream=True, sleep=sleep)
    except Cancelled:
        return
    try:
        if cancel is not None:
            cancel.call_on_set(lambda: _interrupt(response))
        # Bytes, split only at CR and LF: decoded text would also split at U+2028 and U+2029,
        # which TGI and vLLM leave unescaped inside their JSON. parse_sse decodes as UTF-8.
        lines = response.iter_lines()
        yield from json_events(parse_sse(_guarded(lines, endpoint, cancel)))
    finally:
        response.close()


def _guarded(
    lines: Iterator[str], endpoint: Endpoint, cancel: Cancel | None = None
) -> Iterator[str]:
    """Turn a connection that drops mid-stream into our error, keeping what came before."""
    try:
        for line in lines:
            if cancel is not None and cancel.is_set():
                return
            yield line
    except requests.RequestException as exc:
        if cancel is not None and cancel.is_set():
            return  # we cut the connection ourselves: not an error
        raise errors.BackendConnectionError(
            f"The connection to {endpoint.host} dropped in the middle of the answer "
            f"({type(exc).__name__}). What arrived before is kept; try again."
        ) from None


def _interrupt(response: requests.Response) -> None:
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
    stream: bool = False,
    sleep=time.sleep,
    clock=time.monotonic,
) -> requests.Response:
    """POST with bounded retries for 503 loading, 429 and 5xx; raise our errors otherwise."""
    deadline = clock() + retry.total_seconds
    rate_limited = server_errors = 0
    while True:
        response = _post(request, endpoint, stream=stream)
        if response.ok:
            return response
        status = response.status_code
        error = error_for(response, endpoint)  # reads and closes the body
        remaining = deadline - clock()
        if status == 503 and isinstance(error, errors.ModelLoadingError):
            wait = min(max(_estimated_time(response) or 5.0, 1.0), retry.loading_wait_cap)
        elif status == 429 and rate_limited < retry.rate_limit_retries:
            rate_limited += 1
            hint = _retry_after(response)
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


def _post(request: HttpRequest, endpoint: Endpoint, *, stream: bool) -> requests.Response:
    connect_timeout = min(10.0, endpoint.timeout)
    try:
        return session().post(
            request.url,
            json=request.json,
            data=request.data,
            headers=request.headers,
            timeout=(connect_timeout, endpoint.timeout),
            stream=stream,
        )
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


# --- reading answers -----------------------------------------------------------------------


def decode_answer(response: requests.Response, endpoint: Endpoint) -> Any:
    """JSON, or image bytes; a JSON string holding a base64 image becomes the image's bytes."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    body = response.content
    if content_type.startswith("image/") or body.startswith(IMAGE_SIGNATURES):
        return body
    try:
        answer = json.loads(body)
    except ValueError:
        raise errors.BadResponseError(
            f"{endpoint.host} answered {response.status_code} with something that is not JSON "
            f"({describe_body(content_type, body)}). Check that "
            f"{endpoint.url_setting or 'the endpoint URL'} points at a model server."
        ) from None
    if isinstance(answer, str):
        return _base64_image(answer) or answer
    return answer


def _base64_image(text: str) -> bytes | None:
    """The course's endpoints answered a JSON string of base64 PNG: decode it if it is one."""
    payload = text.partition("base64,")[2] if text.startswith("data:") else text
    if len(payload) < 32:
        return None
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith(IMAGE_SIGNATURES) else None


def _estimated_time(response: requests.Response) -> float | None:
    try:
        value = float(json.loads(response.content).get("estimated_time"))
    except (ValueError, TypeError, AttributeError):
        return None
    return value if value > 0 else None


def _retry_after(response: requests.Response) -> float | None:
    try:
        value = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None  # an HTTP date: rare for these servers, fall back to our own backoff
    return max(value, 0.0) if math.isfinite(value) else None
