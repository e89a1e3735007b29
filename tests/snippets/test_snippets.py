"""The code behind an answer and its reproducibility card, built from the requests the backends
send: the token never in them, the parameters filled in, every Python snippet valid Python."""

from __future__ import annotations

import ast
import dataclasses

import pytest

from studio.backends import hub
from studio.backends import registry as backends
from studio.snippets import GradioCall, for_calls, for_chat, photo
from studio.tasks.chat import ChatSettings
from studio.tasks.reproduce import Call, chat_card, parameters_text, py
from studio.ui.code_panel import studio_url
from tests.conftest import make_endpoint

TOKEN = "hf_test_secret_token_0123456789"
ROUTER = "https://router.huggingface.co"
GRADIO = GradioCall("/summarize", ["A text.", 5, 20], url="http://127.0.0.1:7861/")


def python_parts(snippets) -> list[str]:
    return [snippets.requests, snippets.library, snippets.gradio]


def assert_safe(snippets) -> None:
    """No token anywhere; every Python snippet parses."""
    for text in snippets.values():
        assert TOKEN not in text
        assert "__studio_hf_token__" not in text
    for code in python_parts(snippets):
        ast.parse(code)


def router_summarize():
    url = f"{ROUTER}/hf-inference/models/facebook/bart-large-cnn"
    return make_endpoint(url, model="facebook/bart-large-cnn", router=ROUTER)


def test_a_summary_on_the_router_shows_the_request_it_made_with_its_parameters():
    endpoint = router_summarize()
    call = Call(endpoint, "The tower is tall.", {"min_length": 5, "max_length": 20}, seconds=1.5)
    snippets = for_calls("Summary", [call], GRADIO, when="2026-12-02 01:00:00 UTC")
    assert_safe(snippets)
    # what the backend sends: the lengths inside generate_parameters on the router
    assert '"generate_parameters": {' in snippets.requests
    assert '"max_length": 20' in snippets.requests
    assert 'hf_api_key = os.environ["HF_TOKEN"]' in snippets.requests
    assert '"Authorization": f"Bearer {hf_api_key}"' in snippets.requests
    assert "def get_completion(inputs, parameters=None, ENDPOINT_URL=ENDPOINT_URL):" in (
        snippets.requests
    )
    assert '"Authorization: Bearer $HF_TOKEN"' in snippets.curl
    assert "facebook/bart-large-cnn" in snippets.curl
    assert 'provider="hf-inference"' in snippets.library
    assert "client.summarization(" in snippets.library
    assert snippets.library_name == "huggingface_hub"
    assert 'Client("http://127.0.0.1:7861/")' in snippets.gradio
    assert 'api_name="/summarize"' in snippets.gradio
    for line in (
        "Backend:    Hugging Face router",
        "Model:      facebook/bart-large-cnn",
        "Host:       router.huggingface.co",
        "Time taken: 1.50 s",
        "min_length=5, max_length=20",
        "Made at:    2026-12-02 01:00:00 UTC",
    ):
        assert line in snippets.card


def test_the_request_shown_is_the_one_the_backend_sends():
    endpoint = router_summarize()
    sent = backends.request(endpoint, backends.TaskRequest("Text.", {"max_length": 9}))
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"  # the real one, never shown
    snippets = for_calls("Summary", [Call(endpoint, "Text.", {"max_length": 9})], GRADIO)
    assert sent.url in snippets.requests
    namespace: dict = {}
    body = snippets.curl.split("-d ", 1)[1].strip().strip("'")
    exec(f"import json\nshown = json.loads({body!r})", namespace)
    assert namespace["shown"] == sent.json


def test_a_server_of_ones_own_without_a_token_gets_no_token_line():
    endpoint = make_endpoint("http://127.0.0.1:9/ner/models/x", task="ner", token=None)
    snippets = for_calls("Entities", [Call(endpoint, "Ada met Bob.")], GRADIO)
    assert_safe(snippets)
    assert "HF_TOKEN" not in snippets.requests
    assert "Authorization" not in snippets.curl
    assert "Token:      none" in snippets.card


def test_a_caption_sends_the_photo_from_a_file_never_its_bytes_inline():
    task = make_endpoint("http://127.0.0.1:9/itt/models/blip", task="caption")
    call = Call(task, b"\xff\xd8" + b"x" * 5000, content_type="image/jpeg")
    snippets = for_calls("Caption", [call], GradioCall("/caption", [photo()]))
    assert_safe(snippets)
    assert "--data-binary @photo.jpg" in snippets.curl
    assert "'Content-Type: image/jpeg'" in snippets.curl
    assert 'open("photo.jpg", "rb")' in snippets.requests
    assert 'handle_file("photo.jpg")' in snippets.gradio
    assert "xxxx" not in snippets.requests

    vision = make_endpoint(
        "http://127.0.0.1:9/v1", task="caption", protocol="openai", model="vision/model"
    )
    snippets = for_calls("Caption", [dataclasses.replace(call, endpoint=vision)], GRADIO)
    assert_safe(snippets)
    assert snippets.library_name == "openai"
    assert "image_url" in snippets.library and "xxxx" not in snippets.library
    assert "$(base64 < photo.jpg" in snippets.curl and "xxxx" not in snippets.curl


def test_an_image_snippet_saves_the_png_with_every_setting():
    endpoint = make_endpoint("http://127.0.0.1:9/tti/models/sd", task="image", model="sd")
    parameters = {
        "num_inference_steps": 4,
        "guidance_scale": 7.5,
        "width": 256,
        "height": 256,
        "seed": 1234,
    }
    call = Call(endpoint, "A red boat", parameters, seed=1234)
    gradio = GradioCall("/generate_image", ["A red boat", "", 4, 7.5, 256, 256, 1234], picture=True)
    snippets = for_calls("Image", [call], gradio, settings="Seed 1234 · 4 steps")
    assert_safe(snippets)
    assert '.save("picture.png")' in snippets.requests
    assert "-o picture.png" in snippets.curl
    assert "seed=1234," in snippets.library and "text_to_image(" in snippets.library
    assert 'shutil.copy(path, "picture.png")' in snippets.gradio
    assert "Seed:       1234" in snippets.card
    assert "Settings:   Seed 1234 · 4 steps" in snippets.card


def test_a_provider_shows_its_own_request_once_the_hub_has_said_which(monkeypatch):
    from huggingface_hub.hf_api import InferenceProviderMapping

    endpoint = make_endpoint(
        ROUTER,
        task="image",
        protocol="providers",
        provider="auto",
        model="black-forest-labs/FLUX.1-dev",
        router=ROUTER,
    )
    hub.forget()
    call = Call(endpoint, "A fox", {"width": 512, "height": 512, "seed": 3}, seed=3)
    before = for_calls("Image", [call], GRADIO)
    assert "once the Hub has said" in before.requests
    mapping = InferenceProviderMapping(
        hf_model_id=endpoint.model,
        providerId="fal-ai/flux/dev",
        provider="fal-ai",
        status="live",
        task="text-to-image",
    )
    monkeypatch.setitem(hub._kept, (endpoint.hub, endpoint.model), (1e18, [mapping]))
    monkeypatch.setattr(hub.time, "monotonic", lambda: 1e18)
    after = for_calls("Image", [call], GRADIO)
    assert_safe(after)
    assert f"{ROUTER}/fal-ai/fal-ai/flux/dev" in after.curl
    assert 'provider="fal-ai"' in after.library
    assert "provider fal-ai" in after.card
    hub.forget()


def test_a_local_model_shows_the_transformers_code():
    endpoint = make_endpoint(
        "", task="ner", protocol="local", model="dslim/bert-base-NER", token=None
    )
    snippets = for_calls("Entities", [Call(endpoint, "Ada met Bob.")], GRADIO)
    assert_safe(snippets)
    assert snippets.library_name == "transformers"
    assert 'pipeline("token-classification", model="dslim/bert-base-NER"' in snippets.library
    assert "no HTTP request" in snippets.requests
    assert "Host:       this computer" in snippets.card


def test_a_summary_in_parts_shows_its_first_request_and_counts_them():
    endpoint = router_summarize()
    calls = [Call(endpoint, f"Part {n}.", None, seconds=1.0) for n in (1, 2, 3)]
    snippets = for_calls("Summary", calls, GRADIO)
    assert "asked in 3 parts" in snippets.requests and '"Part 1."' in snippets.requests
    assert "Requests:   3" in snippets.card and "Time taken: 3.00 s" in snippets.card


@pytest.mark.parametrize("protocol", ["openai", "tgi", "local"])
def test_a_chat_reply_has_its_streaming_code_and_card(protocol):
    url = {"openai": "http://127.0.0.1:9/v1", "tgi": "http://127.0.0.1:9", "local": ""}[protocol]
    endpoint = make_endpoint(
        url,
        task="chat",
        protocol=protocol,
        model="chat/model",
        token=None if protocol == "local" else TOKEN,
    )
    settings = ChatSettings(temperature=0.5, max_new_tokens=64, repetition_penalty=1.2, seed=7)
    messages = [{"role": "user", "content": "Hi there"}]
    request = backends.chat_request(endpoint, messages, settings)
    gradio = GradioCall("/chat", ["Hi there", "", 0.5, 0.95, 64], stream=True)
    snippets = for_chat(endpoint, request, gradio)
    assert_safe(snippets)
    assert "client.submit(" in snippets.gradio
    if protocol == "local":
        assert 'pipeline("text-generation", model="chat/model")' in snippets.library
    else:
        assert "stream=True" in snippets.requests and "-N" in snippets.curl
        assert "Hi there" in snippets.requests
        assert '"seed": 7' in snippets.requests
    if protocol == "openai":
        assert "extra_body" in snippets.library  # repetition_penalty is not the OpenAI schema's
    card = chat_card(
        endpoint,
        request.body,
        time_to_first_token=0.25,
        tokens=12,
        seconds=1.5,
        finish_reason="stop",
        notes=request.notes,
        when="now",
    )
    for line in (
        "Model:       chat/model",
        "Seed:        7",
        "First token: 0.25 s",
        "Tokens:      12",
        "Finished:    stop",
        "max_new_tokens=64" if protocol == "tgi" else "max_tokens=64",
    ):
        assert line in card
    assert TOKEN not in card


def test_literals_and_parameters_read_back():
    value = {"a": [1, 2.5, True, None], "b": 'it\'s "quoted"', "c": {}}
    assert ast.literal_eval(py(value)) == value
    assert parameters_text(None) == "the model's defaults"
    assert parameters_text({"x": {"y": 1}}) == "x.y=1"


def test_the_studios_address_is_one_a_client_here_can_reach():
    from studio.config import Config

    assert studio_url(Config(endpoints={}, host="0.0.0.0", port=7862)) == "http://127.0.0.1:7862/"


def test_the_chat_tab_gets_its_panel_from_one_call():
    from studio.chat.stats import ReplyStats
    from studio.config import Config
    from studio.tasks.chat import Delta
    from studio.ui.code_panel import chat_shown

    endpoint = make_endpoint(
        "http://127.0.0.1:9/v1", task="chat", protocol="openai", model="chat/model"
    )
    config = Config(endpoints={"chat": endpoint}, port=7865)
    settings = ChatSettings(temperature=0.2, max_new_tokens=16)
    request = backends.chat_request(endpoint, [{"role": "user", "content": "Hello"}], settings)
    times = iter([10.0, 10.5, 10.75, 11.0])
    stats = ReplyStats(clock=lambda: next(times))
    for delta in (Delta("Hi"), Delta(" there"), Delta("!", "stop")):
        stats.add(delta)
    card, shown, _ = chat_shown(
        config, request, stats, "Hello", "Be brief.", 0.2, 0.95, 16, 1.0, None
    )
    code, curl, gradio = shown["requests"], shown["curl"], shown["gradio"]
    assert "First token: 0.50 s" in card and "Time taken:  1.00 s" in card
    assert "Finished:    stop" in card and TOKEN not in card + code + curl + gradio
    assert "get_completion_stream(" in code and "-N" in curl
    assert 'Client("http://127.0.0.1:7865/")' in gradio and "client.submit(" in gradio
    assert '"Be brief.",' in gradio and "None" not in gradio
    assert shown["library_name"] == "openai" and "OpenAI(" in shown["library"]
    assert 'api_name="/chat",' in gradio

    # Another model than the configured one: the call that takes it, with the model last.
    gradio = chat_shown(
        config, request, stats, "Hello", "", 0.2, 0.95, 16, 1.0, None, model="chat/other"
    )[1]["gradio"]
    assert 'api_name="/chat_with_model",' in gradio
    assert gradio.index("None,") < gradio.index('"chat/other",')  # the seed keeps its place
    gradio = chat_shown(
        config, request, stats, "Hello", "", 0.2, 0.95, 16, 1.0, 7, model="chat/model"
    )[1]["gradio"]
    assert 'api_name="/chat",' in gradio and "chat/model" not in gradio


def test_an_answer_by_a_picked_model_is_made_again_by_the_name_that_takes_one():
    from studio.ui.code_panel import api_call

    endpoint = make_endpoint("http://127.0.0.1:9/v1", task="caption", model="vision/model")
    assert api_call(endpoint, "/caption", ["photo"], None) == ("/caption", ["photo"])
    assert api_call(endpoint, "/caption", ["photo"], " vision/model ") == ("/caption", ["photo"])
    picked = api_call(endpoint, "/caption", ["photo"], "vision/other")
    assert picked == ("/caption_with_model", ["photo", "vision/other"])
