"""ESL ingest benchmark: events parsed and dispatched per second.

Run: .venv/bin/python tests/benchmarks/bench_esl_ingest.py [--events 50000]

Replays the recorded s11 streams (real FreeSWITCH, `event plain ALL` / `event json ALL`),
repeated to about N events, through a socketpair:
- ours: socket chunks -> FrameParser -> parse_event -> EventRouter (call mailboxes + a subscriber);
- greenswitch 0.0.19: its own reader (readline + ESLEvent + handle_event) and its handler
  loop (process_events) calling one '*' handler, on the same plain bytes.
"""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401

# isort: on
import argparse
import gzip
import time
from pathlib import Path

import gevent
from gevent import socket
from greenswitch.esl import ESLProtocol

from callcenter.esl.events import EVENT_CONTENT_TYPES, parse_event
from callcenter.esl.router import EventRouter
from callcenter.esl.wire import FrameParser

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "esl"
SUBSCRIBED = {
    "plain": b"+OK event listener enabled plain\n\n",
    "json": b"+OK event listener enabled json\n\n",
}


def events_only(encoding: str) -> tuple[bytes, int]:
    raw = gzip.decompress((FIXTURES / f"s11-timing-{encoding}.esl.gz").read_bytes())
    stream = raw.split(SUBSCRIBED[encoding], 1)[1]
    count = sum(m.content_type in EVENT_CONTENT_TYPES for m in FrameParser().feed(stream))
    return stream, count


def repeated(encoding: str, target: int) -> tuple[bytes, int]:
    stream, count = events_only(encoding)
    times = max(1, round(target / count))
    return stream * times, count * times


def _writer(sock: socket.socket, data: bytes) -> None:
    sock.sendall(data)
    sock.close()


def ours(data: bytes, expected: int) -> float:
    left, right = socket.socketpair()
    router = EventRouter(mailbox_size=10**7)
    cdr = router.subscribe("cdr", maxsize=10**7)
    for uid in set(_unique_ids(data)):
        router.register_call(uid)
    started = time.perf_counter()
    writer = gevent.spawn(_writer, left, data)
    parser, routed = FrameParser(), 0
    while True:
        chunk = right.recv(256 * 1024)
        if not chunk:
            break
        for message in parser.feed(chunk):
            if message.content_type in EVENT_CONTENT_TYPES:
                router.route(parse_event(message))
                routed += 1
    elapsed = time.perf_counter() - started
    writer.join()
    right.close()
    assert routed == expected == cdr.qsize(), (routed, expected, cdr.qsize())
    return expected / elapsed


def _unique_ids(data: bytes) -> list[str]:
    out = []
    for message in FrameParser().feed(data[:2_000_000]):
        if message.content_type in EVENT_CONTENT_TYPES:
            uid = parse_event(message).unique_id
            if uid:
                out.append(uid)
    return out


def greenswitch(data: bytes, expected: int) -> float:
    left, right = socket.socketpair()
    proto = ESLProtocol()
    proto.sock = right
    proto.sock_file = right.makefile("rb")
    proto.connected = False  # else its reader stops the handler loop at EOF
    seen = [0]

    def handler(event: object) -> None:
        seen[0] += 1

    proto.register_handle("*", handler)
    started = time.perf_counter()
    writer = gevent.spawn(_writer, left, data)
    processor = gevent.spawn(proto.process_events)
    proto.receive_events()
    while seen[0] < expected:
        gevent.sleep(0.001)
    elapsed = time.perf_counter() - started
    proto._run = False
    processor.join(timeout=2)
    writer.join()
    right.close()
    return expected / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    plain, n_plain = repeated("plain", args.events)
    js, n_json = repeated("json", args.events)
    print(f"plain stream: {n_plain} events, {len(plain) / 1e6:.1f} MB")
    print(f"json stream:  {n_json} events, {len(js) / 1e6:.1f} MB")
    ours_plain = ours(plain, n_plain)
    print(f"ours, plain:        {ours_plain:10.0f} events/s", flush=True)
    ours_json = ours(js, n_json)
    print(f"ours, json:         {ours_json:10.0f} events/s", flush=True)
    theirs = greenswitch(plain, n_plain)
    print(f"greenswitch, plain: {theirs:10.0f} events/s")
    print(f"ratio ours/greenswitch (plain): {ours_plain / theirs:.1f}x")
    print(f"ratio ours json / greenswitch plain: {ours_json / theirs:.1f}x")


if __name__ == "__main__":
    main()
