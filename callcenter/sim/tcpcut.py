"""A TCP proxy that a test, a benchmark or the soak can cut: as if the server behind it
(PostgreSQL, a FreeSWITCH's event socket) went away, then came back."""

from __future__ import annotations

import contextlib
import socket

import gevent
from gevent.server import StreamServer


class TcpCut:
    """Forwards 127.0.0.1:<port> to ``target``; ``cut`` closes every connection and refuses
    new ones until ``restore``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = True
        self._socks: list[socket.socket] = []
        self.server = StreamServer(("127.0.0.1", 0), self._handle)
        self.server.start()

    @property
    def port(self) -> int:
        return int(self.server.address[1])

    def _handle(self, client: socket.socket, _addr: object) -> None:
        if not self.up:
            client.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        self._socks += [client, upstream]
        gevent.joinall(
            [gevent.spawn(_pump, client, upstream), gevent.spawn(_pump, upstream, client)]
        )
        for sock in (client, upstream):
            with contextlib.suppress(ValueError):
                self._socks.remove(sock)

    def cut(self) -> None:
        self.up = False
        for sock in list(self._socks):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._socks.clear()

    def restore(self) -> None:
        self.up = True

    def stop(self) -> None:
        self.cut()
        self.server.stop(timeout=1)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        return
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
