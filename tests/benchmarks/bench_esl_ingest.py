"""ESL ingest benchmark: events parsed, dispatched and consumed per second.

Run: .venv/bin/python tests/benchmarks/bench_esl_ingest.py [--events 50000]

Replays the recorded s11 streams (real FreeSWITCH, `event json ALL` / `event plain ALL`,
3 calls of 52 channel events, 1-10 KB each), repeated to about N events, through a
socketpair, and times each side from the first byte sent to the last event consumed:

- ours: socket chunks -> FrameParser -> ESLConnection's own dispatch (parse_event, the
  events counter, Pending, on_event) -> an on_event that does what CallManager does (a
  Call at CHANNEL_PARK, its Mailbox attached to the EventRouter) -> one actor greenlet
  per call draining its mailbox into Call.apply (CallTimeline: timestamps, Channel-Name,
  Hangup-Cause, Other-Leg-Unique-ID, variable_sip_hangup_disposition...) and reading the
  digits variables of its play_and_get_digits completion, as CallControl does; the call's
  record is built when it ends.
- greenswitch 0.0.19: its own reader (readline + ESLEvent + handle_event) and handler
  loop (process_events) calling one '*' handler that only counts, on the plain bytes.
  greenswitch cannot read `text/event-json` (its parser needs `Name: value` lines), so
  plain is its only figure and both of ours are compared with it.
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import gc
import gzip
import os
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import gevent
from gevent import socket
from gevent.pool import Group
from greenswitch.esl import ESLProtocol
from prometheus_client import CollectorRegistry

from callcenter.calls.call import Call
from callcenter.calls.mailbox import Mailbox
from callcenter.esl.connection import ESLConnection
from callcenter.esl.events import EVENT_CONTENT_TYPES, Event, parse_event, parse_event_eagerly
from callcenter.esl.router import EventRouter
from callcenter.esl.wire import FrameParser, Message
from callcenter.metrics.esl import ESLMetrics

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "esl"
SUBSCRIBED = {
    "plain": b"+OK event listener enabled plain\n\n",
    "json": b"+OK event listener enabled json\n\n",
}
CALLS_PER_STREAM = 3
TARGET_RATIO = 10.0  # issue 9: the engine's json ingest >= 10x greenswitch's plain parse


def events_only(encoding: str) -> tuple[bytes, int]:
    raw = gzip.decompress((FIXTURES / f"s11-timing-{encoding}.esl.gz").read_bytes())
    stream = raw.split(SUBSCRIBED[encoding], 1)[1]
    count = sum(m.content_type in EVENT_CONTENT_TYPES for m in FrameParser().feed(stream))
    return stream, count


def repeated(encoding: str, target: int) -> tuple[bytes, int, int]:
    stream, count = events_only(encoding)
    times = max(1, round(target / count))
    return stream * times, count * times, times


def event_messages(data: bytes) -> list[Message]:
    return [m for m in FrameParser().feed(data) if m.content_type in EVENT_CONTENT_TYPES]


def digits_completions(data: bytes) -> frozenset[str]:
    """Application-UUIDs of play_and_get_digits completions: the executes whose variables
    the engine reads (it knows them because it sent them)."""
    out = set()
    for message in event_messages(data):
        event = parse_event_eagerly(message)
        if event.name == "CHANNEL_EXECUTE_COMPLETE" and event.application == "play_and_get_digits":
            out.add(event.application_uuid or "")
    return frozenset(out)


class Feed:
    """The stream arriving on a socket from another process, as FreeSWITCH's would: the
    writer's CPU is not timed, only the reader's (receive, parse, dispatch, consume)."""

    def __init__(self, data: bytes) -> None:
        left, self.sock = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:  # the child writes with plain blocking syscalls, no gevent
            self.sock.close()
            fd = left.fileno()
            os.set_blocking(fd, True)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os._exit(0)
        left.close()

    def close(self) -> None:
        self.sock.close()
        os.waitpid(self.pid, 0)


@dataclass(frozen=True)
class Timing:
    events: int
    cpu: float  # seconds of CPU used by this (the reading) process: the capacity figure
    wall: float

    @property
    def rate(self) -> float:
        return self.events / self.cpu

    @property
    def wall_rate(self) -> float:
        return self.events / self.wall


class Clock:
    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def stop(self, events: int) -> Timing:
        return Timing(events, time.process_time() - self.cpu, time.perf_counter() - self.wall)


@dataclass
class _Node:
    name: str = "bench"
    host: str = "127.0.0.1"
    port: int = 8021
    password: str = "ClueCon"


@dataclass
class Engine:
    """CallManager.on_event and CallActor's event loop, minus the FreeSWITCH commands."""

    router: EventRouter
    digits_uuids: frozenset[str]
    group: Group = field(default_factory=Group)
    live: dict[str, Call] = field(default_factory=dict)
    records: list[object] = field(default_factory=list)
    digits: list[str | None] = field(default_factory=list)

    def on_event(self, event: Event) -> None:
        name = event.name
        if name == "CHANNEL_PARK":
            uuid = event.unique_id
            if uuid is not None and uuid not in self.live:
                call = self.live[uuid] = Call.from_park(event, "bench")
                mailbox = Mailbox(uuid, 10**6)
                self.router.attach_call(uuid, mailbox)
                self.group.spawn(self._actor, call, mailbox)
        elif name == "CHANNEL_EXECUTE_COMPLETE" and (
            event.application_uuid in self.digits_uuids
        ):  # what the connection's pending execute hands to CallControl.collect_digits
            self.digits.append(event.variable("cc_digits"))
            self.digits.append(event.variable("read_result"))
        self.router.route(event)

    def _actor(self, call: Call, mailbox: Mailbox) -> None:
        while not call.finished:
            event = mailbox.get(timeout=10.0)
            if event is None:
                raise RuntimeError(f"call {call.uuid}: no event for 10 s")
            call.apply(event)
        self.router.unregister_call(call.uuid)
        del self.live[call.uuid]
        self.records.append(call.to_record())


def ours(data: bytes, expected: int, calls: int, digits_uuids: frozenset[str]) -> Timing:
    feed = Feed(data)
    right = feed.sock
    router = EventRouter(mailbox_size=10**6)
    engine = Engine(router, digits_uuids)
    metrics = ESLMetrics(CollectorRegistry())
    connection = ESLConnection(_Node(), on_event=engine.on_event, metrics=metrics)
    dispatch = connection._dispatch  # the reader's own path: parse, count, resolve, on_event
    clock = Clock()
    parser = FrameParser()
    while True:
        chunk = right.recv(256 * 1024)
        if not chunk:
            break
        for message in parser.feed(chunk):
            dispatch(message)
        gevent.sleep(0)  # the actors run between chunks (recv does not yield while data waits)
    engine.group.join(raise_error=True)
    timing = clock.stop(expected)
    feed.close()
    counted = metrics.events_total()
    assert counted == expected, (counted, expected)
    assert len(engine.records) == calls and not engine.live, (len(engine.records), calls)
    assert len(engine.digits) == 2 * calls and all(engine.digits), engine.digits[:4]
    return timing


def greenswitch(data: bytes, expected: int) -> Timing:
    feed = Feed(data)
    right = feed.sock
    proto = ESLProtocol()
    proto.sock = right
    proto.sock_file = right.makefile("rb")
    proto.connected = False  # else its reader stops the handler loop at EOF
    seen = [0]

    def handler(event: object) -> None:
        seen[0] += 1

    proto.register_handle("*", handler)
    clock = Clock()
    processor = gevent.spawn(proto.process_events)
    proto.receive_events()
    while seen[0] < expected:
        gevent.sleep(0.001)
    timing = clock.stop(expected)
    proto._run = False
    processor.join(timeout=2)
    feed.close()
    return timing


def memory_per_10k(data: bytes, decode: bool) -> float:
    """MB held by a backlog of 10,000 events (frames parsed, events kept), per tracemalloc."""
    gc.collect()
    tracemalloc.start()
    parser, events, pos = FrameParser(), [], 0
    while len(events) < 10_000 and pos < len(data):
        for message in parser.feed(data[pos : pos + 256 * 1024]):
            if message.content_type in EVENT_CONTENT_TYPES:
                events.append(parse_event(message))
        pos += 256 * 1024
    del parser
    if decode:
        for event in events:
            event.headers  # noqa: B018
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current / 1e6 * 10_000 / len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory figures")
    args = parser.parse_args()
    plain, n_plain, times_plain = repeated("plain", args.events)
    js, n_json, times_json = repeated("json", args.events)
    print(f"plain stream: {n_plain} events, {len(plain) / 1e6:.1f} MB")
    print(f"json stream:  {n_json} events, {len(js) / 1e6:.1f} MB")
    digits = digits_completions(js)
    runs: dict[str, list[Timing]] = {"ours, json": [], "ours, plain": [], "greenswitch, plain": []}
    for _ in range(args.repeat):  # interleaved, so a busy moment hits every side alike
        runs["ours, json"].append(ours(js, n_json, CALLS_PER_STREAM * times_json, digits))
        runs["ours, plain"].append(ours(plain, n_plain, CALLS_PER_STREAM * times_plain, digits))
        runs["greenswitch, plain"].append(greenswitch(plain, n_plain))
    best = {label: max(timings, key=lambda t: t.rate) for label, timings in runs.items()}
    print(f"best of {args.repeat}; events per CPU-second of the reading process (wall clock):")
    for label, t in best.items():
        print(
            f"  {label + ':':20} {t.rate:8.0f} events/s {1e6 / t.rate:6.1f} us/event"
            f"   ({t.wall_rate:6.0f} events/s wall)"
        )
    theirs = best["greenswitch, plain"].rate
    json_ratio = best["ours, json"].rate / theirs
    verdict = "PASS" if json_ratio >= TARGET_RATIO else "MISS"
    print(
        f"ratio ours json  / greenswitch plain: {json_ratio:.1f}x   target >= "
        f"{TARGET_RATIO:.0f}x  {verdict} (the engine subscribes in json)"
    )
    print(f"ratio ours plain / greenswitch plain: {best['ours, plain'].rate / theirs:.1f}x")
    if not args.no_memory:
        for label, data in (("json", js), ("plain", plain)):
            lazy, full = memory_per_10k(data, False), memory_per_10k(data, True)
            print(
                f"memory, 10k {label} events buffered: {lazy:.0f} MB as received, "
                f"{full:.0f} MB with every header decoded"
            )


if __name__ == "__main__":
    main()
