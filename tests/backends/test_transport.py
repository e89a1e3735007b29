"""The transport against a local server that answers as the task API does."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from PIL import Image

from studio import errors
from studio.backends import transport
from studio.backends.registry import get_completion
from studio.backends.task_api import build_request
from studio.backends.transport import RetryPolicy
from tests.conftest import make_endpoint

FAST = RetryPolicy(total_seconds=10, loading_wait_cap=0.5, backoff_seconds=0.05)
TOKEN = "hf_test_secret_token_0123456789"


class Clock:
    """A clock that moves only when slept on: retry waits cost no time, and are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def ask(endpoint, inputs, parameters=None, *, retry=FAST, clock=None):
    """The task API's request sent as the backend sends it, with the waits on `clock`."""
    clock = clock or Clock()
    request = build_request(endpoint, inputs, parameters)
    return transport.post(request, endpoint, retry=retry, sleep=clock.sleep, clock=clock)


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
    clock = Clock()
    answer = ask(summarize_endpoint(task_server), "a b", clock=clock)
    assert answer[0]["summary_text"] == " a b"
    assert len(task_server.requests) == 3
    assert clock.slept == [FAST.loading_wait_cap] * 2  # a second at least, within the cap


def test_503_loading_beyond_the_bound_says_so(task_server):
    loading = {"error": "Model test/model is currently loading", "estimated_time": 500.0}
    task_server.fail_next("/summarize", *[(503, loading, {})] * 5)
    policy = RetryPolicy(total_seconds=1, loading_wait_cap=5)
    with pytest.raises(errors.ModelLoadingError, match="still loading"):
        ask(summarize_endpoint(task_server), "a b", retry=policy)


def test_429_honours_retry_after(task_server):
    task_server.fail_next(
        "/summarize", (429, {"error": "Rate limit reached"}, {"Retry-After": "1"})
    )
    clock = Clock()
    ask(summarize_endpoint(task_server), "a b", clock=clock)
    assert clock.slept == [1.0]
    assert len(task_server.requests) == 2


def test_429_retries_are_bounded(task_server):
    task_server.fail_next("/summarize", *[(429, {"error": "busy"}, {"Retry-After": "0"})] * 6)
    with pytest.raises(errors.RateLimitError, match="429"):
        ask(summarize_endpoint(task_server), "a b", retry=FAST)
    assert len(task_server.requests) == 1 + FAST.rate_limit_retries


def test_500_is_retried_with_backoff(task_server):
    task_server.fail_next(
        "/summarize", (500, {"error": "CUDA error", "error_type": "generation"}, {})
    )
    assert ask(summarize_endpoint(task_server), "a b", retry=FAST)
    assert len(task_server.requests) == 2


def test_500_that_persists_shows_the_server_message(task_server):
    task_server.fail_next("/summarize", *[(500, {"error": "CUDA error"}, {})] * 3)
    with pytest.raises(errors.ServerError, match="CUDA error"):
        ask(summarize_endpoint(task_server), "a b", retry=FAST)


def test_html_502_gives_a_clear_error_not_a_traceback(task_server):
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    task_server.fail_next("/summarize", *[(502, page, {})] * 3)
    with pytest.raises(errors.ServerError, match="HTML page") as caught:
        ask(summarize_endpoint(task_server), "a b", retry=FAST)
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
        ask(summarize_endpoint(task_server), "a b", retry=FAST)
    assert caught.value.status == status
    assert len(task_server.requests) == 1, "client errors are not retried"


def test_the_token_never_appears_in_a_message(task_server):
    echo = {"error": f"Invalid token {TOKEN} for this model"}
    task_server.fail_next("/summarize", (401, echo, {}))
    with pytest.raises(errors.AuthenticationError) as caught:
        ask(summarize_endpoint(task_server), "a b", retry=FAST)
    assert TOKEN not in str(caught.value)


def test_a_server_that_never_answers_times_out(task_server):
    endpoint = make_endpoint(f"{task_server.url}/hang", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(errors.BackendTimeoutError, match="STUDIO_TIMEOUT") as caught:
        ask(endpoint, "a b", retry=FAST)
    assert isinstance(caught.value, TimeoutError)
    assert time.monotonic() - started < 10


def test_nothing_listening_is_a_connection_error():
    endpoint = make_endpoint("http://127.0.0.1:9/summarize")
    with pytest.raises(errors.BackendConnectionError, match="HF_API_SUMMARY_BASE"):
        ask(endpoint, "a b", retry=FAST)


def test_a_body_that_is_not_json_is_a_clear_error(task_server):
    task_server.fail_next("/summarize", (200, b"plain words, not JSON", {}))
    with pytest.raises(errors.BadResponseError, match="not JSON"):
        ask(summarize_endpoint(task_server), "a b", retry=FAST)


def test_a_plain_text_error_body_is_shown(task_server):
    task_server.fail_next(
        "/summarize", (422, b"Failed to deserialize the JSON body: missing field `inputs`", {})
    )
    with pytest.raises(errors.ValidationError, match="missing field `inputs`"):
        ask(summarize_endpoint(task_server), "a b", retry=FAST)


def test_a_503_that_says_it_is_ready_at_once_still_waits_a_second(task_server):
    loading = {"error": "Model test/model is currently loading", "estimated_time": 0.001}
    task_server.fail_next("/summarize", (503, loading, {}))
    clock = Clock()
    ask(summarize_endpoint(task_server), "a b", retry=RetryPolicy(total_seconds=10), clock=clock)
    assert clock.slept == [1.0] and len(task_server.requests) == 2


def test_a_retry_after_that_is_not_a_number_falls_back_to_our_backoff(task_server):
    task_server.fail_next("/summarize", (429, {"error": "busy"}, {"Retry-After": "nan"}))
    policy = RetryPolicy(total_seconds=10, rate_limit_wait_cap=5)
    assert ask(summarize_endpoint(task_server), "a b", retry=policy)
    assert len(task_server.requests) == 2


def test_a_retry_after_longer_than_we_wait_gives_up_at_once(task_server):
    task_server.fail_next("/summarize", (429, {"error": "busy"}, {"Retry-After": "3600"}))
    clock = Clock()
    with pytest.raises(errors.RateLimitError, match="Wait a minute"):
        ask(summarize_endpoint(task_server), "a b", clock=clock)
    assert clock.slept == [] and len(task_server.requests) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, errors.AuthenticationError),
        (402, errors.PaymentRequiredError),
        (404, errors.ModelNotFoundError),
        (410, errors.EndpointGoneError),
    ],
)
def test_an_html_error_page_still_says_what_its_status_means(task_server, status, error):
    page = f"<html><body><h1>{status}</h1><p>nginx</p></body></html>".encode()
    task_server.fail_next("/summarize", (status, page, {}))
    with pytest.raises(error):
        ask(summarize_endpoint(task_server), "a b", retry=FAST)
    assert len(task_server.requests) == 1


def test_a_400_about_a_parameter_is_not_taken_for_an_unserved_model(task_server):
    body = {"error": "Parameter 'min_length' is not supported"}
    task_server.fail_next("/summarize", (400, body, {}))
    with pytest.raises(errors.ValidationError, match="min_length"):
        ask(summarize_endpoint(task_server), "a b", retry=FAST)


def test_a_fastapi_validation_error_names_the_field(task_server):
    body = {"detail": [{"loc": ["body", "top_p"], "msg": "Input should be less than 1"}]}
    task_server.fail_next("/summarize", (422, body, {}))
    with pytest.raises(errors.ValidationError, match="top_p: Input should be less than 1"):
        ask(summarize_endpoint(task_server), "a b", retry=FAST)


def test_a_streamed_token_holding_unicode_line_separators_stays_whole(task_server):
    # TGI and vLLM write U+2028, U+2029 and U+0085 unescaped inside their JSON.
    event = {"token": {"text": "Line\u2028two\u2029three\u0085end", "special": False}}
    body = b"data:" + json.dumps(event, ensure_ascii=False).encode() + b"\n\n"
    task_server.fail_next("/stream", (200, body, {}))
    endpoint = make_endpoint(f"{task_server.url}/stream")
    request = transport.json_request(endpoint, endpoint.url, {"inputs": "x"})
    assert list(transport.stream(request, endpoint, retry=FAST)) == [event]


def test_another_framing_is_one_function_given_to_stream(task_server):
    # Ollama's native API streams newline-delimited JSON, one object a line, no SSE fields.
    chunks = [
        {"message": {"content": "Hi"}, "done": False},
        {"message": {"content": "!"}, "done": True},
    ]
    task_server.fail_next(
        "/stream", (200, b"".join(json.dumps(c).encode() + b"\n" for c in chunks), {})
    )
    endpoint = make_endpoint(f"{task_server.url}/stream")

    def ndjson(lines):
        for line in lines:
            if line.strip():
                yield json.loads(line)
        return True

    request = transport.json_request(endpoint, endpoint.url, {"model": "m", "messages": []})
    assert list(transport.stream(request, endpoint, retry=FAST, framing=ndjson)) == chunks


def test_the_inference_toolkit_s_400s_are_told_in_its_own_words(task_server):
    # The toolkit answers every failure, its own too, as 400 {"error": ...}.
    task_server.fail_next("/summarize", (400, {"error": "CUDA out of memory"}, {}))
    with pytest.raises(errors.ValidationError) as caught:
        ask(summarize_endpoint(task_server), "a b")
    assert "answered 400: CUDA out of memory. If that names a setting" in str(caught.value)
    assert "rejected" not in str(caught.value)


def test_a_square_only_image_server_says_so_in_plain_words(task_server):
    said = (
        "`height` and `width` have to be both: either both must have a value or both must be None"
    )
    task_server.fail_next("/summarize", (400, {"error": said}, {}))
    with pytest.raises(errors.ValidationError, match="only square sizes: set width and height"):
        ask(summarize_endpoint(task_server), "a b")


def test_the_accept_header_is_one_exact_type_per_task():
    json_task = build_request(make_endpoint("http://127.0.0.1:9/x"), "text")
    image_task = build_request(make_endpoint("http://127.0.0.1:9/x", task="image"), "a cat")
    assert json_task.headers["Accept"] == "application/json"
    assert image_task.headers["Accept"] == "image/png"
