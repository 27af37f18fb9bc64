"""How a call's actor carries out an intent (``calls.intents``): hang up, transfer, bridge to
a named agent. Runs in the actor's greenlet only; each returns what the actor runs next (a
route target, a number to dial), or None when the call is done with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from callcenter.calls import transfers
from callcenter.calls.control import AgentPresence, CallControl, OriginateFailed
from callcenter.calls.intents import (
    BridgeAgent,
    CallIntent,
    Hangup,
    LegSnapshot,
    PhoneTransfer,
    Transfer,
    transfer_target,
)
from callcenter.calls.routing import Target
from callcenter.errors import CallCenterError, CallGone, ESLError
from callcenter.esl import commands
from callcenter.events.types import CallTransferred
from callcenter.vocabulary import CallState, Direction, LegRole

log = logging.getLogger(__name__)

UNBRIDGE_TIMEOUT = 5.0
RESERVE_TIMEOUT = 5.0
AGENT_RING_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class DialOut:
    """Next: dial this number out for the caller (``number:`` transfers)."""

    number: str


@dataclass(frozen=True, slots=True)
class Again:
    """Next: the call's own route again (a bridge refused, an agent not answering)."""


Next = Target | DialOut | Again | None
DialOutRunner = Callable[[CallControl, str], None]


class Operations:
    def __init__(
        self,
        control: CallControl,
        presence: AgentPresence | None,
        destinations: transfers.Destinations | None = None,
    ) -> None:
        self.control = control
        self.call = control.call
        self.presence = presence
        self.destinations = destinations  # what an agent's phone transfers to
        self._reservation = ""

    def carry_out(self, intent: CallIntent) -> Next:
        log.info("call %s: %s", self.call.uuid, intent)
        try:
            if isinstance(intent, Hangup):
                return self.hangup(intent)
            if isinstance(intent, Transfer):
                return self.transfer(intent)
            if isinstance(intent, PhoneTransfer):
                return self.phone_transfer(intent)
            return self.bridge_agent(intent)
        except CallGone:
            return None

    # -- hangup -------------------------------------------------------------------------

    def hangup(self, intent: Hangup) -> Next:
        """Every leg still up goes, with the intent's cause (an agent's leg ringing too)."""
        self.call.timeline.operated("hangup", _now_us(), intent.by, cause=intent.cause)
        legs = [self.call.uuid] + [uuid for uuid in self.call.leg_uuids if uuid != self.call.uuid]
        for uuid in legs:
            if not self.call.leg_gone(uuid):
                self._kill(uuid, intent.cause)
        return None

    def _kill(self, uuid: str, cause: str) -> None:
        try:
            self.control.channel.api(commands.uuid_kill(uuid, cause), check=False)
        except ESLError as exc:
            log.warning("call %s: uuid_kill %s not sent: %s", self.call.uuid, uuid, exc)

    # -- transfer -----------------------------------------------------------------------

    def transfer(self, intent: Transfer) -> Next:
        try:
            target = transfer_target(intent.target)
        except CallCenterError as exc:
            log.error("call %s: transfer refused: %s", self.call.uuid, exc)
            return None
        self.control.ensure_alive()
        self.call.timeline.operated("transfer", _now_us(), intent.by, target=intent.target)
        self.control.emit(CallTransferred, target=intent.target, by=intent.by)
        self.leave_agents()
        self.control.set_state(CallState.TRANSFERRED)
        return target if isinstance(target, Target) else DialOut(target)

    def leave_agents(self) -> None:
        """A bridged caller keeps its channel (``park_after_bridge``) while the agents' legs
        hang up; each agent goes to wrap-up."""
        agents = [
            leg for leg in self.call.timeline.legs.values()
            if leg.role is LegRole.AGENT and not leg.ended and leg.hangup_us is None
        ]  # fmt: skip
        if not agents:
            return
        bridged = any(leg.bridged_us is not None for leg in agents)
        if bridged:
            line = commands.uuid_setvar(self.call.uuid, "park_after_bridge", "true")
            self.control.channel.api(line)
        for leg in agents:
            self.control.kill_leg(leg.uuid, "NORMAL_CLEARING")
            if self.presence is not None and leg.agent_extension:
                self.presence.released(self.call.uuid, leg.agent_extension)
        gone = lambda: all(leg.hangup_us is not None for leg in agents)  # noqa: E731
        self.control.wait_until(gone, UNBRIDGE_TIMEOUT, interruptible=False)
        self.control.ensure_alive()
        if bridged:  # the next bridge ends as any does: the caller hangs up with the agent
            line = commands.uuid_setvar(self.call.uuid, "park_after_bridge", None)
            self.control.channel.api(line)

    # -- transfer from an agent's phone ----------------------------------------------------

    def phone_transfer(self, intent: PhoneTransfer) -> Next:
        """The agent's phone sent the caller on (FreeSWITCH parked it again): release the
        agents of this hop (wrap-up), then route the caller to what the phone dialled."""
        timeline = self.call.timeline
        if timeline.transferred_from(intent.source):
            return None  # the same REFER seen twice
        self.control.ensure_alive()
        hop = timeline.transferred(
            intent.kind, intent.at_us, agent=intent.agent, destination=intent.destination,
            source=intent.source,
        )  # fmt: skip
        self.control.emit(CallTransferred, target=intent.destination, by=intent.by)
        self.release_transferring_agents()
        self.leave_agents()
        if intent.leg is not None:  # attended: FreeSWITCH has bridged the caller already
            return self.take_over(intent.leg, intent.at_us, hop)
        self.control.set_state(CallState.TRANSFERRED)
        found = self.destinations.resolve(intent.destination) if self.destinations else None
        log.info("call %s: %s transfer by %s to %r -> %s", self.call.uuid, intent.kind,
                 intent.by, intent.destination, found)  # fmt: skip
        if found is None:
            hop["result"] = "UNALLOCATED_NUMBER"
            return transfers.fallback(self.control, "UNALLOCATED_NUMBER")
        if isinstance(found, Target):
            hop["target"] = str(found)
            return found
        return self.transfer_to_agent(found.extension, intent.by, hop)

    def take_over(self, snapshot: LegSnapshot, at_us: int, hop: dict[str, object]) -> Next:
        """The attended transfer's target leg is this call's now, bridged to the caller; an
        agent on it is held by this call until it ends."""
        timeline = self.call.timeline
        if snapshot.extension:
            leg = timeline.agent_leg(snapshot.uuid, snapshot.extension)
            hop["target"] = f"extension:{snapshot.extension}"
            self.control.agent_busy(snapshot.extension)
        else:
            leg = timeline.add_leg(
                snapshot.uuid, LegRole.OUTBOUND, Direction.OUTBOUND, to_number=snapshot.to_number
            )
            hop["target"] = f"number:{snapshot.to_number}"
        leg.created_us = leg.created_us or snapshot.created_us or at_us
        leg.answered_us = leg.answered_us or snapshot.answered_us or at_us
        leg.bridged_us = leg.bridged_us or at_us
        self.control.set_state(CallState.BRIDGED)
        return None

    def release_transferring_agents(self) -> None:
        """The agents whose legs a transfer ended (the referrer's, hung up by FreeSWITCH):
        wrap-up, as after any queue call; their queue stays stay answered."""
        if self.presence is None:
            return
        for leg in self.call.timeline.legs.values():
            talked = leg.bridged_us is not None and leg.hangup_us is not None
            if leg.role is LegRole.AGENT and leg.agent_extension and talked:
                self.presence.released(self.call.uuid, leg.agent_extension)

    def transfer_to_agent(self, extension: str, by: str, hop: dict[str, object]) -> Next:
        """Reserve the agent (idle and available, or the caller does not ring it), ring it,
        bridge. Not an agent: the digits are dialled out."""
        control = self.control
        if self.presence is None:
            return transfers.fallback(control, "NORMAL_TEMPORARY_FAILURE")
        refused = self._reserve(extension)
        if refused == "unknown_agent":
            hop["target"] = f"number:{extension}"
            return DialOut(extension)
        hop["target"] = f"extension:{extension}"
        if refused is not None:
            log.info("call %s: transfer to agent %s refused: %s", control.uuid, extension, refused)
            hop["result"] = refused
            return transfers.fallback(control, "USER_BUSY")
        reservation = self._reservation
        try:
            with control.shielded():
                leg = control.originate(
                    control.agent_dial_string(extension), extension=extension,
                    timeout=AGENT_RING_SECONDS,
                )  # fmt: skip
                control.bridge(leg)
        except OriginateFailed as exc:
            log.info("call %s: agent %s did not answer the transfer: %s", control.uuid,
                     extension, exc.cause)  # fmt: skip
            self.presence.release(reservation)
            hop["result"] = exc.cause
            return transfers.fallback(control, exc.cause)
        except BaseException:
            self.presence.release(reservation)
            raise
        self.presence.bind(reservation, self.call.uuid)
        log.info("call %s: transferred by %s to agent %s", control.uuid, by, extension)
        return None

    # -- bridge to an agent ---------------------------------------------------------------

    def bridge_agent(self, intent: BridgeAgent) -> Next:
        """Reserve the agent (refused unless idle and available), ring, bridge. A refusal or
        an agent not answering sends the caller back to its route."""
        control, extension = self.control, intent.extension
        if self.call.state is CallState.BRIDGED or self.presence is None:
            log.warning("call %s: bridge to %s refused: call already bridged", control.uuid,
                        extension)  # fmt: skip
            self.call.timeline.operated(
                "bridge_agent", _now_us(), intent.by, agent=extension, refused="bridged"
            )
            return None
        refused = self._reserve(extension)
        if refused is not None:
            log.warning("call %s: bridge to agent %s refused: %s", control.uuid, extension, refused)
            self.call.timeline.operated(
                "bridge_agent", _now_us(), intent.by, agent=extension, refused=refused
            )
            return Again()
        reservation = self._reservation
        try:
            with control.shielded():
                leg = control.originate(
                    control.agent_dial_string(extension), extension=extension,
                    timeout=AGENT_RING_SECONDS,
                )  # fmt: skip
                control.answer()
                control.bridge(leg)
        except OriginateFailed as exc:
            log.info("call %s: agent %s did not answer: %s", control.uuid, extension, exc.cause)
            self.presence.release(reservation)
            self.call.timeline.operated(
                "bridge_agent", _now_us(), intent.by, agent=extension, refused=exc.cause
            )
            return Again()
        except BaseException:
            self.presence.release(reservation)
            raise
        self.presence.bind(reservation, self.call.uuid)
        self.call.timeline.operated("bridge_agent", _now_us(), intent.by, agent=extension)
        return None

    def _reserve(self, extension: str) -> str | None:
        assert self.presence is not None
        hold = AGENT_RING_SECONDS + 15.0
        reservation = self.presence.reserve(extension, self.control.mailbox, hold)
        self._reservation = reservation
        answer = self.control.reply_to(reservation, RESERVE_TIMEOUT)
        if answer is None:
            self.presence.release(reservation)
            return "no answer from the ACD"
        refused = getattr(answer, "refused", "no answer from the ACD")
        return refused if isinstance(refused, str) else None


def _now_us() -> int:
    return time.time_ns() // 1000
