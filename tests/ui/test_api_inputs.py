"""What the published API takes, through gradio_client and through raw REST calls as curl makes
them (`POST /gradio_api/call/<name>`, then its event stream): every name keeps the inputs it was
published with, and every number it takes is checked by the studio, with a message naming the
field, before anything is sent to a model server.

One studio with every tab runs against three stand-ins: the task API (Summarize, Entities), an
image server (pictures, and captions from a vision chat model) and a streaming chat server.
"""

from __future__ import annotations

import contextlib
import json

import pytest
import requests
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from studio.config import load_config
from studio.serve import launch_options
from studio.ui.app import build_app, select_tabs
from tests.conftest import ROOT, free_port, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.reasoning import THOUGHT
from tests.stand_ins.servers import TaskServer, server_fixture

TOKEN = "hf_test_secret_token_0123456789"
CHELSEA = ROOT / "assets" / "chelsea.jpg"
REQUIRED = object()  # an input without a default: every call must give it

# Every published API name, its inputs in order, and each input's default. A change here breaks
# scripts in course notebooks: change this table only on purpose, with a new name.
PUBLISHED = {
    "/summarize": [("text", REQUIRED), ("min_length", None), ("max_length", None)],
    "/ner": [("text", REQUIRED)],
    "/caption": [("image", REQUIRED)],
    "/caption_with_model": [("image", REQUIRED), ("model", "")],
    # Steps and guidance start at the image model's own (studio.tasks.model_settings): this
    # studio paints with sd-turbo, 1 step without guidance (25 and 7 for a model not known).
    "/generate_image": [
        ("prompt", REQUIRED),
        ("negative_prompt", None),
        ("steps", 1),
        ("guidance", 0),
        ("width", 512),
        ("height", 512),
        ("seed", -1),
    ],
    "/caption_and_generate": [("image", REQUIRED), ("seed", -1)],
    "/play_rounds": [("image", REQUIRED), ("rounds", 3), ("seed", -1)],
    "/chat": [
        ("message", REQUIRED),
        ("system_prompt", ""),
        ("temperature", 0.7),
        ("top_p", 0.95),
        ("max_new_tokens", 512),
        ("repetition_penalty", 1.0),
        ("seed", None),
    ],
}
# The Next word tab's temperature reaches 2 and starts at 1: the model's own odds.
PUBLISHED["/next_words"] = [("text", REQUIRED), ("temperature", 1.0), ("top_p", 1.0)]
PUBLISHED["/chat_with_model"] = [*PUBLISHED["/chat"], ("model", "")]
# Where the chat server's requests carry pictures: the picture second, the model last.
PUBLISHED["/chat_with_image"] = [
    PUBLISHED["/chat"][0],
    ("image", None),
    *PUBLISHED["/chat"][1:],
    ("model", ""),
]
# The reply and, as a second output, a reasoning model's thinking (docs/chat.md).
PUBLISHED["/chat_with_reasoning"] = [*PUBLISHED["/chat"], ("thinking", ""), ("model", "")]
# One prompt, one setting that differs and its two values, then the shared settings (docs/chat.md).
PUBLISHED["/compare"] = [
    ("prompt", REQUIRED),
    ("differs", "Temperature"),
    ("value_a", "0.2"),
    ("value_b", "0.9"),
    *[(name, "") for name in ("system_prompt", "temperature", "top_p", "max_new_tokens")],
    *[(name, "") for name in ("seed", "thinking", "model")],
]
# One prompt as a grid over one or two settings, then the settings every cell shares
# (docs/chat.md). Down starts at steps: this studio's sd-turbo runs without guidance.
PUBLISHED["/compare_pictures"] = [
    ("prompt", REQUIRED),
    ("negative_prompt", ""),
    ("across", "Seed"),
    ("across_values", "1, 2"),
    ("down", "Steps"),
    ("down_values", "1, 2"),
    ("steps", ""),
    ("guidance", ""),
    ("width", 512),
    ("height", 512),
    ("seed", -1),
]
# The class wall: the open round takes nothing; an answer names its round, or the open one.
PUBLISHED["/wall_round"] = []
PUBLISHED["/wall_answer"] = [("answer", REQUIRED), ("round_id", None)]
PUBLISHED["/wall_paint"] = [("seed", None)]
# The game served alone offers the Caption and Imagine tabs' names, with its own inputs.
PUBLISHED_BY_THE_GAME_ALONE = {
    "/caption": [("image", REQUIRED)],
    "/generate_image": [("text", REQUIRED), ("seed", -1)],
    "/caption_and_generate": PUBLISHED["/caption_and_generate"],
    "/play_rounds": PUBLISHED["/play_rounds"],
}


text_server = server_fixture(TaskServer)
image_server = server_fixture(ImageServer)
chat_server = server_fixture(ChatServer, token_delay=0.0)


@pytest.fixture(scope="module")
def servers(text_server, image_server, chat_server):
    return text_server, image_server, chat_server


def environment(servers) -> dict:
    text, images, chat = servers
    return {
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": "10",
        "STUDIO_LOCAL": "none",
        "HF_API_SUMMARY_BASE": f"{text.url}/summarize/models/x",
        "HF_API_NER_BASE": f"{text.url}/ner/models/x",
        "STUDIO_CAPTION_CHAT_BASE": f"{images.url}/v1",
        "STUDIO_CAPTION_MODEL": "vision/model",
        "HF_API_TTI_BASE": f"{images.url}/tti/models/stabilityai/sd-turbo",
        "STUDIO_CHAT_BASE": f"{chat.url}/v1",
        "STUDIO_CHAT_MODEL": "stand-in/chat",
    }


@pytest.fixture(scope="module")
def url(servers):
    process, address = start_studio(environment(servers))
    yield address
    assert TOKEN not in stop_studio(process), "the token reached a log line"


@pytest.fixture(scope="module")
def client(url):
    return Client(url, verbose=False)


def model_requests(servers) -> list:
    """Every request that reached a stand-in model (listing models costs nothing: not counted)."""
    text, images, chat = servers
    return [*text.requests, *images.requests, *chat.records]


def rest_call(url: str, name: str, data: list) -> tuple[str, object]:
    """The REST API as a curl script uses it: the body as written by hand (json.dumps writes
    NaN and Infinity as bare words, as Python's json reads them), then the event stream read to
    its end: (the last event's name, its data)."""
    posted = requests.post(
        f"{url}gradio_api/call/{name.lstrip('/')}",
        data=json.dumps({"data": data}),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    posted.raise_for_status()
    stream = requests.get(f"{posted.url}/{posted.json()['event_id']}", timeout=60).text
    lines = stream.splitlines()
    event = [line for line in lines if line.startswith("event:")][-1]
    data_line = [line for line in lines if line.startswith("data:")][-1]
    return event.removeprefix("event:").strip(), json.loads(data_line.removeprefix("data:"))


def uploaded(url: str) -> dict:
    """CHELSEA uploaded as a REST caller uploads a file, and the input that names it."""
    with CHELSEA.open("rb") as file:
        answer = requests.post(f"{url}gradio_api/upload", files={"files": file}, timeout=30)
    answer.raise_for_status()
    return {"path": answer.json()[0], "meta": {"_type": "gradio.FileData"}}


# --- every published name keeps its inputs -----------------------------------------------------


def inputs_of(endpoints: dict) -> dict:
    return {
        name: [
            (
                p["parameter_name"],
                p["parameter_default"] if p["parameter_has_default"] else REQUIRED,
            )
            for p in endpoint["parameters"]
        ]
        for name, endpoint in endpoints.items()
    }


def test_every_published_api_keeps_its_inputs_their_order_and_defaults(client):
    endpoints = client.view_api(print_info=False, return_format="dict")
    assert inputs_of(endpoints["named_endpoints"]) == PUBLISHED
    assert not endpoints["unnamed_endpoints"]


@contextlib.contextmanager
def launched(env: dict, tabs: str):
    config = load_config(env, tabs=tabs)
    app = build_app(config, select_tabs(config.tabs))
    app.launch(**{**launch_options(config, port=free_port()), "quiet": True})
    try:
        yield app
    finally:
        app.close()


def test_the_game_alone_publishes_its_own_inputs(servers):
    with launched(environment(servers), "game") as app:
        endpoints = Client(app.local_url, verbose=False).view_api(
            print_info=False, return_format="dict"
        )
    assert inputs_of(endpoints["named_endpoints"]) == PUBLISHED_BY_THE_GAME_ALONE


def test_chat_over_rest_with_its_seven_published_inputs_answers(url, servers):
    event, data = rest_call(url, "/chat", ["hello class", "", 0.7, 0.95, 64, 1.0, None])
    assert (event, data[0]) == ("complete", "hello class")  # the reply (the history stays)
    (record,) = servers[2].records
    assert record.body["model"] == "stand-in/chat"


def test_chat_with_a_model_over_rest_asks_that_model(url, servers):
    data = ["hello class", "", 0.7, 0.95, 64, 1.0, None, "stand-in/other"]
    event, answer = rest_call(url, "/chat_with_model", data)
    assert (event, answer[0]) == ("complete", "hello class")
    assert [record.body["model"] for record in servers[2].records] == ["stand-in/other"]


def test_chat_answers_the_reply_alone_and_chat_with_reasoning_the_thinking_beside_it(url, servers):
    servers[2].thinks = "reasoning"
    event, data = rest_call(url, "/chat", ["hello class", "", 0.7, 0.95, 64, 1.0, None])
    assert (event, data[0]) == ("complete", "hello class")
    asked = ["hello class", "", 0.7, 0.95, 64, 1.0, None, "high", ""]
    event, data = rest_call(url, "/chat_with_reasoning", asked)
    assert event == "complete" and data[:2] == ["hello class", THOUGHT]
    assert servers[2].records[-1].body["reasoning_effort"] == "high"


def test_chat_with_reasoning_names_a_thinking_setting_it_does_not_know(client, servers):
    with pytest.raises(AppError, match="Thinking must be empty"):
        client.predict(
            "hi", "", 0.7, 0.95, 64, 1.0, None, "max", "", api_name="/chat_with_reasoning"
        )
    assert model_requests(servers) == []


def test_caption_over_rest_with_its_published_input_answers(url, servers):
    event, data = rest_call(url, "/caption", [uploaded(url)])
    assert event == "complete" and data[0]
    asked = [r.json()["model"] for r in servers[1].requests if r.path.startswith("/v1/chat")]
    assert asked == ["vision/model"]


def test_caption_with_a_model_asks_that_model(client, url, servers):
    client.predict(handle_file(str(CHELSEA)), "vision/other", api_name="/caption_with_model")
    rest_call(url, "/caption_with_model", [uploaded(url), "vision/third"])
    asked = [r.json()["model"] for r in servers[1].requests if r.path.startswith("/v1/chat")]
    assert asked == ["vision/other", "vision/third"]


# --- every number is the studio's to check --------------------------------------------------------

IMAGE = "image"  # stands for the photo, given as each way of calling gives a file
# (API name, a good call, {input's position: (the field's name in messages, a value above its
# range, one below)}).
NUMBER_FIELDS = [
    ("/summarize", ["one two three four", None, None], {1: "Minimum length", 2: "Maximum length"}),
    (
        "/generate_image",
        ["a fox", "", 25, 7, 512, 512, -1],
        {2: "Steps", 3: "Guidance", 4: "Width", 5: "Height", 6: "seed"},
    ),
    ("/caption_and_generate", [IMAGE, -1], {1: "seed"}),
    ("/play_rounds", [IMAGE, 2, -1], {1: "Rounds", 2: "seed"}),
    (
        "/chat",
        ["hello", "", 0.7, 0.95, 64, 1.0, None],
        {2: "Temperature", 3: "Top-p", 4: "Max new tokens", 5: "Repetition penalty", 6: "Seed"},
    ),
    (
        "/chat_with_model",
        ["hello", "", 0.7, 0.95, 64, 1.0, None, ""],
        {2: "Temperature", 6: "Seed"},
    ),
]
OUT_OF_RANGE = {
    "Minimum length": (1025, 0),
    "Maximum length": (1025, 0),
    "Steps": (101, 0),
    "Guidance": (20.5, -0.5),
    "Width": (1088, 0),
    "Height": (1088, 0),
    "seed": (2**63, -2),
    "Rounds": (6, 0),
    "Temperature": (1.5, -0.1),
    "Top-p": (1.5, 0.0),
    "Max new tokens": (4097, 0),
    "Repetition penalty": (2.5, 0.5),
    "Seed": (2**63, -1),
}
CASES = [
    pytest.param(name, call, position, field, id=f"{name}-{field}")
    for name, call, fields in NUMBER_FIELDS
    for position, field in fields.items()
]


def with_value(call: list, position: int, value, image) -> list:
    changed = [image if item == IMAGE else item for item in call]
    changed[position] = value
    return changed


@pytest.mark.parametrize(("name", "call", "position", "field"), CASES)
def test_a_number_that_is_no_number_or_out_of_range_is_named_over_rest(
    url, servers, name, call, position, field
):
    image = uploaded(url) if IMAGE in call else None
    above, below = OUT_OF_RANGE[field]
    # NaN and the infinities as a hand-written body holds them, as text, and out of range.
    values = [float("nan"), float("inf"), float("-inf"), "NaN", "-Infinity", above, below]
    for value in values:
        event, data = rest_call(url, name, with_value(call, position, value, image))
        assert event == "error", (value, data)
        assert data and field in str(data), (value, data)
    assert model_requests(servers) == []


@pytest.mark.parametrize(("name", "call", "position", "field"), CASES)
def test_a_number_that_is_no_number_or_out_of_range_is_named_through_gradio_client(
    client, servers, name, call, position, field
):
    # gradio_client cannot send NaN as a number (its JSON is strict): a script sends it as text.
    above, below = OUT_OF_RANGE[field]
    image = handle_file(str(CHELSEA))
    for value in ["nan", "inf", above, below]:
        with pytest.raises(Exception) as raised:
            client.predict(*with_value(call, position, value, image), api_name=name)
        assert field in str(raised.value), value
    assert model_requests(servers) == []


def test_good_numbers_still_reach_the_servers(client, servers):
    assert client.predict("one two three four", 1, 3, api_name="/summarize") == "one two three"
    reply = client.predict("hello there", "", 0.0, 1.0, 64, 1.5, 2**63 - 1, api_name="/chat")
    assert reply == "hello there"
    (record,) = servers[2].records
    assert record.body["seed"] == 2**63 - 1 and record.body["temperature"] == 0
