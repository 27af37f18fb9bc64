"""One live call as the engine sees it: its legs, its state, its timeline for the CDR."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from callcenter.cdr.timeline import CallTimeline, ChannelEvent, LegTimeline
from callcenter.errors import ESLProtocolError
from callcenter.recording.state import CallRecordings
from callcenter.store.records import CallRecord, LegRecord
from callcenter.vocabulary import SKILL, CallState, Direction, Disposition, LegRole

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueueSeat:
    """Where a caller waits, kept on the channel itself (``cc_queue*`` variables) so that an
    engine restarting finds the caller's place, priority, skills, language and waiting time
    again. Every value is a plain token: no ``;`` or ``=`` (``uuid_setvar_multi``)."""

    queue: str
    ticket: str
    priority: int
    joined_us: int
    skills: tuple[tuple[str, int], ...] = ()
    language: str = "en"

    VARIABLES = (
        "cc_queue", "cc_queue_ticket", "cc_queue_priority", "cc_queue_joined",
        "cc_queue_skills", "cc_queue_lang",
    )  # fmt: skip

    def variables(self) -> dict[str, str | None]:
        skills = ",".join(f"{name}:{level}" for name, level in self.skills) or None
        values = (
            self.queue, self.ticket, str(self.priority), str(self.joined_us), skills,
            self.language,
        )  # fmt: skip
        return dict(zip(self.VARIABLES, values, strict=True))

    @classmethod
    def cleared(cls) -> dict[str, str | None]:
        return dict.fromkeys(cls.VARIABLES)

    @classmethod
    def from_dump(cls, dump: Mapping[str, str]) -> QueueSeat | None:
        queue, ticket, priority, joined, skills, language = (
            dump.get(f"variable_{v}", "") for v in cls.VARIABLES
        )
        if not (_SEAT_NAME.fullmatch(queue) and _SEAT_NAME.fullmatch(ticket)):
            return None
        if not (priority.isdigit() and joined.isdigit()):
            return None
        pairs = [item.partition(":") for item in skills.split(",") if item]
        if any(not (SKILL.fullmatch(name) and level.isdigit()) for name, _, level in pairs):
            return None
        lang = language if _SEAT_LANG.fullmatch(language) else "en"
        return cls(
            queue, ticket, int(priority), int(joined),
            tuple((name, int(level)) for name, _, level in pairs), lang,
        )  # fmt: skip


def _callback_of(header: Callable[[str], str | None]) -> tuple[str, str, str, str] | None:
    """A queue callback's call (``cc_entry=callback``, the agent's leg first): its ticket,
    the number to dial, the agent, the queue."""
    if header("variable_cc_entry") != "callback":
        return None
    ticket = header("variable_cc_callback") or ""
    number = header("variable_cc_callback_number") or ""
    agent = header("variable_cc_agent") or ""
    queue = header("variable_cc_queue") or ""
    names = all(_SEAT_NAME.fullmatch(name) for name in (ticket, agent, queue))
    if not (names and number.isdigit() and len(number) <= 20):
        return None
    return ticket, number, agent, queue


def _dialer_of(header: Callable[[str], str | None]) -> tuple[str, int, str] | None:
    """A dialer's call (``cc_entry=dialer``): its campaign, lead, and for a preview (the
    agent's leg first) the agent's reservation."""
    campaign = header("variable_cc_campaign") or ""
    lead = header("variable_cc_lead") or ""
    preview = header("variable_cc_preview") or ""
    if not (_SEAT_NAME.fullmatch(campaign) and lead.isdigit() and len(lead) <= 18):
        return None
    if preview and not _SEAT_NAME.fullmatch(preview):
        return None
    return campaign, int(lead), preview


def _campaigns_caller_id(call: Call, header: Callable[[str], str | None]) -> None:
    """A campaign's call is the lead's leg, seen once answered: FreeSWITCH has flipped its
    caller ID to the lead's (``channel_cid_flipped``). Its CDR says it was from the
    campaign's caller ID, as its originate did, to the lead; the call itself keeps the lead
    as its party (``from_number``: screen pops, events, a flow's caller, transfers). A
    preview's own leg is the agent's."""
    if call.dialer is None or call.dialer[2]:
        return
    leg = call.caller
    leg.from_number = header("variable_origination_caller_id_number") or leg.from_number
    leg.from_name = header("variable_origination_caller_id_name") or leg.from_name


_SEAT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SEAT_LANG = re.compile(r"[a-z]{2,3}(?:/[A-Za-z0-9_-]{1,32}){0,2}")


class Application(NamedTuple):
    """The application FreeSWITCH ran last on a channel when it was adopted (``uuid_dump``'s
    ``current_application`` and its data): ``done`` when it had its response then (one
    that sets none, ``wait_for_silence``, never seems done)."""

    name: str
    data: str
    done: bool


@dataclass
class Call:
    """Written by its actor only: events applied by ``CallControl.pump``, steps through
    ``CallControl.set_state``; others send the actor intents (``calls.intents``)."""

    uuid: str
    node: str
    direction: Direction
    did: str = ""
    from_number: str = ""
    from_name: str = ""
    to_number: str = ""
    state: CallState = CallState.PARKED
    timeline: CallTimeline = field(init=False)
    adopted: bool = False
    queue_overflows: int = 0
    queue_first_us: int = 0  # when it entered its first queue: an overflow keeps its place
    keys: list[str] = field(default_factory=list, repr=False)  # caller's DTMF, last 32
    keys_pressed: int = 0  # how many the caller pressed in all
    cancelled_legs: set[str] = field(default_factory=set, repr=False)  # killed, not wanted
    queue_seat: QueueSeat | None = None  # adopted while waiting in a queue: resume there
    entry: str = "inbound"  # the dialplan's cc_entry: inbound, agent_feature, agent_outbound
    agent: str | None = None  # dialled from this agent's phone (its authenticated SIP user)
    bridged_seat: QueueSeat | None = None  # adopted bridged: the queue stay it was answered in
    # a queue callback's call, the agent's leg first: ticket, number to dial, agent, queue
    callback: tuple[str, str, str, str] | None = None
    beep_us: int = 0  # when mod_avmd heard a voicemail beep on the caller's leg (dialer)
    application: Application | None = None  # adopted: what FreeSWITCH was running on it
    dialer: tuple[str, int, str] | None = None  # campaign, lead, a preview's reservation
    recordings: CallRecordings = field(default_factory=CallRecordings, repr=False)
    # the trunk an inbound call arrived on, and its country: the DID and the caller's number
    # are read in it (None: not from a known trunk, the default_country)
    trunk: str | None = None
    country: str | None = None

    def __post_init__(self) -> None:
        self.timeline = CallTimeline(
            call_uuid=self.uuid, node=self.node, direction=self.direction, did=self.did
        )
        self.timeline.add_leg(
            self.uuid,
            LegRole.CALLER if self.direction is Direction.INBOUND else LegRole.OUTBOUND,
            self.direction,
            from_number=self.from_number,
            from_name=self.from_name,
            to_number=self.to_number,
        )

    @classmethod
    def from_park(cls, event: ChannelEvent, node: str) -> Call:
        """A call first seen at CHANNEL_PARK (the dialplan tagged and parked it)."""
        direction = (
            Direction.OUTBOUND if event.get("Call-Direction") == "outbound" else Direction.INBOUND
        )
        header = event.get
        entry = header("variable_cc_entry") or "inbound"
        to_number = header("Caller-Destination-Number") or ""
        call = cls(
            uuid=event.unique_id or "",
            node=node,
            direction=direction,
            did=header("variable_cc_did") or to_number,
            from_number=header("Caller-Caller-ID-Number") or "",
            from_name=header("Caller-Caller-ID-Name") or "",
            to_number=to_number,
            entry=entry,
        )
        if entry == "callback":  # each lookup is a pass over the event: only when it can be
            call.called_back(_callback_of(header))
        elif entry == "dialer":
            call.dialer = _dialer_of(header)
            _campaigns_caller_id(call, header)
        call.apply(event)
        return call

    @classmethod
    def from_dump(cls, dump: Mapping[str, str], node: str) -> Call:
        """A live call found at resync (``uuid_dump <uuid> json``), adopted mid-flight."""
        call = cls(
            uuid=dump.get("Unique-ID", ""),
            node=node,
            direction=(
                Direction.OUTBOUND
                if dump.get("Call-Direction") == "outbound"
                else Direction.INBOUND
            ),
            did=dump.get("variable_cc_did") or dump.get("Caller-Destination-Number", ""),
            from_number=dump.get("Caller-Caller-ID-Number", ""),
            from_name=dump.get("Caller-Caller-ID-Name", ""),
            to_number=dump.get("Caller-Destination-Number", ""),
            adopted=True,
            entry=dump.get("variable_cc_entry") or "inbound",
        )
        call.called_back(_callback_of(dump.get))
        if app := dump.get("variable_current_application"):
            data = dump.get("variable_current_application_data") or ""
            call.application = Application(app, data, bool(
                dump.get("variable_current_application_response")
            ))  # fmt: skip
        if call.entry == "dialer":  # a campaign's call: its runner, not the DID's route
            call.dialer = _dialer_of(dump.get)
            _campaigns_caller_id(call, dump.get)
        leg = _times_from_dump(call.caller, dump)
        leg.channel_name = dump.get("Channel-Name", "")
        if leg.bridged_us or dump.get("Other-Leg-Unique-ID"):
            call.state = CallState.BRIDGED
            call.bridged_seat = QueueSeat.from_dump(dump)
        elif leg.answered_us:
            call.state = CallState.ANSWERED
            call.queue_seat = QueueSeat.from_dump(dump)
            if call.queue_seat is not None:  # waiting, whatever happens before it resumes
                call.timeline.queue_joined(call.queue_seat.queue, call.queue_seat.joined_us)
        return call

    def adopt_leg(self, dump: Mapping[str, str]) -> LegTimeline:
        """Another leg of this call (an agent's), found live at resync."""
        uuid = dump.get("Unique-ID", "")
        role = LegRole(dump.get("variable_cc_role") or LegRole.AGENT)
        if role is LegRole.AGENT:
            leg = self.timeline.agent_leg(uuid, dump.get("variable_cc_agent", ""))
        else:
            leg = self.timeline.add_leg(uuid, role, Direction.OUTBOUND)
        return _times_from_dump(leg, dump)

    @classmethod
    def from_record(cls, record: CallRecord) -> Call:
        """A call the database says was live when this controller last ran."""
        call = cls(
            uuid=record.uuid,
            node=record.node,
            direction=record.direction,
            did=record.did,
            from_number=record.from_number,
            from_name=record.from_name,
            to_number=record.to_number,
            state=record.state,
            adopted=True,
        )
        for leg in record.legs:
            timeline = call.timeline.add_leg(
                leg.uuid, leg.role, leg.direction, agent_extension=leg.agent_extension
            )
            timeline.created_us = _us(leg.created_at)
            timeline.answered_us = _us(leg.answered_at)
            timeline.bridged_us = _us(leg.bridged_at)
            timeline.ended_us = _us(leg.ended_at)
            timeline.hangup_cause = leg.hangup_cause
        call.caller.created_us = call.caller.created_us or _us(record.created_at)
        return call

    def end_leg_unseen(
        self, uuid: str, *, cause: str = "NORMAL_UNSPECIFIED", at_us: int | None = None
    ) -> None:
        """Close a leg whose end happened while the engine could not see it (at ``at_us``,
        the best time known, else now)."""
        leg = self.timeline.leg(uuid)
        if leg is None:
            return
        now = at_us or _now_us()
        if leg.hangup_us is None:
            leg.hangup_us = now
            self.timeline.hangup_order.append(uuid)
        leg.hangup_cause = leg.hangup_cause or cause
        leg.ended_us = leg.ended_us or now
        if self.finished:
            self.state = CallState.ENDED

    def called_back(self, callback: tuple[str, str, str, str] | None) -> None:
        """A queue callback's call (its ticket, number, agent, queue), or not one (None)."""
        self.callback = callback
        if callback is not None:
            _, number, agent, queue = callback
            self.timeline.called_back(queue, agent, number)

    @property
    def caller(self) -> LegTimeline:
        return self.timeline.caller

    @property
    def leg_uuids(self) -> list[str]:
        return list(self.timeline.legs)

    @property
    def agent_first(self) -> bool:
        """The call's own channel is an agent's phone, the customer dialled from it: a
        campaign's preview, a queue callback."""
        return self.callback is not None or (self.dialer is not None and bool(self.dialer[2]))

    @property
    def caller_gone(self) -> bool:
        return self.caller.hangup_us is not None

    @property
    def finished(self) -> bool:
        return self.timeline.finished

    def leg_gone(self, uuid: str) -> bool:
        leg = self.timeline.leg(uuid)
        return leg is None or leg.hangup_us is not None

    def apply(self, event: ChannelEvent) -> None:
        try:
            self.timeline.apply(event)
        except ESLProtocolError as exc:  # counted and logged by the connection: dropped here
            log.info("call %s: ignored %s, its body did not decode: %s", self.uuid, event.name, exc)
            return
        if event.unique_id == self.uuid:
            if event.name == "DTMF":
                self._pressed(event.get("DTMF-Digit") or "")
            elif event.name == "CHANNEL_ANSWER" and self.state is CallState.PARKED:
                self.state = CallState.ANSWERED
            elif event.name == "CHANNEL_BRIDGE":
                self.state = CallState.BRIDGED
            elif event.name == "CUSTOM" and event.subclass == "avmd::beep":
                self.beep_us = self.beep_us or event.timestamp_us
        if event.name == "CHANNEL_HANGUP_COMPLETE" and self.finished:
            self.state = CallState.ENDED

    def _pressed(self, digit: str) -> None:
        if len(digit) == 1 and digit in "0123456789*#ABCD":
            self.keys = [*self.keys[-31:], digit]
            self.keys_pressed += 1

    def keys_since(self, count: int) -> list[str]:
        """The keys pressed after the ``count``-th (the last 32 at most)."""
        new = self.keys_pressed - count
        return self.keys[-new:] if new > 0 else []

    def to_record(self, disposition: Disposition | None = None) -> CallRecord:
        caller = self.caller
        at = self.timeline.at
        return CallRecord(
            uuid=self.uuid,
            direction=self.direction,
            state=self.state,
            node=self.node,
            from_number=self.from_number,
            from_name=self.from_name,
            to_number=self.to_number,
            did=self.did,
            created_at=at(caller.created_us),
            answered_at=at(caller.answered_us),
            bridged_at=at(caller.bridged_us),
            ended_at=at(caller.ended_us),
            hangup_cause=caller.hangup_cause,
            disposition=disposition,
            legs=tuple(
                LegRecord(
                    uuid=leg.uuid,
                    role=leg.role,
                    direction=leg.direction,
                    channel_name=leg.channel_name,
                    from_number=leg.from_number,
                    to_number=leg.to_number,
                    agent_extension=leg.agent_extension,
                    created_at=at(leg.created_us),
                    answered_at=at(leg.answered_us),
                    bridged_at=at(leg.bridged_us),
                    ended_at=at(leg.ended_us),
                    hangup_cause=leg.hangup_cause,
                )
                for leg in self.timeline.legs.values()
            ),
        )


def _us(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1_000_000) if value is not None else None


def _times_from_dump(leg: LegTimeline, dump: Mapping[str, str]) -> LegTimeline:
    """A live channel's times from its caller profile (``uuid_dump``), in microseconds."""
    leg.created_us = _time(dump, "Caller-Channel-Created-Time") or _now_us()
    leg.answered_us = _time(dump, "Caller-Channel-Answered-Time")
    leg.bridged_us = _time(dump, "Caller-Channel-Bridged-Time")
    return leg


def _time(dump: Mapping[str, str], key: str) -> int | None:
    value = dump.get(key, "0")
    return int(value) if value.isdigit() and value != "0" else None


def _now_us() -> int:
    return time.time_ns() // 1000
