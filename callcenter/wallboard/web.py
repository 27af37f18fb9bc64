"""``/wallboard``: the browser wallboard's static page, and the exchange that lets its
``EventSource`` (which cannot send an ``Authorization`` header) read the event stream.

The token (``read`` scope) travels in the URL's fragment, ``/wallboard/#token=cc_...``:
browsers never send a fragment to a server, so it stays out of access logs, proxies and
``Referer``. The page takes it out of the address bar at once, keeps it for the tab only
(``sessionStorage``), reads ``/api/v1/wallboard`` with it as a bearer token, and trades it at
``POST /wallboard/session`` for a cookie: HttpOnly, SameSite=Strict, path
``/api/v1/events`` only, valid ``ttl`` seconds (the page renews it at half that). The cookie
holds an expiry and the token's hash, signed (HMAC-SHA256) with a key this process drew at
start; the stream checks the signature, the expiry, and that the token is still live and
allowed ``read`` (a revoked token stops working at its next connection).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from typing import Any

from callcenter.errors import CallCenterError
from callcenter.services import tokens
from callcenter.store.database import Database
from callcenter.store.models.tokens import TokenScope

PREFIX = "/wallboard"
COOKIE = "cc_wallboard"
COOKIE_PATH = "/api/v1/events"
TTL = 600
StartResponse = Callable[..., Any]
Bearer = Callable[[Database, str], tokens.TokenRecord]

FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/wallboard.css": ("wallboard.css", "text/css; charset=utf-8"),
    "/wallboard.js": ("wallboard.js", "text/javascript; charset=utf-8"),
}
HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "
     "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
     "frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
]  # fmt: skip


class Sessions:
    """Signed, short-lived stream cookies; the key lives in this process only."""

    def __init__(self, ttl: int = TTL, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self._clock = clock
        self._key = secrets.token_bytes(32)

    def issue(self, token_hash: str) -> str:
        expires = int(self._clock()) + self.ttl
        return f"{expires}.{token_hash}.{self._sign(expires, token_hash)}"

    def token_hash(self, value: str) -> str | None:
        """The hash a cookie value names, when its signature holds and it has not expired."""
        expires, _, rest = value.partition(".")
        token_hash, _, signature = rest.partition(".")
        if not expires.isdigit() or not token_hash or not signature:
            return None
        if not hmac.compare_digest(signature, self._sign(int(expires), token_hash)):
            return None
        return token_hash if int(expires) > self._clock() else None

    def authorize(self, database: Database, environ: dict[str, Any]) -> tokens.TokenRecord:
        """The live token behind the request's stream cookie, allowed ``read``."""
        value = cookie(environ, COOKIE)
        token_hash = self.token_hash(value) if value else None
        if token_hash is None:
            raise tokens.Unauthenticated(
                "no bearer token and no valid wallboard session cookie", code="token_missing"
            )
        token = tokens.by_digest(database, token_hash)
        tokens.authorize(token, TokenScope.READ)
        return token

    def _sign(self, expires: int, token_hash: str) -> str:
        message = f"{expires}.{token_hash}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def cookie(environ: dict[str, Any], name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


class WallboardSite:
    """The WSGI app mounted at ``/wallboard`` (it sees paths without the prefix)."""

    def __init__(self, database: Database, sessions: Sessions, bearer: Bearer) -> None:
        self.database = database
        self.sessions = sessions
        self._bearer = bearer
        self._files = {path: _read(name) for path, (name, _) in FILES.items()}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "":
            start_response("301 Moved Permanently", [("Location", f"{PREFIX}/")])
            return [b""]
        if path == "/session":
            if method != "POST":
                return _answer(start_response, "405 Method Not Allowed", {"detail": "use POST"})
            return self._session(environ, start_response)
        if path not in FILES or method not in ("GET", "HEAD"):
            return _answer(start_response, "404 Not Found", {"detail": f"no {PREFIX}{path}"})
        start_response(
            "200 OK",
            [("Content-Type", FILES[path][1]), ("Cache-Control", "no-cache"), *HEADERS],
        )
        return [self._files[path]] if method == "GET" else [b""]

    def _session(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            token = self._bearer(self.database, environ.get("HTTP_AUTHORIZATION", ""))
            tokens.authorize(token, TokenScope.READ)
            token_hash = tokens.digest(environ["HTTP_AUTHORIZATION"].partition(" ")[2].strip())
        except CallCenterError as exc:
            status = "403 Forbidden" if exc.code == "scope_insufficient" else "401 Unauthorized"
            return _answer(start_response, status, {"detail": exc.message, "code": exc.code})
        secure = "; Secure" if _https(environ) else ""
        value = self.sessions.issue(token_hash)
        set_cookie = (
            f"{COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={self.sessions.ttl}; HttpOnly; "
            f"SameSite=Strict{secure}"
        )
        body = {"expires_in": self.sessions.ttl, "token": token.name}
        return _answer(start_response, "200 OK", body, [("Set-Cookie", set_cookie)])


def _https(environ: dict[str, Any]) -> bool:
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "")
    return bool(environ.get("wsgi.url_scheme") == "https" or forwarded == "https")


def _answer(
    start_response: StartResponse,
    status: str,
    body: dict[str, Any],
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", "application/json"), ("Cache-Control", "no-store"), *(headers or [])],
    )
    return [json.dumps(body).encode()]


def _read(name: str) -> bytes:
    return resources.files("callcenter.wallboard").joinpath("static", name).read_bytes()
