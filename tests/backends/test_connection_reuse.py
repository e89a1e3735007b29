"""Streamed replies keep their connection to the model server for the next request, for a whole
class streaming at once (studio.backends.transport.sending's pool), counted by the stand-in
server as the connections it accepts."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from studio.backends import transport
from studio.backends.transport.sending import END_WAIT
from tests.conftest import make_endpoint
from tests.stand_ins.chat_servers import ChatServer
from tests.stand_ins.servers import running

CLASS = 200  # streaming chats at once that one process serves (bench.chat_concurrency)


@pytest.fixture
def server() -> Iterator[ChatServer]:
    """A server of its own, so that its pool and its count of connections start empty."""
    with running(ChatServer(token_delay=0.0)) as started:
        started.connections = 0
        accept = started.httpd.process_request

        def counted(request, address) -> None:
            started.connections += 1
            accept(request, address)

        started.httpd.process_request = counted
        yield started


def stream_reply(server: ChatServer) -> list[dict]:
    """One whole streamed reply, read to its `[DONE]` as the chat backend reads it."""
    url = f"{server.url}/v1/chat/completions"
    body = {"model": "m", "messages": [{"role": "user", "content": "repeat: a b"}]}
    body |= {"max_tokens": 3, "stream": True}
    endpoint = make_endpoint(url, task="chat")
    return list(transport.stream(transport.json_request(endpoint, url, body), endpoint))


def test_a_streamed_reply_leaves_its_connection_to_the_next_request(server):
    for _ in range(3):
        assert stream_reply(server), "a reply came"
    assert server.connections == 1


def all_at_once(server: ChatServer, people: int) -> list[list[dict]]:
    """`people` streamed replies started at the same moment, each read to its end."""
    ready = threading.Barrier(people)
    replies: list[list[dict]] = []

    def person() -> None:
        ready.wait()
        replies.append(stream_reply(server))

    threads = [threading.Thread(target=person) for _ in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def test_a_class_streaming_at_once_finds_its_connections_kept_the_next_time(server, caplog):
    server.first_token_delay = 1.0  # every stream still open when the last one starts
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        for _ in range(2):
            replies = all_at_once(server, CLASS)
            assert len(replies) == CLASS and all(replies)
    first = server.records[:CLASS]
    last_in, first_out = max(r.received_at for r in first), min(r.finished_at for r in first)
    assert last_in < first_out, "the first time, all streamed at once"
    assert server.connections == CLASS, "the second time, every reply found its connection"
    assert "pool is full" not in caplog.text


def test_a_server_that_keeps_the_body_open_after_done_is_not_waited_on_for_long():
    """[DONE], then neither the body's end nor a hang-up: the reply still ends, its connection
    closed as before, within END_WAIT (not the endpoint's timeout)."""
    listener = socket.create_server(("127.0.0.1", 0))
    hung_up = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as asked:
            length = 0
            while (line := asked.readline()) not in (b"\r\n", b""):  # the request's head
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            asked.read(length)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            event = b'data: {"choices": [{"delta": {"content": "hi"}}]}\n\ndata: [DONE]\n\n'
            chunk = b"%x\r\n%s\r\n" % (len(event), event)
            connection.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunk)
            if connection.recv(1) == b"":  # the studio hung up
                hung_up.set()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/chat/completions"
    endpoint = make_endpoint(url, task="chat", timeout=30.0)
    request = transport.json_request(endpoint, url, {"stream": True})
    began = time.monotonic()
    events = list(transport.stream(request, endpoint))
    assert events == [{"choices": [{"delta": {"content": "hi"}}]}]
    assert time.monotonic() - began < END_WAIT + 10, "well before the endpoint's 30 s"
    assert hung_up.wait(10), "the connection held open was closed, not kept"
    listener.close()
