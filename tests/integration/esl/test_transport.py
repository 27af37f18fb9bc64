"""The reader's yields: a backlog in the socket never starves the other greenlets (call
actors), and a read that waited adds no yield of its own."""

from __future__ import annotations

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on
import socket

import gevent
from greenlet import settrace

from callcenter.esl import transport as transport_module
from callcenter.esl.transport import ESLTransport
from callcenter.esl.wire import Message

from .fake_fs import event


def _reader(on_message: object) -> tuple[ESLTransport, socket.socket]:
    ours, theirs = socket.socketpair()
    reader = ESLTransport("127.0.0.1", 0, "x", timeout=1.0, on_message=on_message)  # type: ignore[arg-type]
    reader.sock = ours
    return reader, theirs


def test_a_backlog_lets_other_greenlets_run_between_reads(monkeypatch: object) -> None:
    one = event("CHANNEL_ANSWER", Unique_ID="u" * 36)
    monkeypatch.setattr(transport_module, "CHUNK", len(one) * 2)  # type: ignore[attr-defined]
    ticks = 0
    seen: list[int] = []  # the ticks of the other greenlet when each message was handled

    def other() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            gevent.sleep(0)

    reader, peer = _reader(lambda message: seen.append(ticks))
    peer.sendall(one * 40)  # all in the socket before the first read: no read ever waits
    peer.close()
    ticker = gevent.spawn(other)
    gevent.sleep(0)
    try:
        reader.receive_events()  # returns when the peer's close is read
    finally:
        ticker.kill()
    assert len(seen) == 40
    # two events a read: the other greenlet ran after every read, so at least 19 times
    assert seen[-1] - seen[0] >= 19


def test_a_read_that_waited_does_not_yield_again() -> None:
    handled: list[Message] = []
    reader, peer = _reader(handled.append)
    hub = gevent.get_hub()
    greenlet = gevent.spawn(reader.receive_events)
    gevent.sleep(0.05)  # the reader waits on its socket
    to_hub: list[object] = []  # the reader's switches to the hub

    def trace(what: str, args: tuple[object, object]) -> None:
        if what == "switch" and args[0] is greenlet and args[1] is hub:
            to_hub.append(args)

    previous = settrace(trace)
    try:
        peer.sendall(event("CHANNEL_ANSWER", Unique_ID="u" * 36))
        gevent.sleep(0.05)
    finally:
        settrace(previous)
    peer.close()
    greenlet.join(timeout=2)
    assert len(handled) == 1
    # one switch: back to waiting on its socket (it used to sleep(0) after every read too,
    # two more switches for each event a quiet site receives)
    assert len(to_hub) == 1
