"""What a new Gradio session costs the server: the studio against a bare Gradio app.

Every REST call that names no session (`POST /gradio_api/call/<api>`, as curl sends it) is a
new session to Gradio, and so is every gradio_client.Client and every browser tab; Gradio builds
that session's state on its first request and keeps it (up to 10,000 sessions). This starts two
servers, each in its own process: the studio with all its tabs (its NER tab pointed at the
tests' local task-API server; the other tabs' backends are never called), and a bare Gradio app
of one textbox, one button and one handler. Against each it makes, over loopback,

    one session    N calls that name the same session: what serving a call costs
    new sessions   N calls that name none: each one a new session

and reads the server's CPU time (utime + stime, /proc/<pid>/stat, less what the process burns
idle over the same wall time: Gradio's queue polls) and its resident memory (VmRSS,
/proc/<pid>/status). A new session's cost is the difference between the two runs, per call:

    CPU      (new-session run - one-session run) / N
    memory   (RSS growth over the new-session run - over the one-session run) / N

Resident memory is what the machine pays, allocator overhead included; it is read from outside
so the server runs at full speed (tracemalloc would slow it several times and skew the CPU
figures). Each server also reports how many sessions it holds, to show every call made one.

    python -m bench.session_cost [--calls 300]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import free_port  # noqa: E402
from tests.stand_ins.servers import TaskServer  # noqa: E402

TEXT = "Andrew met Ada Lovelace in Paris"
ONE_SESSION = "bench-one-session"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per run (default 300)")
    parser.add_argument("--rounds", type=int, default=10, help="batches each run is cut into")
    parser.add_argument("--serve", choices=["studio", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the servers, each in its own process ---------------------------------------------------


def serve(kind: str, port: int, backend: str) -> None:
    """Serve one app until stdin closes; answer 'sessions' with the number of sessions held."""
    import gradio as gr

    if kind == "studio":
        from studio.classroom.usage import meter_for
        from studio.config import load_config
        from studio.ui.app import build_app

        config = load_config({"HF_API_NER_BASE": f"{backend}/ner/models/bench"})
        app = build_app(config, meter=meter_for(config))  # each call metered, as with the CLI
    else:
        with gr.Blocks() as app:
            text, answer = gr.Textbox(), gr.Textbox()
            gr.Button().click(lambda value: value, text, answer, api_name="ner")
    app.launch(server_port=port, prevent_thread_lock=True, quiet=True)
    for line in sys.stdin:
        if line.strip() == "sessions":
            print(len(app.server_app.state_holder.session_data), flush=True)
    app.close()


@dataclass
class Server:
    process: subprocess.Popen
    url: str

    @classmethod
    def start(cls, kind: str, backend: str) -> Server:
        port = free_port()
        command = ["-m", "bench.session_cost", "--serve", kind, "--port", str(port)]
        process = subprocess.Popen(
            [sys.executable, *command, "--backend", backend],
            cwd=ROOT,
            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the {kind} server exited")
            try:
                if requests.get(f"{url}/config", timeout=1).ok:
                    return cls(process, url)
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the {kind} server did not start within 60 s")
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # utime, stime

    def rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def sessions(self) -> int:
        self.process.stdin.write("sessions\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the measurement ----------------------------------------------------------------------


def call(http: requests.Session, url: str, session_hash: str | None) -> None:
    """One API call as curl makes it: post the inputs, then read the event stream to its end."""
    body = {"data": [TEXT]}
    if session_hash:
        body["session_hash"] = session_hash
    posted = http.post(f"{url}/gradio_api/call/ner", json=body, timeout=30)
    posted.raise_for_status()
    stream = http.get(f"{url}/gradio_api/call/ner/{posted.json()['event_id']}", timeout=30)
    if "event: complete" not in stream.text:
        raise RuntimeError(f"the call failed: {stream.text[:300]}")


@dataclass
class Run:
    calls: int = 0
    cpu_seconds: float = 0.0  # idle burn removed
    rss_kib: int = 0  # growth

    @property
    def cpu_ms(self) -> float:  # per call
        return self.cpu_seconds * 1000 / self.calls

    @property
    def kib(self) -> float:  # per call
        return self.rss_kib / self.calls


def batch(server: Server, http: requests.Session, calls: int, idle: float, new: bool, into: Run):
    rss, cpu, started = server.rss_kib(), server.cpu_seconds(), time.monotonic()
    for _ in range(calls):
        call(http, server.url, None if new else ONE_SESSION)
    wall = time.monotonic() - started
    into.calls += calls
    into.cpu_seconds += server.cpu_seconds() - cpu - idle * wall
    into.rss_kib += server.rss_kib() - rss


def idle_rate(server: Server, seconds: float = 2.0) -> float:
    """CPU seconds per second the server spends with nothing to do."""
    cpu = server.cpu_seconds()
    time.sleep(seconds)
    return (server.cpu_seconds() - cpu) / seconds


@dataclass
class Result:
    one: Run
    new: Run
    idle_percent: float
    sessions: int

    @property
    def session_cpu_ms(self) -> float:
        return self.new.cpu_ms - self.one.cpu_ms

    @property
    def session_kib(self) -> float:
        return self.new.kib - self.one.kib


def measure(kind: str, backend: str, calls: int, rounds: int) -> Result:
    """The two runs in alternating batches, so that a machine busy with something else for a
    while weighs on both alike."""
    server = Server.start(kind, backend)
    one, new = Run(), Run()
    try:
        with requests.Session() as http:
            for _ in range(20):  # warm up: imports, caches and allocator arenas of both runs
                call(http, server.url, ONE_SESSION)
                call(http, server.url, None)
            idle = idle_rate(server)
            for _ in range(rounds):
                batch(server, http, calls // rounds, idle, False, one)
                batch(server, http, calls // rounds, idle, True, new)
        sessions = server.sessions()
    finally:
        server.stop()
    expected = 20 + new.calls + 1
    if sessions < expected:
        raise RuntimeError(f"the {kind} server holds {sessions} sessions, not {expected}")
    return Result(one, new, idle * 100, sessions)


def report(name: str, result: Result) -> None:
    print(f"{name}: {result.sessions} sessions held, idle {result.idle_percent:.1f}% of a core")
    rows = {
        "a call in one session": (result.one.cpu_ms, result.one.kib),
        "a call, a new session": (result.new.cpu_ms, result.new.kib),
        "the new session's own": (result.session_cpu_ms, result.session_kib),
    }
    for label, (cpu_ms, kib) in rows.items():
        print(f"  {label:24} {cpu_ms:6.2f} ms CPU  {kib:7.1f} KiB")


def main() -> None:
    args = parse_args()
    if args.serve:
        serve(args.serve, args.port, args.backend)
        return
    backend = TaskServer()
    url = backend.start()
    try:
        bare = measure("bare", url, args.calls, args.rounds)
        studio = measure("studio", url, args.calls, args.rounds)
    finally:
        backend.stop()
    print(f"{args.calls} calls per run, each a POST /gradio_api/call and its event stream")
    report("bare Gradio app (one textbox, one button, one handler)", bare)
    report("studio (all six tabs)", studio)
    print(
        "a call that opens a new session, studio over bare:"
        f" CPU {studio.new.cpu_ms / bare.new.cpu_ms:.1f}x"
        f"   memory {studio.new.kib / bare.new.kib:.1f}x"
    )
    print(
        "the new session's own, studio over bare:"
        f" memory {studio.session_kib / bare.session_kib:.1f}x"
        f"   CPU {studio.session_cpu_ms:.2f} ms against {bare.session_cpu_ms:.2f} ms"
    )


if __name__ == "__main__":
    main()
