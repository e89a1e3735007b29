"""Configuration from the environment, .env and flags."""

from __future__ import annotations

import pytest

from studio.catalog import ROUTER
from studio.config import load_config, read_environment
from studio.errors import ConfigurationError
from studio.services import setup_problem


def test_defaults_use_the_router_with_todays_models():
    config = load_config({"HF_TOKEN": "hf_x"})
    summary = config.endpoint("summarize")
    assert summary.url == f"{ROUTER}/hf-inference/models/facebook/bart-large-cnn"
    assert summary.protocol == "task" and summary.token == "hf_x"
    assert config.endpoint("ner").model == "dslim/bert-base-NER"
    assert setup_problem(config, "summarize") is None


def test_course_names_are_accepted():
    config = load_config(
        {
            "HF_API_KEY": "hf_course",
            "HF_API_SUMMARY_BASE": "https://example.test/summary",
        }
    )
    endpoint = config.endpoint("summarize")
    assert endpoint.url == "https://example.test/summary" and endpoint.token == "hf_course"
    assert not endpoint.on_router


def test_model_setting_picks_the_router_model():
    config = load_config({"STUDIO_SUMMARY_MODEL": "sshleifer/distilbart-cnn-12-6"})
    assert config.endpoint("summarize").url.endswith("/models/sshleifer/distilbart-cnn-12-6")


def test_no_token_and_no_url_is_not_a_crash_but_says_what_to_set():
    config = load_config({})
    problem = setup_problem(config, "ner")
    assert "HF_TOKEN" in problem and "HF_API_NER_BASE" in problem
    assert "pip install -r requirements-local.txt" in problem  # both ways: a token, or the extra


def test_a_custom_server_needs_no_token():
    assert setup_problem(load_config({"HF_API_NER_BASE": "http://127.0.0.1:8080/"}), "ner") is None


def test_secrets_stay_out_of_repr():
    config = load_config({"HF_TOKEN": "hf_secret_value", "STUDIO_AUTH": "teacher:pa55"})
    assert "hf_secret_value" not in repr(config) and "pa55" not in repr(config)
    assert config.auth == ("teacher", "pa55")


def test_flags_win_over_the_environment():
    config = load_config({"STUDIO_PORT": "9000"}, port=8001, tabs="ner, summarize", share=True)
    assert config.port == 8001 and config.tabs == ("ner", "summarize") and config.share


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"STUDIO_TIMEOUT": "soon"}, "STUDIO_TIMEOUT"),
        ({"STUDIO_AUTH": "nopassword"}, "user:password"),
        ({"HF_API_NER_BASE": "ftp://x"}, "http"),
        ({"STUDIO_LOCAL": "summarise"}, "unknown tab summarise"),
    ],
)
def test_bad_settings_are_named(env, says):
    with pytest.raises(ConfigurationError, match=says):
        load_config(env)


def test_local_tasks():
    config = load_config({"STUDIO_LOCAL": "all"})
    assert config.endpoint("summarize").protocol == "local"
    assert config.endpoint("summarize").model == "sshleifer/distilbart-cnn-12-6"


def test_dotenv_file_is_read_and_the_shell_wins(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("HF_TOKEN=hf_from_file\nSTUDIO_TIMEOUT=7\n")
    monkeypatch.setenv("STUDIO_TIMEOUT", "9")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    config = load_config(read_environment(env_file))
    summary = config.endpoint("summarize")
    assert summary.token == "hf_from_file" and summary.timeout == 9.0


def test_local_without_the_extra_says_which_command_installs_it(monkeypatch):
    import studio.local

    monkeypatch.setattr(studio.local, "is_available", lambda: False)
    problem = setup_problem(load_config({"STUDIO_LOCAL": "ner"}), "ner")
    assert "pip install -r requirements-local.txt" in problem
    monkeypatch.setattr(studio.local, "is_available", lambda: True)
    assert setup_problem(load_config({"STUDIO_LOCAL": "ner"}), "ner") is None


def test_a_password_in_an_endpoint_url_is_never_shown():
    config = load_config({"HF_API_SUMMARY_BASE": "https://alice:s3cret@tgi.example.com/x"})
    endpoint = config.endpoint("summarize")
    assert endpoint.host == "tgi.example.com"
    assert endpoint.url == "https://alice:s3cret@tgi.example.com/x"  # still used to connect


def test_only_the_router_host_counts_as_the_router():
    lookalike = "https://router.huggingface.co.example.com/x"
    assert not load_config({"HF_API_SUMMARY_BASE": lookalike}).endpoint("summarize").on_router
    assert load_config({}).endpoint("summarize").on_router


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STUDIO_MAX_IMAGE_SIDE", "0.5"),
        ("STUDIO_CHAT_BUDGET_CHARS", "lots"),
        ("STUDIO_PORT", "abc"),
        ("STUDIO_CONCURRENCY", "-3"),
        ("STUDIO_TIMEOUT", "inf"),
    ],
)
def test_a_number_setting_that_is_not_one_says_which(name, value):
    with pytest.raises(ConfigurationError, match=name):
        load_config({name: value})


def test_whole_number_settings_are_read():
    config = load_config({"STUDIO_MAX_IMAGE_SIDE": "512", "STUDIO_PORT": "8000"})
    assert (config.max_image_side, config.port) == (512, 8000)


def test_tab_and_task_names_are_taken_in_either_spelling():
    config = load_config({}, tabs="image,entities,chat", local="imagine,entities")
    assert config.tabs == ("imagine", "ner", "chat")
    assert [t for t, e in config.endpoints.items() if e.protocol == "local"] == ["ner", "image"]
    game = load_config({}, local="game")
    assert [t for t, e in game.endpoints.items() if e.protocol == "local"] == ["caption", "image"]


def test_an_unknown_local_tab_names_the_flag_it_came_from():
    with pytest.raises(ConfigurationError, match="^--local: unknown tab paint"):
        load_config({}, local="paint")
    with pytest.raises(ConfigurationError, match="^STUDIO_LOCAL: unknown tab paint"):
        load_config({"STUDIO_LOCAL": "paint"})


def test_with_the_extra_and_nothing_set_every_tab_runs_on_this_computer():
    config = load_config({}, local_extra=True)
    assert all(e.protocol == "local" for e in config.endpoints.values())
    assert config.endpoint("summarize").model == "sshleifer/distilbart-cnn-12-6"  # the course's


def test_a_token_a_server_or_a_choice_wins_over_the_embedded_default():
    assert load_config({"HF_TOKEN": "hf_x"}, local_extra=True).endpoint("ner").protocol == "task"
    mixed = load_config({"STUDIO_CHAT_BASE": "http://127.0.0.1:9/v1"}, local_extra=True)
    assert mixed.endpoint("chat").protocol == "openai"
    assert mixed.endpoint("ner").protocol == "local"
    never = load_config({"STUDIO_LOCAL": "none"}, local_extra=True)
    assert all(e.protocol != "local" for e in never.endpoints.values())


def test_limits_are_off_by_default_and_read_from_settings_or_flags():
    from studio.classroom.limits import Limits, Rule
    from studio.cli import parse_args

    assert load_config({}).limits == Limits() and not load_config({}).limits.on
    env = {
        "STUDIO_LIMIT": "10/minute,100/hour",
        "STUDIO_IMAGE_LIMIT": "20/hour",
        "STUDIO_CHAT_TOKEN_LIMIT": "5000/hour",
        "STUDIO_TOTAL_LIMIT": "1000/hour",
    }
    limits = load_config(env).limits
    assert limits.requests == (Rule(10, 60.0), Rule(100, 3600.0))
    assert (limits.images, limits.chat_tokens) == ((Rule(20, 3600.0),), (Rule(5000, 3600.0),))
    assert limits.total == (Rule(1000, 3600.0),) and limits.new_sessions == (Rule(60, 60.0),)
    flags = vars(parse_args(["--limit", "3/minute", "--image-limit", "2/hour", "--usage-prompts"]))
    config = load_config(env, **flags)
    assert config.limits.requests == (Rule(3, 60.0),) and config.limits.images == (Rule(2, 3600.0),)
    assert config.usage_prompts and not load_config({}).usage_prompts
    assert load_config({"STUDIO_USAGE_PROMPTS": "1"}).usage_prompts


def test_a_wrong_limit_names_the_setting_or_flag_it_came_from():
    with pytest.raises(ConfigurationError, match="STUDIO_IMAGE_LIMIT takes limits such as"):
        load_config({"STUDIO_IMAGE_LIMIT": "lots"})
    with pytest.raises(ConfigurationError, match="--chat-token-limit takes limits such as"):
        load_config({}, chat_token_limit="5000 tokens")
    with pytest.raises(ConfigurationError, match="STUDIO_NEW_SESSION_LIMIT"):
        load_config({"STUDIO_LIMIT": "5/minute", "STUDIO_NEW_SESSION_LIMIT": "many"})


def test_the_teachers_login_is_kept_out_of_repr_and_must_be_user_and_password():
    config = load_config({"STUDIO_ADMIN": "teacher:usage-password"})
    assert config.admin == ("teacher", "usage-password") and "usage-password" not in repr(config)
    assert load_config({}, admin="t:p").admin == ("t", "p")
    with pytest.raises(ConfigurationError, match="STUDIO_ADMIN and --admin take user:password"):
        load_config({"STUDIO_ADMIN": "teacher"})
