"""`python -m studio --check` against servers that are up, down, slow and wrong."""

from __future__ import annotations

import subprocess
import sys

from studio.config import load_config
from studio.doctor import check, table
from tests.conftest import ROOT, free_port
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.evil_server import EvilServer
from tests.stand_ins.servers import running, server_fixture

TOKEN = "hf_test_secret_token_0123456789"


chat_server = server_fixture(ChatServer)


def rows_by_task(env: dict, tabs: str) -> dict:
    config = load_config({"STUDIO_TIMEOUT": "3", **env}, tabs=tabs)
    return {row.task: row for row in check(config)}


def test_servers_that_are_up_are_ok(chat_server, task_server):
    rows = rows_by_task(
        {
            "STUDIO_CHAT_BASE": f"{chat_server.url}/v1",
            "HF_API_NER_BASE": f"{task_server.url}/ner/models/x",
        },
        "chat,ner",
    )
    assert rows["chat"].probe.ok and rows["chat"].probe.status == "ready: serves stand-in/chat"
    assert rows["ner"].probe.ok, rows["ner"].probe


def test_tgi_health_and_info(chat_server):
    (row,) = rows_by_task({"HF_API_FALCOM_BASE": chat_server.url}, "chat").values()
    assert row.probe.ok and row.probe.status == "ready: stand-in/chat"


def test_a_server_that_is_down_says_what_to_check():
    port = free_port()  # nothing listens there
    rows = rows_by_task({"HF_API_SUMMARY_BASE": f"http://127.0.0.1:{port}/x"}, "summarize")
    probe = rows["summarize"].probe
    assert not probe.ok and probe.status == "down" and "HF_API_SUMMARY_BASE" in probe.advice


def test_a_wrong_model_name_lists_what_the_server_serves(chat_server):
    env = {"STUDIO_CHAT_BASE": f"{chat_server.url}/v1", "STUDIO_CHAT_MODEL": "other/model"}
    probe = rows_by_task(env, "chat")["chat"].probe
    assert not probe.ok and "stand-in/chat" in probe.advice and "STUDIO_CHAT_MODEL" in probe.advice


def test_a_404_and_a_web_page_are_wrong_servers(task_server):
    task_server.fail_next("/page", (200, b"<html><body>Welcome to nginx</body></html>", {}))
    rows = rows_by_task(
        {
            "HF_API_SUMMARY_BASE": f"{task_server.url}/nowhere",
            "HF_API_NER_BASE": f"{task_server.url}/page",
        },
        "summarize,ner",
    )
    assert not rows["summarize"].probe.ok and rows["summarize"].probe.status == "404"
    assert not rows["ner"].probe.ok and rows["ner"].probe.status == "a web page"


def test_a_slow_server_is_reported_not_waited_for_forever():
    with running(EvilServer()) as evil:
        rows = rows_by_task({"STUDIO_CHAT_BASE": f"{evil.url}/stall"}, "chat")
    assert not rows["chat"].probe.ok


def test_no_token_on_the_router_says_to_set_one():
    probe = rows_by_task({}, "summarize")["summarize"].probe
    assert not probe.ok and "HF_TOKEN" in probe.advice


def test_the_command_prints_one_row_per_tab_and_fails_when_a_tab_cannot_work(chat_server):
    env = {
        "STUDIO_CHAT_BASE": f"{chat_server.url}/v1",
        "STUDIO_LOCAL": "none",  # with the local extra installed, summarize would run here
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "studio", "--check", "--tabs", "chat,summarize"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT / "tests",  # no .env here
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["Tab", "Status", "Time"]
    assert max(len(line) for line in lines) <= 80  # a terminal's width
    assert any(line.startswith("Chat") and "ok: ready" in line for line in lines)
    assert any(line.startswith("Summarize") and "NO: not set up" in line for line in lines)
    assert "Summarize: No model server is configured" in done.stdout


def test_the_table_shows_advice_under_it():
    text = table(check(load_config({}, tabs="ner")))
    assert "NO: not set up" in text and "Entities: No model server" in text


def test_the_app_s_panel_shows_the_same_status_with_what_to_do(chat_server):
    from studio.ui.app import select_tabs, status_table

    config = load_config({"STUDIO_CHAT_BASE": f"{chat_server.url}/v1"})
    text = status_table(config, select_tabs(["chat", "ner"]))
    assert "ok: ready: serves stand-in/chat" in text
    assert "**not ready**: not set up" in text and "HF_API_NER_BASE" in text


def test_the_router_unreachable_names_the_routers_setting_not_a_servers():
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens: no network
    env = {"HF_TOKEN": TOKEN, "STUDIO_ROUTER_URL": nowhere, "HF_ENDPOINT": nowhere}
    rows = rows_by_task(env, "caption,chat,imagine")
    for task in ("caption", "chat"):
        advice = rows[task].probe.advice
        assert not rows[task].probe.ok and "STUDIO_ROUTER_URL" in advice, advice
        assert "HF_API_ITT_BASE" not in advice and "HF_API_FALCOM_BASE" not in advice
        assert "ending in /v1" not in advice
    # A picture model on the router asks the Hub which provider serves it: offline, NO.
    image = rows["image"].probe
    assert not image.ok and image.status == "Hub unreachable" and "HF_ENDPOINT" in image.advice


def test_with_local_tabs_turned_off_the_advice_fits_what_is_installed():
    from studio.local.models import extra_installed

    config = load_config({"STUDIO_LOCAL": "none"}, local_extra=extra_installed(), tabs="ner")
    (row,) = check(config)
    if extra_installed():
        assert "pip install" not in row.probe.advice
        assert "set STUDIO_LOCAL (or --local) to include ner" in row.probe.advice
    else:
        assert "pip install -r requirements-local.txt" in row.probe.advice


def test_every_line_of_the_table_fits_a_terminal():
    rows = check(load_config({"STUDIO_LOCAL": "none"}))  # long models, hosts and advice
    text = table(rows)
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "pip install -r requirements-local.txt" in text or "pip install" not in text
