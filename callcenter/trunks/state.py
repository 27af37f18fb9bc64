"""A sofia gateway's state as FreeSWITCH reports it: pure parsing, no I/O.

From ``CUSTOM sofia::gateway_state`` events (headers ``Gateway``, ``State``,
``Ping-Status``, and ``Status``/``Phrase`` when there is a SIP answer) and from
``sofia xmlstatus gateway NAME`` (``<state>``, ``<status>``; ``Invalid Gateway!`` when the
node has no such gateway), as recorded in s12-gateway-state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcenter.esl.events import Event

STATE, ADD, DELETE = "sofia::gateway_state", "sofia::gateway_add", "sofia::gateway_delete"
ABSENT = "ABSENT"  # not a FreeSWITCH state: the node has no such gateway
_XML_FIELD = re.compile(r"<(state|status)>([A-Z_]{1,32})</\1>")


@dataclass(frozen=True, slots=True)
class GatewayState:
    state: str  # TRYING REGISTER REGED UNREGISTER UNREGED FAILED FAIL_WAIT EXPIRED NOREG DOWN
    ping_status: str  # UP or DOWN
    detail: str = ""  # "503 Service Unavailable"


def from_event(event: Event) -> tuple[str, GatewayState] | None:
    """The gateway and its state, from a ``sofia::gateway_*`` event (else None)."""
    gateway = event.get("Gateway") or ""
    if event.subclass == DELETE:
        return gateway, GatewayState(ABSENT, "DOWN")
    if event.subclass != STATE or not gateway:
        return None
    status, phrase = event.get("Status") or "", event.get("Phrase") or ""
    detail = f"{status} {phrase}".strip()
    return gateway, GatewayState(event.get("State") or "", event.get("Ping-Status") or "", detail)


def from_xmlstatus(body: str) -> GatewayState:
    """``sofia xmlstatus gateway NAME``'s answer: ``<state>`` and ``<status>`` (the ping)."""
    if body.startswith("Invalid Gateway"):
        return GatewayState(ABSENT, "DOWN", "not loaded: fs render, then trunk apply")
    found = dict(_XML_FIELD.findall(body))
    return GatewayState(found.get("state", "UNKNOWN"), found.get("status", "DOWN"))


def trunk_up(register: bool, state: str, ping_status: str) -> bool:
    """Can carry calls: REGED for a registering trunk, else loaded with its OPTIONS ping UP."""
    return state == "REGED" if register else state != ABSENT and ping_status == "UP"
