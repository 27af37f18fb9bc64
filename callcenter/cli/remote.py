"""The CLI against a remote engine: with ``--api-url``/``--api-token`` (or
``CALLCENTER_API_URL``/``CALLCENTER_API_TOKEN``) the operator commands go through the
engine's HTTP API instead of the database.

``install`` wraps the callbacks of the commands listed in ``COMMANDS``: without an API
URL they run as written (services over the database); with one, the remote twin here
sends the same operation to ``/api/v1`` and prints the answer. A problem+json refusal
becomes the same one-line error as a local one (``error: <detail> [<code>]``).
"""

from __future__ import annotations

import functools
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import click

from callcenter.errors import CallCenterError

META = "callcenter.remote"
TIMEOUT = 10.0
PAGE = 500


class RemoteUnsupported(CallCenterError):
    code = "remote_unsupported"


@dataclass(frozen=True, slots=True)
class RemoteApi:
    url: str  # the engine's listener, e.g. http://10.0.0.5:9464 (with or without /api/v1)
    token: str
    timeout: float = TIMEOUT

    @property
    def base(self) -> str:
        root = self.url.rstrip("/")
        return root if root.endswith("/api/v1") else root + "/api/v1"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        *,
        raw: bool = False,
    ) -> Any:
        """The answer's JSON (None when empty); its bytes with ``raw`` (a file)."""
        url = self.base + path
        params = {k: v for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "*/*" if raw else "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                content = answer.read()
        except urllib.error.HTTPError as exc:
            raise _refusal(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, socket.timeout | TimeoutError):
                reason = f"no answer within {self.timeout:g} s"
            raise CallCenterError(
                f"cannot reach the engine's API at {self.base}: {reason}", code="api_unreachable"
            ) from None
        if raw:
            return content
        return json.loads(content) if content else None

    def download(self, path: str, out: BinaryIO) -> int:
        """A binary answer (a recording's audio) copied to ``out``; its size in bytes."""
        request = urllib.request.Request(self.base + path, method="GET")
        request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                size = 0
                while block := answer.read(1 << 16):
                    out.write(block)
                    size += len(block)
                return size
        except urllib.error.HTTPError as exc:
            raise _refusal(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise CallCenterError(
                f"cannot reach the engine's API at {self.base}: {getattr(exc, 'reason', exc)}",
                code="api_unreachable",
            ) from None

    def items(self, path: str, query: dict[str, Any] | None = None, most: int = 0) -> Iterator[Any]:
        """Every item of a paginated list (at most ``most`` when given), page by page."""
        query = dict(query or {})
        seen = 0
        while True:
            limit = min(PAGE, most - seen) if most else PAGE
            page = self.request("GET", path, query={**query, "limit": limit})
            for item in page["items"]:
                yield item
                seen += 1
            if not page.get("next") or (most and seen >= most):
                return
            query["cursor"] = page["next"]


def _refusal(exc: urllib.error.HTTPError) -> CallCenterError:
    try:
        problem = json.loads(exc.read() or b"{}")
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = str(problem.get("detail") or f"HTTP {exc.code} {exc.reason}")
    return CallCenterError(detail, code=str(problem.get("code") or f"http_{exc.code}"))


def connect(url: str | None, token: str | None) -> RemoteApi | None:
    """The remote API to use, or None to use the database; half a configuration is refused."""
    if not url and not token:
        return None
    if not url or not token:
        missing = (
            "--api-url / CALLCENTER_API_URL" if not url else "--api-token / CALLCENTER_API_TOKEN"
        )
        raise click.UsageError(f"a remote engine needs both an API URL and a token: give {missing}")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise click.UsageError(f"--api-url: {url!r} is not an http(s)://host:port URL")
    return RemoteApi(url, token)


def current() -> RemoteApi | None:
    ctx = click.get_current_context(silent=True)
    remote = ctx.meta.get(META) if ctx is not None else None
    return remote if isinstance(remote, RemoteApi) else None


Remote = Callable[..., None]


def install(
    root: click.Group,
    commands: dict[tuple[str, ...], Remote],
    local: tuple[tuple[str, ...], ...] = (("ivr",),),
) -> None:
    """Give each listed command its remote twin; in the groups named (but ``local`` ones,
    whose other commands work on local files), any other command is refused when a remote
    engine is configured (it would quietly use a local database)."""
    for path, twin in commands.items():
        command = _find(root, path)
        command.callback = _either(command.callback, twin)
    for group in {path[:-1] for path in commands} - set(local):
        for name, command in _find(root, group).commands.items():  # type: ignore[attr-defined]
            if (*group, name) not in commands and not isinstance(command, click.Group):
                command.callback = _either(command.callback, _unsupported(" ".join((*group, name))))


def _find(root: click.Group, path: tuple[str, ...]) -> click.Command:
    command: click.Command = root
    for name in path:
        assert isinstance(command, click.Group), path
        command = command.commands[name]
    return command


def _either(local: Callable[..., Any] | None, twin: Remote) -> Callable[..., Any]:
    assert local is not None

    @functools.wraps(local)
    def run(*args: Any, **kwargs: Any) -> Any:
        remote = current()
        if remote is None:
            return local(*args, **kwargs)
        return twin(remote, **kwargs)

    return run


def _unsupported(name: str) -> Remote:
    def refuse(remote: RemoteApi, **_: Any) -> None:
        raise RemoteUnsupported(
            f"`callcenter {name}` does not work through the API; run it where the database "
            "is (without --api-url / CALLCENTER_API_URL)"
        )

    return refuse
