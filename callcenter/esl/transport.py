"""greenswitch's ``InboundESL`` as the socket transport, with its reader replaced.

greenswitch reads line by line, URL-decodes whole event bodies before splitting them (a
caller ID name can forge a header that way), runs handlers serially in one greenlet,
waits for ``auth/request`` and replies without a timeout, and raises ``ValueError`` on a
wrong password. Here ``connect`` only opens the socket (with a timeout), and
``receive_events`` reads chunks through ``FrameParser`` and hands each message to a
callback; authentication, timeouts and correlation live in ``ESLConnection``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import gevent
from greenswitch.esl import InboundESL

from callcenter.esl.wire import FrameParser, Message

CHUNK = 256 * 1024


class ESLTransport(InboundESL):  # type: ignore[misc]
    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        timeout: float,
        on_message: Callable[[Message], None],
    ) -> None:
        super().__init__(host, port, password, timeout=timeout)
        self._on_message = on_message
        self._parser = FrameParser()
        self.sock: Any = None

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.connected = True

    def receive_events(self) -> None:
        """Read until the peer closes; raises ESLProtocolError if the framing breaks."""
        sock, feed, handle = self.sock, self._parser.feed, self._on_message  # no hop a message
        loop = gevent.get_hub().loop
        counted = hasattr(loop, "iteration")  # libev's loop counts its turns; libuv's does not
        try:
            while True:
                turn = loop.iteration if counted else -1
                try:
                    data = sock.recv(CHUNK)
                except OSError:
                    return
                if not data:
                    return
                for message in feed(data):
                    handle(message)
                # A socket with data never blocks, so a backlog would starve the call actors
                # reading their mailboxes (and overflow them): when this read did not wait
                # (the loop has not turned since the last one), let them run now. A read that
                # waited has let them run already, and the next one waits again: at a low
                # rate every event comes alone, and a yield here was two more switches each.
                if not counted or loop.iteration == turn:
                    gevent.sleep(0)
        finally:
            self.connected = False

    def handle_event(self, message: Message) -> None:
        self._on_message(message)

    def process_events(self) -> None:
        """greenswitch's handler loop is not used: events go to the callback directly."""

    def send_command(self, text: str) -> None:
        sock = self.sock
        if sock is None:
            raise ConnectionError("ESL socket is closed")
        sock.sendall(text.encode("utf-8") + b"\n\n")

    def close(self) -> None:
        self.connected = False
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()
