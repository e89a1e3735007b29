"""The one place that talks to model servers: sessions, timeouts, retries, status -> error.

`get_completion(endpoint, inputs, parameters)` is the helper every tab calls. Building a request
is pure (`build_request`); `send` does the I/O with bounded retries; `decode_answer` reads the
body by its Content-Type. Streaming (`stream_events`) shares the same session and error mapping.

Chat streams: `chat_request` builds the request for the endpoint's protocol (pure), and
`stream_chat` sends it and yields `Delta`s, the same for every protocol:

    openai  POST {base}/chat/completions   data: {chunk} ... data: [DONE]   openai_deltas
    tgi     POST {base}/generate_stream    data:{token event}, no [DONE]      tgi_deltas, trim_stops
    local   studio.local.stream_chat       the same chunks as an openai server, in this process

A `Cancel` stops a stream from any thread: it shuts the socket a reader may be blocked on, so the
server sees the connection close at once and stops generating.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
import requests.adapters

from studio import errors
from studio.config import ROUTER, TASKS, Endpoint
from studio.tasks.chat import (
    ChatSettings,
    Delta,
    Message,
    get_template,
    openai_body,
    openai_deltas,
    tgi_deltas,
    tgi_parameters,
    trim_stops,
)

log = logging.getLogger(__name__)

JSON = "application/json"
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"RIFF")
ERROR_TEXT_LIMIT = 300


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


def build_request(
    endpoint: Endpoint,
    inputs: Any,
    parameters: dict | None = None,
    *,
    content_type: str | None = None,
    path: str = "",
) -> HttpRequest:
    """The task API's request: JSON `{"inputs", "parameters"}`, or raw bytes with their type."""
    headers = {"Accept": f"{JSON}, image/*;q=0.9, */*;q=0.1"}
    if endpoint.token:
        headers["Authorization"] = f"Bearer {endpoint.token}"
    url = endpoint.url.rstrip("/") + path if path else endpoint.url
    if isinstance(inputs, bytes | bytearray) and not parameters:
        headers["Content-Type"] = content_type or "application/octet-stream"
        return HttpRequest(url=url, data=bytes(inputs), headers=headers)
    if isinstance(inputs, bytes | bytearray):
        # Parameters cannot ride along with a raw body: send the bytes as base64 in JSON.
        inputs = base64.b64encode(inputs).decode("ascii")
    body: dict[str, Any] = {"inputs": inputs}
    if parameters:
        body["parameters"] = parameters
    headers["Content-Type"] = JSON
    return HttpRequest(url=url, json=body, headers=headers)


def json_request(endpoint: Endpoint, path: str, body: dict) -> HttpRequest:
    """A request whose body is given whole (chat completions, TGI generate)."""
    request = build_request(endpoint, None, path=path)
    return HttpRequest(
        url=request.url, json=body, headers={**request.headers, "Content-Type": JSON}
    )


def get_completion(
    endpoint: Endpoint,
    inputs: Any,
    parameters: dict | None = None,
    *,
    content_type: str | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    progress: Callable[[str], None] | None = None,
) -> Any:
    """Ask the task's model; answer parsed JSON, or `bytes` when the answer is an image.

    `progress` hears about slow steps a person should know of (a local model loading).
    """
    if endpoint.protocol == "local":
        from studio import local  # the optional extra: imported only when chosen

        return local.complete(
            endpoint.task,
            endpoint.model,
            inputs,
            parameters,
            device=endpoint.device,
            progress=progress,
        )
    request = build_request(endpoint, inputs, parameters, content_type=content_type)
    with send(request, endpoint, retry=retry) as response:
        return decode_answer(response, endpoint)


def post_json(
    endpoint: Endpoint, path: str, body: dict, *, retry: RetryPolicy = DEFAULT_RETRY
) -> Any:
    """POST a whole JSON body to `base URL + path` and answer the parsed JSON."""
    with send(json_request(endpoint, path, body), endpoint, retry=retry) as response:
        return decode_answer(response, endpoint)


def stream_events(
    endpoint: Endpoint,
    path: str,
    body: dict,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    cancel: Cancel | None = None,
) -> Iterator[dict]:
    """POST and read Server-Sent Events as JSON objects until the stream ends.

    Closing this generator (a person pressed Stop) closes the connection, which tells the
    server to stop generating. Setting `cancel` does the same from another thread, even while
    this one is blocked waiting for the next event; the stream then ends quietly. Before the
    server has sent its headers there is no response to shut yet: the connection closes as soon
    as they arrive (TGI, vLLM and the router send them at once when streaming).
    """
    from studio.tasks.sse import json_events, parse_sse

    sleep = time.sleep if cancel is None else cancel.sleep
    try:
        response = send(
            json_request(endpoint, path, body), endpoint, retry=retry, stream=True, sleep=sleep
        )
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


class Cancelled(Exception):
    """Raised inside a stream's own thread when its `Cancel` was set while it waited to retry."""


class Cancel(threading.Event):
    """Stop for one streamed reply, set from any thread (Stop, a closed page).

    A `threading.Event`, so in-process generation can poll it; a stream over HTTP registers a
    callback that interrupts its blocked read, so stopping does not wait for the next token.
    """

    def __init__(self) -> None:
        super().__init__()
        self._callbacks_lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def set(self) -> None:
        with self._callbacks_lock:
            super().set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def call_on_set(self, callback: Callable[[], None]) -> None:
        """Run `callback` when this is set; at once when it already is."""
        with self._callbacks_lock:
            if not self.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def sleep(self, seconds: float) -> None:
        """`time.sleep` for retry waits that gives up when this is set."""
        if self.wait(seconds):
            raise Cancelled()


# --- chat ----------------------------------------------------------------------------------

CHAT_PATHS = {"openai": "/chat/completions", "tgi": "/generate_stream", "local": ""}


@dataclass(frozen=True)
class ChatRequest:
    """One chat request as data: where it goes, what it says, and what the person should know."""

    path: str
    body: dict[str, Any]
    stops: tuple[str, ...] = ()  # trimmed from the reply on our side (raw text servers)
    notes: tuple[str, ...] = ()  # settings that were mapped or not sent, in words for people


def chat_request(
    endpoint: Endpoint, messages: list[Message], settings: ChatSettings, *, template: str
) -> ChatRequest:
    """The request for the endpoint's protocol. `template` formats the prompt for TGI only.

    Repetition penalty is not in the OpenAI schema: it is sent to a server of your own (vLLM,
    TGI, llama.cpp's server take it) and in-process, and left out on the router, whose
    providers may reject it.
    """
    if endpoint.protocol == "tgi":
        chat_template = get_template(template)
        body = {
            "inputs": chat_template.render(messages),
            "parameters": tgi_parameters(settings, chat_template.stop),
        }
        return ChatRequest(CHAT_PATHS["tgi"], body, stops=chat_template.stop)
    local = endpoint.protocol == "local"
    body, notes = openai_body(
        settings, endpoint.model, messages, send_repetition_penalty=local or not endpoint.on_router
    )
    return ChatRequest(CHAT_PATHS[endpoint.protocol], body, notes=() if local else tuple(notes))


def stream_chat(
    endpoint: Endpoint,
    request: ChatRequest,
    cancel: Cancel | None = None,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    progress: Callable[[str], None] | None = None,
) -> Iterator[Delta]:
    """Send a chat request and yield the reply's pieces as they arrive.

    Closing this generator, or setting `cancel`, closes the upstream connection (or stops
    in-process generation): the server stops generating.
    """
    cancel = cancel or Cancel()
    events = _chat_events(endpoint, request, cancel, retry, progress)
    try:
        if endpoint.protocol == "tgi":
            yield from trim_stops(tgi_deltas(events), request.stops)
        else:
            yield from openai_deltas(events)
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def _chat_events(
    endpoint: Endpoint, request: ChatRequest, cancel: Cancel, retry: RetryPolicy, progress
) -> Iterator[dict]:
    if endpoint.protocol == "local":
        from studio import local  # the optional extra: imported only when chosen

        return local.stream_chat(
            endpoint.model, request.body, cancel, device=endpoint.device, progress=progress
        )
    return stream_events(endpoint, request.path, request.body, retry=retry, cancel=cancel)


# --- sending -------------------------------------------------------------------------------

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
            f"({_describe_body(content_type, body)}). Check that "
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


def error_for(response: requests.Response, endpoint: Endpoint) -> errors.StudioError:
    """Map a failed answer to an error whose message says what to do. Closes the response."""
    try:
        body = response.content
    except requests.RequestException:
        body = b""
    finally:
        response.close()
    status = response.status_code
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    detail, error_type = _server_error_text(body, endpoint)
    said = f" The server said: {detail}" if detail else ""
    where = f"{endpoint.host}"
    model = f"model {endpoint.model}" if endpoint.model else "this model"
    settings = _settings_hint(endpoint)

    if status == 401:
        fix = (
            "Check HF_TOKEN in your .env file: it needs permission to call Inference Providers "
            "(https://huggingface.co/settings/tokens)."
            if endpoint.token
            else "This server needs an access token: set HF_TOKEN in your .env file."
        )
        return errors.AuthenticationError(
            f"{where} refused the access token (401). {fix}", status=status
        )
    if status == 402:
        return errors.PaymentRequiredError(
            f"The Hugging Face account's inference credits are used up (402). Add credits at "
            f"https://huggingface.co/settings/billing, run this tab on your computer with --local "
            f"{endpoint.task}, or set {endpoint.url_setting} to your own server.{said}",
            status=status,
        )
    if status == 403:
        return errors.PermissionDeniedError(
            f"Access to {model} was denied (403). If the model is gated, accept its licence on "
            f"its page on huggingface.co with the token's account; check that the token may call "
            f"Inference Providers.{said}",
            status=status,
        )
    if (
        status == 404
        or (status == 400 and error_type == "model_not_supported")
        or (status == 400 and detail and _says_model_unsupported(detail))
    ):
        return errors.ModelNotFoundError(
            f"{where} does not serve {model} ({status}). {settings}{said}", status=status
        )
    if status == 410:
        return errors.EndpointGoneError(
            f"This URL is retired (410): {where} no longer serves models. Unset "
            f"{endpoint.url_setting} to use the Hugging Face router ({ROUTER}), or set it to a "
            f"dedicated endpoint or your own server.{said}",
            status=status,
        )
    # Statuses above say what to change whatever the body is; for the rest, an HTML page means
    # the server, or a proxy in front of it, is failing.
    if detail is None and body.lstrip()[:1] == b"<":
        return errors.ServerError(
            f"{where} answered {status} with an HTML page instead of a model's answer "
            f"({_describe_body(content_type, body)}): the server or a proxy in front of it is "
            "failing. Try again in a minute.",
            status=status,
        )
    if status in (400, 422):
        return errors.ValidationError(
            f"The server rejected the request ({status}).{said or ' Check the options.'}",
            status=status,
        )
    if status == 429:
        return errors.RateLimitError(
            f"{where} is busy or rate-limiting this token (429). Wait a minute and try again."
            f"{said}",
            status=status,
        )
    if status == 503 and detail and "loading" in detail.lower():
        return errors.ModelLoadingError(
            f"{model} is still loading on {where}. Try again in a minute.", status=status
        )
    return errors.ServerError(
        f"{where} failed ({status}).{said or ' Try again in a minute.'}", status=status
    )


def _server_error_text(body: bytes, endpoint: Endpoint) -> tuple[str | None, str | None]:
    """The error message and type a server put in its JSON body, redacted and shortened."""
    try:
        payload = json.loads(body)
    except ValueError:
        # Plain text (TGI's body-parsing errors, proxies) is the message itself; HTML is not.
        text = body.decode("utf-8", errors="replace").strip()
        if not text or text.startswith("<"):
            return None, None
        payload = text
    error_type = None
    text = payload
    if isinstance(payload, dict):
        error_type = payload.get("error_type")
        text = payload.get("error") or payload.get("message") or payload.get("detail") or ""
        if isinstance(text, dict):  # OpenAI style: {"error": {"message", "type", "code"}}
            error_type = text.get("code") or text.get("type") or error_type
            text = text.get("message") or ""
        elif isinstance(text, list):  # FastAPI validation style: [{"loc", "msg"}]
            text = "; ".join(_validation_item(item) for item in text if isinstance(item, dict))
    text = redact(str(text).strip(), endpoint.token)
    if len(text) > ERROR_TEXT_LIMIT:
        text = text[:ERROR_TEXT_LIMIT] + "…"
    return text or None, error_type


def _says_model_unsupported(detail: str) -> bool:
    """A 400 about the model itself, not about one of the parameters."""
    text = detail.lower()
    return "not supported" in text and "model" in text and "parameter" not in text


def _validation_item(item: dict) -> str:
    """`{"loc": ["body", "top_p"], "msg": "..."}` as `top_p: ...`, so the field is named."""
    where = ".".join(str(part) for part in item.get("loc", []) if part != "body")
    message = str(item.get("msg", item))
    return f"{where}: {message}" if where else message


def redact(text: str, token: str | None) -> str:
    return text.replace(token, "[token]") if token else text


def _describe_body(content_type: str, body: bytes) -> str:
    kind = content_type or "no Content-Type"
    return f"{kind}, {len(body)} bytes"


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


def _settings_hint(endpoint: Endpoint) -> str:
    if endpoint.on_router:
        own_server = TASKS[endpoint.task].chat_base_setting or endpoint.url_setting
        return (
            f"Set {endpoint.model_setting} to a model that Hugging Face serves for this task, or "
            f"set {own_server} to a dedicated endpoint or your own server."
        )
    return (
        f"Check {endpoint.url_setting}: it should be the full URL of a server for this task; "
        f"or unset it and set {endpoint.model_setting} to use the Hugging Face router."
    )
