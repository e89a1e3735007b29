"""`python -m studio --mcp`: the real app in its own process, driven by the `mcp` package's own
client over streamable HTTP and SSE, against the local stand-in model servers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import sys

import pytest
import requests
from gradio_client import Client
from PIL import Image

from studio import cli
from studio.classroom.mcp_tools import EXTRA_MISSING
from studio.config import load_config
from studio.errors import ConfigurationError
from studio.serve import launch_options
from tests.conftest import start_studio, stop_studio
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.image_servers import ImageServer
from tests.stand_ins.servers import TaskServer, server_fixture

mcp = pytest.importorskip("mcp", reason="the MCP extra: pip install -r requirements-mcp.txt")
from mcp.client.sse import sse_client  # noqa: E402
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402

TOOLS = {
    "summarize",
    "ner",
    "caption",
    "generate_image",
    "caption_and_generate",
    "play_rounds",
    "chat",
    "chat_with_model",  # the chat server takes a model per request; the captioner does not
    "chat_with_image",  # its requests carry pictures (OpenAI-compatible)
    "chat_with_reasoning",
    "next_words",
    "compare",
    "compare_pictures",
    "wall_round",  # the class wall's open round, which takes nothing
    "wall_answer",
    "wall_paint",
}
LOGIN = ("teacher", "a-long-password")
SECRET = "hf_test_secret_token_0123456789"


text_server = server_fixture(TaskServer)
image_server = server_fixture(ImageServer)
chat_server = server_fixture(ChatServer)


@pytest.fixture(scope="module")
def servers(text_server, image_server, chat_server):
    return text_server, image_server, chat_server


def environment(servers) -> dict:
    text, images, chat = servers
    return {
        "HF_API_SUMMARY_BASE": f"{text.url}/summarize/models/sshleifer/distilbart-cnn-12-6",
        "HF_API_NER_BASE": f"{text.url}/ner/models/dslim/bert-base-NER",
        "HF_API_ITT_BASE": f"{images.url}/itt/models/Salesforce/blip-image-captioning-base",
        "HF_API_TTI_BASE": f"{images.url}/tti/models/stabilityai/sd-turbo",
        "STUDIO_CHAT_BASE": f"{chat.url}/v1",
        "STUDIO_CHAT_MODEL": "stand-in/chat",
        "HF_TOKEN": SECRET,
        "STUDIO_TIMEOUT": "10",
    }


@contextlib.contextmanager
def studio(env: dict, *args: str):
    process, url = start_studio(env, *args)
    try:
        yield url
    finally:
        output = stop_studio(process)
        assert SECRET not in output and LOGIN[1] not in output


@pytest.fixture(scope="module")
def app(servers):
    with studio(environment(servers), "--mcp") as url:
        yield url


@pytest.fixture(scope="module")
def app_with_login(servers):
    env = {**environment(servers), "STUDIO_MCP": "1", "STUDIO_AUTH": ":".join(LOGIN)}
    with studio(env) as url:
        yield url


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def _with_session(url, work, headers, transport):
    from mcp import ClientSession

    if transport == "sse":
        opened = sse_client(url + "gradio_api/mcp/sse", headers=headers)
    else:
        opened = streamablehttp_client(url + "gradio_api/mcp/", headers=headers)
    async with opened as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            return await work(session)


def in_session(url: str, work, *, headers: dict | None = None, transport: str = "http"):
    """`await work(session)` in an initialized MCP client session with the studio."""
    return asyncio.run(_with_session(url, work, headers, transport))


def listed(url: str, **options) -> dict:
    async def work(session):
        return {tool.name: tool for tool in (await session.list_tools()).tools}

    return in_session(url, work, **options)


def call(url: str, name: str, arguments: dict, **options):
    async def work(session):
        return await session.call_tool(name, arguments)

    return in_session(url, work, **options)


def texts(result) -> list[str]:
    assert not result.isError, result.content
    return [part.text for part in result.content if part.type == "text"]


def png_data_url(size: tuple[int, int], colour: tuple[int, int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- the tools ----------------------------------------------------------------------------------


def test_every_tab_api_is_a_tool_described_with_its_parameters(app):
    tools = listed(app)
    assert set(tools) == TOOLS
    for tool in tools.values():
        properties = tool.inputSchema["properties"]
        assert (properties or tool.name == "wall_round") and tool.description
        assert all(p["description"] for p in properties.values()), tool.name
    assert tools["summarize"].description.startswith("Summarize an English text")
    assert set(tools["summarize"].inputSchema["properties"]) == {"text", "min_length", "max_length"}
    assert "tokens" in tools["summarize"].inputSchema["properties"]["max_length"]["description"]
    assert "data: URL" in tools["caption"].inputSchema["properties"]["image"]["description"]
    assert "64 to 1024" in tools["generate_image"].inputSchema["properties"]["width"]["description"]


def test_only_the_api_endpoints_are_tools_and_no_page_event(app):
    endpoints = Client(app, verbose=False).view_api(print_info=False, return_format="dict")
    assert {name.lstrip("/") for name in endpoints["named_endpoints"]} == TOOLS
    assert not endpoints["unnamed_endpoints"]


def test_the_tools_are_listed_over_sse_too(app):
    assert set(listed(app, transport="sse")) == TOOLS


def test_summarize_answers_from_the_model_server(app, servers):
    text = "one two three four five six seven"
    result = call(app, "summarize", {"text": text, "min_length": 1, "max_length": 3})
    assert texts(result) == ["one two three"]
    asked = [r for r in servers[0].requests if r.path.startswith("/summarize/")][-1]
    assert asked.json() == {"inputs": text, "parameters": {"min_length": 1, "max_length": 3}}


def test_ner_answers_the_highlighted_text(app):
    result = call(app, "ner", {"text": "Angela Merkel met Emmanuel Macron in Paris."})
    [answer] = texts(result)
    assert "'Angela Merkel', 'class_or_confidence': 'PER'" in answer
    assert "'Paris', 'class_or_confidence': 'LOC'" in answer


def test_ner_with_progress_reports_answers_the_same(app):
    seen = []

    async def work(session):
        async def progress(step, total, message):
            seen.append(message)

        text = "Angela Merkel met Emmanuel Macron in Paris."
        return await session.call_tool("ner", {"text": text}, progress_callback=progress)

    [answer] = texts(in_session(app, work))
    assert "'Paris', 'class_or_confidence': 'LOC'" in answer and seen


def test_caption_reads_a_data_url(app, servers):
    result = call(app, "caption", {"image": png_data_url((64, 48), (50, 90, 200))})
    [caption] = texts(result)
    # the stand-in captioner describes what it received: the photo, whole
    assert caption.startswith("a blue picture of 64x48 pixels")


def test_generate_image_answers_the_picture(app, servers):
    arguments = {"prompt": "a green field", "width": 128, "height": 64, "seed": 7}
    result = call(app, "generate_image", arguments)
    assert not result.isError, result.content
    [image] = [part for part in result.content if part.type == "image"]
    picture = Image.open(io.BytesIO(base64.b64decode(image.data)))
    assert picture.size == (128, 64) and image.mimeType == "image/png"
    asked = [r for r in servers[1].requests if r.path.startswith("/tti/")][-1]
    assert asked.json()["inputs"] == "a green field"
    assert asked.json()["parameters"]["seed"] == 7


def test_caption_and_generate_answers_both(app):
    result = call(app, "caption_and_generate", {"image": png_data_url((64, 64), (200, 40, 40))})
    assert not result.isError, result.content
    assert result.content[0].text.startswith("a red picture")
    assert any(part.type == "image" for part in result.content)


def test_chat_answers_from_the_chat_server(app, servers):
    result = call(app, "chat", {"message": "hello there class"})
    assert texts(result) == ["hello there class"]  # the stand-in echoes the words
    asked = servers[2].records[-1]
    assert asked.messages[-1] == {"role": "user", "content": "hello there class"}


def test_chat_with_image_sends_a_data_url_on_as_a_picture(app, servers):
    image = png_data_url((64, 48), (50, 90, 200))
    result = call(app, "chat_with_image", {"message": "what is it", "image": image})
    assert texts(result) == ["what is it [image 64x48]"]  # the stand-in saw the picture, whole
    text, picture = servers[2].records[-1].messages[-1]["content"]
    assert text == {"type": "text", "text": "what is it"}
    assert picture["image_url"]["url"].startswith("data:image/jpeg;base64,")


# --- the login ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["gradio_api/mcp/", "gradio_api/mcp/sse", "gradio_api/mcp/schema"])
def test_without_the_login_the_mcp_routes_refuse(app_with_login, path):
    headers = {"Accept": "application/json, text/event-stream"}
    answer = requests.get(app_with_login + path, headers=headers, timeout=10, stream=True)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic")
    assert "HTTP Basic auth" in answer.text


def test_without_the_login_an_mcp_client_cannot_even_list(app_with_login):
    with pytest.raises(BaseException) as refused:
        listed(app_with_login)
    assert "401" in repr(refused.value)
    with pytest.raises(BaseException) as wrong:
        listed(app_with_login, headers=basic("teacher", "not-the-password"))
    assert "401" in repr(wrong.value)


def test_with_the_login_as_basic_auth_the_tools_answer(app_with_login):
    headers = basic(*LOGIN)
    assert set(listed(app_with_login, headers=headers)) == TOOLS
    result = call(app_with_login, "summarize", {"text": "a b c d"}, headers=headers)
    assert texts(result) == ["a b c d"]


# --- without the extra, and the setting ----------------------------------------------------------


def test_without_the_extra_mcp_says_which_command_installs_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "mcp", None)  # what `import mcp` sees when it is missing
    monkeypatch.chdir(tmp_path)  # no .env
    for name in [n for n in list(__import__("os").environ) if n.startswith(("HF_", "STUDIO_"))]:
        monkeypatch.delenv(name)
    assert cli.main(["--mcp", "--port", "7999"]) == 2
    error = capsys.readouterr().err
    assert error == f"studio: {EXTRA_MISSING}\n"
    assert "pip install -r requirements-mcp.txt" in error


def test_the_setting_and_the_flag_turn_the_mcp_server_on():
    assert launch_options(load_config({}))["mcp_server"] is False
    assert launch_options(load_config({}, mcp=True))["mcp_server"] is True
    assert launch_options(load_config({"STUDIO_MCP": "1"}))["mcp_server"] is True
    assert load_config({"STUDIO_MCP": "off"}).mcp is False
    with pytest.raises(ConfigurationError, match="STUDIO_MCP"):
        load_config({"STUDIO_MCP": "maybe"})


def test_with_a_login_the_mcp_routes_are_guarded_by_the_login_check():
    options = launch_options(load_config({"STUDIO_AUTH": ":".join(LOGIN)}, mcp=True))
    layers = options["app_kwargs"]["middleware"]
    assert [layer.cls.__name__ for layer in layers][-1] == "GuardMcp"
    assert layers[-1].kwargs["check"] is options["auth"]  # one throttle for both


@pytest.mark.parametrize(
    "header",
    # none; another scheme; empty; not base64; no colon ("nocolon"); not UTF-8 (ff ff)
    [None, "Bearer abc", "Basic", "Basic !!!not-base64!!!", "Basic bm9jb2xvbg==", "Basic //8="],
)
def test_a_missing_or_malformed_basic_header_is_no_login_and_no_try(header):
    from studio.classroom.middleware import basic_login

    tries = []

    async def check(user, password):
        tries.append(user)
        return True

    scope = {"headers": [(b"authorization", header.encode())] if header else []}
    assert asyncio.run(basic_login(scope, check)) is False
    assert tries == []  # nothing to check: the throttle counts no wrong password


def test_a_basic_header_is_checked_by_the_login_check():
    from studio.classroom.middleware import basic_login

    async def check(user, password):
        return (user, password) == LOGIN

    good = {"headers": [(b"authorization", basic(*LOGIN)["Authorization"].encode())]}
    bad = {"headers": [(b"authorization", basic("teacher", "wrong")["Authorization"].encode())]}
    assert asyncio.run(basic_login(good, check)) is True
    assert asyncio.run(basic_login(bad, check)) is False


def test_mcp_calls_meet_the_studio_limits(servers):
    # MCP calls run the tabs' handlers, so the per-person limit counts them as it counts the page.
    with studio({**environment(servers), "STUDIO_LIMIT": "2/hour"}, "--mcp") as url:
        text = "one two three four five six seven"
        arguments = {"text": text, "min_length": 1, "max_length": 3}
        for _ in range(2):
            assert texts(call(url, "summarize", arguments)) == ["one two three"]
        refused = call(url, "summarize", arguments)
    assert refused.isError
    assert "Try again in about" in " ".join(part.text for part in refused.content)
