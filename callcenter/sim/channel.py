"""A simulated channel: FreeSWITCH's state, caller profile and variables of one call leg.

The channel keeps its header blocks (core, profile, codecs, partner, variables) encoded
and cached; every mutation goes through a method that drops the affected cache.
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

RECENT_LIMIT = 24  # recent variables before they join the settled block

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

    def __post_init__(self) -> None:
        # what the leg started with; a caller-id flip or a bridge changes only caller_id_*
        self.orig_caller_id_name = self.orig_caller_id_name or self.caller_id_name
        self.orig_caller_id_number = self.orig_caller_id_number or self.caller_id_number
        self.ani = self.ani or self.caller_id_number

    def pairs(self, prefix: str, *, zero_times: bool = False) -> list[Pair]:
        """The profile as FreeSWITCH sends it: fields with no value are left out.

        ``zero_times``: the originator's profile as its bridge partner shows it
        (``Other-Leg-*``): a copy whose times FreeSWITCH never filled in.
        """
        logical = self.direction if prefix == "Caller-" else "inbound"
        fields: tuple[Pair, ...] = (
            ("Direction", self.direction),
            ("Logical-Direction", logical),
            ("Username", self.username),
            ("Dialplan", self.dialplan),
            ("Caller-ID-Name", self.caller_id_name),
            ("Caller-ID-Number", self.caller_id_number),
            ("Orig-Caller-ID-Name", self.orig_caller_id_name),
            ("Orig-Caller-ID-Number", self.orig_caller_id_number),
            ("Callee-ID-Name", self.callee_id_name),
            ("Callee-ID-Number", self.callee_id_number),
            ("Network-Addr", self.network_addr),
            ("ANI", self.ani),
            ("Destination-Number", self.destination_number),
            ("Unique-ID", self.unique_id),
            ("Source", self.source),
            ("Transfer-Source", self.transfer_source),
            ("Context", self.context),
            ("RDNIS", self.rdnis),
            ("Channel-Name", self.channel_name),
        )
        if prefix == "Caller-":
            out = [(k, v) for k, v in fields if v]
        else:  # FreeSWITCH leaves the transfer source out of Other-Leg-* (recorded)
            out = [(k, v) for k, v in fields if v and k != "Transfer-Source"]
        if prefix == "Caller-":
            out.append(("Profile-Index", str(self.index)))
        times = self.times
        out += [(name, "0" if zero_times else str(times.get(name, 0))) for name in _PROFILE_TIMES]
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
        self.presence_id = ""
        self.bridge_a = False
        self.application = ""
        self.application_data = ""
        self.created_us = 0
        self.variables: dict[str, str] = {}
        self._core: Block | None = None
        self._profile: Block | None = None
        self._other: Block = EMPTY_BLOCK
        # the variables as two blocks: the settled ones and the recent ones (see vars_blocks)
        self._settled: dict[str, None] = {}
        self._recent: dict[str, None] = {}
        self._settled_block: Block | None = EMPTY_BLOCK
        self._recent_block: Block | None = EMPTY_BLOCK

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

    def set_hit_dialplan(self, hit: bool) -> None:
        self.hit_dialplan = hit
        self._core = None

    def set_time(self, name: str, us: int) -> None:
        self.profile.times[name] = us
        self.profile_changed()

    def profile_changed(self) -> None:
        self._profile = None

    def set_partner(self, partner: Channel | None, other_type: str = "") -> None:
        """Bridge partner: the ``Other-Leg-*`` block is the partner's profile as it was
        when the bridge was made (the originator's with its times unset, as recorded)."""
        self.partner = partner
        self.other_type = other_type
        if partner is None:
            self._other = EMPTY_BLOCK
            return
        pairs = partner.profile.pairs("Other-Leg-", zero_times=other_type == "originator")
        self._other = Block([("Other-Type", other_type), *pairs])

    def set_var(self, name: str, value: str | None) -> None:
        """Set (None: unset) a variable. Like FreeSWITCH, a changed variable moves to the
        end of the list."""
        variables = self.variables
        if variables.get(name) == value:
            return
        if name in self._settled:
            del self._settled[name]
            self._settled_block = None
        elif name in self._recent:
            del self._recent[name]
        if value is None:
            del variables[name]
        else:
            variables.pop(name, None)
            variables[name] = value
            self._recent[name] = None
        self._recent_block = None
        if name == "call_uuid":
            self._core = None

    def set_vars(self, values: Mapping[str, str] | Iterable[Pair]) -> None:
        items = values.items() if isinstance(values, Mapping) else values
        for name, value in items:
            self.set_var(name, value)

    def get_var(self, name: str) -> str | None:
        return self.variables.get(name)

    # -- header blocks -------------------------------------------------------------------
    def core_block(self) -> Block:
        if self._core is None:
            pairs: list[Pair] = [
                ("Channel-State", self.state),
                ("Channel-Call-State", self.callstate),
                ("Channel-State-Number", STATE_NUMBER[self.state]),
                ("Channel-Name", self.name),
                ("Unique-ID", self.uuid),
                ("Call-Direction", self.direction),
                ("Presence-Call-Direction", self.direction),
                ("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false"),
            ]
            if self.presence_id:
                pairs.append(("Channel-Presence-ID", self.presence_id))
            pairs += [("Channel-Call-UUID", self.call_uuid), ("Answer-State", self.answer_state)]
            self._core = Block(pairs)
        return self._core

    def profile_block(self) -> Block:
        if self._profile is None:
            self._profile = Block(self.profile.pairs("Caller-"))
        return self._profile

    def other_leg_block(self) -> Block:
        """The partner as seen from this channel (``Other-Type`` + ``Other-Leg-*``)."""
        return self._other

    def vars_blocks(self) -> tuple[Block, Block]:
        """Every variable as ``variable_<name>``, in two blocks whose concatenation is the
        variables' order: the settled ones, re-encoded only when one of them changes, and
        the recent ones (set or changed since), small and cheap to re-encode. A real leg
        carries ~100-180 variables and changes a few per application; this keeps the
        simulator's cost per event low (the controller, not the simulator, is measured)."""
        if len(self._recent) > RECENT_LIMIT:
            self._settled.update(self._recent)
            self._recent.clear()
            self._settled_block = self._recent_block = None
        variables = self.variables
        if self._settled_block is None:
            self._settled_block = Block([("variable_" + k, variables[k]) for k in self._settled])
        if self._recent_block is None:
            self._recent_block = Block([("variable_" + k, variables[k]) for k in self._recent])
        return self._settled_block, self._recent_block

    def codec_block(self) -> Block:
        return CODEC_BLOCK if self.media else EMPTY_BLOCK

    @property
    def call_uuid(self) -> str:
        return self.variables.get("call_uuid", self.uuid)

    @property
    def gone(self) -> bool:
        return self.hangup_cause is not None
