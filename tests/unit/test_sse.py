"""The SSE stream: filters, Last-Event-ID resume from the buffer, slow clients dropped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gevent
import pytest
import urllib3
from prometheus_client import CollectorRegistry

from callcenter.events.bus import EventBus
from callcenter.events.sse import PATH, EventStream, StreamMetrics
from callcenter.events.types import AgentOffered, CallCreated, CallEnded, Event, QueueJoined
from callcenter.metrics.http import MetricsServer
from callcenter.settings import Address
from tests.support import until


def ended(queue: str | None = None) -> CallEnded:
    return CallEnded(queue=queue, disposition="answered", hangup_cause="X", hangup_by="caller")


class Client:
    def __init__(self, stream: EventStream, query: str = "", last_id: str = "") -> None:
        environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "QUERY_STRING": query,
                                   "REMOTE_ADDR": "127.0.0.1"}  # fmt: skip
        if last_id:
            environ["HTTP_LAST_EVENT_ID"] = last_id
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.body = iter(stream(environ, self._start))

    def _start(self, status: str, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, headers

    def messages(self, count: int) -> list[dict[str, str]]:
        """The next ``count`` messages (comments skipped), each as its fields."""
        out: list[dict[str, str]] = []
        while len(out) < count:
            chunk = next(self.body).decode()
            for block in chunk.split("\n\n"):
                fields = dict(
                    line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
                )
                fields.pop("retry", None)
                if fields:
                    out.append(fields)
        return out


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


def make(bus: EventBus, **kw: Any) -> EventStream:
    return EventStream(bus, lambda environ: True, heartbeat=0.05, **kw)


def test_each_message_has_the_event_id_type_and_json(bus: EventBus) -> None:
    stream = make(bus)
    client = Client(stream)
    assert client.status == "200 OK"
    assert ("Content-Type", "text/event-stream; charset=utf-8") in client.headers
    event = CallCreated(call_uuid="c-1", caller_number="+331")
    bus.publish(event)
    [message] = client.messages(1)
    assert message["id"] == event.id
    assert message["event"] == "call.created"
    assert json.loads(message["data"]) == event.to_dict()


def test_filters_by_type_and_by_queue(bus: EventBus) -> None:
    stream = make(bus)
    by_type = Client(stream, "types=call.ended,agent.offered")
    by_queue = Client(stream, "queue=sales")
    events: list[Event] = [
        CallCreated(), ended("support"), QueueJoined(queue="sales"),
        AgentOffered(queue="sales", agent_extension="1001"), ended("sales"),
    ]  # fmt: skip
    for event in events:
        bus.publish(event)
    got = [m["id"] for m in by_type.messages(3)]
    assert got == [events[1].id, events[3].id, events[4].id]
    got = [m["id"] for m in by_queue.messages(3)]
    assert got == [events[2].id, events[3].id, events[4].id]


def test_resume_after_last_event_id_from_the_buffer(bus: EventBus) -> None:
    stream = make(bus)
    events = [CallCreated() for _ in range(5)]
    for event in events:
        bus.publish(event)
    client = Client(stream, last_id=events[1].id)
    assert [m["id"] for m in client.messages(3)] == [e.id for e in events[2:]]
    live = CallCreated()
    bus.publish(live)
    assert client.messages(1)[0]["id"] == live.id  # then live, nothing twice


def test_an_id_that_fell_out_of_the_buffer_starts_with_a_gap(bus: EventBus) -> None:
    stream = make(bus, buffer=3)
    events = [CallCreated() for _ in range(5)]
    for event in events:
        bus.publish(event)
    client = Client(stream, last_id=events[0].id)  # only the last three are kept
    gap, *rest = client.messages(4)
    assert gap["event"] == "gap"
    assert json.loads(gap["data"])["last_event_id"] == events[0].id
    assert [m["id"] for m in rest] == [e.id for e in events[2:]]


def test_heartbeats_while_nothing_happens(bus: EventBus) -> None:
    client = Client(make(bus))
    chunks = [next(client.body) for _ in range(3)]
    assert chunks[1:] == [b": heartbeat\n\n", b": heartbeat\n\n"]


def test_a_slow_client_is_dropped_and_never_waited_for(bus: EventBus) -> None:
    registry = CollectorRegistry()
    stream = make(bus, client_queue=3, metrics=StreamMetrics(registry))
    slow = Client(stream)
    keeper = Client(stream)
    next(slow.body)  # connected, then reads nothing more
    for n in range(10):
        event = CallCreated()
        bus.publish(event)  # returns at once, whoever is behind
        assert keeper.messages(1)[0]["id"] == event.id  # a reader keeping up stays
        assert stream.client_count == (2 if n < 3 else 1)  # the 4th found slow's queue full
    assert registry.get_sample_value("callcenter_sse_clients_dropped_total") == 1


def test_a_dropped_client_stream_ends(bus: EventBus) -> None:
    stream = make(bus, client_queue=1)
    slow = Client(stream)
    next(slow.body)
    first = CallCreated()
    bus.publish(first)
    bus.publish(CallCreated())  # queue full: dropped
    assert b"".join(slow.body) == b""  # the response ends at once, without a heartbeat's wait
    again = Client(stream, last_id="none-seen")  # it reconnects: the buffer has what it missed
    assert [m.get("id") for m in again.messages(3)][1:] == [first.id, stream_last(stream)]


def stream_last(stream: EventStream) -> str:
    return stream._ring[-1].id


def test_refuses_without_authorization_and_unknown_types(bus: EventBus) -> None:
    stream = EventStream(bus, lambda environ: False)
    client = Client(stream)
    assert client.status == "401 Unauthorized"
    assert json.loads(b"".join(client.body))["status"] == 401
    client = Client(make(bus), "types=call.ended,call.exploded")
    assert client.status == "400 Bad Request"
    assert "call.exploded" in json.loads(b"".join(client.body))["detail"]


def test_end_to_end_over_http_on_the_metrics_listener(bus: EventBus) -> None:
    stream = make(bus)
    server = MetricsServer(Address("127.0.0.1", 0), CollectorRegistry(), lambda: {"status": "ok"},
                           routes={PATH: stream})  # fmt: skip
    server.start()
    http = urllib3.PoolManager()
    try:
        response = http.request(
            "GET", f"http://127.0.0.1:{server.port}{PATH}?types=call.created",
            preload_content=False, timeout=5,
        )  # fmt: skip
        assert response.status == 200
        lines = _lines(response)
        until(lambda: stream.client_count == 1)
        event = CallCreated(call_uuid="c-9")
        bus.publish(ended())
        bus.publish(event)
        got: list[str] = []
        while f"id: {event.id}" not in got:  # heartbeats come every 0.05 s meanwhile
            got.append(next(lines))
            assert len(got) < 1000
        assert not any("call.ended" in line for line in got)  # filtered out
        response.release_conn()
    finally:
        server.stop()
        http.clear()


def _lines(response: urllib3.HTTPResponse) -> Iterator[str]:
    buffer = b""
    for chunk in response.stream(64, decode_content=False):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode()
    gevent.sleep(0)


def test_the_relay_sleeps_until_a_client_connects(bus: EventBus) -> None:
    # nobody listening: the relay waits on the stream instead of waking twice a second
    stream = make(bus)
    assert not stream.wait_for_clients(0.01)
    waiter = gevent.spawn(stream.wait_for_clients, 5.0)
    gevent.sleep(0)
    client = Client(stream)
    assert waiter.get(timeout=1) is True
    next(client.body)  # the connected comment
    client.body.close()  # the client goes: the stream is not listened to any more
    assert stream.client_count == 0
    assert not stream.wait_for_clients(0.01)
