"""From a finished call's timeline to its CDR: durations, who hung up, disposition."""

from __future__ import annotations

from callcenter.cdr.timeline import CallTimeline, LegTimeline, RecordingSpan, us_to_datetime
from callcenter.store.records import CdrLegRecord, CdrRecord, RecordingRecord
from callcenter.vocabulary import Disposition, HangupBy, LegRole, RouteTarget

_BUSY = {"USER_BUSY", "CALL_REJECTED"}
_NO_ANSWER = {"NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT", "PROGRESS_TIMEOUT"}
_NOT_REACHED = {Disposition.BUSY, Disposition.NO_ANSWER, Disposition.FAILED}
# NORMAL_UNSPECIFIED: Q.850's "normal" class, and the cause of an end the engine did not
# see (a caller who left while it was away, or between a restart's listing and adoption)
_CLEAR = {"NORMAL_CLEARING", "NORMAL_UNSPECIFIED", "ORIGINATOR_CANCEL", "LOSE_RACE", "SUCCESS", ""}


def _ms(start_us: int | None, end_us: int | None) -> int:
    if start_us is None or end_us is None or end_us < start_us:
        return 0
    return (end_us - start_us) // 1000


def _agents(timeline: CallTimeline) -> list[LegTimeline]:
    return [leg for leg in timeline.legs.values() if _agent(leg)]


def _agent(leg: LegTimeline) -> bool:
    """An agent's phone: a leg dialled to an agent, or the call's own when it is one (a
    queue's callback: the agent first, the customer dialled from it)."""
    return leg.role is LegRole.AGENT or leg.agent_extension is not None


def hangup_by(timeline: CallTimeline) -> HangupBy:
    """The party whose side sent the first hang-up: recv_* means the far end did. The legs a
    transfer took the caller from ended the previous hops, not the call."""
    order = [uuid for uuid in timeline.hangup_order if uuid not in timeline.handed_off]
    if not order:
        return HangupBy.UNKNOWN
    first = timeline.legs[order[0]]
    disposition = first.hangup_disposition
    if disposition.startswith("send_"):
        return HangupBy.SYSTEM
    if disposition.startswith("recv_"):
        if _agent(first):
            return HangupBy.AGENT
        return HangupBy.CALLER
    return HangupBy.UNKNOWN


def disposition(timeline: CallTimeline, by: HangupBy) -> Disposition:
    """Each value means one thing (docs/cdr.md has the table); the first rule that holds wins."""
    if timeline.outcome is not None:
        return Disposition(timeline.outcome)
    caller = timeline.caller
    cause = caller.hangup_cause or ""
    if timeline.transfers:  # transferred by an agent's phone: what the last hop became
        since = [leg for uuid, leg in timeline.legs.items() if uuid not in timeline.handed_off]
        if any(leg.bridged_us is not None for leg in since if leg is not caller):
            return Disposition.ANSWERED
    else:
        agents = _agents(timeline)
        if any(leg.bridged_us is not None for leg in agents) or caller.bridged_us is not None:
            return Disposition.ANSWERED
    if timeline.queue_joined_us is not None and timeline.queue_hop == len(timeline.transfers):
        if timeline.queue_outcome in (None, "abandoned") and by is not HangupBy.SYSTEM:
            return Disposition.ABANDONED
        return Disposition.FAILED
    if timeline.dial_cause is not None:
        return _not_reached(timeline.dial_cause)
    if caller.answered_us is None:
        if cause in _NO_ANSWER:
            return Disposition.NO_ANSWER
        if by is HangupBy.SYSTEM:
            return Disposition.REJECTED
        if cause in _BUSY:
            return Disposition.BUSY
        return Disposition.ABANDONED if cause in _CLEAR else Disposition.FAILED
    if timeline.transfers:  # answered before, then nobody after the transfer
        return Disposition.ABANDONED if by is HangupBy.CALLER else Disposition.FAILED
    if timeline.ivr_spans:
        return Disposition.IVR_COMPLETED
    if str(RouteTarget.PLAYBACK) in timeline.routes:
        return Disposition.PLAYED
    # answered by the engine, then neither a flow, a message, a queue nor a destination
    return Disposition.ABANDONED if by is HangupBy.CALLER else Disposition.FAILED


def _not_reached(cause: str) -> Disposition:
    if cause in _BUSY:
        return Disposition.BUSY
    if cause in _NO_ANSWER:
        return Disposition.NO_ANSWER
    return Disposition.FAILED


def _capped(ms: int, span_ms: int) -> int:
    """A span the engine timed by its own clock, never longer than the call FreeSWITCH
    timed (the two clocks need not agree; a queue wait once exceeded its call)."""
    return max(0, min(ms, span_ms))


def _cause(timeline: CallTimeline, outcome: Disposition) -> str:
    """The caller leg's cause; the dialled destination's when that is why the call ended."""
    if timeline.dial_cause is not None and outcome in _NOT_REACHED:
        return timeline.dial_cause
    return timeline.caller.hangup_cause or "NORMAL_CLEARING"


def _leg_record(timeline: CallTimeline, leg: LegTimeline, started_us: int) -> CdrLegRecord:
    return CdrLegRecord(
        leg_uuid=leg.uuid,
        role=leg.role,
        started_at=us_to_datetime(leg.created_us or started_us),
        agent_extension=leg.agent_extension,
        answered_at=timeline.at(leg.answered_us),
        ended_at=timeline.at(leg.ended_us),
        hangup_cause=leg.hangup_cause,
        trunk=_trunk_of(leg.to_number),
    )


def _trunk_of(dial_string: str) -> str | None:
    """``sofia/gateway/<trunk>/<number>`` -> ``<trunk>``; None for other legs."""
    parts = dial_string.split("/")
    return parts[2] if len(parts) >= 4 and parts[:2] == ["sofia", "gateway"] else None


def build_cdr(timeline: CallTimeline, *, now_us: int | None = None) -> CdrRecord:
    """Build the CDR. ``now_us`` closes a call whose end was never seen (recovery)."""
    caller = timeline.caller
    started = caller.created_us or now_us or 0
    ends = [leg.ended_us for leg in timeline.legs.values() if leg.ended_us is not None]
    ended = max(ends) if ends else (now_us or started)
    caller_end = caller.hangup_us or caller.ended_us or ended
    span_ms = _ms(started, caller_end)
    ivr_ms = _capped(
        sum(_ms(s, e if e > s else caller_end) for s, e in timeline.ivr_spans), span_ms
    )
    queue_end = timeline.queue_left_us or caller.bridged_us or caller_end
    by = hangup_by(timeline)
    outcome = disposition(timeline, by)
    talking = next((leg for leg in _agents(timeline) if leg.bridged_us is not None), None)
    # talk ends at whichever comes first: the unbridge or either side hanging up
    ends_of_talk = (caller.unbridged_us, caller.hangup_us, talking.hangup_us if talking else None)
    talk_end = min((t for t in ends_of_talk if t is not None), default=caller_end)
    return CdrRecord(
        call_uuid=timeline.call_uuid,
        direction=timeline.direction,
        node=timeline.node,
        started_at=us_to_datetime(started),
        ended_at=us_to_datetime(max(ended, started)),
        hangup_cause=_cause(timeline, outcome),
        hangup_by=by,
        disposition=outcome,
        from_number=caller.from_number,
        from_name=caller.from_name,
        to_number=caller.to_number,
        did=timeline.did,
        queue=timeline.queue,
        agent_extension=talking.agent_extension if talking else None,
        answered_at=timeline.at(caller.answered_us),
        ring_ms=_ms(started, caller.answered_us or caller_end),
        ivr_ms=ivr_ms,
        queue_wait_ms=_capped(_ms(timeline.queue_joined_us, queue_end), span_ms),
        talk_ms=_ms(caller.bridged_us, talk_end),
        hold_ms=sum(leg.hold_us for leg in timeline.legs.values()) // 1000,
        wrapup_ms=0,  # the wrap-up follows the call's end: the status history has it
        total_ms=_ms(started, ended),
        ivr_path=tuple(timeline.ivr_path),
        ended_by=timeline.ended_by,
        transfers=len(timeline.transfers),
        transferred_by=_transferred_by(timeline),
        legs=tuple(_leg_record(timeline, leg, started) for leg in timeline.legs.values()),
    )


def _transferred_by(timeline: CallTimeline) -> str | None:
    """The extension of the agent whose phone made the last transfer."""
    agent = timeline.transfers[-1].get("agent") if timeline.transfers else None
    return str(agent) if agent else None


def build_recordings(timeline: CallTimeline) -> list[RecordingRecord]:
    """The call's recordings as FreeSWITCH reported them, but those already handed over at
    their stop during the call (``handed``); the file's size and SHA-256 come from the check
    after the stop, off the call path (``recording.checker``)."""
    return [build_recording(timeline, span) for span in timeline.recordings.values()
            if not span.handed]  # fmt: skip


def build_recording(timeline: CallTimeline, span: RecordingSpan) -> RecordingRecord:
    leg = timeline.legs.get(span.leg_uuid)
    stopped = span.stopped_us or (leg.ended_us if leg else None)
    known = stopped is not None and not span.end_unknown
    return RecordingRecord(
        call_uuid=timeline.call_uuid,
        path=span.path,
        started_at=us_to_datetime(span.started_us),
        leg_uuid=span.leg_uuid,
        duration_ms=span.duration_ms
        if span.duration_ms is not None
        else (_ms(span.started_us, stopped) if known else None),
        ended_at=us_to_datetime(stopped) if known and stopped else None,
    )
