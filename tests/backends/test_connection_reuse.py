"""Streamed replies keep their connection to the model server for the next request, for a whole
class streaming at once (studio.backends.transport.sending's pool), counted by the stand-in
server as the connections it accepts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from studio.backends import transport
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
