"""The API over real HTTP, on the engine's listener (gevent's pywsgi): chunked bodies, HEAD."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from callcenter.api.app import Api
from callcenter.api.env import ApiEnv
from callcenter.metrics.http import MetricsServer
from callcenter.services import agents, tokens, webhooks
from callcenter.settings import Address
from callcenter.store.database import Database
from tests.integration.api.conftest import ROOT, dead_letters


class Served:
    """The API mounted at /api/v1 on the engine's HTTP listener (gevent's pywsgi)."""

    def __init__(self, port: int, secret: str) -> None:
        self.port, self.secret = port, secret

    def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest(method, f"/api/v1{path}", skip_accept_encoding=True)
            sent = {"Authorization": f"Bearer {self.secret}", **(headers or {})}
            for name, value in sent.items():
                connection.putheader(name, value)
            connection.endheaders()
            if body is not None:  # raw bytes, sent as they are (chunks written by the test)
                connection.send(body)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def chunked(self, method: str, path: str, doc: Any, size: int = 7) -> tuple[int, Any]:
        data = json.dumps(doc).encode()
        status, _, body = self.send(method, path, _chunks(data, size), CHUNKED)
        return status, json.loads(body) if body else None


CHUNKED = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}


def _chunks(data: bytes, size: int) -> bytes:
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


@pytest.fixture
def served(db: Database) -> Iterator[Served]:
    secret = tokens.create(db, ROOT, "t-served", "admin").secret
    server = MetricsServer(
        Address("127.0.0.1", 0), CollectorRegistry(), lambda: {"status": "ok"},
        mounts={"/api/v1": Api(ApiEnv(db))},
    )  # fmt: skip
    server.start()
    try:
        yield Served(server.port, secret)
    finally:
        server.stop()


def test_a_chunked_body_is_read(served: Served, db: Database) -> None:
    status, made = served.chunked("POST", "/agents", {"extension": "7701", "name": "Chunk"})
    assert status == 201, made
    assert made["agent"]["name"] == "Chunk"
    status, queue = served.chunked("POST", "/queues", {"name": "q-chunk", "max_wait_seconds": 300})
    assert (status, queue["max_wait_seconds"]) == (201, 300)
    assert served.chunked("POST", "/agents/7701/login", {})[0] == 200
    status, paused = served.chunked("POST", "/agents/7701/pause", {"reason": "lunch"})
    assert (status, paused["pause_reason"]) == (200, "lunch")
    hook = webhooks.add(db, ROOT, "https://crm.example.com/chunk", ["call.created"]).webhook.id
    dead = dead_letters(db, hook, 3)
    status, done = served.chunked("POST", f"/webhooks/{hook}/replay", {"ids": dead[:1]})
    assert (status, done["replaying"]) == (200, dead[:1])  # that one, not all of them


def test_a_chunked_body_over_the_limit_is_413_and_a_broken_one_400(served: Served) -> None:
    big = {"extension": "7702", "name": "x" * (1 << 20)}
    status, problem = served.chunked("POST", "/agents", big, size=1 << 16)
    assert (status, problem["code"]) == (413, "body_too_large")
    status, _, body = served.send("POST", "/agents", b"zz\r\n{}\r\n0\r\n\r\n", CHUNKED)
    assert (status, json.loads(body)["code"]) == (400, "body_invalid")
    status, _, body = served.send(  # a body with its length is read as before
        "POST", "/agents", b'{"extension": "7703"}',
        {"Content-Type": "application/json", "Content-Length": "21"},
    )  # fmt: skip
    assert status == 201, body


def test_head_answers_where_get_does(served: Served, db: Database) -> None:
    agents.add(db, ROOT, "7704", domain="callcenter", name="Head")
    get_status, get_headers, get_body = served.send("GET", "/agents/7704")
    status, headers, body = served.send("HEAD", "/agents/7704")
    assert (status, body) == (get_status, b"") and get_body
    assert headers["content-type"] == get_headers["content-type"]
    assert headers["content-length"] == get_headers["content-length"]
    status, headers, body = served.send("HEAD", "/agents/7799")
    assert (status, body) == (404, b"")
    assert served.send("HEAD", "/agents/7704/pause")[0] == 405  # POST only: no GET, no HEAD
    status, headers, body = served.send("HEAD", "/openapi.json")
    assert (status, body, headers["Content-Type"]) == (200, b"", "application/json")
