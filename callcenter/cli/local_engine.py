"""The engine on this host, for commands that show live figures beside the database
(``top``, ``campaign show``): its API on ``metrics_listen``, with a read token made for the
run and deleted at its end."""

from __future__ import annotations

import contextlib
import os
import re
import socket

from callcenter.cli import Context
from callcenter.cli.remote import RemoteApi
from callcenter.services import tokens

PROBE = 0.5  # seconds: a TCP connect to the listener, before any token is made


def _host(ctx: Context) -> tuple[str, int]:
    address = ctx.settings.metrics_listen
    host = "127.0.0.1" if address.host in ("", "0.0.0.0", "::") else address.host
    return host, address.port


def listening(ctx: Context) -> bool:
    """Something accepts connections on this host's ``metrics_listen``."""
    try:
        with socket.create_connection(_host(ctx), timeout=PROBE):
            return True
    except OSError:
        return False


def local_api(ctx: Context, cleanup: contextlib.ExitStack, purpose: str) -> RemoteApi:
    """The engine on this host, with a read token made for this run and deleted after it."""
    host, port = _host(ctx)
    name = f"{purpose}-{socket.gethostname()}-{os.getpid()}"
    name = re.sub(r"[^a-z0-9_.-]", "-", name.lower())[:64]
    made = tokens.create(ctx.database, ctx.who, name, "read")
    cleanup.callback(tokens.discard, ctx.database, ctx.who, name)
    return RemoteApi(f"http://{host}:{port}", made.secret)
