"""mod_xml_cdr as FreeSWITCH behind freeswitch-conf runs it (sessions-3, s17-xml-cdr).

At a leg's reporting step, before CHANNEL_HANGUP_COMPLETE, FreeSWITCH posts the leg's CDR
to ``<url>?uuid=a_<uuid>`` (form data ``cdr=<URL-encoded XML>``, basic auth). Only A legs:
a leg that was ever the B side of a bridge (an agent leg joined by ``uuid_bridge``) is not
posted; originated legs that were never bridged are. A post that does not get a 200 is
tried again ``retries`` times ``delay`` seconds apart; then the document is written to
``err_log_dir`` as ``a_<uuid>.cdr.xml`` and never retried. The leg's HANGUP_COMPLETE
waits for all of it, which is what a controller that is down costs FreeSWITCH.

Off unless the simulator is given an ``XmlCdrConfig``.
"""

from __future__ import annotations

import base64
import http.client
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from callcenter.sim.clock import Clock
    from callcenter.sim.session import Session

log = logging.getLogger(__name__)

# FreeSWITCH's switch_url_encode leaves these as they are (and encodes a space as %20)
_SAFE = "-_.!~*'()/"

_TIMES = (
    ("created_time", "Channel-Created-Time"),
    ("profile_created_time", "Profile-Created-Time"),
    ("progress_time", "Channel-Progress-Time"),
    ("progress_media_time", "Channel-Progress-Media-Time"),
    ("answered_time", "Channel-Answered-Time"),
    ("bridged_time", "Channel-Bridged-Time"),
    ("last_hold_time", "Channel-Last-Hold"),
    ("hold_accum_time", "Channel-Hold-Accum"),
    ("hangup_time", "Channel-Hangup-Time"),
    ("resurrect_time", "Channel-Resurrect-Time"),
    ("transfer_time", "Channel-Transfer-Time"),
)


@dataclass(frozen=True)
class XmlCdrConfig:
    url: str  # FreeSWITCH appends ?uuid=a_<uuid>
    credentials: str = ""  # USER:PASSWORD, sent as basic auth
    retries: int = 2  # tries after the first
    delay: float = 2.0  # simulated seconds between tries
    timeout: float = 3.0  # real seconds each try may take
    err_log_dir: Path | None = None


@dataclass(frozen=True)
class Originatee:
    """The B leg a bridge joined to this one, as the A leg's callflow lists it."""

    uuid: str
    destination_number: str
    caller_id_number: str
    channel_name: str


def document(session: Session, hostname: str, core_uuid: str) -> str:
    """The leg's CDR as mod_xml_cdr renders it (the parts a receiver reads, in its shape)."""
    chan = session.chan
    profile = chan.profile
    variables = "".join(
        f"    <{name}>{quote(value, safe=_SAFE)}</{name}>\n"
        for name, value in chan.variables.items()
        if name.replace("_", "").isalnum()
    )
    originatee = ""
    other: Originatee | None = session.originatee
    if other is not None:
        originatee = (
            "      <originatee>\n        <originatee_caller_profile>\n"
            f"          <caller_id_number>{escape(other.caller_id_number)}</caller_id_number>\n"
            f"          <destination_number>{escape(other.destination_number)}"
            "</destination_number>\n"
            f"          <uuid>{escape(other.uuid)}</uuid>\n"
            f"          <chan_name>{escape(other.channel_name)}</chan_name>\n"
            "        </originatee_caller_profile>\n      </originatee>\n"
        )
    times = "".join(f"      <{tag}>{profile.times.get(key, 0)}</{tag}>\n" for tag, key in _TIMES)
    return (
        '<?xml version="1.0"?>\n'
        f"<cdr core-uuid={quoteattr(core_uuid)} switchname={quoteattr(hostname)}>\n"
        "  <channel_data>\n"
        f"    <state>CS_REPORTING</state>\n    <direction>{escape(chan.direction)}</direction>\n"
        "  </channel_data>\n"
        f"  <variables>\n{variables}  </variables>\n"
        f'  <callflow dialplan="XML" unique-id={quoteattr(chan.uuid)} profile_index="1">\n'
        "    <caller_profile>\n"
        f"      <username>{escape(profile.username)}</username>\n"
        f"      <caller_id_name>{escape(profile.orig_caller_id_name)}</caller_id_name>\n"
        f"      <caller_id_number>{escape(profile.orig_caller_id_number)}</caller_id_number>\n"
        f"      <destination_number>{escape(profile.destination_number)}</destination_number>\n"
        f"      <uuid>{escape(chan.uuid)}</uuid>\n"
        f"      <context>{escape(profile.context)}</context>\n"
        f"      <chan_name>{escape(chan.name)}</chan_name>\n"
        f"{originatee}"
        "    </caller_profile>\n"
        f"    <times>\n{times}    </times>\n"
        "  </callflow>\n"
        "</cdr>\n"
    )


class XmlCdrPoster:
    def __init__(self, config: XmlCdrConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.posted = 0
        self.failed = 0  # documents written to err_log_dir

    def report(self, session: Session, hostname: str, core_uuid: str) -> None:
        """Post the leg's CDR, with FreeSWITCH's retries; the caller waits (HANGUP_COMPLETE)."""
        if session.was_b_leg:
            return
        text = document(session, hostname, core_uuid)
        name = f"a_{session.uuid}"
        for attempt in range(1 + max(0, self.config.retries)):
            if attempt:
                self.clock.sleep(self.config.delay)
            status = self._post(name, text)
            if status == 200:
                self.posted += 1
                return
            log.info("sim: xml_cdr post of %s got %s (try %d)", name, status, attempt + 1)
        self.failed += 1
        if self.config.err_log_dir is not None:
            self.config.err_log_dir.mkdir(parents=True, exist_ok=True)
            (self.config.err_log_dir / f"{name}.cdr.xml").write_text(text)

    def _post(self, name: str, text: str) -> int:
        url = urlsplit(self.config.url)
        body = b"cdr=" + quote(text, safe=_SAFE).encode()
        headers = {
            "User-Agent": "freeswitch-xml/1.0",
            "Accept": "*/*",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if self.config.credentials:
            token = base64.b64encode(self.config.credentials.encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        connection = http.client.HTTPConnection(
            url.hostname or "127.0.0.1", url.port or 80, timeout=self.config.timeout
        )
        try:
            connection.request("POST", f"{url.path}?uuid={name}", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return 0  # FreeSWITCH logs "Got error [0]" for a refused connection
        finally:
            connection.close()
