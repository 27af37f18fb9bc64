"""``GET /api/v1/events``: the bus as Server-Sent Events (a WSGI app, served by gevent).

Each event is one message: ``id:`` its id, ``event:`` its type, ``data:`` its JSON. Filters:
``?types=call.created,call.ended`` and ``?queue=sales`` (only events of that queue). A
client that reconnects with ``Last-Event-ID`` gets what it missed from a bounded in-memory
buffer of the latest events (``buffer`` of them, this engine's since its start); when that id
is no longer there (too old, or from before a restart) the stream starts with an
``event: gap`` message, then every buffered event that matches, then live ones: the client
knows it may have missed some and can re-read state through the API.

Nothing here waits for a client: the bus puts an event in each client's bounded queue
without blocking; a client whose queue is full (it reads too slowly) is dropped, and may
reconnect with its Last-Event-ID. A comment line is sent as a heartbeat when nothing
happened for ``heartbeat`` seconds, which also finds clients that went away.

A stream outlives the request that opened it, so what let it open is asked again every
``recheck`` seconds: the app that mounts the stream puts a function in the environ
(``RECHECK``) that answers the refusal the request would get now (a revoked token, an
expired wallboard cookie) or None; on a refusal the stream sends ``event: closed`` with
its ``code`` and ``detail`` and ends (one indexed token lookup per stream per recheck).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from gevent.event import Event as GeventEvent
from gevent.queue import Empty, Full, Queue
from prometheus_client import CollectorRegistry, Counter, Gauge

from callcenter.errors import CallCenterError
from callcenter.events.bus import EventBus
from callcenter.events.types import EVENT_TYPES, Event

log = logging.getLogger(__name__)

PATH = "/api/v1/events"
RECHECK = "callcenter.events.recheck"  # environ: () -> the refusal the request gets now, or None
Authorize = Callable[[dict[str, Any]], bool]
Recheck = Callable[[], CallCenterError | None]
StartResponse = Callable[..., Any]


class StreamMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.clients = Gauge(
            "callcenter_sse_clients", "Clients connected to the event stream.", registry=registry
        )
        self.dropped = Counter(
            "callcenter_sse_clients_dropped_total",
            "Event stream clients dropped because they read too slowly (their queue filled).",
            registry=registry,
        )


class _Item:
    """An event in the ring and the clients' queues; its frame (the JSON) is made when a
    client first needs it: most events are never streamed (no client, or filtered out)."""

    __slots__ = ("_frame", "_source", "id", "queue", "type")

    def __init__(self, source: Event | dict[str, Any]) -> None:
        self._source = source
        self._frame: bytes | None = None
        if isinstance(source, dict):
            self.id, self.type, self.queue = (
                str(source["id"]),
                str(source["type"]),
                source.get("queue"),
            )
        else:
            self.id, self.type, self.queue = source.id, str(source.type), source.queue

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            source = self._source
            doc = source if isinstance(source, dict) else source.to_dict()
            data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
            self._frame = f"id: {self.id}\nevent: {self.type}\ndata: {data}\n\n".encode()
        return self._frame


@dataclass(eq=False)
class _Client:
    types: frozenset[str]
    queue_name: str | None
    inbox: Queue[_Item]
    recheck: Recheck | None = None
    dropped: bool = field(default=False)

    def wants(self, item: _Item) -> bool:
        if self.types and item.type not in self.types:
            return False
        return self.queue_name is None or item.queue == self.queue_name


class EventStream:
    def __init__(
        self,
        bus: EventBus,
        authorize: Authorize,
        *,
        buffer: int = 1000,
        client_queue: int = 256,
        heartbeat: float = 15.0,
        recheck: float = 5.0,
        max_clients: int = 500,
        metrics: StreamMetrics | None = None,
    ) -> None:
        self.authorize = authorize
        self.client_queue = client_queue
        self.heartbeat = heartbeat
        self.recheck = recheck
        self.max_clients = max_clients
        self.metrics = metrics
        self._ring: deque[_Item] = deque(maxlen=buffer)
        self._clients: set[_Client] = set()
        self._listened = GeventEvent()  # set while at least one client is connected
        bus.subscribe(self.on_event)

    # -- the bus's side: never blocks ------------------------------------------------------

    def on_event(self, event: Event) -> None:
        self._fan_out(_Item(event))

    def relay(self, doc: dict[str, Any]) -> None:
        """An event another process stored (see ``relay.OutboxRelay``), as its JSON."""
        self._fan_out(_Item(doc))

    def _fan_out(self, item: _Item) -> None:
        self._ring.append(item)
        for client in list(self._clients):
            if not client.wants(item):
                continue
            try:
                client.inbox.put_nowait(item)
            except Full:
                self._drop(client)

    def _drop(self, client: _Client) -> None:
        client.dropped = True
        self._forget(client)
        if self.metrics is not None:
            self.metrics.dropped.inc()
        log.info("event stream: a client read too slowly and was dropped")

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def wait_for_clients(self, timeout: float) -> bool:
        """Until a client connects (the relay sleeps meanwhile); False on timeout."""
        return bool(self._listened.wait(timeout))

    def _forget(self, client: _Client) -> None:
        self._clients.discard(client)
        if not self._clients:
            self._listened.clear()

    # -- the HTTP side ---------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET") != "GET":
            return _problem(
                start_response, "405 Method Not Allowed", "method_not_allowed", "use GET",
                [("Allow", "GET")],
            )  # fmt: skip
        if not self.authorize(environ):
            return _problem(
                start_response,
                "401 Unauthorized",
                "unauthenticated",
                "a token with the read scope is needed",
                [("WWW-Authenticate", "Bearer")],
            )
        query = parse_qs(environ.get("QUERY_STRING", ""))
        types = frozenset(t for v in query.get("types", ()) for t in v.split(",") if t)
        unknown = sorted(types - set(EVENT_TYPES))
        if unknown:
            return _problem(
                start_response,
                "400 Bad Request",
                "event_type_unknown",
                f"types: unknown event type(s) {', '.join(unknown)}; known: "
                f"{', '.join(EVENT_TYPES)}",
            )
        if len(self._clients) >= self.max_clients:
            return _problem(
                start_response, "503 Service Unavailable", "stream_full", "too many stream clients"
            )
        queue_name = (query.get("queue") or [None])[-1] or None
        client = _Client(types, queue_name, Queue(self.client_queue), environ.get(RECHECK))
        backlog = self._backlog(client, environ.get("HTTP_LAST_EVENT_ID", "").strip())
        self._clients.add(client)  # no yield since the backlog was read: nothing falls between
        self._listened.set()
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/event-stream; charset=utf-8"),
                ("Cache-Control", "no-cache"),
                ("X-Accel-Buffering", "no"),
            ],
        )
        return self._stream(client, backlog)

    def _backlog(self, client: _Client, last_id: str) -> list[bytes]:
        if not last_id:
            return []
        items = list(self._ring)
        position = next((i for i, item in enumerate(items) if item.id == last_id), None)
        frames: list[bytes] = []
        if position is None:
            gap = {"last_event_id": last_id, "reason": "not in the buffer; events may be missing"}
            frames.append(f"event: gap\ndata: {json.dumps(gap)}\n\n".encode())
            position = -1
        frames.extend(item.frame for item in items[position + 1 :] if client.wants(item))
        return frames

    def _stream(self, client: _Client, backlog: list[bytes]) -> Iterator[bytes]:
        if self.metrics is not None:
            self.metrics.clients.inc()
        try:
            yield b"retry: 2000\n: connected\n\n"
            yield from backlog
            quiet_until = time.monotonic() + self.heartbeat
            check_at = time.monotonic() + self.recheck if client.recheck else math.inf
            while not client.dropped:
                now = time.monotonic()
                if now >= check_at and client.recheck is not None:
                    refused = client.recheck()
                    if refused is not None:
                        yield _closed(refused)
                        return
                    check_at = now + self.recheck
                try:
                    item = client.inbox.get(timeout=max(0.0, min(quiet_until, check_at) - now))
                except Empty:
                    if time.monotonic() >= quiet_until:
                        yield b": heartbeat\n\n"
                        quiet_until = time.monotonic() + self.heartbeat
                    continue
                yield item.frame
                quiet_until = time.monotonic() + self.heartbeat
        finally:
            self._forget(client)
            if self.metrics is not None:
                self.metrics.clients.dec()


def _closed(refused: CallCenterError) -> bytes:
    data = json.dumps({"code": refused.code, "detail": refused.message})
    log.info("event stream: closed (%s)", refused.code)
    return f"event: closed\ndata: {data}\n\n".encode()


def _problem(
    start_response: StartResponse,
    status: str,
    code: str,
    detail: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    number, _, title = status.partition(" ")
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": int(number), "detail": detail,
         "code": code}
    )  # fmt: skip
    start_response(status, [("Content-Type", "application/problem+json"), *(headers or [])])
    return [body.encode()]
