"""The simulated switch's shared state: clock, event bus, live sessions, phones, commands.

One ``SimCore`` is one FreeSWITCH run (one Core-UUID). It owns every greenlet it starts
(a gevent Group); a greenlet that dies with an exception is logged, never silent.
"""

from __future__ import annotations

import logging
import math
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gevent
from gevent.pool import Group

from callcenter.sim import varsets
from callcenter.sim.behaviour import AgentBehaviour
from callcenter.sim.clock import Clock
from callcenter.sim.events import EventFactory, SimEvent
from callcenter.sim.gateways import SimGateways
from callcenter.sim.hub import EventHub
from callcenter.sim.listings import VERSION, uptime_words

if TYPE_CHECKING:
    from callcenter.sim.people import People
    from callcenter.sim.session import Session
    from callcenter.sim.xml_cdr import XmlCdrPoster

log = logging.getLogger(__name__)

COMMAND_LOG_SIZE = 100_000
# what an originate gets when the core refuses its session: mod_sofia's cause when
# switch_core_session_request_uuid returns none (sofia_outgoing_channel), passed on by
# switch_ivr_originate; no channel, so no event
SESSION_REFUSED = "DESTINATION_OUT_OF_ORDER"
THROTTLED = "Throttle Error!"  # FreeSWITCH's log line (switch_core_session.c)
OVER_LIMIT = "Over Session Limit!"
HEARTBEAT_INTERVAL = 20.0  # switch.conf.xml's event-heartbeat-interval (its default)
SPS_FIVE_MINUTES = 300  # seconds HEARTBEAT's Session-Per-Sec-FiveMin looks back
MODULES = frozenset(
    {"mod_sofia", "mod_event_socket", "mod_dptools", "mod_commands", "mod_tone_stream",
     "mod_xml_cdr", "mod_avmd"}
)  # fmt: skip


@dataclass(frozen=True)
class CommandRecord:
    """One command a client sent (first line plus the extra header lines)."""

    connection: int
    line: str
    headers: tuple[tuple[str, str], ...]
    at: float


@dataclass(frozen=True)
class SessionRequest:
    """A session the core was asked for (an inbound caller, an originated leg)."""

    at: float  # simulated epoch seconds
    direction: str  # inbound, outbound
    target: str  # what it was for: the dial string, the number dialled in
    refused: str = ""  # "": created; else FreeSWITCH's log line (THROTTLED, OVER_LIMIT)


class SimCore:
    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        seed: int | None = None,
        hostname: str = "fs1",
        sessions_per_second: int = 30,
        max_sessions: int = 1000,
    ) -> None:
        self.clock = Clock(time_scale)
        self.rng = random.Random(seed)
        self.hostname = hostname
        self.sessions_per_second = sessions_per_second
        self.max_sessions = max_sessions
        self.group = Group()
        self.hub = EventHub()
        self.factory = EventFactory(self.clock, self.new_uuid(), hostname)
        self.sessions: dict[str, Session] = {}
        self.agents: dict[str, AgentBehaviour] = {}
        self.far_end: Callable[[str], AgentBehaviour | None] = lambda _dial: None
        self.files: dict[str, float] = {}
        self.modules: set[str] = set(MODULES)  # ``module_exists``; without mod_avmd: no avmd_*
        self.default_file_seconds = 1.0
        self.record_files = "write"  # sim.recordfile: write, missing, corrupt (a fault)
        # the most recent commands, for assertions; bounded so a long run cannot grow forever
        self.commands: deque[CommandRecord] = deque(maxlen=COMMAND_LOG_SIZE)
        self.started = time.monotonic()
        self.sessions_since_startup = 0
        self.peak_sessions = 0
        # every session asked for, created or refused, for assertions (bounded)
        self.session_requests: deque[SessionRequest] = deque(maxlen=COMMAND_LOG_SIZE)
        self._sps_second = -1  # the timer's second the count below is for
        self._sps_left = 0
        self._sps_requests = 0  # sessions asked for in that second, refused ones too
        # sessions asked for in each whole second that had any, the last five minutes'
        # (HEARTBEAT's Session-Per-Sec-Last, -Max, -FiveMin)
        self._sps_used: deque[tuple[int, int]] = deque(maxlen=SPS_FIVE_MINUTES)
        self.sps_peak = 0
        self.heartbeat_interval = HEARTBEAT_INTERVAL
        self._session_ids = 0
        self.xml_cdr: XmlCdrPoster | None = None  # mod_xml_cdr, off unless configured
        self.people: People
        from callcenter.sim.people import People

        self.people = People(self)
        self.gateways = SimGateways(self)  # the callcenter-carriers profile's gateways

    @property
    def core_uuid(self) -> str:
        return self.factory.core_uuid

    def new_uuid(self) -> str:
        # Always fresh, even with a seed: FreeSWITCH never reuses a UUID, and a seeded
        # run against a database that outlives it must not collide with the last one.
        return str(uuid.uuid4())

    def spawn(self, fn: Callable[..., Any], *args: Any, name: str = "") -> gevent.Greenlet:
        greenlet = gevent.Greenlet(fn, *args)
        greenlet.name = name or getattr(fn, "__name__", "sim")
        greenlet.link_exception(self._crashed)
        self.group.start(greenlet)
        return greenlet

    @staticmethod
    def _crashed(greenlet: gevent.Greenlet) -> None:
        log.error(
            "simulator greenlet %s died: %r",
            greenlet.name,
            greenlet.exception,
            exc_info=greenlet.exc_info if greenlet.exc_info else None,
        )

    def record(self, connection: int, line: str, headers: Mapping[str, str]) -> None:
        self.commands.append(CommandRecord(connection, line, tuple(headers.items()), time.time()))

    def session(self, uuid_: str) -> Session | None:
        session = self.sessions.get(uuid_)
        if session is None or session.chan.gone:
            return None
        return session

    def request_session(self, direction: str, target: str) -> bool:
        """Whether the core creates one more session now (switch_core_session_request_uuid's
        limits): FreeSWITCH's timer sets a count to ``sessions_per_second`` each second and
        every request decrements it, refused when that leaves it at 0 or below ("Throttle
        Error!": ``sessions_per_second - 1`` sessions a second get through), or when the
        sessions would exceed ``max_sessions`` ("Over Session Limit!"). The seconds are the
        simulated clock's whole seconds."""
        now = self.clock.now()
        self._sps_tick(math.floor(now))
        self._sps_left -= 1
        self._sps_requests += 1
        refused = ""
        if self._sps_left <= 0:
            refused = THROTTLED
        elif len(self.sessions) + 1 > self.max_sessions:
            refused = OVER_LIMIT
        self.session_requests.append(SessionRequest(now, direction, target, refused))
        if refused:
            log.warning("sim: %s session (%s) refused: %s %d", direction, target, refused,
                        len(self.sessions))  # fmt: skip
        return not refused

    def _sps_tick(self, second: int) -> None:
        """The core timer's reset at each whole second: the count back to the rate, what the
        second before used kept (``runtime.sps_last``)."""
        if second == self._sps_second:
            return
        if self._sps_requests:
            self._sps_used.append((self._sps_second, self._sps_requests))
            self.sps_peak = max(self.sps_peak, self._sps_requests)
        self._sps_second, self._sps_left = second, self.sessions_per_second
        self._sps_requests = 0

    def sps_figures(self) -> tuple[int, int, int]:
        """Sessions asked for in the last whole second, in the busiest second since the
        start, and in the busiest of the last five minutes (``runtime.sps_last``,
        ``sps_peak``, ``sps_peak_fivemin``)."""
        second = math.floor(self.clock.now())
        self._sps_tick(second)
        used = dict(self._sps_used)
        recent = [n for at, n in self._sps_used if at > second - SPS_FIVE_MINUTES]
        return used.get(second - 1, 0), self.sps_peak, max(recent, default=0)

    def heartbeat(self) -> SimEvent:
        """The HEARTBEAT switch_core.c sends every ``event-heartbeat-interval`` (20 s).
        Session-Per-Sec is ``runtime.sps``: what the current second has left of the rate
        (printed ``%u``: a second overdrawn by refused requests reads as a huge number)."""
        last, peak, five_minutes = self.sps_figures()
        up = time.monotonic() - self.started
        return self.factory.heartbeat(
            (
                ("Event-Info", "System Ready"),
                ("Up-Time", uptime_words(up)),
                ("FreeSWITCH-Version", VERSION),
                ("Uptime-msec", str(int(up * 1000))),
                ("Session-Count", str(len(self.sessions))),
                ("Max-Sessions", str(self.max_sessions)),
                ("Session-Per-Sec", str(self._sps_left % 2**32)),
                ("Session-Per-Sec-Last", str(last)),
                ("Session-Per-Sec-Max", str(peak)),
                ("Session-Per-Sec-FiveMin", str(five_minutes)),
                ("Session-Since-Startup", str(self.sessions_since_startup)),
                ("Session-Peak-Max", str(self.peak_sessions)),
                ("Session-Peak-FiveMin", str(self.peak_sessions)),
                ("Idle-CPU", "98.000000"),
            )
        )

    def heartbeats(self) -> None:
        """Send a HEARTBEAT every ``heartbeat_interval`` simulated seconds (a greenlet)."""
        while True:
            self.clock.sleep(self.heartbeat_interval)
            self.hub.emit(self.heartbeat())

    def next_session_id(self) -> str:
        self._session_ids += 1
        self.sessions_since_startup += 1
        self.peak_sessions = max(self.peak_sessions, len(self.sessions) + 1)
        return str(self._session_ids)

    def session_gone(self, session: Session) -> None:
        self.sessions.pop(session.uuid, None)

    # -- variables real FreeSWITCH sets along the way -----------------------------------
    def cdr_variables(self, session: Session) -> None:
        """What FreeSWITCH adds in the reporting state, before CHANNEL_HANGUP_COMPLETE:
        hang-up cause, timings, the disposition of a BYE it sent, the RTP statistics."""
        from callcenter.sim.session import q850

        chan = session.chan
        times = chan.profile.times
        end = times.get("Channel-Hangup-Time", 0) or self.clock.now_us()
        cause = chan.hangup_cause or "NORMAL_CLEARING"
        profile = chan.profile
        chan.set_vars(
            varsets.cdr(
                cause=cause,
                q850=q850(cause),
                digits="".join(session.digits_dialed),
                times=times,
                end_us=end,
                last_app=session.last_app,
                last_arg=session.last_arg,
                caller_id=f'"{profile.caller_id_name}" <{profile.caller_id_number}>',
            )
        )
        if "sip_hangup_disposition" not in chan.variables:
            chan.set_var("sip_hangup_disposition", session.disposition or "send_bye")
        if session.media_open:
            answered = times.get("Channel-Answered-Time", 0) or end
            chan.set_vars(
                varsets.rtp_stats(
                    seconds=max(0, end - answered) / 1_000_000,
                    sent_ms=session.played_ms,
                    dtmf_packets=10 * len(session.digits_dialed),
                )
            )
