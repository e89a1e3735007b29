"""Text to image through Inference Providers against a local router and Hub: each provider's
answer followed through the studio's own transport to the picture; and the app through
gradio_client, configured only by the environment, painting with a model only fal-ai serves.
(Settings and request building, without a server: test_provider_requests.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gradio_client import Client
from PIL import Image

from studio import errors
from studio.backends import hub, provider_answers, transport
from studio.backends.providers import build_request, choose_mapping, ignored_options
from studio.config import load_config
from studio.services import ignored_options as note_for
from studio.services import paint_picture
from studio.tasks.image_settings import make_image_request, read_parameters
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.provider_servers import ProviderServer, mapping
from tests.stand_ins.servers import server_fixture

TOKEN = "hf_test_secret_token_0123456789"
NOWHERE = SimpleNamespace(url="http://127.0.0.1:9")  # for tests that send nothing
FLUX = "black-forest-labs/FLUX.1-dev"
OPTIONS = dict(negative_prompt="fog", steps=20, guidance=3.5, width=768, height=512, seed=1234)
PARAMETERS = make_image_request("a lighthouse", **OPTIONS).to_parameters()
SERVED = {
    FLUX: mapping("fal-ai", "fal-ai/flux/dev"),  # the Inference Providers docs' first example
    "stabilityai/stable-diffusion-xl-base-1.0": mapping(
        "hf-inference", "stabilityai/stable-diffusion-xl-base-1.0"
    ),
    "some/many-providers": {
        **mapping("together", "org/together-id"),
        **mapping("nscale", "org/nscale-id"),
        **mapping("replicate", "org/replicate-id"),
        **mapping("wavespeed", "wavespeed-ai/some-model"),
        **mapping("zai-org", "cogview-4"),
    },
    "some/chat-model": mapping("together", "org/chat", task="conversational"),
}


router = server_fixture(ProviderServer, mappings=SERVED)  # the router and the Hub


@pytest.fixture(autouse=True)
def no_kept_mappings():
    """The studio asks the Hub afresh in each test."""
    hub.forget()


def image_endpoint(server, model: str, provider: str = "auto"):
    env = {
        "HF_TOKEN": TOKEN,
        "STUDIO_ROUTER_URL": server.url,
        "HF_ENDPOINT": server.url,
        "STUDIO_IMAGE_MODEL": model,
        "STUDIO_IMAGE_PROVIDER": provider,
        "STUDIO_TIMEOUT": "5",
    }
    return load_config(env).endpoint("image")


def sent(server, prefix: str) -> list:
    return [request for request in server.requests if request.path.startswith(prefix)]


# --- against the local router --------------------------------------------------------------------


def paint(endpoint, **changes):
    return paint_picture(endpoint, make_image_request("a lighthouse", **(OPTIONS | changes)))


@pytest.mark.parametrize("provider", ["together", "nscale", "replicate", "wavespeed", "zai-org"])
def test_every_provider_s_answer_becomes_the_picture(router, provider):
    picture = paint(image_endpoint(router, "some/many-providers", provider))
    assert isinstance(picture, Image.Image) and picture.size == (768, 512)
    (posted,) = [r for r in router.requests if r.path.startswith(f"/{provider}/") and r.body]
    assert posted.headers["Authorization"] == f"Bearer {TOKEN}"
    for fetched in sent(router, "/files/"):
        assert "Authorization" not in fetched.headers  # the token stays with the router
    polls = [r for r in sent(router, f"/{provider}/") if not r.body]
    assert len(polls) == (2 if provider in ("wavespeed", "zai-org") else 0)


def test_fal_ai_s_link_is_fetched_and_the_model_info_asked_once(router):
    endpoint = image_endpoint(router, FLUX)
    first = paint(endpoint)
    again = paint(endpoint, seed=99)
    assert first.size == again.size == (768, 512)
    (info,) = sent(router, "/api/models/")
    assert info.path == f"/api/models/{FLUX}?expand=inferenceProviderMapping"
    assert info.headers["Authorization"] == f"Bearer {TOKEN}"
    posted = sent(router, "/fal-ai/")
    assert [r.json()["seed"] for r in posted] == [1234, 99]
    assert len(sent(router, "/files/")) == 2


def test_auto_on_hf_inference_speaks_the_task_api(router):
    picture = paint(image_endpoint(router, "stabilityai/stable-diffusion-xl-base-1.0"))
    assert picture.size == (768, 512)
    (posted,) = sent(router, "/hf-inference/")
    assert posted.path == "/hf-inference/models/stabilityai/stable-diffusion-xl-base-1.0"
    assert posted.json() == {"inputs": "a lighthouse", "parameters": PARAMETERS}


def test_a_model_the_hub_does_not_have_names_the_model_setting(router):
    with pytest.raises(errors.ModelNotFoundError, match="STUDIO_IMAGE_MODEL") as caught:
        paint(image_endpoint(router, "no/such-model"))
    assert "has no model no/such-model" in str(caught.value)


def test_a_provider_error_keeps_the_studio_s_messages(router):
    router.fail_next(
        "/fal-ai/", (402, {"error": "You have exceeded your monthly included credits"}, {})
    )
    with pytest.raises(errors.PaymentRequiredError, match="credits are used up"):
        paint(image_endpoint(router, FLUX))
    router.fail_next("/files/", (404, {"error": "gone"}, {}))
    with pytest.raises(errors.ModelNotFoundError, match="fal-ai made the picture, but fetching"):
        paint(image_endpoint(router, FLUX))


def test_a_task_that_never_finishes_stops_polling_in_bounded_time(router):
    router.pending = 10**6
    endpoint = image_endpoint(router, "some/many-providers", "wavespeed")
    mapping_ = choose_mapping(endpoint, hub.provider_mappings(endpoint))
    request = build_request(endpoint, mapping_, "a cat", PARAMETERS)
    first = transport.post(request, endpoint)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(errors.BackendTimeoutError, match="within 120 seconds"):
        provider_answers.picture(
            first, "wavespeed", request, endpoint, sleep=sleep, clock=lambda: now[0]
        )
    assert now[0] <= provider_answers.POLL_SECONDS
    assert 30 < len(sent(router, "/wavespeed/api/v3/predictions/")) < 40


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"status": "starting", "output": None}, "had not finished the picture"),
        ({"images": []}, "shape the studio does not know"),
    ],
)
def test_answers_without_a_picture_are_clear_errors(answer, message):
    endpoint = image_endpoint(NOWHERE, FLUX)
    provider = "replicate" if "output" in answer else "fal-ai"
    with pytest.raises(errors.BackendError, match=message):
        provider_answers.picture(answer, provider, None, endpoint)


def test_the_tab_says_which_options_a_provider_ignores(router):
    assert ignored_options("zai-org", "x/y") == (
        "zai-org ignores: negative prompt, inference steps, guidance scale, seed."
    )
    assert ignored_options("fal-ai", FLUX) == "fal-ai ignores: negative prompt."
    assert ignored_options("together", "org/sdxl") == "together uses every option."
    assert "aspect ratio" in ignored_options("replicate", "org/sdxl")
    assert note_for(image_endpoint(router, "org/sdxl", "nscale")) == (
        "nscale ignores: inference steps."
    )
    auto = image_endpoint(router, FLUX)
    assert "once it has made a picture" in note_for(auto)  # the Hub is not asked for the note
    assert not sent(router, "/api/models/")
    paint(auto)
    assert note_for(auto) == "Served by fal-ai. fal-ai ignores: negative prompt."


# --- the app, configured only by the environment -------------------------------------------------


def test_the_app_paints_with_a_model_only_fal_ai_serves(router):
    env = {
        "HF_TOKEN": TOKEN,
        "STUDIO_ROUTER_URL": router.url,
        "HF_ENDPOINT": router.url,
        "STUDIO_IMAGE_MODEL": FLUX,
        "STUDIO_TIMEOUT": "5",
    }
    process, url = start_studio(env, "--tabs", "imagine")
    try:
        client = Client(url, verbose=False)
        arguments = ("A watercolour of a lighthouse at dawn", "fog", 20, 3.5, 768, 512, 1234)
        path = client.predict(*arguments, api_name="/generate_image")
    finally:
        output = stop_studio(process)
    assert TOKEN not in output, "the token reached a log line"
    with Image.open(path) as png:
        assert png.size == (768, 512)
        parameters = read_parameters(open(path, "rb").read())
    assert "Negative prompt: fog" in parameters and "Seed: 1234" in parameters
    assert FLUX in parameters
    (posted,) = sent(router, "/fal-ai/")
    assert posted.path == "/fal-ai/fal-ai/flux/dev"
    assert posted.json() == {
        "prompt": "A watercolour of a lighthouse at dawn",
        "negative_prompt": "fog",
        "num_inference_steps": 20,
        "guidance_scale": 3.5,
        "seed": 1234,
        "image_size": {"width": 768, "height": 512},
    }
    (fetched,) = sent(router, "/files/")
    assert "Authorization" not in fetched.headers
