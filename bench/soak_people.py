"""The simulated people of the soak: each asks the tabs one request at a time, through
gradio_client or Gradio's REST API, starts a new session every few requests, and now and then
presses Stop (gradio_client's `job.cancel()`, or closing the REST event stream).

Each request ends in one outcome, counted per tab in a `Tally`:

    served     an answer, and it is the person's own (it holds their mark: bench/soak_asks.py)
    stopped    the person pressed Stop before the answer came (whatever had streamed was theirs)
    clear      an error message in plain words
    unclear    an error that says nothing: null, empty, "Error", a traceback, an exception's name
    crossed    an answer, or a part of one, that is someone else's (or nobody's)
    stale      an answer, or a part of one, to an earlier request of the same session
    lost       no answer from the studio at all in `WAIT_SECONDS`, or the studio unreachable
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import CancelledError
from typing import Any

import requests
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from bench.soak_asks import (
    IMAGE,
    MARKS,
    TABS,
    Ask,
    answer_text,
    every_text,
    judge_error,
    make_ask,
    message_kind,
    picture_settings,
    shown,
)

OUTCOMES = ("served", "stopped", "clear", "unclear", "crossed", "stale", "lost")
WAIT_SECONDS = 240.0  # longer than any answer can take: the studio gives up on a server first
STOP_SHARE = 0.15  # of requests a person stops
CALLS_PER_SESSION = (2, 6)
THINK_SECONDS = (0.2, 2.0)
numbers = itertools.count(1)  # each request's mark; next() is atomic


class Tally:
    """Outcomes per tab, the first few examples of each bad one, and the clear messages' kinds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter = Counter()  # (tab, outcome)
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.messages: Counter = Counter()
        self.stops: list[float] = []  # seconds each Stop took to be acknowledged
        self.failed_stops: list[str] = []  # Stops whose request failed, and why
        self.sessions: Counter = Counter()  # started, by way

    def stopped(self, seconds: float, failure: str = "") -> None:
        with self.lock:
            self.stops.append(seconds)
            if failure:
                self.failed_stops.append(failure)

    def add(self, tab: str, way: str, outcome: str, detail: str = "") -> None:
        with self.lock:
            self.counts[tab, outcome] += 1
            if outcome == "clear":
                self.messages[message_kind(detail)] += 1
            elif outcome not in ("served", "stopped") and len(self.examples[outcome]) < 6:
                self.examples[outcome].append(f"{tab} via {way}: {detail[:500]}")

    def total(self, outcome: str) -> int:
        with self.lock:
            return sum(n for (_, kind), n in self.counts.items() if kind == outcome)


def check(ask: Ask, outputs: list, read_picture) -> tuple[str, str] | None:
    """("crossed", what came) when any output is not the person's own; None when all are."""
    for output in outputs:
        text = answer_text(ask.api_name, output, read_picture)
        if text and ask.mark not in text:
            return "crossed", text
    return None


class Session:
    """One session of the studio, which remembers what it asked, to tell another person's
    answer (crossed) from the answer to one of its own earlier requests (stale)."""

    way = ""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.asked: list[tuple[Ask, str, float | None]] = []  # each ask, outcome, Stop after
        with tally.lock:
            tally.sessions[self.way] += 1

    def call(self, ask: Ask, stop_after: float | None) -> tuple[str, str]:
        outcome, detail = self.ask(ask, stop_after)
        if outcome == "crossed":
            if set(MARKS.findall(detail)) & {a.mark for a, _, _ in self.asked}:
                outcome = "stale"  # another person's answer would hold none of this session's
            steps = "; ".join(
                f"{a.api_name} {o}" + (" (Stop)" if s else "") for a, o, s in self.asked
            )
            detail = f"{ask.api_name} for {ask.mark!r} (after {steps or 'nothing'}) got {detail!r}"
        self.asked.append((ask, outcome, stop_after))
        return outcome, detail

    def ask(self, ask: Ask, stop_after: float | None) -> tuple[str, str]:
        raise NotImplementedError


class ClientSession(Session):
    """One gradio_client.Client: one session of the studio."""

    way = "gradio_client"

    def __init__(self, url: str, folder: str, tally: Tally) -> None:
        super().__init__(tally)
        self.folder = folder
        self.client = Client(url, verbose=False, download_files=folder, analytics_enabled=False)

    def close(self) -> None:
        self.client.close()

    def ask(self, ask: Ask, stop_after: float | None) -> tuple[str, str]:
        path = None
        if ask.image is not None:
            path = os.path.join(self.folder, f"{uuid.uuid4().hex}.jpg")
            with open(path, "wb") as file:
                file.write(ask.image)
        args = [handle_file(path) if arg == IMAGE else arg for arg in ask.args]
        job = self.client.submit(*args, api_name=ask.api_name)
        try:
            return self._outcome(ask, job, stop_after)
        finally:
            if path:
                os.remove(path)

    def _outcome(self, ask: Ask, job, stop_after: float | None) -> tuple[str, str]:
        try:
            result = job.result(timeout=stop_after or WAIT_SECONDS)
        except TimeoutError:
            self.cancel(job)
            if stop_after is None:
                return "lost", f"no answer in {WAIT_SECONDS:.0f} s"
            return check(ask, list(job.outputs()), read_file) or ("stopped", "")
        except CancelledError:
            return "stopped", ""
        except AppError as error:
            return judge_error(error.message)
        except Exception as error:  # the studio unreachable, or the client's own failure
            return "lost", repr(error)
        return check(ask, [result], read_file) or ("served", "")

    def cancel(self, job) -> None:
        """Stop: gradio_client asks the studio's /cancel (giving up after httpx's 5 s)."""
        started = time.monotonic()
        try:
            job.cancel()
        except Exception as error:
            self.tally.stopped(time.monotonic() - started, repr(error))
        else:
            self.tally.stopped(time.monotonic() - started)


def read_file(value: Any) -> str:
    """A downloaded picture's settings text (gradio_client gives its path, a gallery a dict)."""
    path = value.get("image") if isinstance(value, dict) else value
    if path is None:  # no picture yet: the first update of a stream
        return ""
    if not isinstance(path, str) or not os.path.isfile(path):
        return f"(not a picture) {value!r}"
    with open(path, "rb") as file:
        return picture_settings(file.read())


class RestSession(Session):
    """Gradio's HTTP API with one session hash, as a script with `requests` would use it."""

    way = "REST"

    def __init__(self, url: str, folder: str, tally: Tally) -> None:
        super().__init__(tally)
        self.url, self.http = url, requests.Session()
        self.session_hash = uuid.uuid4().hex[:11]

    def close(self) -> None:
        self.http.close()

    def upload(self, image: bytes) -> dict:
        files = {"files": ("picture.jpg", image, "image/jpeg")}
        answer = self.http.post(f"{self.url}gradio_api/upload", files=files, timeout=60)
        answer.raise_for_status()
        return {"path": answer.json()[0], "meta": {"_type": "gradio.FileData"}}

    def read_picture(self, value: Any) -> str:
        if isinstance(value, dict) and value.get("__type__") == "update":  # no picture yet
            return ""
        if not isinstance(value, dict) or "url" not in value:
            return f"(not a picture) {every_text(value, self.read_picture)}"
        answer = self.http.get(value["url"], timeout=60)
        answer.raise_for_status()
        return picture_settings(answer.content)

    def ask(self, ask: Ask, stop_after: float | None) -> tuple[str, str]:
        try:
            image = self.upload(ask.image) if ask.image is not None else None
            data = [image if arg == IMAGE else arg for arg in ask.args]
            body = {"data": data, "session_hash": self.session_hash}
            name = ask.api_name.lstrip("/")
            answer = self.http.post(f"{self.url}gradio_api/call/{name}", json=body, timeout=60)
            answer.raise_for_status()
            stream_url = f"{self.url}gradio_api/call/{name}/{answer.json()['event_id']}"
            return self._events(ask, stream_url, stop_after)
        except requests.RequestException as error:
            return "lost", repr(error)

    def _events(self, ask: Ask, stream_url: str, stop_after: float | None) -> tuple[str, str]:
        """Read the job's events; Stop closes the stream from a timer, as a person's tab does."""
        pressed = threading.Event()
        outputs: list = []
        with self.http.get(stream_url, stream=True, timeout=(30, WAIT_SECONDS)) as stream:
            timer = threading.Timer(stop_after or WAIT_SECONDS, lambda: press(stream, pressed))
            timer.start()
            try:
                event = ""
                for line in stream.iter_lines(decode_unicode=True):
                    if line.startswith("event:"):
                        event = line.removeprefix("event:").strip()
                    elif line.startswith("data:"):
                        data = json.loads(line.removeprefix("data:"))
                        if event == "error":
                            return judge_error(data)
                        if event in ("generating", "complete"):
                            outputs.append(shown(ask.api_name, data))
                        if event == "complete":
                            break
            except Exception as error:  # a stream closed by Stop, or cut by the studio
                if not pressed.is_set():
                    return "lost", repr(error)
            finally:
                timer.cancel()
        crossed = check(ask, outputs, self.read_picture)
        if crossed:
            return crossed
        if event == "complete" and not pressed.is_set():
            return "served", ""
        if pressed.is_set() and stop_after is not None:
            return "stopped", ""
        if pressed.is_set():
            return "lost", f"no answer in {WAIT_SECONDS:.0f} s (last event: {event or 'none'})"
        return "lost", f"the event stream ended after {event or 'no event'}"


def press(stream: requests.Response, pressed: threading.Event) -> None:
    """Stop: close the event stream under the thread reading it."""
    pressed.set()
    try:
        stream.raw.shutdown()
    except (AttributeError, OSError, ValueError):
        stream.close()


def live(
    person: int,
    url: str,
    deadline: float,
    tally: Tally,
    folder: str,
    seed: int,
    calls: tuple[int, int] = CALLS_PER_SESSION,
) -> None:
    """One person until `deadline`: sessions of `calls` requests (at random between the two),
    each a new Client or session hash."""
    rng = random.Random(seed * 1_000_003 + person)
    while time.monotonic() < deadline:
        kind = ClientSession if rng.random() < 0.5 else RestSession
        try:
            session = kind(url, folder, tally)
        except Exception as error:  # the studio did not answer the new session
            tally.add("new session", kind.way, "lost", f"no new session: {error!r}")
            time.sleep(1)
            continue
        try:
            for _ in range(rng.randint(*calls)):
                if time.monotonic() >= deadline:
                    break
                ask = make_ask(rng.choice(TABS), next(numbers), rng)
                stop_after = rng.uniform(0.2, 3.0) if rng.random() < STOP_SHARE else None
                try:
                    outcome, detail = session.call(ask, stop_after)
                except Exception as error:  # the soak's own failure: shown, and it goes on
                    outcome, detail = "lost", f"the soak failed reading the answer: {error!r}"
                tally.add(ask.tab, session.way, outcome, detail)
                time.sleep(rng.uniform(*THINK_SECONDS))
        finally:
            session.close()
