"""``POST /fs/cdr``: where FreeSWITCH's mod_xml_cdr posts each call's CDR.

It answers fast, whatever the database does: FreeSWITCH posts from the channel's reporting
step and holds CHANNEL_HANGUP_COMPLETE until the post (and its retries) are over (NOTES,
s17-xml-cdr-log), so a slow receiver would delay the engine's own events. The request only
checks, parses and hands the CDR to the backstop (a local file); nothing here touches the
database. FreeSWITCH counts only a 200 as delivered: anything else is retried, then written
to its err-log-dir.

- Only from ``fs_cdr_allow`` (CIDRs, loopback by default): another address gets 403.
- Basic auth against ``fs_cdr_credentials`` (``cred`` in xml_cdr.conf); none configured
  refuses every post (401).
- Bodies over ``MAX_POST_BYTES`` are refused (413) before they are read.
- A document that does not parse, or has a DTD, is refused (400) with the reason logged;
  nothing is kept.
- A channel that is not a managed call (an agent leg, a channel outside the callcenter
  contexts) is acknowledged (200) and dropped, so FreeSWITCH does not retry it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from callcenter.cdr.backstop import BackstopMetrics, CdrBackstop
from callcenter.cdr.xml_cdr import (
    MAX_DOCUMENT_BYTES,
    InvalidXmlCdr,
    document_from_post,
    parse_document,
    to_cdr,
)

log = logging.getLogger(__name__)

PATH = "/fs/cdr"
# the URL-encoded form of a document triples at most; base64 adds a third
MAX_POST_BYTES = 3 * MAX_DOCUMENT_BYTES + 16

StartResponse = Callable[..., Any]


class XmlCdrReceiver:
    def __init__(
        self,
        credentials: str,
        backstop: CdrBackstop,
        metrics: BackstopMetrics,
        *,
        node_for: Callable[[str], str],
        allow: Sequence[str] = ("127.0.0.0/8", "::1/128"),
    ) -> None:
        self._credentials = credentials.encode()
        self._allow = [ipaddress.ip_network(cidr, strict=False) for cidr in allow]
        self.backstop = backstop
        self.metrics = metrics
        self.node_for = node_for
        if not credentials:
            log.warning("fs_cdr_credentials not set: FreeSWITCH CDR posts will be refused")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self._answer(start_response, "405 Method Not Allowed", "bad_method",
                                extra=[("Allow", "POST")])  # fmt: skip
        if not self._allowed(environ.get("REMOTE_ADDR", "")):
            log.warning("FreeSWITCH CDR post from %s refused: not in fs_cdr_allow",
                        environ.get("REMOTE_ADDR", "?"))  # fmt: skip
            return self._answer(start_response, "403 Forbidden", "forbidden")
        if not self._authorized(environ.get("HTTP_AUTHORIZATION", "")):
            log.warning("FreeSWITCH CDR post from %s refused: bad or missing credentials",
                        environ.get("REMOTE_ADDR", "?"))  # fmt: skip
            challenge = ("WWW-Authenticate", 'Basic realm="callcenter"')
            return self._answer(start_response, "401 Unauthorized", "unauthorized",
                                extra=[challenge])  # fmt: skip
        body = self._read(environ)
        if body is None:
            log.warning("FreeSWITCH CDR post refused: body over %d bytes", MAX_POST_BYTES)
            return self._answer(start_response, "413 Content Too Large", "too_large")
        try:
            document = document_from_post(body, environ.get("CONTENT_TYPE", ""))
            parsed = parse_document(document)
            cdr = to_cdr(parsed, self.node_for(parsed.switchname))
        except InvalidXmlCdr as exc:
            log.warning("FreeSWITCH CDR post %s refused: %s", environ.get("QUERY_STRING", ""), exc)
            return self._answer(start_response, "400 Bad Request", "malformed", str(exc))
        if cdr is None:
            log.debug("channel %s: not a managed call; FreeSWITCH's CDR ignored", parsed.uuid)
            return self._answer(start_response, "200 OK", "ignored")
        self.backstop.accept(cdr)
        log.debug("call %s: FreeSWITCH's CDR held", cdr.call_uuid)
        return self._answer(start_response, "200 OK", "accepted")

    def _allowed(self, remote: str) -> bool:
        try:
            address = ipaddress.ip_address(remote.partition("%")[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._allow)

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if not self._credentials or scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._credentials)

    def _read(self, environ: dict[str, Any]) -> bytes | None:
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > MAX_POST_BYTES:
            return None
        body = environ["wsgi.input"].read(MAX_POST_BYTES + 1)
        return None if len(body) > MAX_POST_BYTES else bytes(body)

    def _answer(
        self,
        start_response: StartResponse,
        status: str,
        outcome: str,
        reason: str = "",
        *,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        self.metrics.posts.labels(outcome=outcome).inc()
        body = f"{outcome}{': ' + reason if reason else ''}\n".encode()
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        start_response(status, headers + (extra or []))
        return [body]
