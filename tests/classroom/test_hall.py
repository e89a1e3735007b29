"""Two studio processes as one studio, as docs/deploy.md deploys them: one real Redis, nginx
with the page's own configuration (sticky by cookie, under /studio/), two `python -m studio`
replicas. A logged-in person's limit holds across both; /usage on either shows what both
served; a replica stopped mid-class sends new sessions to the other."""

from __future__ import annotations

import re

import pytest
import requests
from gradio_client import Client

from studio.classroom.middleware import LOGIN_LOST
from tests.classroom.real_servers import DEPLOY_DOC, Nginx, RedisServer, deploy_nginx_config
from tests.conftest import free_port, screenshot, start_studio, stop_studio

TOKEN = "hf_test_secret_token_0123456789"
TEXT = "The tower is 324 metres tall, about the same height as an 81-storey building."
STUDENT, TEACHER = ("student", "class-password-1"), ("teacher", "usage-password-1")
LIMIT = 4
WAIT = 30_000  # ms, for the page on a busy machine


@pytest.fixture(scope="module")
def hall(task_server):
    redis = RedisServer().start()
    base = task_server.url
    env = {
        "HF_API_SUMMARY_BASE": f"{base}/summarize/models/sshleifer/distilbart-cnn-12-6",
        "HF_TOKEN": TOKEN,
        "STUDIO_TIMEOUT": "5",
        "STUDIO_REDIS_URL": redis.url,
        "STUDIO_ROOT_PATH": "/studio",
    }
    flags = ["--tabs", "summarize", "--auth", ":".join(STUDENT), "--admin", ":".join(TEACHER)]
    flags += ["--limit", f"{LIMIT}/hour"]
    ports = [free_port(), free_port()]
    studios = [start_studio(env, *flags, port=port)[0] for port in ports]
    nginx = Nginx(ports).start()
    yield nginx, studios, ports
    nginx.stop()
    for studio in studios:
        if studio.poll() is None:
            assert TOKEN not in stop_studio(studio)
    redis.stop()


def replicas(nginx: Nginx, route: str) -> list[str]:
    """The replica that answered each request of `route`, from nginx's access log (after a
    failed try, the last of the replicas it tried)."""
    lines = re.findall(rf"route={re.escape(route)} replica=(.+)$", nginx.log(), re.M)
    return [line.split(",")[-1].strip() for line in lines]


def replica_of(nginx: Nginx, client: Client) -> str:
    """Which replica nginx sent `client`'s requests to: always the same one."""
    served = set(replicas(nginx, client.cookies["studio_route"]))
    assert len(served) == 1, f"{client.cookies['studio_route']} went to {served}: not sticky"
    return served.pop()


def clients_on_each_replica(nginx: Nginx) -> dict[str, Client]:
    """A logged-in client through nginx on each replica: new ones until both are taken (each new
    browser lands on a replica by a random id)."""
    found: dict[str, Client] = {}
    for _ in range(30):
        client = Client(f"{nginx.url}/studio/", auth=STUDENT, verbose=False)
        found.setdefault(replica_of(nginx, client), client)
        if len(found) == 2:
            return found
    raise AssertionError(f"30 new browsers all went to {list(found)}")


def usage_of(port: int) -> dict:
    answer = requests.get(f"http://127.0.0.1:{port}/usage.json", auth=TEACHER, timeout=10)
    answer.raise_for_status()
    return answer.json()


def test_a_logged_in_persons_limit_holds_across_both_replicas_and_usage_shows_both(hall):
    nginx, _, ports = hall
    one, other = clients_on_each_replica(nginx).values()
    served = [(one if n % 2 else other).predict(TEXT, api_name="/summarize") for n in range(LIMIT)]
    assert all(served)
    for client in (one, other):
        with pytest.raises(Exception, match=f"as many requests as each person may: {LIMIT} per"):
            client.predict(TEXT, api_name="/summarize")
    for port in ports:  # each replica's usage view, asked directly
        report = usage_of(port)
        (person,) = report["people"]
        assert person["person"] == "student" and person["requests"] == LIMIT
        assert person["refused"] == 2 and report["kept"].startswith("shared (redis://")


def test_a_guesser_sent_to_both_replicas_is_slowed_as_by_one(hall):
    """Wrong passwords from one address, to one replica then the other: after five in all the
    next waits. Each replica on its own would allow five each."""
    _, _, ports = hall
    guesser = {"X-Forwarded-For": "203.0.113.9"}  # its own address: the class is not slowed
    statuses = []
    while len(statuses) < 12 and 429 not in statuses:
        port = ports[len(statuses) % 2]
        form = {"username": STUDENT[0], "password": f"guess-{len(statuses)}"}
        answer = requests.post(
            f"http://127.0.0.1:{port}/login", data=form, headers=guesser, timeout=30
        )
        statuses.append(answer.status_code)
    assert statuses[:5] == [400] * 5 and 429 in statuses[:10], statuses


def test_the_page_and_its_files_load_under_the_path_prefix(hall):
    """Served under /studio/ (--root-path): the page names that root, and every file it asks
    for by a relative address loads through nginx; /studio alone is sent to /studio/."""
    nginx, _, _ = hall
    page = requests.get(f"{nginx.url}/studio/", timeout=30)
    page.raise_for_status()
    root = re.search(r'"root":\s*"([^"]+)"', page.text).group(1)
    assert root == f"{nginx.url}/studio"
    files = re.findall(r'(?:src|href)="\./([^"]+)"', page.text)
    assert any(name.endswith(".js") for name in files), files
    for name in files:
        requests.get(f"{nginx.url}/studio/{name}", timeout=30).raise_for_status()
    bare = requests.get(f"{nginx.url}/studio", allow_redirects=False, timeout=30)
    assert bare.status_code in (301, 302) and bare.headers["Location"].endswith("/studio/")


def test_a_page_whose_login_is_not_known_is_told_to_reload(hall):
    """Gradio refuses such a page's event with a dict the page shows as a bare "Error"."""
    nginx, _, _ = hall
    body = {"data": [TEXT, None, None], "fn_index": 0, "session_hash": "lost-login"}
    answer = requests.post(f"{nginx.url}/studio/gradio_api/queue/join", json=body, timeout=30)
    assert answer.status_code == 401
    assert answer.json() == {"detail": LOGIN_LOST}


def test_the_compose_file_runs_what_the_nginx_configuration_expects():
    """docs/deploy.md's compose file (not started here: no Docker in CI) against its nginx
    configuration, which the tests above run as written: a studio on each upstream port, in
    nginx's network, under the path nginx serves, all on the one Redis."""
    yaml = pytest.importorskip("yaml")
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    services = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))["services"]
    nginx = deploy_nginx_config()
    upstream = set(re.findall(r"server 127\.0\.0\.1:(\d+)", nginx))
    prefix = re.search(r"location (/\w+)/ \{", nginx).group(1)
    studios = {name: s for name, s in services.items() if name.startswith("studio-")}
    assert {s["environment"]["STUDIO_PORT"] for s in studios.values()} == upstream
    assert "./studio.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]
    for studio in studios.values():
        assert studio["network_mode"] == "service:nginx"
        assert studio["environment"]["STUDIO_REDIS_URL"] == "redis://redis:6379/0"
        assert studio["environment"]["STUDIO_ROOT_PATH"] == prefix
        assert "python -m studio --host 127.0.0.1" in studio["command"]
    assert "redis" in services and "requirements-hall.txt" in studios["studio-1"]["command"]


def open_page_on(browser, nginx: Nginx, client: Client):
    """A browser page through nginx on `client`'s replica (its route cookie), logged in."""
    from playwright.sync_api import expect  # the browser fixture skips without it

    context = browser.new_context()
    route = client.cookies["studio_route"]
    context.add_cookies([{"name": "studio_route", "value": route, "url": nginx.url}])
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(f"{nginx.url}/studio/")
    page.get_by_label("username").fill(STUDENT[0])
    page.get_by_label("password").fill(STUDENT[1])
    page.get_by_role("button", name="Login").click()
    expect(page.get_by_role("button", name="Summarize", exact=True)).to_be_visible(timeout=WAIT)
    page.wait_for_load_state("load")  # every file of the page came from that replica
    # and every event the page runs as it loads has answered (none left waiting on it)
    expect(page.locator("[data-testid=status-tracker]:not(.hide)")).to_have_count(0)
    return page


def test_a_replica_stopped_mid_class_sends_new_sessions_to_the_other(hall, browser):
    # last in this file: it stops one of the two replicas the others share
    from playwright.sync_api import expect

    nginx, studios, ports = hall
    on_each = clients_on_each_replica(nginx)
    stopped = f"127.0.0.1:{ports[0]}"
    open_page = open_page_on(browser, nginx, on_each[stopped])
    assert TOKEN not in stop_studio(studios[0])  # nor in its log
    page = Client(f"{nginx.url}/studio/", verbose=False, auth=STUDENT)  # a new browser
    assert replica_of(nginx, page).endswith(f":{ports[1]}")
    for _ in range(3):
        newcomer = Client(f"{nginx.url}/studio/", verbose=False, auth=STUDENT)
        assert newcomer.view_api(print_info=False, return_format="dict")
    # the page open on the stopped replica is sent to the other, which never saw its login:
    # the page says so in words, and a reload brings the login page of a running replica
    open_page.get_by_label("Text to summarize").fill(TEXT)
    open_page.get_by_role("button", name="Summarize", exact=True).click()
    expect(open_page.get_by_text("Reload the page and log in again")).to_be_visible(timeout=WAIT)
    screenshot(open_page, "replica-stopped-page-says-reload.png")
    open_page.reload()
    expect(open_page.get_by_label("username")).to_be_visible(timeout=WAIT)
    route = on_each[stopped].cookies["studio_route"]
    assert replicas(nginx, route)[-1] == f"127.0.0.1:{ports[1]}"
