"""The event factory: builds FreeSWITCH events with the recorded header layout (NOTES §5).

Layout of a channel event, in order: the 13 core headers (Event-Name .. Event-Sequence),
event-specific leading headers (Hangup-Cause on HANGUP_COMPLETE, Original-Channel-Call-State
on CALLSTATE, Bridge-A/B on BRIDGE, Direction on CALL_UPDATE), the 10 channel headers
(Channel-State .. Answer-State), Hangup-Cause once hung up, codecs once media exists, the
caller profile, Other-Type/Other-Leg-* while there is a partner, the variables (not on
STATE, CALLSTATE, OUTGOING, DTMF), then trailing event-specific headers (Application-*,
Playback-*, Record-*, DTMF-*). CHANNEL_STATE for CS_NEW has the channel headers alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from callcenter.sim.channel import CALLSTATE_NUMBER, CallState, Channel, ChannelState
from callcenter.sim.clock import Clock
from callcenter.sim.encoding import (
    Block,
    Pair,
    encode_event_json,
    encode_event_plain,
)

NO_VARIABLES = frozenset(
    {"CHANNEL_STATE", "CHANNEL_CALLSTATE", "CHANNEL_OUTGOING", "DTMF", "CODEC"}
)

_CALLING: dict[str, tuple[str, str, str]] = {
    "CHANNEL_STATE": ("switch_channel.c", "switch_channel_perform_set_running_state", "2409"),
    "CHANNEL_CALLSTATE": ("switch_channel.c", "switch_channel_perform_set_callstate", "353"),
    "CHANNEL_CREATE": ("switch_core_state_machine.c", "switch_core_session_run", "626"),
    "CHANNEL_DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", "1727"),
    "CHANNEL_HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", "3503"),
    "CHANNEL_HANGUP_COMPLETE": (
        "switch_core_state_machine.c",
        "switch_core_session_reporting_state",
        "943",
    ),
    "CHANNEL_EXECUTE": ("switch_core_session.c", "switch_core_session_exec", "2968"),
    "CHANNEL_EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", "3012"),
    "CHANNEL_ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", "3829"),
    "CHANNEL_PARK": ("switch_ivr.c", "switch_ivr_park", "1017"),
    "CHANNEL_UNPARK": ("switch_ivr.c", "switch_ivr_park", "1227"),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", "1580"),
}
_DEFAULT_CALLING = ("switch_channel.c", "switch_channel_event", "1")


class SimEvent:
    """One event, encoded at most once per format."""

    __slots__ = ("_json", "_plain", "blocks", "body", "name", "subclass", "unique_id")

    def __init__(
        self,
        name: str,
        blocks: Sequence[Block],
        body: str | None = None,
        *,
        unique_id: str = "",
        subclass: str = "",
    ) -> None:
        self.name = name
        self.blocks = tuple(blocks)
        self.body = body
        self.unique_id = unique_id
        self.subclass = subclass
        self._json: bytes | None = None
        self._plain: bytes | None = None

    def encoded(self, fmt: str) -> bytes:
        if fmt == "json":
            if self._json is None:
                self._json = encode_event_json(self.blocks, self.body)
            return self._json
        if self._plain is None:
            self._plain = encode_event_plain(self.blocks, self.body)
        return self._plain

    def headers(self) -> list[Pair]:
        """Every header in wire order, repeated names included."""
        return [pair for block in self.blocks for pair in block.pairs]

    def get(self, name: str) -> str | None:
        for block in self.blocks:
            for key, value in block.pairs:
                if key == name:
                    return value
        return None

    def as_dict(self) -> dict[str, str]:
        """Like ``json.loads`` of the JSON form (last duplicate wins, body as ``_body``)."""
        out = dict(self.headers())
        if self.body is not None:
            out["Content-Length"] = str(len(self.body.encode()))
            out["_body"] = self.body
        return out


class EventFactory:
    """Builds events for one simulated FreeSWITCH (its Core-UUID, host and sequence)."""

    def __init__(
        self,
        clock: Clock,
        core_uuid: str,
        hostname: str = "fs1",
        ipv4: str = "192.0.2.2",
        ipv6: str = "fd00::2",
    ) -> None:
        self.clock = clock
        self.core_uuid = core_uuid
        self.hostname = hostname
        self.sequence = 0
        self._host = Block(
            (
                ("Core-UUID", core_uuid),
                ("FreeSWITCH-Hostname", hostname),
                ("FreeSWITCH-Switchname", hostname),
                ("FreeSWITCH-IPv4", ipv4),
                ("FreeSWITCH-IPv6", ipv6),
            )
        )
        self._date_second = -1
        self._dates: tuple[str, str] = ("", "")
        self._calling: dict[str, Block] = {}

    def _head(self, name: str, calling: tuple[str, str, str] | None) -> list[Block]:
        now_us = self.clock.now_us()
        second = now_us // 1_000_000
        if second != self._date_second:
            self._date_second = second
            self._dates = (
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second)),
                time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(second)),
            )
        self.sequence += 1
        key = name if calling is None else "|".join(calling)
        call_block = self._calling.get(key)
        if call_block is None:
            file, func, line = calling or _CALLING.get(name, _DEFAULT_CALLING)
            call_block = Block(
                (
                    ("Event-Calling-File", file),
                    ("Event-Calling-Function", func),
                    ("Event-Calling-Line-Number", line),
                )
            )
            self._calling[key] = call_block
        return [
            Block((("Event-Name", name),)),
            self._host,
            Block(
                (
                    ("Event-Date-Local", self._dates[0]),
                    ("Event-Date-GMT", self._dates[1]),
                    ("Event-Date-Timestamp", str(now_us)),
                )
            ),
            call_block,
            Block((("Event-Sequence", str(self.sequence)),)),
        ]

    def channel_event(
        self,
        name: str,
        chan: Channel,
        *,
        lead: Sequence[Pair] = (),
        tail: Sequence[Pair] = (),
        variables: bool | None = None,
        profile: bool = True,
    ) -> SimEvent:
        blocks = self._head(name, None)
        if lead:
            blocks.append(Block(lead))
        blocks.append(chan.core_block())
        if chan.hangup_cause is not None:
            blocks.append(Block((("Hangup-Cause", chan.hangup_cause),)))
        if profile:  # only CHANNEL_STATE CS_NEW goes without: the 23 core headers alone
            blocks.append(chan.codec_block())
            blocks.append(chan.profile_block())
            blocks.append(chan.other_leg_block())
        if variables if variables is not None else name not in NO_VARIABLES:
            blocks.extend(chan.vars_blocks())
        if tail:
            blocks.append(Block(tail))
        return SimEvent(name, blocks, unique_id=chan.uuid)

    def state(self, chan: Channel) -> SimEvent:
        return self.channel_event(
            "CHANNEL_STATE", chan, profile=chan.state is not ChannelState.CS_NEW
        )

    def callstate(self, chan: Channel, previous: CallState) -> SimEvent:
        lead = (
            ("Original-Channel-Call-State", previous),
            ("Channel-Call-State-Number", CALLSTATE_NUMBER[chan.callstate]),
        )
        return self.channel_event("CHANNEL_CALLSTATE", chan, lead=lead)

    def hangup_complete(self, chan: Channel) -> SimEvent:
        return self.channel_event(
            "CHANNEL_HANGUP_COMPLETE", chan, lead=(("Hangup-Cause", chan.hangup_cause or ""),)
        )

    def background_job(self, job_uuid: str, command: str, args: str, body: str) -> SimEvent:
        blocks = self._head("BACKGROUND_JOB", None)
        pairs: list[Pair] = [("Job-UUID", job_uuid), ("Job-Command", command)]
        if args:
            pairs.append(("Job-Command-Arg", args))
        blocks.append(Block(pairs))
        return SimEvent("BACKGROUND_JOB", blocks, body)

    def custom(
        self, subclass: str, pairs: Sequence[Pair], calling: tuple[str, str, str] | None = None
    ) -> SimEvent:
        blocks = self._head("CUSTOM", calling)
        blocks.append(Block((("Event-Subclass", subclass), *pairs)))
        return SimEvent("CUSTOM", blocks, subclass=subclass)

    def heartbeat(self, pairs: Sequence[Pair]) -> SimEvent:
        blocks = self._head("HEARTBEAT", ("switch_core.c", "send_heartbeat", "95"))
        blocks.append(Block(pairs))
        return SimEvent("HEARTBEAT", blocks)

    def channel_data(self, chan: Channel) -> SimEvent:
        """``uuid_dump``: a CHANNEL_DATA event (not sequenced on the bus)."""
        return self.channel_event("CHANNEL_DATA", chan, variables=True)
