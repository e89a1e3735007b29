"""A local model that is not on disk, on a computer that cannot download it: the error says so
in plain words, at once, and the page's status line shows that, not "Model not found"."""

from __future__ import annotations

import json
import logging

import pytest

import studio.local as local
from studio.errors import (
    LocalModelNotFoundError,
    ModelNotDownloadedError,
    ModelNotFoundError,
    NotEnoughDiskError,
    WrongKindOfModelError,
)
from studio.local import download
from studio.local.failures import hub_error
from studio.local.models import check_kind
from studio.ui.status_line import failure_html
from tests.conftest import free_port
from tests.local.test_local_api import run_python

MODEL = "studio-tests/not-downloaded"


def test_no_network_says_so_at_once_without_the_hubs_retries(project_env, tmp_path):
    # Nothing listens on the Hub's address: a classroom without internet, an empty model cache.
    env = {
        **project_env,
        "HF_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_HUB_OFFLINE": "0",
    }
    result = run_python(
        f"""
        import json, logging
        logging.basicConfig(level=logging.INFO)
        import studio.local as local
        from studio.errors import StudioError
        try:
            local.complete("summarize", {MODEL!r}, "The river flooded the town.")
        except StudioError as error:
            print(json.dumps([type(error).__name__, error.title, error.for_person, str(error)]))
        """,
        env,
    )
    assert result.returncode == 0, result.stderr
    name, title, person, message = json.loads(result.stdout)
    assert (name, title) == ("ModelNotDownloadedError", "Model not downloaded")
    assert "no internet connection" in person and "python -m studio --prepare" in person
    assert "STUDIO_SUMMARY_MODEL" in message and "cannot be reached" in message
    # huggingface_hub retried each file five times over 23 s, warning twice each time.
    assert "Retrying in" not in result.stderr and "thrown while requesting" not in result.stderr


def test_the_status_line_says_the_model_is_not_downloaded_not_that_it_is_not_found():
    with pytest.raises(ModelNotDownloadedError) as caught:
        local.complete("summarize", MODEL, "text", offline=True)
    line = failure_html(caught.value, "summarize")
    assert "Model not downloaded" in line and "HF_HUB_OFFLINE" in line
    assert "not found" not in line and "model server" not in line


def test_retry_warnings_become_one_line_with_their_count(caplog):
    # The words huggingface_hub's request helper warns with, on the logger it uses.
    hub_log = logging.getLogger("huggingface_hub.utils._http")
    with caplog.at_level(logging.INFO), download.quiet_retries(MODEL):
        for attempt in (1, 2, 3):
            hub_log.warning("'Connection refused' thrown while requesting HEAD http://hub/x")
            hub_log.warning("Retrying in %ds [Retry %d/5].", 2**attempt, attempt)
        hub_log.warning("Another warning of the Hub's")
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "Another warning of the Hub's"
    assert lines[1].startswith(f"{MODEL}: 3 requests to the Hugging Face Hub failed")
    assert len(lines) == 2


def test_the_hubs_warnings_still_use_the_words_that_are_counted():
    import inspect

    from huggingface_hub.utils import _http

    source = inspect.getsource(_http)
    assert "thrown while requesting" in source and "Retrying in" in source


def test_a_download_the_disk_has_no_room_for_is_refused_before_it_starts():
    planned = download.Plan(MODEL, ("config.json",), ("config.json",), 10**18, 1)
    with pytest.raises(download.HubFailure) as caught:
        download.room_for(planned)
    error = hub_error("chat", MODEL, caught.value)
    assert isinstance(error, NotEnoughDiskError)
    assert "HF_HOME" in str(error) and "free" in str(error)
    assert "no room on disk" in error.for_person


@pytest.mark.parametrize(
    ("task", "names", "said"),
    [
        ("image", ["config.json", "model.safetensors"], "not a diffusers text-to-image pipeline"),
        ("summarize", ["model_index.json", "unet/config.json"], "diffusers text-to-image"),
    ],
)
def test_a_repository_of_the_wrong_kind_is_refused_before_its_download(task, names, said):
    with pytest.raises(WrongKindOfModelError, match=said) as caught:
        check_kind(task, MODEL, names)
    assert caught.value.title == "Wrong kind of model"
    assert "made for another task" in caught.value.for_person


def test_a_missing_folder_is_not_blamed_on_a_model_server(tmp_path):
    with pytest.raises(LocalModelNotFoundError) as caught:
        local.complete("ner", str(tmp_path / "no-such-folder"), "Ann")
    assert isinstance(caught.value, ModelNotFoundError)  # what API callers already catch
    line = failure_html(caught.value, "ner")
    assert "no such folder on this computer" in line and "model server" not in line
