"""``/metrics`` (Prometheus text format) and ``/healthz`` (JSON), served by gevent, plus the
engine's other HTTP endpoints: ``routes`` for one exact path (FreeSWITCH's CDR posts at
``/fs/cdr``), ``mounts`` for a whole prefix (the HTTP API at ``/api/v1``), each app seeing
the prefix in ``SCRIPT_NAME`` and the rest in ``PATH_INFO``, as WSGI mounts do."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gevent.pywsgi import WSGIServer
from prometheus_client import CollectorRegistry, make_wsgi_app

from callcenter.settings import Address

log = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, Any]]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _QuietLog:
    def write(self, line: str) -> None:
        log.debug("http %s", line.rstrip())


class MetricsServer:
    def __init__(
        self,
        address: Address,
        registry: CollectorRegistry,
        health: HealthCheck,
        routes: Mapping[str, WsgiApp] | None = None,
        mounts: Mapping[str, WsgiApp] | None = None,
    ) -> None:
        self.address = address
        self._metrics_app = make_wsgi_app(registry)
        self._health = health
        self.routes: dict[str, WsgiApp] = dict(routes or {})
        self.mounts: dict[str, WsgiApp] = dict(mounts or {})
        self._server: WSGIServer | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("metrics server not started")
        return int(self._server.server_port)

    def start(self) -> None:
        self._server = WSGIServer(
            (self.address.host, self.address.port), self._app, log=_QuietLog(), error_log=log
        )
        self._server.init_socket()
        # accepted sockets inherit it: without, a keep-alive client (the API's) waits for a
        # delayed ACK (40 ms) before each small answer's last segment
        self._server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._server.start()
        log.info("metrics and health on http://%s:%s", self.address.host, self.port)

    def stop(self, timeout: float = 2.0) -> None:
        if self._server is not None:
            self._server.stop(timeout=timeout)

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics_app(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            report = self._health()
            body = json.dumps(report, sort_keys=True).encode()
            status = "200 OK" if report.get("status") == "ok" else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        route = self.routes.get(path)
        if route is not None:
            return route(environ, start_response)
        for prefix, app in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :]
                return app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics, /healthz or /api/v1/openapi.json\n"]
