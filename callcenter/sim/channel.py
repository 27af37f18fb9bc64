"""A simulated channel: FreeSWITCH's state, caller profile and variables of one call leg.

The channel keeps its header blocks (core, profile, codecs, variables) encoded and
cached; every mutation goes through a method that drops the affected cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from callcenter.esl.vocabulary import AnswerState, CallState, ChannelState
from callcenter.sim.encoding import EMPTY_BLOCK, Block, Pair

__all__ = ["AnswerState", "CallState", "ChannelState"]


STATE_NUMBER = {state: str(i) for i, state in enumerate(ChannelState)}
CALLSTATE_NUMBER = {state: str(i) for i, state in enumerate(CallState)}


HANGUP_Q850 = {
    "NORMAL_CLEARING": "16",
    "USER_BUSY": "17",
    "NO_USER_RESPONSE": "18",
    "NO_ANSWER": "19",
    "SUBSCRIBER_ABSENT": "20",
    "CALL_REJECTED": "21",
    "NORMAL_TEMPORARY_FAILURE": "41",
    "ORIGINATOR_CANCEL": "487",
    "RECOVERY_ON_TIMER_EXPIRE": "102",
    "MANAGER_REQUEST": "503",
    "UNALLOCATED_NUMBER": "1",
    "NORMAL_UNSPECIFIED": "31",
    "ALLOTTED_TIMEOUT": "602",
}

CODEC_BLOCK = Block(
    (
        ("Channel-Read-Codec-Name", "PCMU"),
        ("Channel-Read-Codec-Rate", "8000"),
        ("Channel-Read-Codec-Bit-Rate", "64000"),
        ("Channel-Write-Codec-Name", "PCMU"),
        ("Channel-Write-Codec-Rate", "8000"),
        ("Channel-Write-Codec-Bit-Rate", "64000"),
    )
)

_PROFILE_TIMES = (
    "Profile-Created-Time",
    "Channel-Created-Time",
    "Channel-Answered-Time",
    "Channel-Progress-Time",
    "Channel-Progress-Media-Time",
    "Channel-Hangup-Time",
    "Channel-Transfer-Time",
    "Channel-Resurrect-Time",
    "Channel-Bridged-Time",
    "Channel-Last-Hold",
    "Channel-Hold-Accum",
)


@dataclass
class Profile:
    """FreeSWITCH's caller profile (the ``Caller-*`` / ``Other-Leg-*`` headers)."""

    direction: str
    username: str
    dialplan: str
    caller_id_name: str
    caller_id_number: str
    destination_number: str
    unique_id: str
    source: str
    context: str
    channel_name: str
    network_addr: str = "127.0.0.1"
    ani: str = ""
    orig_caller_id_name: str = ""
    orig_caller_id_number: str = ""
    callee_id_name: str = ""
    callee_id_number: str = ""
    rdnis: str = ""
    transfer_source: str = ""
    index: int = 1
    times: dict[str, int] = field(default_factory=dict)

    def pairs(self, prefix: str) -> list[Pair]:
        logical = self.direction if prefix == "Caller-" else "inbound"
        out: list[Pair] = [
            ("Direction", self.direction),
            ("Logical-Direction", logical),
            ("Username", self.username),
            ("Dialplan", self.dialplan),
            ("Caller-ID-Name", self.caller_id_name),
            ("Caller-ID-Number", self.caller_id_number),
            ("Orig-Caller-ID-Name", self.orig_caller_id_name or self.caller_id_name),
            ("Orig-Caller-ID-Number", self.orig_caller_id_number or self.caller_id_number),
        ]
        if self.callee_id_name:
            out += [
                ("Callee-ID-Name", self.callee_id_name),
                ("Callee-ID-Number", self.callee_id_number),
            ]
        out += [
            ("Network-Addr", self.network_addr),
            ("ANI", self.ani or self.caller_id_number),
            ("Destination-Number", self.destination_number),
            ("Unique-ID", self.unique_id),
            ("Source", self.source),
        ]
        if self.transfer_source:
            out.append(("Transfer-Source", self.transfer_source))
        out.append(("Context", self.context))
        if self.rdnis:
            out.append(("RDNIS", self.rdnis))
        out.append(("Channel-Name", self.channel_name))
        if prefix == "Caller-":
            out.append(("Profile-Index", str(self.index)))
        out += [(name, str(self.times.get(name, 0))) for name in _PROFILE_TIMES]
        out += [
            ("Screen-Bit", "true"),
            ("Privacy-Hide-Name", "false"),
            ("Privacy-Hide-Number", "false"),
        ]
        return [(prefix + k, v) for k, v in out]


class Channel:
    """One leg's FreeSWITCH-visible state. Mutate only through the methods below."""

    def __init__(self, uuid: str, name: str, direction: str, profile: Profile) -> None:
        self.uuid = uuid
        self.name = name
        self.direction = direction
        self.profile = profile
        self.state = ChannelState.CS_NEW
        self.callstate = CallState.DOWN
        self.answer_state = AnswerState.RINGING
        self.hangup_cause: str | None = None
        self.media = False
        self.hit_dialplan = True
        self.partner: Channel | None = None
        self.other_type = ""
        self.bridge_a = False
        self.application = ""
        self.application_data = ""
        self.created_us = 0
        self.variables: dict[str, str] = {}
        self._core: Block | None = None
        self._profile: Block | None = None
        self._other: Block | None = None
        self._vars: Block | None = None

    # -- mutations -------------------------------------------------------------------
    def set_state(self, state: ChannelState) -> None:
        self.state = state
        self._core = None

    def set_callstate(self, callstate: CallState) -> CallState:
        previous = self.callstate
        self.callstate = callstate
        self._core = None
        return previous

    def set_answer_state(self, answer_state: AnswerState) -> None:
        self.answer_state = answer_state
        self._core = None

    def set_time(self, name: str, us: int) -> None:
        self.profile.times[name] = us
        self.profile_changed()

    def profile_changed(self) -> None:
        self._profile = None
        self._other = None

    def set_var(self, name: str, value: str | None) -> None:
        if value is None:
            if self.variables.pop(name, None) is not None:
                self._vars = None
            return
        if self.variables.get(name) != value:
            self.variables.pop(name, None)
            self.variables[name] = value
            self._vars = None

    def set_vars(self, values: Mapping[str, str] | Iterable[Pair]) -> None:
        items = values.items() if isinstance(values, Mapping) else values
        for name, value in items:
            self.set_var(name, value)

    def get_var(self, name: str) -> str | None:
        return self.variables.get(name)

    # -- header blocks -------------------------------------------------------------------
    def core_block(self) -> Block:
        if self._core is None:
            self._core = Block(
                (
                    ("Channel-State", self.state),
                    ("Channel-Call-State", self.callstate),
                    ("Channel-State-Number", STATE_NUMBER[self.state]),
                    ("Channel-Name", self.name),
                    ("Unique-ID", self.uuid),
                    ("Call-Direction", self.direction),
                    ("Presence-Call-Direction", self.direction),
                    ("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false"),
                    ("Channel-Call-UUID", self.call_uuid),
                    ("Answer-State", self.answer_state),
                )
            )
        return self._core

    def profile_block(self) -> Block:
        if self._profile is None:
            self._profile = Block(self.profile.pairs("Caller-"))
        return self._profile

    def other_leg_block(self) -> Block:
        """The partner as seen from this channel (``Other-Type`` + ``Other-Leg-*``)."""
        partner = self.partner
        if partner is None:
            return EMPTY_BLOCK
        return partner.as_other_leg(self.other_type)

    def as_other_leg(self, other_type: str) -> Block:
        if self._other is None or self._other.pairs[0][1] != other_type:
            self._other = Block([("Other-Type", other_type), *self.profile.pairs("Other-Leg-")])
        return self._other

    def vars_block(self) -> Block:
        if self._vars is None:
            self._vars = Block([("variable_" + k, v) for k, v in self.variables.items()])
        return self._vars

    def codec_block(self) -> Block:
        return CODEC_BLOCK if self.media else EMPTY_BLOCK

    @property
    def call_uuid(self) -> str:
        return self.variables.get("call_uuid", self.uuid)

    @property
    def gone(self) -> bool:
        return self.hangup_cause is not None
