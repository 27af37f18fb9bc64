"""What happened to one call, leg by leg, as FreeSWITCH's own timestamps tell it.

Pure: fed channel events (by name, as the wazo call-logd builder does) and the engine's own
marks (IVR, queue, agent, wrap-up); builds the CDR. Times come from ``Event-Date-Timestamp``
so a CDR rebuilt after a restart or replayed from the spool says the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from callcenter.vocabulary import Direction, LegRole


class ChannelEvent(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def unique_id(self) -> str | None: ...

    @property
    def subclass(self) -> str | None: ...  # a CUSTOM event's Event-Subclass

    @property
    def timestamp_us(self) -> int: ...

    def get(self, name: str, default: str | None = None) -> str | None: ...


def us_to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


@dataclass
class LegTimeline:
    uuid: str
    role: LegRole
    direction: Direction
    channel_name: str = ""
    from_number: str = ""
    from_name: str = ""
    to_number: str = ""
    agent_extension: str | None = None
    created_us: int | None = None
    answered_us: int | None = None
    bridged_us: int | None = None
    unbridged_us: int | None = None
    hangup_us: int | None = None
    ended_us: int | None = None
    hangup_cause: str | None = None
    hangup_disposition: str = ""
    sip_status: str = ""  # the far end's final SIP response (variable_sip_term_status)
    hold_started_us: int | None = None
    hold_us: int = 0

    @property
    def ended(self) -> bool:
        return self.ended_us is not None


@dataclass
class RecordingSpan:
    path: str
    leg_uuid: str
    started_us: int
    stopped_us: int | None = None
    duration_ms: int | None = None
    end_unknown: bool = False  # stopped while the engine was away: no duration to check
    handed: bool = False  # stored and checked at its stop, the call going on


@dataclass
class CallTimeline:
    call_uuid: str
    node: str
    direction: Direction = Direction.INBOUND
    did: str = ""
    legs: dict[str, LegTimeline] = field(default_factory=dict)
    hangup_order: list[str] = field(default_factory=list)
    ivr_spans: list[tuple[int, int]] = field(default_factory=list)
    ivr_path: list[dict[str, Any]] = field(default_factory=list)
    queue: str | None = None
    queue_joined_us: int | None = None
    queue_left_us: int | None = None
    queue_outcome: str | None = None
    recordings: dict[str, RecordingSpan] = field(default_factory=dict)
    outcome: str | None = None  # voicemail, transferred, ... set by features
    routes: list[str] = field(default_factory=list)  # the route targets' kinds, in order
    dial_cause: str | None = None  # a destination dialled for the caller that did not answer
    ended_by: str | None = None  # who hung the call up from outside (``str(Actor)``)
    transfers: list[dict[str, Any]] = field(default_factory=list)  # agents' phones, in order
    handed_off: set[str] = field(default_factory=set)  # legs a transfer took the caller from
    queue_hop: int = 0  # the transfers made before the caller joined its last queue
    # the call's instants as datetimes, made once: each mirror of the call writes them all
    # again (three a queue call), and its CDR once more; ~4 k instructions each to make
    _datetimes: dict[int, datetime] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def at(self, us: int | None) -> datetime | None:
        """``us_to_datetime(us)``, None for no time (None or 0)."""
        if not us:
            return None
        when = self._datetimes.get(us)
        if when is None:
            when = self._datetimes[us] = us_to_datetime(us)
        return when

    def leg(self, uuid: str) -> LegTimeline | None:
        return self.legs.get(uuid)

    def forget_unseen_leg(self, uuid: str) -> None:
        """An originate that failed before any channel existed (``user/`` of an unregistered
        phone: only BACKGROUND_JOB -ERR SUBSCRIBER_ABSENT): the leg never was."""
        leg = self.legs.get(uuid)
        if leg is not None and leg.created_us is None and leg.hangup_us is None:
            del self.legs[uuid]

    def refused_leg(self, uuid: str, to_number: str, cause: str, at_us: int) -> LegTimeline:
        """An outbound attempt refused before any channel existed (a gateway FreeSWITCH
        knows is down, a trunk at its limits, a number the trunk cannot take): a leg that
        began and ended at ``at_us`` with ``cause``, so the CDR shows every attempt."""
        leg = self.add_leg(uuid, LegRole.OUTBOUND, Direction.OUTBOUND, to_number=to_number)
        leg.created_us = leg.created_us or at_us
        leg.hangup_us = leg.hangup_us or at_us
        leg.ended_us = leg.ended_us or at_us
        leg.hangup_cause = leg.hangup_cause or cause
        return leg

    def add_leg(self, uuid: str, role: LegRole, direction: Direction, **fields: Any) -> LegTimeline:
        leg = self.legs.get(uuid)
        if leg is None:
            leg = LegTimeline(uuid=uuid, role=role, direction=direction, **fields)
            self.legs[uuid] = leg
        return leg

    @property
    def caller(self) -> LegTimeline:
        return self.legs[self.call_uuid]

    @property
    def finished(self) -> bool:
        return bool(self.legs) and all(leg.ended for leg in self.legs.values())

    # -- channel events, one method per FreeSWITCH event name -------------------------

    def apply(self, event: ChannelEvent) -> None:
        handler = _HANDLERS.get(event.name)
        if handler is not None:
            leg = self.legs.get(event.unique_id or "")
            if leg is not None:
                handler(self, leg, event)

    def on_CHANNEL_CREATE(self, leg: LegTimeline, event: ChannelEvent) -> None:
        leg.created_us = leg.created_us or event.timestamp_us
        leg.channel_name = leg.channel_name or event.get("Channel-Name") or ""

    def on_CHANNEL_PARK(self, leg: LegTimeline, event: ChannelEvent) -> None:
        """Also a leg first seen parked once answered (a campaign's lead: the originate's
        ``&park()`` runs after the answer): its answer and creation from the caller
        profile's times, which every channel event carries."""
        self.on_CHANNEL_CREATE(leg, event)
        if leg.answered_us is None and (answered := _profile_us(event, "Answered")):
            leg.answered_us = answered
            created = _profile_us(event, "Created")
            if created and leg.created_us is not None and created < leg.created_us:
                leg.created_us = created

    def on_CHANNEL_ANSWER(self, leg: LegTimeline, event: ChannelEvent) -> None:
        leg.answered_us = leg.answered_us or event.timestamp_us

    def on_CHANNEL_BRIDGE(self, leg: LegTimeline, event: ChannelEvent) -> None:
        # FreeSWITCH sends a single CHANNEL_BRIDGE, on the A leg; mark both sides
        other = self.legs.get(event.get("Other-Leg-Unique-ID") or "")
        for side in (leg, other):
            if side is not None and side.bridged_us is None:
                side.bridged_us = event.timestamp_us

    def on_CHANNEL_UNBRIDGE(self, leg: LegTimeline, event: ChannelEvent) -> None:
        other = self.legs.get(event.get("Other-Leg-Unique-ID") or "")
        for side in (leg, other):
            if side is not None and side.bridged_us is not None and side.unbridged_us is None:
                side.unbridged_us = event.timestamp_us

    def on_CHANNEL_HOLD(self, leg: LegTimeline, event: ChannelEvent) -> None:
        if leg.hold_started_us is None:
            leg.hold_started_us = event.timestamp_us

    def on_CHANNEL_UNHOLD(self, leg: LegTimeline, event: ChannelEvent) -> None:
        if leg.hold_started_us is not None:
            leg.hold_us += event.timestamp_us - leg.hold_started_us
            leg.hold_started_us = None

    def on_CHANNEL_HANGUP(self, leg: LegTimeline, event: ChannelEvent) -> None:
        if leg.hangup_us is None:
            leg.hangup_us = event.timestamp_us
            self.hangup_order.append(leg.uuid)
        leg.hangup_cause = leg.hangup_cause or event.get("Hangup-Cause") or None
        leg.hangup_disposition = leg.hangup_disposition or (
            event.get("variable_sip_hangup_disposition") or ""
        )
        leg.sip_status = leg.sip_status or event.get("variable_sip_term_status") or ""

    def on_CHANNEL_HANGUP_COMPLETE(self, leg: LegTimeline, event: ChannelEvent) -> None:
        self.on_CHANNEL_HANGUP(leg, event)
        leg.hangup_disposition = (
            event.get("variable_sip_hangup_disposition") or leg.hangup_disposition
        )
        leg.ended_us = leg.ended_us or event.timestamp_us
        self._close_hold(leg, event.timestamp_us)

    def on_CHANNEL_DESTROY(self, leg: LegTimeline, event: ChannelEvent) -> None:
        # a leg whose HANGUP_COMPLETE was missed (reconnect) still ends here
        if leg.ended_us is None:
            self.on_CHANNEL_HANGUP_COMPLETE(leg, event)

    def on_RECORD_START(self, leg: LegTimeline, event: ChannelEvent) -> None:
        path = event.get("Record-File-Path")
        if path and path not in self.recordings:
            self.recordings[path] = RecordingSpan(path, leg.uuid, event.timestamp_us)

    def on_RECORD_STOP(self, leg: LegTimeline, event: ChannelEvent) -> None:
        span = self.recordings.get(event.get("Record-File-Path") or "")
        if span is not None and span.stopped_us is None:
            span.stopped_us = event.timestamp_us
            ms = event.get("variable_record_ms") or ""
            span.duration_ms = int(ms) if ms.isdigit() else None

    def _close_hold(self, leg: LegTimeline, at_us: int) -> None:
        if leg.hold_started_us is not None:
            leg.hold_us += at_us - leg.hold_started_us
            leg.hold_started_us = None

    # -- the engine's own marks --------------------------------------------------------

    def ivr_entered(self, at_us: int) -> None:
        self.ivr_spans.append((at_us, at_us))

    def ivr_left(self, at_us: int) -> None:
        if self.ivr_spans:
            start, _ = self.ivr_spans[-1]
            self.ivr_spans[-1] = (start, at_us)

    def operated(self, action: str, at_us: int, by: str, **details: Any) -> None:
        """An operator's intent carried out on the call (hangup, transfer, bridge_agent):
        in the call's path, with who asked."""
        self.ivr_path.append({"node": f"@{action}", "at_us": at_us, "by": by, **details})
        if action == "hangup":
            self.ended_by = by

    def ivr_step(self, node: str, at_us: int, **details: Any) -> None:
        self.ivr_path.append({"node": node, "at_us": at_us, **details})

    def transferred(
        self, kind: str, at_us: int, *, agent: str, destination: str, source: str
    ) -> dict[str, Any]:
        """An agent's phone transferred the caller (blind or attended): one hop of the chain,
        in ``ivr_path`` too. The legs up to now are the previous hops'; the caller's
        disposition is what happens from here on. Returns the hop, to complete."""
        hop: dict[str, Any] = {
            "node": "@transfer", "at_us": at_us, "by": f"agent:{agent}" if agent else "phone",
            "kind": kind, "agent": agent, "to": destination, "source": source,
        }  # fmt: skip
        self.transfers.append(hop)
        self.ivr_path.append(hop)
        self.handed_off.update(self.legs)
        self.handed_off.discard(self.call_uuid)
        self.dial_cause = None
        return hop

    def leg_moved(self, uuid: str, to_call: str, at_us: int) -> None:
        """An attended transfer bridged this leg to another call's caller: it is that call's
        from now on; here it ends (cause ``ATTENDED_TRANSFER``), not hung up."""
        leg = self.legs.get(uuid)
        if leg is None or leg.ended:
            return
        leg.hangup_us = leg.hangup_us or at_us
        leg.ended_us = at_us
        leg.hangup_cause = leg.hangup_cause or "ATTENDED_TRANSFER"
        leg.hangup_disposition = f"moved:{to_call}"

    def transferred_from(self, source: str) -> bool:
        return any(hop.get("source") == source for hop in self.transfers)

    def queue_joined(self, queue: str, at_us: int) -> None:
        self.queue_hop = len(self.transfers)
        self.queue = queue
        self.queue_joined_us = at_us
        self.queue_left_us = None
        self.queue_outcome = None

    def queue_left(self, at_us: int, outcome: str) -> None:
        if self.queue_joined_us is not None and self.queue_left_us is None:
            self.queue_left_us = at_us
            self.queue_outcome = outcome

    def called_back(self, queue: str, agent: str, number: str) -> None:
        """A queue's callback (``acd.callback_calls``): the call's own leg is the agent's
        phone, the customer is dialled from it. The call is the queue's and the agent's, as
        a queue call's CDR says, to the customer's number; it never waited in the queue
        itself (the stay's wait is the call that asked for it)."""
        self.queue = queue
        self.caller.agent_extension = agent
        self.caller.to_number = number

    def routed(self, kind: str) -> None:
        self.routes.append(kind)

    def dial_failed(self, cause: str) -> None:
        """The extension or number dialled for the caller never answered (its leg may never
        have existed: ``SUBSCRIBER_ABSENT`` for a phone that is not registered)."""
        self.dial_cause = cause or "NORMAL_TEMPORARY_FAILURE"

    def agent_leg(self, uuid: str, extension: str, to_number: str = "") -> LegTimeline:
        return self.add_leg(
            uuid,
            LegRole.AGENT,
            Direction.OUTBOUND,
            agent_extension=extension,
            to_number=to_number or extension,
        )


# The channel events a call's timeline reads: its ``on_<EVENT>`` methods, by event name.
_HANDLERS: dict[str, Callable[[CallTimeline, LegTimeline, ChannelEvent], None]] = {
    name[3:]: method
    for name, method in vars(CallTimeline).items()
    if name.startswith("on_") and name[3:].isupper()
}
TIMELINE_EVENTS = frozenset(_HANDLERS)


def _profile_us(event: ChannelEvent, which: str) -> int | None:
    """``Caller-Channel-<which>-Time``, microseconds (``0``: not yet)."""
    value = event.get(f"Caller-Channel-{which}-Time") or ""
    return int(value) if value.isdigit() and value != "0" else None
