"""The sofia gateways of the simulated callcenter-carriers profile, as s12-gateway-state shows.

A test ``define``s a gateway (the file a render would write); ``sofia profile
callcenter-carriers rescan`` loads the defined ones not yet loaded (``sofia::gateway_add``,
then ``TRYING`` -> ``REGISTER`` 200 -> ``REGED`` with ``Ping-Status: UP`` one simulated
second apart; ``NOREG`` for one that does not register), ``killgw`` unloads one (``DOWN``,
then ``sofia::gateway_delete``). ``fail``/``restore`` play a carrier going away (``FAILED``
503, ``FAIL_WAIT``) and coming back (``UNREGED`` -> ``TRYING`` -> ``REGISTER`` -> ``REGED``).
``sofia xmlstatus gateway NAME`` and ``sofia status gateway NAME`` answer with the recorded
fields, or ``Invalid Gateway!``. ``load`` is a gateway FreeSWITCH loaded at its start (no
events: no client was connected yet).

The gateway's state decides how an ``originate sofia/gateway/NAME/...`` ends, as mod_sofia's
``sofia_outgoing_channel`` does: a defined gateway that is not loaded answers
``-ERR INVALID_GATEWAY``, a loaded one whose ``Ping-Status`` is not ``UP`` (``FAILED``,
``FAIL_WAIT``, ``UNREGED``, ``TRYING``...) ``-ERR GATEWAY_DOWN``, both before any channel
exists (no event at all); an ``UP`` one sends the INVITE, and the carrier behind it answers
(``carrier``: a 503 is ``NORMAL_TEMPORARY_FAILURE``, a 486 ``USER_BUSY``, with the s12 leg
events). A gateway no test defined is taken as loaded and up (most tests dial through a
gateway without caring about it). The events carry ``Gateway``, ``State``, ``Ping-Status``
and, when there is one, ``Status``/``Phrase`` and ``Register-Network-*``: no
``profile-name``, no ``Unique-ID`` (NOTES s12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from callcenter.sim.behaviour import AgentBehaviour

if TYPE_CHECKING:
    from callcenter.sim.core import SimCore

Pair = tuple[str, str]
PROFILE = "callcenter-carriers"
_STATE_EVENT = ("sofia_reg.c", "sofia_reg_fire_custom_gateway_state_event", "156")
_ADD_EVENT = ("sofia_reg.c", "sofia_reg_add_gateway", "3723")
_DELETE_EVENT = ("sofia_reg.c", "sofia_reg_check_gateway", "260")
INVALID = "Invalid Gateway!\n"


@dataclass(slots=True)
class SimGateway:
    name: str
    register: bool = True
    proxy: str = "127.0.0.1:5095"
    username: str = "trunkuser"
    state: str = "NOREG"
    ping: str = "DOWN"
    loaded: bool = False
    network_known: bool = False  # after a first REGISTER: events carry Register-Network-*


class SimGateways:
    def __init__(self, core: SimCore) -> None:
        self.core = core
        self.defined: dict[str, SimGateway] = {}  # the gateway files
        self.loaded: dict[str, SimGateway] = {}  # what `sofia status` would list
        self.carriers: dict[str, AgentBehaviour] = {}  # how the far end behind each answers

    # -- what a test does ---------------------------------------------------------------
    def define(self, name: str, *, register: bool = True, proxy: str = "127.0.0.1:5095") -> None:
        self.defined[name] = SimGateway(name, register, proxy)

    def undefine(self, name: str) -> None:
        self.defined.pop(name, None)

    def load(self, name: str, *, register: bool = False, proxy: str = "127.0.0.1:5095") -> None:
        """Defined and loaded as FreeSWITCH loads its gateways at start: up, no events."""
        state = "REGED" if register else "NOREG"
        gateway = SimGateway(name, register, proxy, state=state, ping="UP", loaded=True)
        gateway.network_known = register
        self.defined[name] = self.loaded[name] = gateway

    def carrier(self, name: str, answers: AgentBehaviour | None) -> None:
        """How the carrier behind gateway ``name`` answers the INVITEs that reach it
        (``fail_cause="NORMAL_TEMPORARY_FAILURE"``: its 503; ``busy``: 486); None: the
        simulator's far-end policy."""
        if answers is None:
            self.carriers.pop(name, None)
        else:
            self.carriers[name] = answers

    def refusal(self, name: str) -> str:
        """Why mod_sofia refuses a call through gateway ``name`` before any channel, or ""."""
        if name not in self.defined and name not in self.loaded:
            return ""  # not one a test set up: taken as loaded and up
        gateway = self.loaded.get(name)
        if gateway is None:
            return "INVALID_GATEWAY"
        return "" if gateway.ping == "UP" else "GATEWAY_DOWN"

    def fail(self, name: str) -> None:
        """The carrier stops answering: FAILED 503, then FAIL_WAIT (and Ping DOWN)."""
        steps = [("FAILED", "DOWN", "503", "Service Unavailable"), ("FAIL_WAIT", "DOWN", "", "")]
        self.core.spawn(self._steps, name, steps, name="gw-fail")

    def restore(self, name: str) -> None:
        gateway = self.loaded.get(name)
        if gateway is not None:
            self.core.spawn(self._steps, name, self._up_steps(gateway, "UNREGED"), name="gw-up")

    # -- api ----------------------------------------------------------------------------
    def api(self, argv: list[str]) -> str:
        if argv[:2] == ["profile", PROFILE] and argv[2:3] == ["rescan"]:
            return self._rescan()
        if argv[:2] == ["profile", PROFILE] and argv[2:3] == ["killgw"] and len(argv) > 3:
            return self._killgw(argv[3])
        if argv[:2] in (["xmlstatus", "gateway"], ["status", "gateway"]) and len(argv) > 2:
            gateway = self.loaded.get(argv[2])
            if gateway is None:
                return INVALID
            return _xml(gateway, self.core) if argv[0] == "xmlstatus" else _table(gateway)
        return ""

    def _rescan(self) -> str:
        for name, gateway in self.defined.items():
            if name in self.loaded:
                continue
            self.loaded[name] = gateway
            self._emit(_ADD_EVENT, "sofia::gateway_add", [("Gateway", name),
                                                         ("profile-name", PROFILE)])  # fmt: skip
            first = "" if gateway.register else "NOREG"
            self.core.spawn(self._steps, name, self._up_steps(gateway, first), name="gw-add")
        return "Reload XML [Success]\n+OK scan complete\n"

    def _killgw(self, name: str) -> str:
        if name not in self.loaded:
            return "-ERR no such gateway.\n"
        self.core.spawn(self._remove, name, name="gw-kill")
        return "+OK gateway marked for deletion.\n"

    def _remove(self, name: str) -> None:
        self.core.clock.sleep(1.0)
        self._state(name, "DOWN", "DOWN", "", "")
        self.core.clock.sleep(1.0)
        self.loaded.pop(name, None)
        self._emit(_DELETE_EVENT, "sofia::gateway_delete", [("Gateway", name),
                                                           ("profile-name", PROFILE)])  # fmt: skip

    @staticmethod
    def _up_steps(gateway: SimGateway, first: str) -> list[tuple[str, str, str, str]]:
        if not gateway.register:
            return [(first, "UP", "", "")]
        again = [(first, "DOWN", "", "")] if first else []  # UNREGED: after retry-seconds
        return [
            *again,
            ("TRYING", "DOWN", "", ""),
            ("REGISTER", "DOWN", "200", "OK"),
            ("REGED", "UP", "", ""),
        ]

    def _steps(self, name: str, steps: list[tuple[str, str, str, str]]) -> None:
        for state, ping, status, phrase in steps:
            self.core.clock.sleep(0.5)  # the gateway state machine moves about once a second
            if name not in self.loaded:
                return
            self._state(name, state, ping, status, phrase)

    def _state(self, name: str, state: str, ping: str, status: str, phrase: str) -> None:
        gateway = self.loaded[name]
        gateway.state, gateway.ping = state, ping
        pairs = [("Gateway", name), ("State", state), ("Ping-Status", ping)]
        gateway.network_known |= state == "REGISTER"
        if gateway.register and gateway.network_known:
            host, _, port = gateway.proxy.partition(":")
            pairs += [("Register-Network-IP", host), ("Register-Network-Port", port or "5060")]
        if status:
            pairs += [("Phrase", phrase), ("Status", status)]
        self._emit(_STATE_EVENT, "sofia::gateway_state", pairs)

    def _emit(
        self, calling: tuple[str, str, str], subclass: str, pairs: list[tuple[str, str]]
    ) -> None:
        self.core.hub.emit(self.core.factory.custom(subclass, pairs, calling))


def _fields(gateway: SimGateway) -> list[tuple[str, str]]:
    host = gateway.proxy
    user = gateway.username
    return [
        ("Name", gateway.name), ("Profile", PROFILE), ("Scheme", "Digest"), ("Realm", host),
        ("Username", user), ("Password", "yes" if gateway.register else "no"),
        ("From", f"<sip:{user}@{host}>"),
        ("Contact", f"<sip:gw+{gateway.name}@127.0.0.1:5080;transport=udp;gw={gateway.name}>"),
        ("Exten", user), ("To", f"sip:{user}@{host}"), ("Proxy", f"sip:{host}"),
        ("Context", "callcenter"), ("Expires", "600"), ("Freq", "600"),
        ("State", gateway.state), ("Status", gateway.ping),
    ]  # fmt: skip


def _table(gateway: SimGateway) -> str:
    rule = "=" * 97
    rows = "".join(f"{k:<8}\t{v}\n" for k, v in _fields(gateway))
    return f"{rule}\n{rows}{rule}\n"


def _xml(gateway: SimGateway, core: SimCore) -> str:
    lines = [f"    <{k.lower()}>{escape(v)}</{k.lower()}>" for k, v in _fields(gateway)]
    lines.insert(-2, f"    <ping>{int(core.clock.now())}</ping>")
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n  <gateway>\n'
        + "\n".join(lines)
        + "\n  </gateway>\n"
    )
