"""One supervision session asked through the services, run by the engine holding the call.

Its own greenlet (in the call manager's group) and its own mailbox for the supervisor's leg:
the call's actor, legs and CDR are not involved, so the agent's call goes on whatever the
supervisor does. ``bgapi originate {...}user/<supervisor> &eavesdrop(<agent leg>)``: the
phone rings; on answer FreeSWITCH runs eavesdrop (no park, no bridge, s15). The session
ends when the supervisor hangs up or when FreeSWITCH hangs the leg up (its target left).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import gevent

from callcenter.calls.control import Channel
from callcenter.calls.intents import Supervise
from callcenter.calls.mailbox import CALL_EVENTS, Mailbox
from callcenter.errors import CallCenterError, ESLError
from callcenter.esl import commands
from callcenter.esl import quoting as q
from callcenter.esl.events import Event
from callcenter.esl.router import EventRouter
from callcenter.supervision.modes import Mode, Trail, variables

log = logging.getLogger(__name__)

Finish = Callable[..., object]  # services.supervision.finish, bound to the database
MODES = "cc_supervision_modes"  # the modes so far, on the supervisor's channel


@dataclass(frozen=True, slots=True)
class Resumed:
    """A session found live at a start: since when, and the modes its channel kept."""

    started: datetime | None
    modes: tuple[str, ...] = ()

    @classmethod
    def from_dump(cls, started: datetime | None, dump: Mapping[str, str]) -> Resumed:
        modes = tuple(m for m in dump.get(f"variable_{MODES}", "").split(",") if m in _MODES)
        return cls(started, modes)


_MODES = frozenset(Mode)


class SupervisionRun:
    def __init__(
        self,
        ask: Supervise,
        call_uuid: str,
        channel: Channel,
        router: EventRouter,
        finish: Finish,
        *,
        agents_domain: str = "callcenter",
        caller: tuple[str, str] = ("", ""),
        ring_seconds: float = 30.0,
        check_interval: float = 60.0,
        on_end: Callable[[str, str], object] = lambda mode, end: None,
        resumed: Resumed | None = None,
    ) -> None:
        """``on_end(mode, end)``: counted (``end``: the reason without its detail).
        ``resumed``: a session of the previous run, its leg live, adopted after a restart."""
        self.ask = ask
        self.call_uuid = call_uuid
        self.channel = channel
        self.router = router
        self.finish = finish
        self.agents_domain = agents_domain
        self.caller = caller
        self.ring_seconds = ring_seconds
        self.check_interval = check_interval
        self.on_end = on_end
        self.trail = Trail.starting(Mode(ask.mode))
        self.started: datetime | None = None
        self.resumed = resumed
        if resumed is not None and resumed.modes:
            self.trail = Trail([Mode(m) for m in resumed.modes])

    def run(self) -> None:
        ask = self.ask
        mailbox = Mailbox(ask.leg, 200, wants=CALL_EVENTS)
        self.router.attach_call(ask.leg, mailbox)
        try:
            reason, ended = self._session(mailbox)
        except gevent.GreenletExit:  # the engine stops: the eavesdrop goes on, the next adopts it
            self.router.unregister_call(ask.leg)
            log.info("call %s: supervision %d left running for the next start", self.call_uuid,
                     ask.session)  # fmt: skip
            raise
        except BaseException:
            self._ended("failed", None)
            raise
        self._ended(reason, ended)

    def _ended(self, reason: str, ended: datetime | None) -> None:
        ask = self.ask
        self.router.unregister_call(ask.leg)
        log.info("call %s: supervisor %s session %d ended (%s), modes %s", self.call_uuid,
                 ask.supervisor, ask.session, reason, self.trail.text())  # fmt: skip
        self.on_end(ask.mode, reason.split(":", 1)[0])
        try:
            self.finish(
                ask.session, modes=self.trail.text() if self.started else "",
                ended_at=ended or _now(), reason=reason, started_at=self.started,
            )  # fmt: skip
        except CallCenterError as exc:
            log.warning("supervision session %d: end not stored: %s", ask.session, exc)

    def _session(self, mailbox: Mailbox) -> tuple[str, datetime | None]:
        if self.resumed is not None:  # answered and eavesdropping since the last run
            return self._watch(mailbox, self.resumed.started)
        ask, name, number = self.ask, *self.caller
        tags = {
            "cc_managed": "true",  # a restart's listing adopts it (calls.manager)
            "cc_role": "supervisor",
            "cc_call_uuid": self.call_uuid,
            "cc_supervision": str(ask.session),
            "originate_timeout": str(int(self.ring_seconds)),
            "origination_caller_id_number": q.scrub(number) or "unknown",
            "origination_caller_id_name": q.scrub(name) or "unknown",
            **variables(Mode(ask.mode)),
        }
        line = commands.originate(
            self.dial_string(), tags, uuid=ask.leg, app="eavesdrop", app_arg=ask.agent_leg
        )
        try:
            reply = self.channel.bgapi(line, self.ring_seconds + 10.0, check=False)
        except ESLError as exc:
            self._kill("ALLOTTED_TIMEOUT")
            return f"not_dialled: {exc}"[:64], None
        if not reply.startswith("+OK"):
            return f"not_answered: {reply.removeprefix('-ERR').strip()}"[:64], None
        return self._watch(mailbox)

    def dial_string(self) -> str:
        """The supervisor's phone, as the agents' are dialled."""
        return f"user/{q.token('extension', self.ask.supervisor)}@{self.agents_domain}"

    def _watch(
        self, mailbox: Mailbox, started: datetime | None = None
    ) -> tuple[str, datetime | None]:
        self.started = started or _now()
        leg = self.ask.leg
        while True:
            event = mailbox.get(timeout=self.check_interval)
            if event is None:
                if self._gone():
                    return "gone", None
                continue
            if event.unique_id != leg:
                continue
            if event.name == "CHANNEL_ANSWER":
                self.started = _at(event)
            elif event.name == "DTMF" and self.trail.press(event.get("DTMF-Digit") or ""):
                self._keep_modes()
            elif event.name == "CHANNEL_HANGUP_COMPLETE":
                return _why(event), _at(event)

    def _keep_modes(self) -> None:
        """On the supervisor's channel: an engine restarting adopts the session with them."""
        try:
            self.channel.api(commands.uuid_setvar(self.ask.leg, MODES, self.trail.text()))
        except ESLError as exc:
            log.info("supervision leg %s: modes not kept on the channel: %s", self.ask.leg, exc)

    def _gone(self) -> bool:
        try:
            answer = self.channel.api(commands.uuid_exists(self.ask.leg), check=False)
        except ESLError:
            return False
        return str(answer).strip() == "false"

    def _kill(self, cause: str) -> None:
        try:
            self.channel.api(commands.uuid_kill(self.ask.leg, cause), check=False)
        except ESLError as exc:
            log.info("supervision leg %s: kill not sent: %s", self.ask.leg, exc)


def _why(event: Event) -> str:
    """Who ended it: the supervisor's phone (a BYE received) or FreeSWITCH (the agent's leg,
    eavesdrop's target, went away: the originate had no further application)."""
    disposition = event.variable("sip_hangup_disposition") or ""
    if disposition.startswith("recv_"):
        return "supervisor_hangup"
    return "call_ended"


def _at(event: Event) -> datetime:
    return datetime.fromtimestamp(event.timestamp_us / 1e6, UTC)


def _now() -> datetime:
    return datetime.now(UTC)
