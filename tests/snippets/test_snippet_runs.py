"""The code behind an answer, copied and run as a person would: the requests snippet in Python,
the curl line in a shell, the gradio_client call against the running studio, each against the
local stand-in servers, with HF_TOKEN in the environment and nowhere in the code."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from studio.backends import registry as backends
from studio.snippets import GradioCall, for_calls, for_chat, photo
from studio.tasks.chat import ChatSettings
from studio.tasks.reproduce import Call
from tests.conftest import make_endpoint, start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import running, server_fixture

TOKEN = "hf_test_secret_token_0123456789"
RUN_LIMIT = 60  # seconds a snippet may take, on a busy machine
NO_GRADIO = GradioCall("/summarize", ["x"])


def run(args: list[str], folder) -> str:
    # A clean environment, as a person's shell: no HF_HUB_OFFLINE or studio setting of ours.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "STUDIO_"))}
    env = {**clean, "HF_TOKEN": TOKEN}
    done = subprocess.run(
        args, cwd=folder, env=env, capture_output=True, text=True, timeout=RUN_LIMIT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_python(code: str, folder) -> str:
    assert TOKEN not in code
    return run([sys.executable, "-c", code], folder)


def run_shell(line: str, folder) -> str:
    assert TOKEN not in line
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    return run(["bash", "-c", line], folder)


def sent_token(server) -> str:
    return server.requests[-1].headers.get("Authorization")


image_server = server_fixture(ImageServer)


@pytest.fixture
def photo_file(tmp_path):
    Image.new("RGB", (64, 48), (200, 40, 40)).save(tmp_path / "photo.jpg")
    return (tmp_path / "photo.jpg").read_bytes()


def test_a_summary_snippet_and_curl_line_answer_a_summary(task_server, tmp_path):
    endpoint = make_endpoint(f"{task_server.url}/summarize/models/sshleifer/distilbart-cnn-12-6")
    text = "The tower is 324 metres tall. It's the tallest structure in Paris."
    call = Call(endpoint, text, {"min_length": 2, "max_length": 5})
    snippets = for_calls("Summary", [call], NO_GRADIO)

    answer = ast.literal_eval(run_python(snippets.requests, tmp_path))
    assert list(answer[0]) == ["summary_text"] and answer[0]["summary_text"]
    assert sent_token(task_server) == f"Bearer {TOKEN}"
    assert task_server.requests[-1].json()["parameters"] == {"min_length": 2, "max_length": 5}

    answer = json.loads(run_shell(snippets.curl, tmp_path))
    assert answer[0]["summary_text"]
    assert sent_token(task_server) == f"Bearer {TOKEN}"


def test_an_entities_snippet_answers_entities_with_all_three_clients(task_server, tmp_path):
    endpoint = make_endpoint(f"{task_server.url}/ner/models/dslim/bert-base-NER", task="ner")
    snippets = for_calls("Entities", [Call(endpoint, "Ada Lovelace lived in London.")], NO_GRADIO)
    tokens = ast.literal_eval(run_python(snippets.requests, tmp_path))
    assert {"entity", "start", "end"} <= set(tokens[0])
    assert json.loads(run_shell(snippets.curl, tmp_path))[0]["entity"].startswith("B-")
    hub_answer = run_python(snippets.library, tmp_path)  # huggingface_hub, the URL as model
    assert "TokenClassificationOutputElement" in hub_answer


def test_a_caption_snippet_sends_the_photo_and_answers_a_caption(
    image_server, tmp_path, photo_file
):
    endpoint = make_endpoint(f"{image_server.url}/itt/models/blip", task="caption")
    call = Call(endpoint, photo_file, content_type="image/jpeg")
    snippets = for_calls("Caption", [call], NO_GRADIO)
    answer = ast.literal_eval(run_python(snippets.requests, tmp_path))
    assert "red" in answer[0]["generated_text"]
    assert "red" in json.loads(run_shell(snippets.curl, tmp_path))[0]["generated_text"]
    assert image_server.requests[-1].body == photo_file


def test_a_vision_chat_caption_snippet_answers_a_completion(image_server, tmp_path, photo_file):
    endpoint = make_endpoint(
        f"{image_server.url}/v1", task="caption", protocol="openai", model="vision/model"
    )
    call = Call(endpoint, photo_file, content_type="image/jpeg")
    snippets = for_calls("Caption", [call], NO_GRADIO)
    answer = ast.literal_eval(run_python(snippets.requests, tmp_path))
    assert "red" in answer["choices"][0]["message"]["content"]
    answer = json.loads(run_shell(snippets.curl, tmp_path))
    assert "red" in answer["choices"][0]["message"]["content"]
    assert "red" in run_python(snippets.library, tmp_path)  # the openai client


def test_an_image_snippet_saves_the_png(image_server, tmp_path):
    endpoint = make_endpoint(f"{image_server.url}/tti-png/models/sd", task="image", model="sd")
    parameters = {
        "num_inference_steps": 2,
        "guidance_scale": 7.0,
        "width": 128,
        "height": 64,
        "seed": 42,
    }
    snippets = for_calls("Image", [Call(endpoint, "A blue boat", parameters, seed=42)], NO_GRADIO)
    run_python(snippets.requests, tmp_path)
    with Image.open(tmp_path / "picture.png") as picture:
        assert picture.format == "PNG" and picture.size == (128, 64)
    (tmp_path / "picture.png").unlink()
    run_shell(snippets.curl, tmp_path)
    with Image.open(tmp_path / "picture.png") as picture:
        assert picture.size == (128, 64)


@pytest.mark.parametrize("protocol", ["openai", "tgi"])
def test_a_chat_snippet_streams_the_reply(protocol, tmp_path):
    with running(ChatServer()) as server:
        url = f"{server.url}/v1" if protocol == "openai" else server.url
        endpoint = make_endpoint(url, task="chat", protocol=protocol, model="chat/model")
        request = backends.chat_request(
            endpoint,
            [{"role": "user", "content": "Paint the harbour"}],
            ChatSettings(max_new_tokens=32, seed=3),
        )
        snippets = for_chat(endpoint, request, NO_GRADIO)
        assert "Paint the harbour" in run_python(snippets.requests, tmp_path)
        streamed = run_shell(snippets.curl, tmp_path)
        assert "data:" in streamed and "harbour" in streamed
        assert server.records[-1].headers.get("Authorization") == f"Bearer {TOKEN}"


def test_the_gradio_client_snippet_asks_the_running_studio(studio_app, tmp_path):
    gradio = GradioCall("/summarize", ["The tower is tall. It is in Paris.", 2, 5], url=studio_app)
    endpoint = make_endpoint("http://127.0.0.1:9/summarize/models/x")
    snippets = for_calls("Summary", [Call(endpoint, "x")], gradio)
    summary = run_python(snippets.gradio, tmp_path).strip()
    assert summary and not summary.startswith(("[", "{"))

    gradio = GradioCall("/ner", ["Ada Lovelace lived in London."], url=studio_app)
    snippets = for_calls("Entities", [Call(endpoint, "x")], gradio)
    assert "Ada Lovelace" in run_python(snippets.gradio, tmp_path)


@pytest.fixture(scope="module")
def picture_studio(image_server):
    """The real app with Caption and Imagine on the image stand-in."""
    base = image_server.url
    env = {
        "HF_API_ITT_BASE": f"{base}/itt/models/blip",
        "HF_API_TTI_BASE": f"{base}/tti/models/sd",
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": "10",
    }
    process, url = start_studio(env, "--tabs", "caption,imagine")
    yield url
    assert TOKEN not in stop_studio(process)


def test_the_gradio_client_picture_snippets_upload_the_photo_and_save_the_png(
    picture_studio, tmp_path, photo_file
):
    endpoint = make_endpoint("http://127.0.0.1:9/itt/models/b", task="caption")
    gradio = GradioCall("/caption", [photo()], url=picture_studio)
    code = for_calls("Caption", [Call(endpoint, photo_file)], gradio).gradio
    assert "red" in run_python(code, tmp_path)

    gradio = GradioCall(
        "/generate_image",
        ["A green field", "", 2, 7.0, 128, 64, 9],
        url=picture_studio,
        picture=True,
    )
    code = for_calls("Image", [Call(endpoint, "A green field")], gradio).gradio
    run_python(code, tmp_path)
    with Image.open(tmp_path / "picture.png") as picture:
        assert picture.size == (128, 64)
        assert "Seed: 9" in picture.text["parameters"]
