"""Loading once, concurrently, with progress; and every way a model can be wrong."""

from __future__ import annotations

import shutil
import threading

import pytest

import studio.local as local
from studio.errors import (
    ModelNotDownloadedError,
    ModelNotFoundError,
    NotEnoughMemoryError,
    WrongKindOfModelError,
)


def entry(task: str, model: str) -> dict | None:
    return next(
        (m for m in local.status()["models"] if m["task"] == task and m["model"] == model), None
    )


def test_a_second_request_reuses_the_loaded_model(tiny):
    local.unload("summarize")
    messages: list[str] = []
    local.complete("summarize", tiny["summarize"], "the city", progress=messages.append)
    loads = local.status()["loads"]
    assert messages[0].startswith("Loading ") and tiny["summarize"] in messages[0]
    assert messages[1].startswith("Loaded ") and messages[1].endswith(" s")

    again: list[str] = []
    local.complete("summarize", tiny["summarize"], "the river", progress=again.append)
    assert again == []
    assert local.status()["loads"] == loads
    assert entry("summarize", tiny["summarize"])["requests"] == 2


def test_eight_users_at_once_load_the_model_once(tiny):
    local.unload("ner")
    loads = local.status()["loads"]
    start = threading.Barrier(8)
    answers: list = [None] * 8

    def ask(number: int) -> None:
        start.wait()
        answers[number] = local.complete("ner", tiny["ner"], "John lives in Paris")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert local.status()["loads"] == loads + 1
    assert entry("ner", tiny["ner"])["requests"] == 8
    assert all(answer == answers[0] for answer in answers) and answers[0]


def test_unload_forgets_and_the_next_request_loads_again(tiny):
    local.complete("ner", tiny["ner"], "John")
    assert local.unload("ner", tiny["ner"]) == 1
    assert entry("ner", tiny["ner"]) is None
    loads = local.status()["loads"]
    local.complete("ner", tiny["ner"], "John")
    assert local.status()["loads"] == loads + 1


def test_a_folder_path_and_its_relative_spelling_share_one_model(tiny, monkeypatch):
    from pathlib import Path

    folder = Path(tiny["ner"])
    local.complete("ner", str(folder), "John")
    loads = local.status()["loads"]
    monkeypatch.chdir(folder.parent)
    local.complete("ner", f"./{folder.name}", "John")
    assert local.status()["loads"] == loads


# ---- missing models ----


def test_a_missing_folder_names_the_setting(tmp_path):
    with pytest.raises(ModelNotFoundError, match="STUDIO_SUMMARY_MODEL") as caught:
        local.complete("summarize", str(tmp_path / "no-such-model"), "text")
    assert "does not exist" in str(caught.value)


def test_a_folder_without_a_model_names_the_setting(tmp_path):
    with pytest.raises(ModelNotFoundError, match="STUDIO_NER_MODEL"):
        local.complete("ner", str(tmp_path), "text")


def test_a_file_is_not_a_model_folder(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\0")
    with pytest.raises(ModelNotFoundError, match="is a file"):
        local.complete("ner", str(weights), "text")


def test_a_folder_missing_the_weights_names_the_setting(tiny, tmp_path):
    folder = tmp_path / "half-copied"
    shutil.copytree(tiny["ner"], folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match="STUDIO_NER_MODEL") as caught:
        local.complete("ner", str(folder), "text")
    assert "complete" in str(caught.value)


@pytest.mark.parametrize(
    ("task", "setting"),
    [
        ("summarize", "STUDIO_SUMMARY_MODEL"),
        ("ner", "STUDIO_NER_MODEL"),
        ("caption", "STUDIO_CAPTION_MODEL"),
        ("image", "STUDIO_IMAGE_MODEL"),
    ],
)
def test_an_uncached_hub_model_while_offline_names_the_setting(task, setting):
    with pytest.raises(ModelNotDownloadedError, match=setting) as caught:
        local.complete(task, "studio-tests/not-a-real-model", "text", offline=True)
    assert "HF_HUB_OFFLINE" in str(caught.value)


def test_an_uncached_chat_model_while_offline_names_the_setting():
    stream = local.stream_chat(
        "studio-tests/not-a-real-model", {"messages": []}, threading.Event(), offline=True
    )
    with pytest.raises(ModelNotDownloadedError, match="STUDIO_CHAT_MODEL"):
        next(stream)


def test_a_url_is_not_a_local_model():
    with pytest.raises(ModelNotFoundError, match="URL"):
        local.complete("ner", "https://example.invalid/models/x", "text")


def test_a_failed_load_is_retried_on_the_next_request(tiny, tmp_path):
    folder = tmp_path / "appears-later"
    with pytest.raises(ModelNotFoundError):
        local.complete("ner", str(folder), "John")
    shutil.copytree(tiny["ner"], folder)
    assert local.complete("ner", str(folder), "John")


# ---- models for another task ----


@pytest.mark.parametrize(
    ("task", "model", "said"),
    [
        ("summarize", "ner", "token classification"),
        ("ner", "summarize", "BartForConditionalGeneration"),
        ("ner", "chat", "text generation"),
        ("caption", "summarize", "bart"),
        ("image", "ner", "token classification"),
        ("summarize", "image", "text-to-image"),
    ],
)
def test_a_model_for_another_task_is_the_wrong_kind_and_says_so(tiny, task, model, said):
    with pytest.raises(WrongKindOfModelError) as caught:
        local.complete(task, tiny[model], "John lives in Paris")
    assert not isinstance(caught.value, ModelNotFoundError)
    assert said in str(caught.value)


def test_a_chat_model_must_have_a_chat_template(tiny):
    stream = local.stream_chat(
        tiny["base"], {"messages": [{"role": "user", "content": "hi"}]}, threading.Event()
    )
    with pytest.raises(WrongKindOfModelError, match="chat template"):
        next(stream)


def test_a_token_classifier_is_not_a_chat_model(tiny):
    stream = local.stream_chat(
        tiny["ner"], {"messages": [{"role": "user", "content": "hi"}]}, threading.Event()
    )
    with pytest.raises(WrongKindOfModelError, match="token classification"):
        next(stream)


# ---- out of memory ----


def test_out_of_memory_while_generating_says_what_to_change(tiny, monkeypatch):
    import torch
    from transformers import BartForConditionalGeneration

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(BartForConditionalGeneration, "generate", exhausted)
    with pytest.raises(NotEnoughMemoryError, match="out of memory") as caught:
        local.complete("summarize", tiny["summarize"], "the city")
    assert "smaller model" in str(caught.value) and "STUDIO_SUMMARY_MODEL" in str(caught.value)


def test_out_of_memory_while_loading_says_what_to_change(tiny, monkeypatch):
    from diffusers import AutoPipelineForText2Image

    def exhausted(*args, **kwargs):
        raise MemoryError()

    local.unload("image")
    monkeypatch.setattr(AutoPipelineForText2Image, "from_pretrained", exhausted)
    with pytest.raises(NotEnoughMemoryError, match="fewer steps"):
        local.complete("image", tiny["image"], "a cat")


def test_out_of_memory_in_a_chat_stream_arrives_as_a_backend_error(tiny, monkeypatch):
    import torch
    from transformers import Qwen2ForCausalLM

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(Qwen2ForCausalLM, "generate", exhausted)
    with pytest.raises(NotEnoughMemoryError, match="out of memory"):
        list(
            local.stream_chat(
                tiny["chat"], {"messages": [{"role": "user", "content": "hi"}]}, threading.Event()
            )
        )
