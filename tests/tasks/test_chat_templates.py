"""Each raw-server prompt template, written out literally for a three-turn conversation."""

import pytest

from studio.errors import InputError
from studio.tasks.templates import TEMPLATES, get_template

SYSTEM = {"role": "system", "content": "Be brief."}
CONVERSATION = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
    {"role": "user", "content": "And 3+3?"},
]
WITH_SYSTEM = [SYSTEM, *CONVERSATION]


def test_mistral_with_system():
    assert get_template("mistral").render(WITH_SYSTEM) == (
        "<s>[INST] Be brief.\n\nHi [/INST] Hello!</s>"
        "[INST] What is 2+2? [/INST] 4</s>"
        "[INST] And 3+3? [/INST]"
    )


def test_mistral_without_system():
    assert get_template("mistral").render(CONVERSATION) == (
        "<s>[INST] Hi [/INST] Hello!</s>[INST] What is 2+2? [/INST] 4</s>[INST] And 3+3? [/INST]"
    )


def test_falcon_with_system():
    assert get_template("falcon").render(WITH_SYSTEM) == (
        "System: Be brief.\n"
        "User: Hi\n"
        "Assistant: Hello!\n"
        "User: What is 2+2?\n"
        "Assistant: 4\n"
        "User: And 3+3?\n"
        "Assistant:"
    )


def test_falcon_without_system():
    assert get_template("falcon").render(CONVERSATION) == (
        "User: Hi\nAssistant: Hello!\nUser: What is 2+2?\nAssistant: 4\nUser: And 3+3?\nAssistant:"
    )


def test_llama3_with_system():
    assert get_template("llama3").render(WITH_SYSTEM) == (
        "<|begin_of_text|>"
        "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_llama3_without_system():
    assert get_template("llama3").render(CONVERSATION) == (
        "<|begin_of_text|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_chatml_with_system():
    assert get_template("chatml").render(WITH_SYSTEM) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n4<|im_end|>\n"
        "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_chatml_without_system():
    assert get_template("chatml").render(CONVERSATION) == (
        "<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n4<|im_end|>\n"
        "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_zephyr_with_system():
    assert get_template("zephyr").render(WITH_SYSTEM) == (
        "<|system|>\nBe brief.</s>\n"
        "<|user|>\nHi</s>\n"
        "<|assistant|>\nHello!</s>\n"
        "<|user|>\nWhat is 2+2?</s>\n"
        "<|assistant|>\n4</s>\n"
        "<|user|>\nAnd 3+3?</s>\n"
        "<|assistant|>\n"
    )


def test_zephyr_without_system():
    assert get_template("zephyr").render(CONVERSATION) == (
        "<|user|>\nHi</s>\n"
        "<|assistant|>\nHello!</s>\n"
        "<|user|>\nWhat is 2+2?</s>\n"
        "<|assistant|>\n4</s>\n"
        "<|user|>\nAnd 3+3?</s>\n"
        "<|assistant|>\n"
    )


def test_empty_system_prompt_is_left_out():
    empty_system = [{"role": "system", "content": ""}, *CONVERSATION]
    for name in TEMPLATES:
        assert get_template(name).render(empty_system) == get_template(name).render(CONVERSATION)


def test_single_turn():
    assert (
        get_template("mistral").render([{"role": "user", "content": "Hi"}])
        == "<s>[INST] Hi [/INST]"
    )


@pytest.mark.parametrize(
    ("name", "stop"),
    [
        ("mistral", ("</s>",)),
        ("falcon", ("\nUser:", "<|endoftext|>")),
        ("llama3", ("<|eot_id|>",)),
        ("chatml", ("<|im_end|>",)),
        ("zephyr", ("</s>",)),
    ],
)
def test_stop_sequences(name, stop):
    assert get_template(name).stop == stop


def test_template_names_are_case_insensitive():
    assert get_template(" ChatML ") is TEMPLATES["chatml"]


def test_unknown_template_lists_the_valid_names():
    with pytest.raises(InputError, match="'alpaca'") as error:
        get_template("alpaca").render(CONVERSATION)
    for name in TEMPLATES:
        assert name in str(error.value)
