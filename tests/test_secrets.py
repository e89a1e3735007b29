"""No path shows or logs the token: a server that quotes the Authorization header back."""

from __future__ import annotations

import logging

import gradio as gr
import pytest
from gradio_client import Client, handle_file

from studio import errors
from studio.backends import transport
from studio.config import load_config
from studio.secrets import MASK, PIECE, mask_logs, redact, shorten
from studio.services import caption_image, paint_picture, summarize_text
from studio.tasks.image_settings import make_image_request
from studio.tasks.uploads import prepare_upload
from studio.ui.common import shows_errors
from tests.conftest import ROOT, start_studio, stop_studio
from tests.stand_ins.evil_server import EvilServer
from tests.stand_ins.servers import server_fixture

SENTINEL = "hf_sentinel_secret_0123456789abcdef"
# As long as a Hugging Face token (37 characters), and unlike any other text in the messages;
# written in two parts so that no scan for leaked tokens takes this fake one for a real one.
PROBE = "hf_SENTINELprobe" + "QxZwVkTrMnBgHjYcLpDsF"
CHELSEA = ROOT / "assets" / "chelsea.jpg"


def pieces_shown(text: str, secret: str = PROBE) -> list[str]:
    """The pieces of `secret` of `PIECE` characters that `text` holds: any longer run holds one."""
    return [
        secret[at : at + PIECE]
        for at in range(len(secret) - PIECE + 1)
        if secret[at : at + PIECE] in text
    ]


evil = server_fixture(EvilServer)


@pytest.fixture
def config():
    return load_config({"HF_TOKEN": SENTINEL})  # loading it is what marks it secret


def test_an_error_made_from_server_text_never_holds_the_token(config):
    error = errors.BadResponseError(f"The server said: Bearer {SENTINEL} is not valid")
    assert SENTINEL not in str(error) and MASK in error.message


def test_a_200_answer_quoting_the_token_is_shown_masked(config, task_server):
    endpoint = load_config(
        {"HF_TOKEN": SENTINEL, "HF_API_SUMMARY_BASE": f"{task_server.url}/summarize/models/x"}
    ).endpoint("summarize")
    task_server.fail_next("/summarize", (200, {"error": f"Authorization: Bearer {SENTINEL}"}, {}))
    with pytest.raises(errors.BadResponseError) as caught:
        summarize_text(endpoint, "Some text to summarize.")
    assert SENTINEL not in str(caught.value)
    sent = task_server.requests[-1].headers["Authorization"]
    assert sent == f"Bearer {SENTINEL}", "the server still gets the token"


def test_log_records_are_masked_whoever_makes_them(config, caplog):
    mask_logs()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("urllib3.connectionpool").debug("header %s", f"Bearer {SENTINEL}")
        logging.getLogger("gradio").warning(f"failed with {SENTINEL}")
    assert caplog.records and all(SENTINEL not in r.getMessage() for r in caplog.records)
    assert SENTINEL not in caplog.text


def test_short_values_are_not_taken_for_secrets():
    load_config({"HF_TOKEN": "abc"})
    assert redact("abc def") == "abc def"


def test_an_in_stream_error_quoting_the_token_is_masked(config, task_server):
    endpoint = load_config(
        {"HF_TOKEN": SENTINEL, "HF_API_SUMMARY_BASE": f"{task_server.url}/stream"}
    ).endpoint("summarize")
    for body in (
        f'data: {{"error": "bad header Bearer {SENTINEL}"}}\n\n'.encode(),
        f"data: not json, Bearer {SENTINEL}\n\n".encode(),
    ):
        task_server.fail_next("/stream", (200, body, {}))
        request = transport.json_request(endpoint, endpoint.url, {"inputs": "x"})
        with pytest.raises(errors.BackendError) as caught:
            list(transport.stream(request, endpoint))
        assert SENTINEL not in str(caught.value)


# --- pieces of a secret, and cutting -------------------------------------------------------------


def quoted_forms(secret: str) -> dict[str, str]:
    """How a server has been seen to quote the header back, in a longer message."""
    return {
        "whole": f"Invalid token {secret} sent",
        "bearer": f"in header 'Bearer {secret}'",
        "cut": f"in header 'Bearer {secret[:30]}…",
        "start cut off": f"…{secret[9:]}' is not valid",
        "split by a line": f"Bearer {secret[:20]}\n{secret[20:]}",
        "split by a space": f"Bearer {secret[:12]} {secret[12:]}",
        "twice": f"{secret}{secret} and {secret[3:14]}",
    }


@pytest.mark.parametrize("form", list(quoted_forms(PROBE)))
def test_every_piece_of_the_token_is_masked_however_it_is_quoted(form):
    load_config({"HF_TOKEN": PROBE})
    masked = redact(quoted_forms(PROBE)[form])
    assert pieces_shown(masked) == [] and MASK in masked


def test_each_piece_alone_is_masked_wherever_in_the_token_it_starts():
    """`redact` looks first for a few short grams of the token: each piece must hold one."""
    load_config({"HF_TOKEN": PROBE})
    for at in range(len(PROBE) - PIECE + 1):
        piece = PROBE[at : at + PIECE]
        assert redact(f"The server said {piece}.") == f"The server said {MASK}.", piece


def test_ordinary_words_and_pieces_too_short_to_say_anything_stay():
    load_config({"HF_TOKEN": PROBE})
    text = "The gateway said: Bearer hf_SENT is short; probeQxZw is not."
    assert redact(text) == text.replace("probeQxZw", MASK)
    assert redact("Hugging Face tokens start with hf_") == "Hugging Face tokens start with hf_"


def test_a_login_password_is_masked_whole_and_its_words_stay():
    """A password is sent to no model server, so nobody quotes it cut; its pieces are words."""
    load_config({"STUDIO_AUTH": "teacher:huggingface2026"})
    text = "Check HF_TOKEN at https://huggingface.co/settings/tokens; huggingface2026 was typed"
    assert redact(text) == text.replace("huggingface2026", MASK)


def test_shortening_masks_before_it_cuts_wherever_the_cut_falls():
    load_config({"HF_TOKEN": PROBE})
    for text in quoted_forms(PROBE).values():
        message = f"The server said: {text} and a little more after it."
        for limit in range(1, len(message) + 2):
            short = shorten(message, limit)
            assert len(short) <= limit and pieces_shown(short) == [], (limit, short)
            assert short.endswith("…") == (len(redact(message)) > limit)


def test_a_token_only_the_endpoint_knows_is_masked_too():
    token = "hf_only_this_endpoint_knows_0123456789"
    assert pieces_shown(shorten(f"Bearer {token[:25]}…", 300, token), token) == []


def test_log_lines_and_their_tracebacks_hold_no_piece_of_the_token(caplog):
    load_config({"HF_TOKEN": PROBE})
    mask_logs()
    with caplog.at_level(logging.INFO):
        logging.getLogger("studio").warning("gateway said: Bearer %s…", PROBE[:26])
        try:
            raise ValueError(f"in header 'Bearer {PROBE[:20]}\n{PROBE[20:]}'")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("request failed")
    assert len(caplog.records) == 2 and pieces_shown(caplog.text) == []


# --- a server that quotes the header back in a long error, end to end -----------------------

URL_SETTINGS = {
    "summarize": "HF_API_SUMMARY_BASE",
    "caption": "HF_API_ITT_BASE",
    "image": "HF_API_TTI_BASE",
}


def ask(endpoint):
    """The tab's own call, as its page and API make it."""
    if endpoint.task == "summarize":
        return summarize_text(endpoint, "Some text to summarize, with a few words in it.")
    if endpoint.task == "caption":
        return caption_image(endpoint, prepare_upload(CHELSEA))
    return paint_picture(endpoint, make_image_request("a red fox in the snow"))


@pytest.mark.parametrize("task", list(URL_SETTINGS))
def test_an_echoed_header_in_a_long_error_shows_and_logs_no_piece_of_the_token(evil, task, caplog):
    """Each tab quotes the server's error cut at its own length: the pads move the token across
    every one of those cuts; then the header split by a line or a space, and in a 400's words."""
    mask_logs()
    queries = [f"pad={pad}" for pad in range(0, 160, 4)]
    queries += ["pad=40&split=20", "pad=40&split=30&gap=space", "status=400&split=25"]
    shown = []
    with caplog.at_level(logging.INFO):
        for query in queries:
            url = f"{evil.url}/models/x/echo-auth-long?{query}"
            endpoint = load_config({"HF_TOKEN": PROBE, URL_SETTINGS[task]: url}).endpoint(task)
            with pytest.raises(gr.Error) as caught:
                shows_errors(ask)(
                    endpoint
                )  # the one place a failure becomes a message and a log line
            shown.append(caught.value.message)
    assert all("Invalid token" in message for message in shown), "the server's words are shown"
    assert pieces_shown("\n".join(shown)) == []
    assert len(caplog.records) >= len(queries) and pieces_shown(caplog.text) == []


def test_the_app_shows_and_logs_no_piece_of_an_echoed_token(evil):
    """Through the real app: each tab's message to an API caller, and the terminal's output."""
    echo = f"{evil.url}/models/x/echo-auth-long"
    process, url = start_studio(
        {
            "HF_TOKEN": PROBE,
            "STUDIO_TIMEOUT": "5",
            "HF_API_SUMMARY_BASE": f"{echo}?pad=52",  # the cut falls 23 characters into the token
            "HF_API_ITT_BASE": f"{echo}?pad=60",  # 26 characters in
            "HF_API_TTI_BASE": f"{echo}?pad=40&split=20",
        }
    )
    shown = []
    try:
        client = Client(url, verbose=False)
        for args, api_name in (
            (("Some text to summarize, with a few words in it.",), "/summarize"),
            ((handle_file(str(CHELSEA)),), "/caption"),
            (("a red fox in the snow",), "/generate_image"),
        ):
            with pytest.raises(Exception, match="Invalid token") as caught:
                client.predict(*args, api_name=api_name)
            shown.append(str(caught.value))
    finally:
        output = stop_studio(process)
    assert pieces_shown("\n".join(shown)) == []
    assert output.count("Invalid token") >= 3 and pieces_shown(output) == [], output
