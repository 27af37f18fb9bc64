"""What makes a ``TrunkSpec`` one FreeSWITCH can take: every field checked, pure.

One check for every way in (``trunk add``/``set``, the HTTP API, rows read back from the
database before a render). A refused value raises ``InvalidTrunk`` naming the field and
the value (shortened, escaped); nothing is silently altered, because a value FreeSWITCH
would read differently (``$${...}`` is expanded when the XML loads, a ``;`` in a proxy
adds URI parameters) must not reach the gateway file.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TypeVar

import phonenumbers

from callcenter.errors import DomainError
from callcenter.trunks.spec import NumberStyle, Transport, TrunkSpec

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # also a file name: no `/`
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_USER = re.compile(r"[A-Za-z0-9_.!~*'()&=+$,;?/%-]{1,128}")  # RFC 3261 user, then refused below
_CODEC = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,31}")
CODECS = frozenset(
    {
        "PCMU", "PCMA", "G722", "G729", "G723", "G726-32", "GSM", "ILBC", "OPUS", "SPEEX",
        "AMR", "AMR-WB", "G7221", "L16", "SILK", "BV16", "BV32", "H263", "H264", "VP8", "VP9",
    }
)  # fmt: skip
MAX_CHANNELS = 100_000
MAX_CPS = 1_000.0
MAX_CIDRS = 64
MAX_PASSWORD = 128
E = TypeVar("E", Transport, NumberStyle)


class InvalidTrunk(DomainError):
    """A trunk that cannot be stored or rendered; ``field`` names the bad part."""

    code = "trunk_invalid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def shown(value: object) -> str:
    """At most 40 characters, quoted, escaped: a value must not drive the terminal."""
    text = str(value)
    quoted = repr(text[:40] + ("..." if len(text) > 40 else ""))
    return quoted.encode("ascii", "backslashreplace").decode()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidTrunk(
            "name", f"{shown(name)} is not a trunk name (1 to 64 of A-Z a-z 0-9 _ . -)"
        )
    return name


def split_proxy(proxy: str, field: str = "proxy") -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``; a host is a DNS name or an IP."""
    host, port_text = proxy, ""
    if proxy.startswith("["):
        end = proxy.find("]")
        host, rest = proxy[1:end] if end > 0 else "", proxy[end + 1 :] if end > 0 else "x"
        if rest and not rest.startswith(":"):
            raise InvalidTrunk(field, f"{shown(proxy)} is not [IPv6] or [IPv6]:port")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidTrunk(field, f"{shown(host)} is not an IPv6 address") from None
    elif proxy.count(":") == 1:
        host, port_text = proxy.split(":")
    if not proxy.startswith("["):
        check_host(field, host)
    if proxy.endswith(":") or (port_text and not port_text.isdigit()):
        raise InvalidTrunk(field, f"port {shown(port_text)} is not a number")
    port = int(port_text) if port_text else None
    if port is not None and not 1 <= port <= 65535:
        raise InvalidTrunk(field, f"port {port} is not in 1..65535")
    return host, port


def check_host(field: str, host: str) -> str:
    """A DNS name (letters, digits, ``-`` per label) or an IPv4 address; nothing else."""
    if len(host) > 253 or not host:
        raise InvalidTrunk(field, f"{shown(host)} is not a host name (1 to 253 characters)")
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise InvalidTrunk(field, f"{shown(host)} is not an IPv4 address") from None
        return host
    if not all(_LABEL.fullmatch(label) for label in host.rstrip(".").split(".")):
        raise InvalidTrunk(
            field, f"{shown(host)} is not a host name (labels of A-Z a-z 0-9 -, dot-separated)"
        )
    return host


def _check_user(field: str, value: str | None) -> None:
    if value is None:
        return
    if not _USER.fullmatch(value) or "$" in value or ";" in value:
        raise InvalidTrunk(
            field, f"{shown(value)}: 1 to 128 of A-Z a-z 0-9 and _ . ! ~ * ' ( ) & = + , ? / % -"
        )


def check_password(password: str | None) -> None:
    """Printable ASCII, no ``${`` (FreeSWITCH would expand it); never shown in an error."""
    if password is None:
        return
    if not 1 <= len(password) <= MAX_PASSWORD:
        raise InvalidTrunk("password", f"must be 1 to {MAX_PASSWORD} characters")
    if not password.isascii() or not password.isprintable():
        raise InvalidTrunk("password", "only printable ASCII (no control characters)")
    if "${" in password:
        raise InvalidTrunk("password", "must not contain ${ (FreeSWITCH would expand it)")


# the parts after a codec's name in FreeSWITCH's codec strings (switch_parse_codec_buf):
# suffix -> what it sets, the range taken
_CODEC_PARTS = {
    "i": ("ptime", "ms", 1, 200),
    "h": ("rate", "Hz", 8000, 192_000),
    "k": ("rate", "kHz", 8, 192),
    "b": ("bitrate", "bit/s", 1, 10_000_000),
    "c": ("channels", "", 1, 8),
}
_CODEC_PART = re.compile(r"([0-9]{1,8})([ihkbc])")


def check_codec(codec: str) -> str:
    """One of FreeSWITCH's codec strings, ``NAME[@8000h|@8k][@20i][@64000b][@2c]``
    (``G729@8000h@20i``): a known name, then each part a number in range with its suffix,
    each suffix once (h and k are both the rate). The name upper-cased, the parts kept."""
    name, *parts = codec.split("@")
    if not _CODEC.fullmatch(codec) or name.upper() not in CODECS:
        raise InvalidTrunk(
            "codecs",
            f"{shown(name)} is not a codec FreeSWITCH knows ({', '.join(sorted(CODECS))})",
        )
    seen: set[str] = set()
    for part in parts:
        match = _CODEC_PART.fullmatch(part)
        if match is None:
            raise InvalidTrunk(
                "codecs", f"{shown(codec)}: {shown(part)}: a part is a number then i, h, k, b or c"
            )
        value, suffix = int(match[1]), match[2]
        what, unit, low, high = _CODEC_PARTS[suffix]
        if what in seen:
            raise InvalidTrunk("codecs", f"{shown(codec)} gives {suffix} twice (its {what})")
        seen.add(what)
        if not low <= value <= high:
            shown_unit = f" {unit}" if unit else ""
            raise InvalidTrunk(
                "codecs", f"{shown(codec)}: {what} {value}{shown_unit} is not in {low}..{high}"
            )
    return "@".join((name.upper(), *parts))


def check_codecs(codecs: Iterable[str]) -> tuple[str, ...]:
    checked = tuple(check_codec(codec) for codec in codecs)
    if len(set(checked)) != len(checked):
        raise InvalidTrunk("codecs", f"{','.join(checked)} names a codec twice")
    return checked


def check_country(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 region ``phonenumbers`` has a numbering plan for."""
    if country is None:
        return None
    region = country.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidTrunk(
            "country",
            f"{shown(country)} is not a country code with a numbering plan (e.g. DE, FR, US)",
        )
    return region


def check_cidrs(cidrs: Iterable[str]) -> tuple[str, ...]:
    """Networks in CIDR notation, host bits clear; never the whole internet."""
    out: list[str] = []
    for text in cidrs:
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            raise InvalidTrunk("inbound_cidrs", f"{shown(text)} is not a CIDR ({exc})") from None
        if network.prefixlen == 0:
            raise InvalidTrunk("inbound_cidrs", f"{network} would accept INVITEs from anywhere")
        if str(network) not in out:
            out.append(str(network))
    if len(out) > MAX_CIDRS:
        raise InvalidTrunk("inbound_cidrs", f"{len(out)} networks (at most {MAX_CIDRS})")
    return tuple(out)


def _check_limits(spec: TrunkSpec) -> None:
    channels = spec.max_channels
    if channels is not None and (
        isinstance(channels, bool) or not isinstance(channels, int)
        or not 1 <= channels <= MAX_CHANNELS
    ):  # fmt: skip
        raise InvalidTrunk("max_channels", f"{shown(channels)} is not in 1..{MAX_CHANNELS}")
    cps = spec.max_cps
    if cps is not None and (
        isinstance(cps, bool) or not isinstance(cps, int | float)
        or not math.isfinite(cps) or not 0 < cps <= MAX_CPS
    ):  # fmt: skip
        raise InvalidTrunk("max_cps", f"{shown(cps)} is not a rate in (0, {MAX_CPS:g}] calls/s")


def _one_of(field: str, kind: type[E], value: str) -> E:
    try:
        return kind(value)
    except ValueError:
        names = "|".join(m.value for m in kind)
        raise InvalidTrunk(field, f"{shown(value)} is not one of {names}") from None


def check(spec: TrunkSpec) -> TrunkSpec:
    """``spec`` as stored and rendered (codecs and country upper-cased, CIDRs normalized);
    ``InvalidTrunk`` naming the first bad field otherwise."""
    check_name(spec.name)
    split_proxy(spec.proxy)
    transport = _one_of("transport", Transport, spec.transport)
    style = _one_of("number_style", NumberStyle, spec.number_style)
    _check_user("username", spec.username)
    check_password(spec.password)
    if spec.realm is not None:
        split_proxy(spec.realm, "realm")  # a host, with a port when the carrier's has one
    if spec.from_domain is not None:
        check_host("from_domain", spec.from_domain)
    if spec.register and not (spec.username and spec.password):
        raise InvalidTrunk("register", "a registering trunk needs --username and --password")
    _check_limits(spec)
    return replace(
        spec,
        transport=transport,
        number_style=style,
        codecs=check_codecs(spec.codecs),
        country=check_country(spec.country),
        inbound_cidrs=check_cidrs(spec.inbound_cidrs),
    )
