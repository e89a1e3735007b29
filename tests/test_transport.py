"""The transport against a local server that answers as the task API does."""

from __future__ import annotations

import base64
import io
import time

import pytest
from PIL import Image

from studio import errors
from studio.transport import RetryPolicy, build_request, get_completion
from tests.conftest import make_endpoint

FAST = RetryPolicy(total_seconds=10, loading_wait_cap=0.5, backoff_seconds=0.05)
TOKEN = "hf_test_secret_token_0123456789"


def summarize_endpoint(server, **changes):
    return make_endpoint(f"{server.url}/summarize/models/test/model", **changes)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def test_json_request_shape_and_bearer_token(task_server):
    answer = get_completion(
        summarize_endpoint(task_server), "one two three", {"generate_parameters": {"max_length": 2}}
    )
    assert answer == [{"summary_text": " one two"}]
    sent = task_server.requests[-1]
    assert sent.json() == {
        "inputs": "one two three",
        "parameters": {"generate_parameters": {"max_length": 2}},
    }
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Content-Type"] == "application/json"


def test_no_token_sends_no_authorization(task_server):
    get_completion(summarize_endpoint(task_server, token=None), "a b c")
    assert "Authorization" not in task_server.requests[-1].headers


def test_raw_bytes_and_base64_when_parameters_ride_along():
    endpoint = make_endpoint("http://127.0.0.1:9/x")
    raw = build_request(endpoint, b"\xff\xd8\xffdata", content_type="image/jpeg")
    assert raw.data == b"\xff\xd8\xffdata" and raw.headers["Content-Type"] == "image/jpeg"
    with_params = build_request(endpoint, b"\xff\xd8\xffdata", {"max_new_tokens": 20})
    assert with_params.json == {
        "inputs": base64.b64encode(b"\xff\xd8\xffdata").decode(),
        "parameters": {"max_new_tokens": 20},
    }
    assert "token" not in repr(endpoint) and TOKEN not in repr(raw)


def test_image_answers_by_content_type_and_base64_json_string(task_server):
    image = png_bytes()
    task_server.fail_next("/summarize", (200, base64.b64encode(image).decode(), {}))
    assert get_completion(summarize_endpoint(task_server), "x") == image


def test_503_loading_waits_estimated_time_then_succeeds(task_server):
    loading = {"error": "Model test/model is currently loading", "estimated_time": 0.3}
    task_server.fail_next("/summarize", (503, loading, {}), (503, loading, {}))
    started = time.monotonic()
    answer = get_completion(summarize_endpoint(task_server), "a b", retry=FAST)
    assert answer[0]["summary_text"] == " a b"
    assert len(task_server.requests) == 3
    assert time.monotonic() - started >= 0.6


def test_503_loading_beyond_the_bound_says_so(task_server):
    loading = {"error": "Model test/model is currently loading", "estimated_time": 500.0}
    task_server.fail_next("/summarize", *[(503, loading, {})] * 5)
    policy = RetryPolicy(total_seconds=1, loading_wait_cap=5)
    with pytest.raises(errors.ModelLoadingError, match="still loading"):
        get_completion(summarize_endpoint(task_server), "a b", retry=policy)


def test_429_honours_retry_after(task_server):
    task_server.fail_next(
        "/summarize", (429, {"error": "Rate limit reached"}, {"Retry-After": "1"})
    )
    started = time.monotonic()
    get_completion(summarize_endpoint(task_server), "a b", retry=FAST)
    assert time.monotonic() - started >= 1.0
    assert len(task_server.requests) == 2


def test_429_retries_are_bounded(task_server):
    task_server.fail_next("/summarize", *[(429, {"error": "busy"}, {"Retry-After": "0"})] * 6)
    with pytest.raises(errors.RateLimitError, match="429"):
        get_completion(summarize_endpoint(task_server), "a b", retry=FAST)
    assert len(task_server.requests) == 1 + FAST.rate_limit_retries


def test_500_is_retried_with_backoff(task_server):
    task_server.fail_next(
        "/summarize", (500, {"error": "CUDA error", "error_type": "generation"}, {})
    )
    assert get_completion(summarize_endpoint(task_server), "a b", retry=FAST)
    assert len(task_server.requests) == 2


def test_500_that_persists_shows_the_server_message(task_server):
    task_server.fail_next("/summarize", *[(500, {"error": "CUDA error"}, {})] * 3)
    with pytest.raises(errors.ServerError, match="CUDA error"):
        get_completion(summarize_endpoint(task_server), "a b", retry=FAST)


def test_html_502_gives_a_clear_error_not_a_traceback(task_server):
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    task_server.fail_next("/summarize", *[(502, page, {})] * 3)
    with pytest.raises(errors.ServerError, match="HTML page") as caught:
        get_completion(summarize_endpoint(task_server), "a b", retry=FAST)
    assert caught.value.status == 502


@pytest.mark.parametrize(
    ("status", "body", "error", "says"),
    [
        (
            401,
            {"error": "Invalid credentials in Authorization header"},
            errors.AuthenticationError,
            "HF_TOKEN",
        ),
        (
            402,
            {"error": "You have exceeded your monthly included credits for Inference Providers."},
            errors.PaymentRequiredError,
            "credits are used up",
        ),
        (
            403,
            {"error": "Access to model test/model is restricted."},
            errors.PermissionDeniedError,
            "licence",
        ),
        (
            404,
            {"error": "Model test/model does not exist"},
            errors.ModelNotFoundError,
            "STUDIO_SUMMARY_MODEL",
        ),
        (
            400,
            {
                "error": {
                    "message": "The requested model is not supported by any provider",
                    "code": "model_not_supported",
                }
            },
            errors.ModelNotFoundError,
            "does not serve",
        ),
        (
            410,
            {
                "error": "https://api-inference.huggingface.co is no longer supported. Please use "
                "https://router.huggingface.co/hf-inference instead."
            },
            errors.EndpointGoneError,
            "router.huggingface.co",
        ),
        (
            422,
            {
                "error": "Input validation error: `temperature` must be strictly positive",
                "error_type": "validation",
            },
            errors.ValidationError,
            "temperature",
        ),
    ],
)
def test_status_codes_become_errors_that_say_what_to_do(task_server, status, body, error, says):
    task_server.fail_next("/summarize", (status, body, {}))
    with pytest.raises(error, match=says) as caught:
        get_completion(summarize_endpoint(task_server), "a b", retry=FAST)
    assert caught.value.status == status
    assert len(task_server.requests) == 1, "client errors are not retried"


def test_the_token_never_appears_in_a_message(task_server):
    echo = {"error": f"Invalid token {TOKEN} for this model"}
    task_server.fail_next("/summarize", (401, echo, {}))
    with pytest.raises(errors.AuthenticationError) as caught:
        get_completion(summarize_endpoint(task_server), "a b", retry=FAST)
    assert TOKEN not in str(caught.value)


def test_a_server_that_never_answers_times_out(task_server):
    endpoint = make_endpoint(f"{task_server.url}/hang", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(errors.BackendTimeoutError, match="STUDIO_TIMEOUT") as caught:
        get_completion(endpoint, "a b", retry=FAST)
    assert isinstance(caught.value, TimeoutError)
    assert time.monotonic() - started < 3


def test_nothing_listening_is_a_connection_error():
    endpoint = make_endpoint("http://127.0.0.1:9/summarize")
    with pytest.raises(errors.BackendConnectionError, match="HF_API_SUMMARY_BASE"):
        get_completion(endpoint, "a b", retry=FAST)


def test_a_body_that_is_not_json_is_a_clear_error(task_server):
    task_server.fail_next("/summarize", (200, b"plain words, not JSON", {}))
    with pytest.raises(errors.BadResponseError, match="not JSON"):
        get_completion(summarize_endpoint(task_server), "a b", retry=FAST)


def test_a_plain_text_error_body_is_shown(task_server):
    task_server.fail_next(
        "/summarize", (422, b"Failed to deserialize the JSON body: missing field `inputs`", {})
    )
    with pytest.raises(errors.ValidationError, match="missing field `inputs`"):
        get_completion(summarize_endpoint(task_server), "a b", retry=FAST)
