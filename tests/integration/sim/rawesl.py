"""A minimal raw-socket ESL client for testing the simulator (deliberately not callcenter.esl)."""

from __future__ import annotations

import json
import socket
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from urllib.parse import unquote

import gevent
from gevent.event import Event
from gevent.queue import Empty, Queue


@dataclass
class Message:
    headers: dict[str, str]
    body: str
    raw: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


@dataclass
class EventMsg:
    name: str
    headers: dict[str, str]
    body: str | None
    duplicates: list[tuple[str, str]] = field(default_factory=list)

    def __getitem__(self, key: str) -> str:
        return self.headers[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.headers.get(key, default)


def parse_event(msg: Message) -> EventMsg:
    if msg.content_type == "text/event-json":
        pairs = json.loads(msg.body, object_pairs_hook=list)
        headers = dict(pairs)
        body = headers.pop("_body", None)
        return EventMsg(headers["Event-Name"], headers, body, pairs)
    head, _, rest = msg.body.partition("\n\n")
    pairs = []
    for line in head.split("\n"):
        if line:
            name, _, value = line.partition(": ")
            pairs.append((name, unquote(value)))
    headers = dict(pairs)
    body = rest if "Content-Length" in headers else None
    return EventMsg(headers["Event-Name"], headers, body, pairs)


class RawESL:
    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.buffer = b""
        self.replies: Queue = Queue()
        self.events: list[EventMsg] = []
        self.raw: list[Message] = []
        self.closed = Event()
        self.disconnect: Message | None = None
        self.reader = gevent.spawn(self._read)

    def _read_message(self) -> Message | None:
        while b"\n\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\n\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\n"))
        size = int(headers.get("Content-Length", "0"))
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return Message(headers, body.decode(), head + b"\n\n" + body)

    def _read(self) -> None:
        try:
            while True:
                msg = self._read_message()
                if msg is None:
                    break
                self.raw.append(msg)
                if msg.content_type.startswith("text/event"):
                    self.events.append(parse_event(msg))
                elif msg.content_type == "text/disconnect-notice":
                    self.disconnect = msg
                else:
                    self.replies.put(msg)
        except OSError:
            pass
        finally:
            self.closed.set()

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def reply(self, timeout: float = 5.0) -> Message:
        try:
            return self.replies.get(timeout=timeout)
        except Empty:
            raise AssertionError("no reply from the simulator") from None

    def command(self, line: str, *headers: str) -> Message:
        self.send("\n".join([line, *headers]) + "\n\n")
        return self.reply()

    def auth(self, password: str = "ClueCon") -> Message:
        greeting = self.reply()
        assert greeting.content_type == "auth/request"
        return self.command(f"auth {password}")

    def api(self, cmd: str) -> str:
        msg = self.command(f"api {cmd}")
        assert msg.content_type == "api/response"
        return msg.body

    def sendmsg(self, uuid: str, app: str, arg: str = "", event_uuid: str | None = None) -> str:
        event_uuid = event_uuid or str(uuidlib.uuid4())
        headers = ["call-command: execute", f"execute-app-name: {app}"]
        if arg:
            headers.append(f"execute-app-arg: {arg}")
        headers.append(f"Event-UUID: {event_uuid}")
        msg = self.command(f"sendmsg {uuid}", *headers)
        assert msg.headers["Reply-Text"] == "+OK", msg.headers
        return event_uuid

    def find(self, name: str, **match: str) -> list[EventMsg]:
        return [
            e
            for e in self.events
            if e.name == name
            and all(e.headers.get(k.replace("_", "-")) == v for k, v in match.items())
        ]

    def names_for(self, uuid: str, ignore: frozenset[str] = frozenset()) -> list[str]:
        out = []
        for e in self.events:
            if e.headers.get("Unique-ID") != uuid or e.name in ignore:
                continue
            out.append(_label(e))
        return out

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            self.reader.kill(timeout=1)


def _label(e: EventMsg) -> str:
    if e.name == "CHANNEL_STATE":
        return "st:" + e.headers["Channel-State"]
    if e.name == "CHANNEL_CALLSTATE":
        return "cs:" + e.headers["Channel-Call-State"]
    if e.name in ("CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE"):
        kind = "EXEC" if e.name == "CHANNEL_EXECUTE" else "DONE"
        return f"{kind}({e.headers['Application']})"
    return e.name.removeprefix("CHANNEL_")


def wait_until(predicate, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        gevent.sleep(0.005)
