"""A real local webhook receiver for tests and the benchmark (gevent WSGIServer)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.pywsgi import WSGIServer


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def event_id(self) -> str:
        return str(self.event["id"])


class Receiver:
    """Records every POST; ``status`` is what it answers, ``delay`` how long it takes."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.deliveries: list[Delivery] = []
        self.status = "200 OK"
        self.delay = 0.0
        self._server: WSGIServer | None = None

    def start(self) -> Receiver:
        self._server = WSGIServer(("127.0.0.1", self.port), self._app, log=None)
        self._server.start()
        self.port = int(self._server.server_port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(timeout=1)
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def ids(self) -> list[str]:
        return [d.event_id for d in self.deliveries]

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        if self.delay:
            gevent.sleep(self.delay)
        if self.status.startswith("2"):
            headers = {
                k[5:].replace("_", "-").title(): v
                for k, v in environ.items()
                if k.startswith("HTTP_")
            }
            headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
            self.deliveries.append(Delivery(headers, body))
        start_response(self.status, [("Content-Type", "text/plain")])
        return [b"ok"]
