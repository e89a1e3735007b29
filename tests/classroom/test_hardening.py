"""What anyone who can reach the studio can and cannot make it do.

The real app runs either as a subprocess (`start_studio`) or in this process, launched with
`launch_options` as serve() launches it, always on loopback. Waits are on conditions; the login
throttle's own timing is tested with an injected clock.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace

import pytest
import requests
from fastapi import HTTPException
from packaging.version import Version

from studio.classroom import hosts
from studio.classroom.hosts import hostname_of, is_served, machine_names, served_hosts
from studio.classroom.login import CLIENT, LoginThrottle, basic_credentials, password_check
from studio.classroom.middleware import client_address, without_api_info
from studio.classroom.people import address_of
from studio.classroom.usage import meter_for
from studio.classroom.usage_page import may_see_usage
from studio.config import load_config
from studio.serve import launch_options
from studio.ui.app import DELETE_CACHE, build_app, select_tabs
from tests.conftest import ROOT, free_port, start_studio, stop_studio
from tests.stand_ins.servers import LocalServer, Recorded, running

TOKEN = "hf_test_secret_token_0123456789"
PASSWORD = "a-long-classroom-password"
AUTH = f"teacher:{PASSWORD}"


@contextlib.contextmanager
def launched(env: dict, tabs: str = "summarize"):
    """The app of `tabs`, launched in this process as serve() launches it; its Blocks."""
    config = load_config(env, tabs=tabs)
    meter = meter_for(config)
    app = build_app(config, select_tabs(config.tabs), meter)
    app.launch(**{**launch_options(config, port=free_port(), meter=meter), "quiet": True})
    try:
        yield app
    finally:
        app.close()


# --- 2. run history: no route that spends the token for anyone ---------------------------------


class HubServer(LocalServer):
    """Stands in for the Hub at HF_ENDPOINT: records each request, answers an empty list."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                hub.requests.append(Recorded(self.path, dict(self.headers), b""))
                body = b"[]" if "/buckets" in self.path else b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def test_run_history_routes_are_gone_and_nothing_reaches_the_hub(tmp_path):
    with running(HubServer()) as hub:
        env = {"HF_TOKEN": TOKEN, "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path)}
        process, url = start_studio(env, "--auth", AUTH)
        try:
            for path in ("run-history/buckets", "run-history/records", "runs"):
                assert requests.get(f"{url}gradio_api/{path}", timeout=30).status_code == 404
            connect = requests.post(
                f"{url}gradio_api/run-history/connect", json={"bucket_id": "a/b"}, timeout=30
            )
            assert connect.status_code == 404
        finally:
            stop_studio(process)
    assert not [seen for seen in hub.requests if "bucket" in seen.path]
    assert not [seen for seen in hub.requests if TOKEN in json.dumps(seen.headers)]


# --- 3. version floors, and SSR off --------------------------------------------------------------


def _floor(package: str) -> Version:
    text = (ROOT / "requirements.txt").read_text()
    return Version(re.search(rf"^{package}>=([\d.]+)", text, re.MULTILINE | re.I).group(1))


def test_requirements_raise_the_floors_past_the_advisories():
    from importlib.metadata import version

    assert _floor("gradio") >= Version("6.20")  # /gradio_api/file= open redirect, fixed in 6.20.0
    assert _floor("pillow") >= Version("12.3")
    assert Version(version("gradio")) >= _floor("gradio")
    assert Version(version("pillow")) >= _floor("pillow")


def test_ssr_stays_off_when_the_environment_asks_for_it(monkeypatch):
    monkeypatch.setenv("GRADIO_SSR_MODE", "true")
    with launched({}) as app:
        assert app.ssr_mode is False and not app.node_process


# --- 4. the login slows down after wrong passwords -----------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_wrong_passwords_are_free_then_each_try_waits_twice_as_long():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(5):
        assert throttle.wait("10.0.0.5", "teacher") == 0
        throttle.failed("10.0.0.5", "teacher")
    assert throttle.wait("10.0.0.5", "teacher") == 1.0
    waits = []
    for _ in range(12):
        clock.now += throttle.wait("10.0.0.5", "teacher")
        throttle.failed("10.0.0.5", "teacher")
        waits.append(throttle.wait("10.0.0.5", "teacher"))
    assert waits[:4] == [2.0, 4.0, 8.0, 16.0] and max(waits) == 300.0  # capped at 5 minutes
    clock.now += 0.5
    assert throttle.wait("10.0.0.5", "teacher") == 299.5


def test_others_are_not_slowed_and_a_right_password_clears_the_address():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for n in range(40):  # many machines guessing one user name: 40 wrong passwords in all
        throttle.failed(f"10.0.1.{n}", "teacher")
    throttle.failed("10.0.0.5", "teacher")
    assert throttle.wait("192.168.1.20", "teacher") == 0  # a classmate with a clean record
    assert throttle.wait("10.0.0.5", "teacher") > 0  # a guesser waits for the user name's turn
    throttle.succeeded("10.0.0.5")
    assert throttle.wait("10.0.0.5", "teacher") == 0


def test_wrong_passwords_are_forgotten_and_memory_stays_bounded():
    clock = Clock()
    throttle = LoginThrottle(clock=clock, capacity=100)
    for _ in range(6):
        throttle.failed("10.0.0.5", None)
    clock.now += 901
    assert throttle.wait("10.0.0.5", None) == 0
    for n in range(10_000):
        throttle.failed(f"10.{n // 256}.{n % 256}.1", None)
    tries = throttle.store.tries
    assert len(tries["login:address"]) == 100 and "login:user" not in tries


def _login(check, address: str, user: str, password: str):
    CLIENT.set(address)
    return asyncio.run(check(user, password))


def test_the_check_compares_both_names_and_says_when_to_come_back():
    throttle = LoginThrottle(clock=Clock())
    check = password_check(("teacher", PASSWORD), throttle)
    assert _login(check, "10.0.0.5", "teacher", PASSWORD) is True
    assert _login(check, "10.0.0.5", "student", PASSWORD) is False
    assert _login(check, "10.0.0.5", "teacher", "guess") is False
    assert len(throttle.store.tries["login:user"]) == 1  # only the real user name is counted
    for _ in range(3):
        _login(check, "10.0.0.5", "teacher", "guess")
    with pytest.raises(HTTPException) as refused:
        _login(check, "10.0.0.5", "teacher", PASSWORD)  # too early: not even checked
    assert refused.value.status_code == 429 and refused.value.headers == {"Retry-After": "1"}
    assert "try again in 1 s" in refused.value.detail
    assert _login(check, "10.0.0.9", "teacher", PASSWORD) is True


def _post_login(url: str, password: str, **headers) -> requests.Response:
    form = {"username": "teacher", "password": password}
    return requests.post(f"{url}login", data=form, headers=headers, timeout=30)


def test_the_real_login_slows_a_guesser_and_lets_the_class_in():
    process, url = start_studio({}, "--auth", AUTH)
    try:
        statuses = []
        while len(statuses) < 25 and 429 not in statuses:
            statuses.append(_post_login(url, f"guess-{len(statuses)}").status_code)
        assert statuses[:5] == [400] * 5 and statuses[-1] == 429
        refused = _post_login(url, "guess-again")
        if refused.status_code == 429:  # the wait only grows, but a slow machine may outlast it
            assert int(refused.headers["Retry-After"]) >= 1
            assert "try again in" in refused.json()["detail"]
        classmate = _post_login(url, PASSWORD, **{"X-Forwarded-For": "198.51.100.7"})
        assert classmate.status_code == 200 and classmate.json() == {"success": True}
    finally:
        stop_studio(process)


def test_the_client_address_is_the_peer_or_the_tunnels_last_hop():
    def scope(peer: str, forwarded: str | None = None) -> dict:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
        return {"client": (peer, 50000), "headers": headers}

    assert client_address(scope("192.168.1.20")) == "192.168.1.20"
    assert client_address(scope("192.168.1.20", "10.9.9.9")) == "192.168.1.20"  # not a proxy
    assert client_address(scope("127.0.0.1", "10.9.9.9, 203.0.113.4")) == "203.0.113.4"


@pytest.mark.parametrize(
    "peer, forwarded, address",
    [
        ("192.168.1.20", None, "192.168.1.20"),
        ("192.168.1.20", "10.9.9.9", "192.168.1.20"),
        ("127.0.0.1", "10.9.9.9, 203.0.113.4", "203.0.113.4"),
        ("::1", "203.0.113.4", "203.0.113.4"),
        ("127.0.0.1", "203.0.113.4, ", "127.0.0.1"),  # no last hop named: the peer
    ],
)
def test_the_login_the_limits_and_the_usage_view_see_the_same_address(peer, forwarded, address):
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    request = SimpleNamespace(client=SimpleNamespace(host=peer), headers=headers)
    raw = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"client": (peer, 50000), "headers": raw}
    assert hosts.client_address(peer, forwarded) == address
    assert client_address(scope) == address  # the login's (middleware.RememberClient)
    assert address_of(request) == address  # the limits' flood guard (people)
    throttle = LoginThrottle()  # the usage view counts a wrong teacher's password against it
    may_see_usage(peer, forwarded, "Basic d3Jvbmc6d3Jvbmc=", ("teacher", "pw"), throttle)
    assert throttle.store.failures(throttle.addresses, address, throttle.forget) is not None


@pytest.mark.parametrize(
    "header",
    [None, "Bearer abc", "Basic", "Basic !!!not-base64!!!", "Basic bm9jb2xvbg==", "Basic //8="],
)
def test_a_missing_or_malformed_basic_header_gives_no_login(header):
    assert basic_credentials(header) is None


def test_a_basic_header_gives_the_user_and_the_whole_password():
    encoded = base64.b64encode(b"teacher:pass:with:colons").decode()
    assert basic_credentials(f"Basic {encoded}") == ("teacher", "pass:with:colons")
    assert basic_credentials(f"basic  {encoded} ") == ("teacher", "pass:with:colons")


# --- 5. what anyone can make the studio keep ----------------------------------------------------


def test_uploads_and_pictures_expire():
    app = build_app(load_config({}), select_tabs(["caption"]))
    assert app.delete_cache == DELETE_CACHE == (3600, 86_400)


def test_the_session_store_keeps_at_most_the_configured_number(task_server):
    summarize = f"{task_server.url}/summarize/models/test"
    with launched({"HF_API_SUMMARY_BASE": summarize, "STUDIO_MAX_SESSIONS": "3"}) as app:
        url = app.local_url
        for n in range(6):  # each REST call is a session of its own
            body = {"data": ["One sentence. Another one.", 1, 20], "session_hash": f"rest-{n}"}
            call = requests.post(f"{url}gradio_api/call/summarize", json=body, timeout=30)
            result = requests.get(
                f"{url}gradio_api/call/summarize/{call.json()['event_id']}", timeout=60
            )
            assert "event: complete" in result.text
        assert app.state_holder.capacity == 3
        assert len(app.state_holder.session_data) <= 3
        assert "rest-5" in app.state_holder.session_data


# --- 6. DNS rebinding: only the served names ------------------------------------------------------


def test_a_request_for_another_name_is_refused_in_one_line():
    env = {"STUDIO_ALLOWED_HOSTS": "studio.school.example, .lab.example"}
    process, url = start_studio(env)
    try:
        port = url.rstrip("/").rpartition(":")[2]
        refused = requests.get(f"{url}config", headers={"Host": "attacker.example"}, timeout=30)
        assert refused.status_code == 400
        assert refused.text.count("\n") == 1 and "STUDIO_ALLOWED_HOSTS" in refused.text
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "studio.school.example"):
            assert requests.get(f"{url}config", headers={"Host": host}, timeout=30).ok
        assert requests.get(f"{url}config", headers={"Host": "pc7.lab.example"}, timeout=30).ok
    finally:
        stop_studio(process)


def test_the_served_names_follow_the_host():
    assert served_hosts("127.0.0.1") == {"localhost", "127.0.0.1", "::1"}
    assert "studio.school.example" in served_hosts("127.0.0.1", ["Studio.School.Example."])
    assert "10.1.2.3" in served_hosts("10.1.2.3")
    every = served_hosts("0.0.0.0")
    assert machine_names() <= every and {"localhost", "127.0.0.1"} <= every
    import socket

    assert socket.gethostname().lower() in every


def test_host_headers_are_read_like_browsers_send_them():
    assert hostname_of("[::1]:7860") == "::1" and hostname_of("Example.ORG.:80") == "example.org"
    assert is_served("localhost:7860", {"localhost"})
    assert not is_served("localhost.attacker.example", {"localhost"})
    assert not is_served(None, {"localhost"}) and is_served("anything", {"*"})
    assert is_served("lab.example", {".lab.example"})
    assert not is_served("evil-lab.example", {".lab.example"})


# --- 7. no API description before login ----------------------------------------------------------


def test_the_login_page_carries_no_api_description():
    process, url = start_studio({}, "--auth", AUTH)
    try:
        page = requests.get(url, timeout=30)
        assert page.ok and "window.gradio_api_info = null;" in page.text
        assert "summarize" not in page.text and "/chat" not in page.text
        with requests.Session() as session:
            form = {"username": "teacher", "password": PASSWORD}
            assert session.post(f"{url}login", data=form, timeout=30).ok
            assert '"/summarize"' in session.get(url, timeout=30).text  # logged in: all there
    finally:
        stop_studio(process)


def test_only_a_login_page_loses_its_api_description():
    info = b'<script>window.gradio_api_info = {"named_endpoints": {"/summarize": {}}};</script>'
    login = b'<script>window.gradio_config = {"auth_required":true};</script>' + info
    assert without_api_info(login).endswith(b"window.gradio_api_info = null;</script>")
    page = b'<script>window.gradio_config = {"components":[]};</script>' + info
    assert without_api_info(page) == page
