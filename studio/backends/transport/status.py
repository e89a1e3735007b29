"""From a failed HTTP answer to the error a person sees: one table, status -> error.

Each entry builds the message for one status from the `Failure` (who answered, what the server
said, which settings to change). The server's own text is read once, here, and redacted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import requests

from studio import errors
from studio.backends.transport.reading import describe_body, load_json
from studio.endpoint import Endpoint
from studio.secrets import shorten

ERROR_TEXT_LIMIT = 300


@dataclass(frozen=True)
class Failure:
    """A failed answer, read: enough to say what happened and what to change."""

    status: int
    endpoint: Endpoint
    detail: str | None  # the server's message, redacted and shortened
    error_type: str | None
    body: bytes
    content_type: str

    @property
    def said(self) -> str:
        return f" The server said: {self.detail}" if self.detail else ""

    @property
    def model(self) -> str:
        model = self.endpoint.model
        return f"model {model}" if model else "this model"

    @property
    def host(self) -> str:
        return self.endpoint.host


def error_for(response: requests.Response, endpoint: Endpoint, body: bytes) -> errors.StudioError:
    """Map a failed answer (its status, headers and the `body` read from it) to an error whose
    message says what to do."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    detail, error_type = server_error_text(body, endpoint)
    failure = Failure(response.status_code, endpoint, detail, error_type, body, content_type)
    build = STATUS_ERRORS.get(failure.status)
    if failure.status == 400 and _says_model_unsupported(failure):
        build = _not_served
    error = build(failure) if build else None
    return error or _other(failure)


def _unauthorized(f: Failure) -> errors.StudioError:
    fix = (
        "Check HF_TOKEN in your .env file: it needs permission to call Inference Providers "
        "(https://huggingface.co/settings/tokens)."
        if f.endpoint.token
        else "This server needs an access token: set HF_TOKEN in your .env file."
    )
    return errors.AuthenticationError(
        f"{f.host} refused the access token (401). {fix}", status=f.status
    )


def _payment_required(f: Failure) -> errors.StudioError:
    return errors.PaymentRequiredError(
        f"The Hugging Face account's inference credits are used up (402). Add credits at "
        f"https://huggingface.co/settings/billing, run this tab on your computer with --local "
        f"{f.endpoint.task}, or set {f.endpoint.url_setting} to your own server.{f.said}",
        status=f.status,
    )


def _forbidden(f: Failure) -> errors.StudioError:
    return errors.PermissionDeniedError(
        f"Access to {f.model} was denied (403). If the model is gated, accept its licence on "
        f"its page on huggingface.co with the token's account; check that the token may call "
        f"Inference Providers.{f.said}",
        status=f.status,
    )


def _not_served(f: Failure) -> errors.StudioError:
    return errors.ModelNotFoundError(
        f"{f.host} does not serve {f.model} ({f.status}). {_settings_hint(f.endpoint)}{f.said}",
        status=f.status,
    )


def _gone(f: Failure) -> errors.StudioError:
    return errors.EndpointGoneError(
        f"This URL is retired (410): {f.host} no longer serves models. Unset "
        f"{f.endpoint.url_setting} to use the Hugging Face router ({f.endpoint.router}), or set "
        f"it to a dedicated endpoint or your own server.{f.said}",
        status=f.status,
    )


# What the inference toolkit says when width and height differ: it takes only square sizes.
SQUARE_ONLY = "both must have a value or both must be none"


def _rejected(f: Failure) -> errors.StudioError | None:
    if _is_html_page(f):
        return None
    if f.detail and SQUARE_ONLY in f.detail.lower():
        return errors.ValidationError(
            f"This server's image model takes only square sizes: set width and height to the "
            f"same value.{f.said}",
            status=f.status,
        )
    if f.status == 400 and f.detail:
        # Some servers (the inference toolkit) answer every failure, their own too, with 400:
        # the server's words say which it is.
        return errors.ValidationError(
            f"{f.host} answered 400: {sentence(f.detail)} If that names a setting, change it "
            "and try again.",
            status=f.status,
        )
    return errors.ValidationError(
        f"The server rejected the request ({f.status}).{f.said or ' Check the options.'}",
        status=f.status,
    )


def sentence(text: str) -> str:
    """The server's words ended as a sentence, so that ours after them read as another."""
    return text if text.rstrip().endswith((".", "!", "?")) else f"{text}."


def _rate_limited(f: Failure) -> errors.StudioError | None:
    if _is_html_page(f):
        return None
    return errors.RateLimitError(
        f"{f.host} is busy or rate-limiting this token (429). Wait a minute and try again.{f.said}",
        status=f.status,
    )


def _unavailable(f: Failure) -> errors.StudioError | None:
    if not (f.detail and "loading" in f.detail.lower()):
        return None
    return errors.ModelLoadingError(
        f"{f.model} is still loading on {f.host}. Try again in a minute.", status=f.status
    )


def _other(f: Failure) -> errors.StudioError:
    if _is_html_page(f):
        return errors.ServerError(
            f"{f.host} answered {f.status} with an HTML page instead of a model's answer "
            f"({describe_body(f.content_type, f.body)}): the server or a proxy in front of it "
            "is failing. Try again in a minute.",
            status=f.status,
        )
    return errors.ServerError(
        f"{f.host} failed ({f.status}).{f.said or ' Try again in a minute.'}", status=f.status
    )


# Statuses 401-410 say what to change whatever the body is; for the rest an HTML page means the
# server, or a proxy in front of it, is failing, and an entry answers None to say so.
STATUS_ERRORS: dict[int, Callable[[Failure], errors.StudioError | None]] = {
    401: _unauthorized,
    402: _payment_required,
    403: _forbidden,
    404: _not_served,
    410: _gone,
    400: _rejected,
    422: _rejected,
    429: _rate_limited,
    503: _unavailable,
}


def _is_html_page(f: Failure) -> bool:
    return f.detail is None and f.body.lstrip()[:1] == b"<"


def _says_model_unsupported(f: Failure) -> bool:
    """A 400 about the model itself, not about one of the parameters."""
    if f.error_type == "model_not_supported":
        return True
    text = (f.detail or "").lower()
    return "not supported" in text and "model" in text and "parameter" not in text


def server_error_text(body: bytes, endpoint: Endpoint) -> tuple[str | None, str | None]:
    """The error message and type a server put in its body, redacted and shortened."""
    try:
        payload = load_json(body)
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
    # The endpoint's token is masked even where no configuration marked it secret.
    text = shorten(str(text).strip(), ERROR_TEXT_LIMIT, endpoint.token)
    return text or None, error_type


def _validation_item(item: dict) -> str:
    """`{"loc": ["body", "top_p"], "msg": "..."}` as `top_p: ...`, so the field is named."""
    where = ".".join(str(part) for part in item.get("loc", []) if part != "body")
    message = str(item.get("msg", item))
    return f"{where}: {message}" if where else message


def _settings_hint(endpoint: Endpoint) -> str:
    if endpoint.on_router:
        provider = endpoint.spec.provider_setting
        return (
            f"Set {endpoint.model_setting} to a model that Hugging Face serves for this task"
            f"{f' (or {provider} to another provider)' if provider else ''}, or set "
            f"{endpoint.spec.own_server_setting} to a dedicated endpoint or your own server."
        )
    return (
        f"Check {endpoint.url_setting}: it should be the full URL of a server for this task; "
        f"or unset it and set {endpoint.model_setting} to use the Hugging Face router."
    )


# --- the waits a failed answer asks for -------------------------------------------------


def estimated_time(body: bytes) -> float | None:
    """The wait a 503 for a loading model names, in seconds."""
    try:
        value = float(load_json(body).get("estimated_time"))
    except (ValueError, TypeError, AttributeError):
        return None
    return value if value > 0 else None


def retry_after(response: requests.Response) -> float | None:
    try:
        value = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None  # an HTTP date: rare for these servers, fall back to our own backoff
    return max(value, 0.0) if math.isfinite(value) else None
