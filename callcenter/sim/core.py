"""The simulated switch's shared state: clock, event bus, live sessions, phones, commands.

One ``SimCore`` is one FreeSWITCH run (one Core-UUID). It owns every greenlet it starts
(a gevent Group); a greenlet that dies with an exception is logged, never silent.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gevent
from gevent.pool import Group

from callcenter.sim.behaviour import AgentBehaviour
from callcenter.sim.channel import Channel
from callcenter.sim.clock import Clock
from callcenter.sim.events import EventFactory
from callcenter.sim.hub import EventHub

if TYPE_CHECKING:
    from callcenter.sim.people import People
    from callcenter.sim.session import Session

log = logging.getLogger(__name__)

COMMAND_LOG_SIZE = 100_000


@dataclass(frozen=True)
class CommandRecord:
    """One command a client sent (first line plus the extra header lines)."""

    connection: int
    line: str
    headers: tuple[tuple[str, str], ...]
    at: float


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
        self.default_file_seconds = 1.0
        # the most recent commands, for assertions; bounded so a long run cannot grow forever
        self.commands: deque[CommandRecord] = deque(maxlen=COMMAND_LOG_SIZE)
        self.started = time.monotonic()
        self.sessions_since_startup = 0
        self.peak_sessions = 0
        self._session_ids = 0
        self.people: People
        from callcenter.sim.people import People

        self.people = People(self)

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

    def next_session_id(self) -> str:
        self._session_ids += 1
        self.sessions_since_startup += 1
        self.peak_sessions = max(self.peak_sessions, len(self.sessions) + 1)
        return str(self._session_ids)

    def session_gone(self, session: Session) -> None:
        self.sessions.pop(session.uuid, None)

    # -- variables real FreeSWITCH sets along the way -----------------------------------
    def media_variables(self, chan: Channel) -> dict[str, str]:
        port = str(16384 + self.rng.randrange(0, 16000) * 2)
        return {
            "remote_video_media_flow": "inactive",
            "remote_text_media_flow": "inactive",
            "remote_audio_media_flow": "sendrecv",
            "audio_media_flow": "sendrecv",
            "rtp_audio_recv_pt": "0",
            "rtp_use_codec_name": "PCMU",
            "rtp_use_codec_rate": "8000",
            "rtp_use_codec_ptime": "20",
            "rtp_use_codec_channels": "1",
            "rtp_last_audio_codec_string": "PCMU@8000h@20i@1c",
            "read_codec": "PCMU",
            "original_read_codec": "PCMU",
            "read_rate": "8000",
            "original_read_rate": "8000",
            "write_codec": "PCMU",
            "write_rate": "8000",
            "dtmf_type": "rfc2833",
            "local_media_ip": "127.0.0.1",
            "local_media_port": port,
            "advertised_media_ip": "127.0.0.1",
            "rtp_use_timer_name": "soft",
            "rtp_use_pt": "0",
            "rtp_2833_send_payload": "101",
            "rtp_2833_recv_payload": "101",
            "remote_media_ip": "127.0.0.1",
            "remote_media_port": "6000",
            "endpoint_disposition": "EARLY MEDIA",
        }

    def cdr_variables(self, session: Session) -> None:
        """The timing variables FreeSWITCH adds before CHANNEL_HANGUP_COMPLETE."""
        from callcenter.sim.session import q850

        chan = session.chan
        times = chan.profile.times
        created = times.get("Channel-Created-Time", 0)
        answered = times.get("Channel-Answered-Time", 0)
        progress = times.get("Channel-Progress-Time", 0)
        media = times.get("Channel-Progress-Media-Time", 0)
        bridged = times.get("Channel-Bridged-Time", 0)
        end = times.get("Channel-Hangup-Time", 0) or self.clock.now_us()
        cause = chan.hangup_cause or "NORMAL_CLEARING"

        def stamp(us: int) -> str:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(us // 1_000_000))

        values: dict[str, str] = {
            "hangup_cause": cause,
            "hangup_cause_q850": q850(cause),
        }
        if session.digits_dialed:
            values["digits_dialed"] = "".join(session.digits_dialed)
        values["start_stamp"] = stamp(created)
        values["profile_start_stamp"] = stamp(created)
        if answered:
            values["answer_stamp"] = stamp(answered)
        if bridged:
            values["bridge_stamp"] = stamp(bridged)
        if media:
            values["progress_media_stamp"] = stamp(media)
        values["end_stamp"] = stamp(end)
        for name, us in (
            ("start", created),
            ("profile_start", created),
            ("answer", answered),
            ("bridge", bridged),
            ("last_hold", 0),
            ("resurrect", 0),
            ("progress", progress),
            ("progress_media", media),
            ("end", end),
        ):
            values[f"{name}_epoch"] = str(us // 1_000_000)
            values[f"{name}_uepoch"] = str(us)
        values["caller_id"] = f'"{chan.profile.caller_id_name}" <{chan.profile.caller_id_number}>'
        duration = max(0, end - created)
        bill = max(0, end - answered) if answered else 0
        values["duration"] = str(duration // 1_000_000)
        values["billsec"] = str(bill // 1_000_000)
        values["answersec"] = str(max(0, answered - created) // 1_000_000) if answered else "0"
        values["waitsec"] = str(max(0, bridged - created) // 1_000_000) if bridged else "0"
        values["mduration"] = str(duration // 1000)
        values["billmsec"] = str(bill // 1000)
        values["answermsec"] = str(max(0, answered - created) // 1000) if answered else "0"
        values["waitmsec"] = str(max(0, bridged - created) // 1000) if bridged else "0"
        values["uduration"] = str(duration)
        values["billusec"] = str(bill)
        chan.set_vars(values)
