"""The options every launch uses, without launching."""

from __future__ import annotations

import inspect

import gradio as gr
import pytest

from studio.classroom.login import LOGIN_MESSAGE
from studio.config import load_config
from studio.serve import HEADROOM, launch_options, thread_pool_size
from studio.tasks.uploads import MAX_UPLOAD_BYTES
from studio.ui.look import CSS

GRADIO_DEFAULT_THREADS = inspect.signature(gr.Blocks.launch).parameters["max_threads"].default


def test_the_options_carry_the_configuration():
    config = load_config(
        {"STUDIO_AUTH": "teacher:a-long-password"},
        host="0.0.0.0",
        port=7870,
        share=True,
        concurrency=100,
    )
    options = launch_options(config)
    check, middleware = options.pop("auth"), options.pop("app_kwargs")["middleware"]
    assert options == {
        "server_name": "0.0.0.0",
        "server_port": 7870,
        "share": True,
        "auth_message": LOGIN_MESSAGE,
        "max_threads": 100 + HEADROOM,
        "max_file_size": MAX_UPLOAD_BYTES,
        "footer_links": ["api", "gradio"],
        "run_history": False,
        "ssr_mode": False,
        "state_session_capacity": 1000,
        "mcp_server": False,
        "root_path": "",
        "css": CSS,
        "prevent_thread_lock": True,
        "quiet": True,
    }
    assert inspect.iscoroutinefunction(check)  # studio.classroom.login's check, awaited by Gradio
    assert [layer.cls.__name__ for layer in middleware] == [
        "CheckHost",
        "RememberClient",
        "UsageView",
        "WallView",
        "HideApiBeforeLogin",
        "SayLoginLost",
    ]


def test_without_a_login_there_is_no_check_and_no_login_page():
    options = launch_options(load_config({}))
    assert options["auth"] is None and options["auth_message"] is None
    assert [layer.cls.__name__ for layer in options["app_kwargs"]["middleware"]] == [
        "CheckHost",
        "RememberClient",
        "UsageView",
        "WallView",
    ]


def test_each_app_of_per_tab_ports_gets_its_own_port():
    config = load_config({}, port=7861, per_tab_ports=True)
    assert launch_options(config)["server_port"] == 7861
    assert launch_options(config, port=7863)["server_port"] == 7863


def test_the_default_pool_serves_the_default_concurrency_and_more():
    config = load_config({})
    assert config.concurrency == 100 and not config.share and config.auth is None
    assert launch_options(config)["max_threads"] == 100 + HEADROOM


@pytest.mark.parametrize("concurrency", [1, 40, 64, 100, 500])
def test_the_pool_leaves_room_beyond_the_concurrency(concurrency):
    threads = thread_pool_size(concurrency)
    assert threads >= concurrency + HEADROOM
    # At exactly Gradio's default, Gradio would fall back to anyio's shared pool.
    assert threads > GRADIO_DEFAULT_THREADS and HEADROOM >= GRADIO_DEFAULT_THREADS


def test_gradio_takes_every_option():
    options = launch_options(load_config({}))
    inspect.signature(gr.Blocks.launch).bind(gr.Blocks(), **options)  # a TypeError otherwise
