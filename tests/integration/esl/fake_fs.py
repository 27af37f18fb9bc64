"""A scripted FreeSWITCH stand-in for the connection tests: real TCP on 127.0.0.1 port 0,
records every command, replies by script, and lets the test push events or raw bytes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.server import StreamServer

DISCONNECT = (
    b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
    b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
)


def reply(text: str, **headers: str) -> bytes:
    extra = "".join(f"{k}: {v}\n" for k, v in headers.items())
    return f"Content-Type: command/reply\nReply-Text: {text}\n{extra}\n".encode()


def api_response(body: str) -> bytes:
    raw = body.encode()
    return b"Content-Type: api/response\nContent-Length: %d\n\n%s" % (len(raw), raw)


def event(name: str, body: str | None = None, **headers: str) -> bytes:
    obj: dict[str, str] = {
        "Event-Name": name,
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    if body is not None:
        obj["Content-Length"] = str(len(body.encode()))
        obj["_body"] = body
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    return b"Content-Length: %d\nContent-Type: text/event-json\n\n%s" % (len(raw), raw)


@dataclass
class Conn:
    sock: Any
    commands: list[str] = field(default_factory=list)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def kill(self) -> None:
        self.sock.close()


Script = Callable[["Conn", str], bytes | None]


class FakeFreeSWITCH:
    def __init__(self, password: str = "ClueCon") -> None:
        self.password = password
        self.commands: list[str] = []
        self.connections: list[Conn] = []
        self.script: Script = self.default
        self.server = StreamServer(("127.0.0.1", 0), self._serve)

    def __enter__(self) -> FakeFreeSWITCH:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for conn in self.connections:
            conn.kill()
        self.server.stop(timeout=1)

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def current(self) -> Conn:
        return self.connections[-1]

    def push(self, data: bytes) -> None:
        self.current.send(data)

    def _serve(self, sock: Any, _addr: Any) -> None:
        conn = Conn(sock)
        self.connections.append(conn)
        sock.sendall(b"Content-Type: auth/request\n\n")
        buf = b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n\n" in buf:
                    raw, buf = buf.split(b"\n\n", 1)
                    text = raw.decode()
                    conn.commands.append(text)
                    self.commands.append(text)
                    out = self._answer(conn, text)
                    if out:
                        sock.sendall(out)
        except OSError:
            return

    def _answer(self, conn: Conn, text: str) -> bytes | None:
        if text.startswith("auth "):
            if text[5:] == self.password:
                return reply("+OK accepted")
            conn.send(reply("-ERR invalid") + DISCONNECT)
            conn.kill()
            return None
        if text.startswith("event json"):
            return reply("+OK event listener enabled json")
        if text == "exit":
            conn.send(reply("+OK bye") + DISCONNECT)
            conn.kill()
            return None
        return self.script(conn, text)

    def default(self, conn: Conn, text: str) -> bytes | None:
        if text.startswith("api "):
            return api_response("+OK\n")
        if text.startswith("bgapi "):
            job = re.search(r"Job-UUID: (\S+)", text)
            assert job
            gevent.spawn_later(
                0.01, conn.send, event("BACKGROUND_JOB", "+OK done\n", Job_UUID=job.group(1))
            )
            return reply(f"+OK Job-UUID: {job.group(1)}", **{"Job-UUID": job.group(1)})
        if text.startswith("sendmsg "):
            return reply("+OK") + complete(text)
        return reply("-ERR command not found")


def sendmsg_fields(text: str) -> dict[str, str]:
    lines = text.split("\n")
    out = {"uuid": lines[0].split(" ", 1)[1]}
    for line in lines[1:]:
        k, _, v = line.partition(": ")
        out[k] = v
    return out


def complete(text: str, response: str = "_none_") -> bytes:
    f = sendmsg_fields(text)
    common = {
        "Unique_ID": f["uuid"],
        "Application": f.get("execute-app-name", ""),
        "Application_UUID": f.get("Event-UUID", ""),
    }
    return event("CHANNEL_EXECUTE", **common) + event(
        "CHANNEL_EXECUTE_COMPLETE", Application_Response=response, **common
    )
