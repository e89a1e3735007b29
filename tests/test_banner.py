"""The start-up banner: every tab with its backend and model or what to set, and the URLs."""

from __future__ import annotations

from studio.config import load_config
from studio.doctor import banner
from studio.services import setup_problem


def test_each_tab_with_its_backend_or_what_to_set_and_the_url():
    config = load_config({"HF_API_NER_BASE": "http://127.0.0.1:8080/ner"}, tabs="ner,chat")
    text = banner(config, [(["ner", "chat"], 7860)], lambda task: setup_problem(config, task))
    assert "Entities   endpoint · the server’s model · 127.0.0.1:8080" in text
    assert "Chat       needs setup:" in text and "STUDIO_CHAT_BASE" in text
    assert "Open http://127.0.0.1:7860/" in text
    assert "share=True" not in text


def test_every_address_lists_the_lan_addresses_students_open():
    config = load_config({}, host="0.0.0.0", tabs="chat")
    text = banner(config, [(["chat"], 7860)], lambda task: None, lan=lambda: ["192.0.2.7"])
    assert "0.0.0.0" not in text
    assert "Open http://127.0.0.1:7860/" in text
    assert "students on this network: http://192.0.2.7:7860/" in text


def test_per_tab_ports_name_each_url_with_its_tab():
    config = load_config({}, tabs="summarize,ner")
    apps = [(["summarize"], 7861), (["ner"], 7862)]
    text = banner(config, apps, lambda task: None, share_urls=[None, "https://x.gradio.live"])
    assert "summarize: http://127.0.0.1:7861/" in text
    assert "ner: http://127.0.0.1:7862/" in text
    assert "public link (anyone who has it can use it): https://x.gradio.live" in text
