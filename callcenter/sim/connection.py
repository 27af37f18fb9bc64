"""One inbound ESL client: commands in, replies and events out, in FreeSWITCH's order.

The reader greenlet parses and runs commands one at a time (a blocking ``api`` holds
this connection's events until its response is queued, NOTES §1). Everything written
goes through one queue drained by a writer greenlet, so replies and events never
interleave mid-message and a slow client never blocks the switch.
"""

from __future__ import annotations

import logging
import re
import socket
from typing import TYPE_CHECKING

from gevent.event import Event
from gevent.queue import Empty, Queue

from callcenter.sim import encoding
from callcenter.sim.events import SimEvent
from callcenter.sim.hub import Subscription
from callcenter.sim.session import ExecRequest

if TYPE_CHECKING:
    from callcenter.sim.api import Api
    from callcenter.sim.core import SimCore

log = logging.getLogger(__name__)

READ_TIMEOUT = 30.0
MAX_QUEUED = 200_000
_CLOSE = b""
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")


class Connection:
    def __init__(self, core: SimCore, api: Api, password: str, sock: socket.socket, ident: int):
        self.core = core
        self.api = api
        self.password = password
        self.sock = sock
        self.ident = ident
        self.subscription = Subscription()
        self.authed = False
        self.closed = Event()
        self._out: Queue[bytes] = Queue()
        self._held: list[bytes] | None = None
        self._buffer = bytearray()

    # -- output ------------------------------------------------------------------------
    def deliver(self, event: SimEvent) -> None:
        if self.closed.is_set():
            return
        data = event.encoded(self.subscription.fmt)
        if self._held is not None:
            self._held.append(data)
        elif self._out.qsize() > MAX_QUEUED:
            log.warning("sim: ESL client %s is not reading; disconnecting it", self.ident)
            self.abort()
        else:
            self._out.put(data)

    def send(self, data: bytes) -> None:
        self._out.put(data)

    def _writer(self) -> None:
        while True:
            try:
                first = self._out.get(timeout=READ_TIMEOUT)
            except Empty:
                if self.closed.is_set():
                    return
                continue
            batch = [first]
            while first != _CLOSE and len(batch) < 512 and not self._out.empty():
                first = self._out.get_nowait()
                batch.append(first)
            try:
                self.sock.sendall(b"".join(batch))
            except OSError:
                self.abort()
                return
            if batch[-1] == _CLOSE:
                self.abort()
                return

    def abort(self) -> None:
        """Drop the socket at once (also how ``drop_clients`` kills connections)."""
        if self.closed.is_set():
            return
        self.closed.set()
        self.core.hub.remove(self)
        self._out.put(_CLOSE)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            log.debug("sim: socket of client %s already gone", self.ident)
        self.sock.close()

    def _goodbye(self, reply: str) -> None:
        self.send(encoding.command_reply(reply))
        self.send(encoding.disconnect_notice())
        self._out.put(_CLOSE)

    # -- input -------------------------------------------------------------------------
    def serve(self) -> None:
        self.core.spawn(self._writer, name=f"esl-writer-{self.ident}")
        self.send(encoding.auth_request())
        self.sock.settimeout(READ_TIMEOUT)
        try:
            while not self.closed.is_set():
                message = self._read_message()
                if message is None:
                    break
                self._handle(*message)
        finally:
            if not self.closed.is_set():
                self.abort()

    def _fill(self) -> bool:
        """Read more bytes into the buffer; False when the client is gone."""
        while not self.closed.is_set():
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return False
            if not chunk:
                return False
            self._buffer += chunk
            return True
        return False

    def _read_message(self) -> tuple[str, dict[str, str], str] | None:
        while True:
            while self._buffer[:1] in (bytearray(b"\r"), bytearray(b"\n")):
                del self._buffer[:1]
            match = _END_OF_HEAD.search(self._buffer)
            if match is not None:
                break
            if not self._fill():
                return None
        head = bytes(self._buffer[: match.start()])
        del self._buffer[: match.end()]
        lines = head.decode("utf-8", "replace").replace("\r", "").split("\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length", "")
        size = int(length) if length.isdigit() else 0
        while len(self._buffer) < size:
            if not self._fill():
                return None
        body = bytes(self._buffer[:size])
        del self._buffer[:size]
        return lines[0], headers, body.decode("utf-8", "replace")

    def _handle(self, line: str, headers: dict[str, str], body: str) -> None:
        self.core.record(self.ident, line, headers)
        command, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if not self.authed:
            if command != "auth":
                self.send(encoding.command_reply("-ERR command not found"))
            elif rest == self.password:
                self.authed = True
                self.send(encoding.command_reply("+OK accepted"))
            else:
                self._goodbye("-ERR invalid")
            return
        handler = getattr(self, f"_cmd_{command}", None)
        if handler is None:
            self.send(encoding.command_reply("-ERR command not found"))
            return
        handler(rest, headers, body)

    def _reply(self, text: str) -> None:
        self.send(encoding.command_reply(text))

    def _cmd_exit(self, _rest: str, _headers: dict[str, str], _body: str) -> None:
        self._goodbye("+OK bye")

    def _cmd_auth(self, _rest: str, _headers: dict[str, str], _body: str) -> None:
        self._reply("-ERR command not found")

    def _cmd_event(self, rest: str, _headers: dict[str, str], _body: str) -> None:
        tokens = rest.split()
        fmt = tokens[0].lower() if tokens else ""
        if fmt not in ("json", "plain", "xml") or len(tokens) < 2:
            self._reply("-ERR no keywords supplied")
            return
        self.subscription.subscribe("json" if fmt == "json" else "plain", tokens[1:])
        if self not in self.core.hub.subscribers:
            self.core.hub.add(self)
        self._reply(f"+OK event listener enabled {fmt}")

    def _cmd_nixevent(self, rest: str, _headers: dict[str, str], _body: str) -> None:
        self.subscription.nix(rest.split())
        self._reply("+OK events nixed")

    def _cmd_noevents(self, _rest: str, _headers: dict[str, str], _body: str) -> None:
        if not self.subscription.listening:
            self._reply("-ERR not listening for events")
            return
        self.subscription.clear()
        self._reply("+OK no longer listening for events")

    def _cmd_filter(self, rest: str, _headers: dict[str, str], _body: str) -> None:
        tokens = rest.split(None, 2)
        if tokens[:1] == ["delete"] and len(tokens) >= 2:
            value = tokens[2] if len(tokens) > 2 else None
            self.subscription.delete_filter(tokens[1], value)
            shown = f"[{tokens[1]}][{value}]" if value is not None else f"[{tokens[1]}]"
            self._reply(f"+OK filter deleted. {shown}")
        elif len(tokens) >= 2 and tokens[0] != "delete":
            value = rest.split(None, 1)[1]
            self.subscription.add_filter(tokens[0], value)
            self._reply(f"+OK filter added. [{tokens[0]}]=[{value}]")
        else:
            self._reply("-ERR invalid syntax")

    def _cmd_linger(self, _rest: str, _headers: dict[str, str], _body: str) -> None:
        self._reply("-ERR not controlling a session")

    _cmd_nolinger = _cmd_linger

    def _cmd_divert_events(self, _rest: str, _headers: dict[str, str], _body: str) -> None:
        self._reply("-ERR not controlling a session.")

    def _cmd_myevents(self, rest: str, _headers: dict[str, str], _body: str) -> None:
        tokens = rest.split()
        if not tokens or self.core.session(tokens[0]) is None:
            self._reply("-ERR invalid uuid")
            return
        fmt = tokens[1] if len(tokens) > 1 and tokens[1] in ("json", "plain") else "plain"
        self.subscription.subscribe(fmt, ["ALL"])
        self.subscription.add_filter("Unique-ID", tokens[0])
        if self not in self.core.hub.subscribers:
            self.core.hub.add(self)
        self._reply("+OK Events Enabled")

    def _cmd_api(self, rest: str, _headers: dict[str, str], _body: str) -> None:
        if not rest:
            self._reply("-ERR command not found")
            return
        command, _, args = rest.partition(" ")
        self._held = []
        try:
            response = self.api.execute(command, args.strip())
        finally:
            held, self._held = self._held, None
        self.send(encoding.api_response(response))
        for data in held:
            self._out.put(data)

    def _cmd_bgapi(self, rest: str, headers: dict[str, str], _body: str) -> None:
        job_uuid = headers.get("job-uuid") or self.core.new_uuid()
        self.send(encoding.command_reply(f"+OK Job-UUID: {job_uuid}", (("Job-UUID", job_uuid),)))
        command, _, args = rest.partition(" ")
        self.core.spawn(self._job, job_uuid, command, args.strip(), name=f"bgapi-{job_uuid}")

    def _job(self, job_uuid: str, command: str, args: str) -> None:
        from callcenter.sim.originate import originate

        def done(body: str) -> None:
            self.core.hub.emit(self.core.factory.background_job(job_uuid, command, args, body))

        if command == "originate":
            originate(self.core, args, done)
        else:
            done(self.api.execute(command, args))

    def _cmd_sendmsg(self, rest: str, headers: dict[str, str], body: str) -> None:
        uuid = rest.split()[0] if rest else ""
        session = self.core.session(uuid)
        if session is None:
            self._reply(f"-ERR invalid session id [{uuid}]")
            return
        kind = headers.get("call-command", "execute")
        if kind == "execute":
            arg = body if body else headers.get("execute-app-arg", "")
            loops = headers.get("loops", "1")
            session.inbox.put(
                ExecRequest(
                    headers.get("execute-app-name", ""),
                    arg,
                    headers.get("event-uuid") or None,
                    int(loops) if loops.lstrip("-").isdigit() else 1,
                )
            )
        elif kind == "hangup":
            session.hangup(headers.get("hangup-cause", "NORMAL_CLEARING"), "send_bye")
        self._reply("+OK")
