"""The http node's client: one JSON request with a hard deadline.

The process is monkey-patched by gevent, so urllib's sockets yield to other greenlets; a
``gevent.Timeout`` bounds the whole exchange (DNS, connect, slow body), not only each read.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

import gevent

from callcenter.errors import CallCenterError

MAX_BODY = 1_000_000


class HttpLookupFailed(CallCenterError):
    code = "ivr_http_failed"


class Http(Protocol):
    def __call__(
        self, method: str, url: str, body: Mapping[str, str] | None, timeout: float
    ) -> Any: ...


def fetch_json(method: str, url: str, body: Mapping[str, str] | None, timeout: float) -> Any:
    """The decoded JSON answer; ``HttpLookupFailed`` on any error, timeout, non-2xx or bad JSON."""
    if not url.startswith(("http://", "https://")):
        raise HttpLookupFailed(f"{method} {url}: only http and https URLs are allowed")
    data = json.dumps(dict(body)).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with gevent.Timeout(timeout, HttpLookupFailed(f"{method} {url}: no answer in {timeout}s")):
            return _exchange(request, method, url, timeout)
    except HttpLookupFailed:
        raise
    except urllib.error.HTTPError as exc:
        raise HttpLookupFailed(f"{method} {url}: HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:  # URLError, socket errors, bad URL, bad JSON
        raise HttpLookupFailed(f"{method} {url}: {exc}") from exc


def _exchange(request: urllib.request.Request, method: str, url: str, timeout: float) -> Any:
    with urllib.request.urlopen(request, timeout=timeout) as response:
        status = int(response.status)
        if not 200 <= status < 300:
            raise HttpLookupFailed(f"{method} {url}: HTTP {status}")
        payload = response.read(MAX_BODY + 1)
    if len(payload) > MAX_BODY:
        raise HttpLookupFailed(f"{method} {url}: answer larger than {MAX_BODY} bytes")
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise HttpLookupFailed(f"{method} {url}: answer is not JSON") from exc
