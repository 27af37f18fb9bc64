"""``Simulator``: a FreeSWITCH stand-in on a TCP port, plus its test/demo control API."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gevent.server import StreamServer

from callcenter.sim import refer
from callcenter.sim.api import Api
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.connection import Connection
from callcenter.sim.core import CommandRecord, SimCore
from callcenter.sim.dialplan import place_call
from callcenter.sim.events import SimEvent
from callcenter.sim.gateways import SimGateways
from callcenter.sim.phones import place_phone_call
from callcenter.sim.xml_cdr import XmlCdrConfig, XmlCdrPoster

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class ChannelSnapshot:
    uuid: str
    direction: str
    state: str
    callstate: str
    answer_state: str
    cid_name: str
    cid_num: str
    dest: str
    application: str
    partner: str | None
    variables: Mapping[str, str]


class Simulator:
    """A simulated FreeSWITCH speaking inbound ESL on ``host:port`` (port 0: any free one)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        password: str = "ClueCon",
        *,
        time_scale: float = 1.0,
        seed: int | None = None,
        hostname: str = "fs1",
        xml_cdr: XmlCdrConfig | None = None,
        sessions_per_second: int = 30,
    ) -> None:
        self.host = host
        self.password = password
        self._requested_port = port
        self._time_scale = time_scale
        self._seed = seed
        self._hostname = hostname
        # switch.conf.xml's sessions-per-second (FreeSWITCH's default 30), enforced as the
        # core does (``SimCore.request_session``); ``fsctl sps N`` changes it until a restart
        self._sps = sessions_per_second
        self.core = self._new_core(seed)
        self.api = Api(self.core)
        if xml_cdr is not None:
            self.enable_xml_cdr(xml_cdr)
        self._server: StreamServer | None = None
        self._connections: dict[int, Connection] = {}
        self._next_ident = 0

    def _new_core(self, seed: int | None) -> SimCore:
        return SimCore(
            time_scale=self._time_scale, seed=seed, hostname=self._hostname,
            sessions_per_second=self._sps,
        )  # fmt: skip

    def enable_xml_cdr(self, config: XmlCdrConfig | None) -> XmlCdrPoster | None:
        """Post each A leg's CDR as mod_xml_cdr does (None: stop posting)."""
        self.core.xml_cdr = XmlCdrPoster(config, self.core.clock) if config else None
        return self.core.xml_cdr

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> Simulator:
        server = StreamServer((self.host, self._requested_port), self._accept)
        server.start()
        self._server = server
        self.core.spawn(self.core.heartbeats, name="heartbeat")
        self._requested_port = self.port
        log.info("sim: FreeSWITCH simulator listening on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(timeout=STOP_TIMEOUT)
            self._server = None
        self.drop_clients()
        self.core.group.kill(timeout=STOP_TIMEOUT)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def port(self) -> int:
        if self._server is None:
            return self._requested_port
        return int(self._server.address[1])

    def _accept(self, sock: socket.socket, _address: tuple[str, int]) -> None:
        self._next_ident += 1
        ident = self._next_ident
        connection = Connection(self.core, self.api, self.password, sock, ident)
        self._connections[ident] = connection
        try:
            connection.serve()
        except Exception:
            log.exception("sim: ESL connection %s failed", ident)
            connection.abort()
        finally:
            self._connections.pop(ident, None)

    # -- the world outside: callers and phones ------------------------------------------
    def place_call(
        self,
        did: str,
        caller_id_number: str,
        caller_id_name: str = "",
        *,
        behaviour: CallerBehaviour | None = None,
    ) -> str:
        """A call arrives from the carrier for ``did``; returns the new channel's uuid ("":
        refused, beyond the switch's sessions per second: ``SimCore.request_session``)."""
        session = place_call(
            self.core, did, caller_id_number, caller_id_name, behaviour or CallerBehaviour()
        )
        return session.uuid if session is not None else ""

    def phone_call(
        self,
        ext: str,
        dest: str,
        *,
        behaviour: CallerBehaviour | None = None,
        domain: str = "callcenter",
        authenticated: bool = True,
    ) -> str:
        """The phone of agent ``ext`` dials ``dest`` (``*21``, another extension, a number)
        on ``callcenter-agents``, authenticated as s18 shows; returns the channel's uuid.
        ``authenticated=False``: an INVITE that only claims to be ``ext`` (caller ID).
        "": refused, as ``place_call``."""
        session = place_phone_call(
            self.core, ext, dest, behaviour or CallerBehaviour(), domain=domain,
            authenticated=authenticated,
        )  # fmt: skip
        return session.uuid if session is not None else ""

    def hangup(self, uuid: str, cause: str = "NORMAL_CLEARING") -> bool:
        """The far end hangs up (a caller's BYE). False when the channel is not live."""
        session = self.core.session(uuid)
        return session is not None and session.hangup(cause, "recv_bye")

    def send_dtmf(self, uuid: str, digits: str, gap: float = 0.2) -> bool:
        """The far end presses ``digits`` (RFC 2833), ``gap`` simulated seconds apart."""
        session = self.core.session(uuid)
        if session is None:
            return False
        self.core.people.send_digits(session, digits, gap)
        return True

    def refer(self, leg_uuid: str, target: str, domain: str = "callcenter") -> bool:
        """The phone on ``leg_uuid`` (an agent's leg) presses its transfer key: a blind REFER
        to ``target`` (``1002``, ``*85``, ``0049301234``). False when not bridged or gone."""
        return refer.blind(self.core, leg_uuid, target, domain)

    def consult(self, ext: str, dest: str, domain: str = "callcenter") -> str:
        """The agent's phone ``ext`` dials ``dest`` (an attended transfer's consult call,
        parked ``cc_entry=agent_outbound``); returns the new channel's uuid."""
        return refer.consult(self.core, ext, dest, domain)

    def refer_replaces(self, leg_uuid: str, consult_uuid: str, domain: str = "callcenter") -> bool:
        """The phone completes an attended transfer: REFER with Replaces on ``leg_uuid`` (its
        leg with the caller) naming its consult call ``consult_uuid``."""
        return refer.attended(self.core, leg_uuid, consult_uuid, domain)

    def register_agent(self, ext: str, behaviour: AgentBehaviour | None = None) -> None:
        self.core.agents[ext] = behaviour or AgentBehaviour()

    def unregister_agent(self, ext: str) -> None:
        self.core.agents.pop(ext, None)

    def set_far_end(self, policy: Callable[[str], AgentBehaviour | None]) -> None:
        """How non-``user/`` dial strings (gateways, numbers) behave; None: answer in 1 s."""
        self.core.far_end = policy

    @property
    def gateways(self) -> SimGateways:
        """The carriers profile's gateways: ``define``, ``load``, ``fail``, ``restore``, and
        the ``carrier`` behind each; their state decides how calls through them end."""
        return self.core.gateways

    def set_file_duration(self, path: str, seconds: float) -> None:
        self.core.files[path] = seconds

    def on_event(self, callback: Callable[[SimEvent], None]) -> None:
        """Observe every event in-process (synchronously, keep it cheap)."""
        self.core.hub.listen(callback)

    # -- faults --------------------------------------------------------------------------
    def drop_clients(self) -> None:
        """Kill every ESL socket (as if the event socket restarted); channels live on."""
        for connection in list(self._connections.values()):
            connection.abort()

    def restart(self) -> None:
        """FreeSWITCH restarts: clients dropped, every channel gone (no events), new Core-UUID."""
        self.drop_clients()
        for session in list(self.core.sessions.values()):
            session.destroyed.set()
            session.hungup.set()
            session.inbox.put(None)
        self.core.group.kill(timeout=STOP_TIMEOUT)
        listeners = self.core.hub.listeners
        agents, far_end, files = self.core.agents, self.core.far_end, self.core.files
        gateways = self.core.gateways  # the files and the carriers survive a restart
        self.core = self._new_core(None)
        self.core.agents, self.core.far_end, self.core.files = agents, far_end, files
        for name, gateway in gateways.defined.items():  # loaded at start: no client saw it
            self.core.gateways.load(name, register=gateway.register, proxy=gateway.proxy)
        self.core.gateways.carriers = gateways.carriers
        for callback in listeners:
            self.core.hub.listen(callback)
        self.api = Api(self.core)
        if self._server is not None:
            self.core.spawn(self.core.heartbeats, name="heartbeat")

    # -- inspection ----------------------------------------------------------------------
    @property
    def channels(self) -> list[ChannelSnapshot]:
        out = []
        for session in self.core.sessions.values():
            chan = session.chan
            if session.destroyed.is_set():
                continue
            out.append(
                ChannelSnapshot(
                    uuid=chan.uuid,
                    direction=chan.direction,
                    state=str(chan.state),
                    callstate=str(chan.callstate),
                    answer_state=str(chan.answer_state),
                    cid_name=chan.profile.caller_id_name,
                    cid_num=chan.profile.caller_id_number,
                    dest=chan.profile.destination_number,
                    application=chan.application,
                    partner=chan.partner.uuid if chan.partner is not None else None,
                    variables=MappingProxyType(dict(chan.variables)),
                )
            )
        return out

    def channel(self, uuid: str) -> ChannelSnapshot | None:
        return next((c for c in self.channels if c.uuid == uuid), None)

    @property
    def commands(self) -> list[CommandRecord]:
        return list(self.core.commands)

    @property
    def client_count(self) -> int:
        return len(self._connections)

    @property
    def core_uuid(self) -> str:
        return self.core.core_uuid
