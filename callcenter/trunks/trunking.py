"""What dialling through trunks needs, in one place the outbound routes table carries."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from callcenter.esl.events import Event
from callcenter.phone.identity import AGENTS_PROFILE
from callcenter.trunks.limiter import TrunkLimiter
from callcenter.trunks.metrics import TrunkMetrics
from callcenter.trunks.spec import StaticTrunks, TrunkDirectory, TrunkSpec


def inbound_trunk(directory: TrunkDirectory, gateway: str, source_ip: str) -> TrunkSpec | None:
    """The trunk an inbound call arrived on: FreeSWITCH's ``sip_gateway_name`` (a call to
    a registering trunk's contact), else the first trunk whose inbound CIDRs hold the
    INVITE's source address."""
    if gateway and (trunk := directory.get(gateway)) is not None:
        return trunk
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return None
    for trunk in directory.all():
        for cidr in trunk.inbound_cidrs:
            network = _network(cidr)
            if network is not None and address in network:
                return trunk
    return None


@functools.lru_cache(maxsize=1024)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A trunk's CIDR, parsed once (this runs in the ESL reader, at every inbound call)."""
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:  # a bad CIDR is refused where trunks are stored
        return None


@dataclass(slots=True)
class Trunking:
    """What dialling through trunks needs: the trunks (helper ``trunks`` provides a live
    directory), the country numbers are read in, the limiter, the metrics."""

    directory: TrunkDirectory = field(default_factory=StaticTrunks)
    default_country: str | None = None
    limiter: TrunkLimiter | None = None
    metrics: TrunkMetrics | None = None
    # live legs seen at their CHANNEL_CREATE while trunks are stored, by UUID: the inbound
    # trunk's name, or "" (none); read and written by the ESL reader only (on_leg)
    _inbound: dict[str, str] = field(default_factory=dict)

    def on_leg(self, event: Event) -> None:
        """CHANNEL_CREATE and CHANNEL_HANGUP_COMPLETE, from the ESL reader: never blocks."""
        if event.name == "CHANNEL_CREATE":
            self.leg_started(event)
        else:
            self.leg_ended(event)

    def leg_started(self, event: Event) -> None:
        """An inbound channel from a trunk takes one of its channels (never refused)."""
        if self.limiter is None or next(iter(self.directory.all()), None) is None:
            return  # no trunk to count against: not one lookup in the event
        uuid = event.unique_id or ""
        if not uuid:
            return
        trunk = self._inbound_trunk(event.get)
        self._inbound[uuid] = "" if trunk is None else trunk.name  # its CHANNEL_PARK reads it
        if trunk is not None:
            self.limiter.inbound(trunk, uuid)

    def arrived_on(self, get: Callable[[str], str | None], uuid: str = "") -> TrunkSpec | None:
        """The trunk a call came in on, from its CHANNEL_PARK (``event.get``, in the ESL
        reader: the trunk its CHANNEL_CREATE counted) or its ``uuid_dump`` at a resync
        (``dump.get``, no ``uuid``): looked up as ``leg_started`` does. None for an agent's
        phone, an outbound leg, or no trunk stored."""
        name = self._inbound.get(uuid) if uuid else None
        if name is not None:  # its CHANNEL_CREATE was read: "", on no trunk
            return self.directory.get(name) if name else None
        return self._inbound_trunk(get)

    def _inbound_trunk(self, get: Callable[[str], str | None]) -> TrunkSpec | None:
        if next(iter(self.directory.all()), None) is None:
            return None  # no trunk to look for: not one lookup in the event
        if (get("Call-Direction") or "") != "inbound":
            return None
        if get("variable_sofia_profile_name") == AGENTS_PROFILE:
            return None  # an agent's phone, whatever its address
        return inbound_trunk(
            self.directory,
            get("variable_sip_gateway_name") or "",
            get("variable_sip_network_ip") or "",
        )

    def leg_ended(self, event: Event) -> None:
        """A trunk's leg frees its channel and counts its answered seconds."""
        uuid = event.unique_id or ""
        # what its CHANNEL_CREATE found first: a gateway's inbound leg carries cc_trunk too
        # (freeswitch-conf sets it), and reading that first had left the leg here for good
        trunk = self._inbound.pop(uuid, "") or event.get("variable_cc_trunk") or ""
        if not trunk:
            return
        if self.limiter is not None:
            self.limiter.release(trunk, uuid)
        if self.metrics is not None:
            billsec = event.get("variable_billsec") or "0"
            self.metrics.call_ended(trunk, float(billsec) if billsec.isdigit() else 0.0)
