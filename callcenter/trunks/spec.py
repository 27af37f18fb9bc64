"""A SIP trunk as the rest of the engine sees it: what the store loads, what rendering,
the gateway watch, number formatting, failover and the per-trunk limiter read.

A trunk's ``name`` is also its sofia gateway's name (``sofia/gateway/<name>/<number>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Transport(StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


class NumberStyle(StrEnum):
    """How a trunk wants numbers it is sent: ``+4930123``, ``4930123`` or ``030123``."""

    E164 = "e164"
    E164_NO_PLUS = "e164-no-plus"
    NATIONAL = "national"


@dataclass(frozen=True, slots=True)
class TrunkSpec:
    name: str
    proxy: str  # host or host:port
    transport: Transport = Transport.UDP
    register: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed back
    realm: str | None = None
    from_domain: str | None = None
    caller_id_in_from: bool = False
    codecs: tuple[str, ...] = ()
    country: str | None = None  # ISO 3166-1 alpha-2, the numbering plan of the carrier
    number_style: NumberStyle = NumberStyle.E164
    max_channels: int | None = None  # inbound and outbound counted together
    max_cps: float | None = None  # calls per second, outbound
    inbound_cidrs: tuple[str, ...] = ()
    enabled: bool = True


class TrunkDirectory(Protocol):
    """The trunks the engine knows, by name (kept current by the change feed)."""

    def get(self, name: str) -> TrunkSpec | None: ...

    def all(self) -> Iterable[TrunkSpec]: ...


@dataclass(frozen=True, slots=True)
class StaticTrunks:
    """A ``TrunkDirectory`` over a fixed mapping: tests, and the engine before a load."""

    trunks: Mapping[str, TrunkSpec] = field(default_factory=dict)

    def get(self, name: str) -> TrunkSpec | None:
        return self.trunks.get(name)

    def all(self) -> Iterable[TrunkSpec]:
        return self.trunks.values()
