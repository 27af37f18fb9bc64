"""The actor of one live call: runs its route target as straight-line code, then watches it end.

However the target ends (done, caller gone, FreeSWITCH unreachable, a bug), the actor keeps
reading the call's events until every leg has hung up, then closes the call: one CDR, the
final state mirrored, mailboxes released.

The actor is the call's only writer. Others post it intents (``calls.intents``): one arriving
while a step runs cuts the step (``IntentArrived``, after its cleanup), one arriving while the
call is bridged is read by the watch; ``calls.operations`` carries it out and says what runs
next (a transfer's target, the route again after a refused bridge).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from callcenter.calls.control import AgentPresence, CallControl
from callcenter.calls.intents import CallIntent, IntentArrived
from callcenter.calls.operations import Again, DialOut, DialOutRunner, Next, Operations
from callcenter.calls.routing import Target
from callcenter.calls.transfers import Destinations
from callcenter.errors import CallGone, ESLError, ESLNotConnected, UnsafeValue
from callcenter.esl import commands
from callcenter.vocabulary import CallState

log = logging.getLogger(__name__)

TargetRunner = Callable[[CallControl, Target], None]

TOLD_GONE_CHECK = 2.0  # seconds to wait for the hang-up event of a call a reply said is gone


class CallActor:
    def __init__(
        self,
        control: CallControl,
        target: Callable[[], Target],
        run_target: TargetRunner,
        *,
        on_finished: Callable[[CallActor], None],
        mirror: Callable[[CallActor], None],
        is_connected: Callable[[], bool],
        on_error: Callable[[str], None],
        check_interval: float = 60.0,
        resume_timeout: float = 120.0,
        presence: AgentPresence | None = None,
        dial_out: DialOutRunner | None = None,
        destinations: Destinations | None = None,
    ) -> None:
        self.control = control
        self.call = control.call
        self._target = target
        self._run_target = run_target
        self._on_finished = on_finished
        self._mirror = mirror
        self._is_connected = is_connected
        self._on_error = on_error
        self.check_interval = check_interval
        self.resume_timeout = resume_timeout
        self.resumed = 0
        self._told_gone = False  # a reply said the caller is gone, no event has yet
        self.operations = Operations(control, presence, destinations)
        self._dial_out = dial_out

    def run(self) -> None:
        """Drive the call, then watch it end. A kill (GreenletExit, at shutdown) skips the
        close: the call stays live in FreeSWITCH and in the database, to be adopted."""
        try:
            self._mirror(self)
            if self.call.adopted and self.call.state is CallState.BRIDGED and not self.call.dialer:
                # (a campaign's call goes to its runner, which stores its attempt if need be)
                log.info("call %s: adopted while bridged; watching it", self.call.uuid)
            else:
                self._drive()
            if not self.call.finished:
                self._mirror(self)  # bridged, transferred...: the database follows
        except Exception as exc:
            self._on_error(type(exc).__name__)
            log.exception("call %s: actor failed; hanging up the caller", self.call.uuid)
            self._hang_up_quietly("NORMAL_TEMPORARY_FAILURE")
        self.watch_until_finished()
        self.control.set_state(CallState.ENDED)
        self._on_finished(self)

    def _drive(self, first: Next | None = None) -> None:
        step: Next = first if first is not None else Again()
        while step is not None:
            try:
                self._step(step)
                return
            except IntentArrived as arrived:
                step = self._carry_out(arrived.intent)
            except CallGone as exc:
                log.info("call %s: caller gone (%s)", self.call.uuid, exc)
                self._told_gone = not self.call.caller_gone
                if self.call.caller_gone:
                    self._hang_up_stranded_legs()
                return
            except UnsafeValue as exc:
                log.error("call %s: refused an unsafe value: %s", self.call.uuid, exc)
                self._hang_up_quietly("NORMAL_TEMPORARY_FAILURE")
                return
            except ESLError as exc:
                if not self._resume_after(exc):
                    return
                step = Again()

    def _step(self, step: Target | DialOut | Again) -> None:
        if isinstance(step, DialOut):
            if self._dial_out is None:
                log.error("call %s: no outbound routes to dial %s", self.call.uuid, step.number)
                self._hang_up_quietly("NO_ROUTE_DESTINATION")
                return
            self._dial_out(self.control, step.number)
            return
        target = self._target() if isinstance(step, Again) else step
        log.info("call %s: did %s -> %s", self.call.uuid, self.call.did, target)
        self._run_target(self.control, target)

    def _carry_out(self, intent: CallIntent) -> Next:
        try:
            return self.operations.carry_out(intent)
        except ESLError as exc:
            log.warning("call %s: %s not carried out: %s", self.call.uuid, intent, exc)
            return None

    def _resume_after(self, exc: ESLError) -> bool:
        """FreeSWITCH went away mid-step: once it is back and the call still up, start over."""
        log.warning("call %s: ESL failed mid-call: %s", self.call.uuid, exc)
        if not isinstance(exc, ESLNotConnected):
            self._hang_up_quietly("NORMAL_TEMPORARY_FAILURE")
            return False
        ready = self.control.wait_until(
            lambda: self._is_connected() or self.call.caller_gone, self.resume_timeout
        )
        # the resync after a reconnect delivers the end of calls that died meanwhile
        self.control.wait_until(lambda: self.call.caller_gone, 0.5)
        if not ready or self.call.caller_gone or self.call.state is CallState.BRIDGED:
            return False
        self.resumed += 1
        log.info("call %s: FreeSWITCH is back; restarting the call's route", self.call.uuid)
        return self.resumed <= 3

    def _hang_up_quietly(self, cause: str) -> None:
        try:
            self.control.hangup(cause)
        except (ESLError, CallGone) as exc:
            log.info("call %s: hang-up not sent: %s", self.call.uuid, exc)

    def _hang_up_stranded_legs(self) -> None:
        """The call's own channel left between another leg's answer and its bridge (an
        agent's phone, a number dialled out, a callback's customer): that leg is parked in
        FreeSWITCH, where nothing ends it; the agent would stay in a call, the far end in
        silence, and this call unfinished. A leg that was bridged ends with the bridge."""
        for uuid, leg in self.call.timeline.legs.items():
            stranded = leg.answered_us is not None and leg.bridged_us is None and not leg.ended
            if uuid != self.call.uuid and stranded:
                log.info("call %s: leg %s answered, never bridged: hanging it up",
                         self.call.uuid, uuid)  # fmt: skip
                self.control.kill_leg(uuid, "NORMAL_CLEARING")

    def watch_until_finished(self) -> None:
        # only events end a call (its own, or those ``Mailbox.lost`` delivers): no polling
        control = self.control
        finished = lambda: self.call.finished or bool(control.intents)  # noqa: E731
        interval = self.check_interval
        if self._told_gone:
            # "-ERR invalid session id" and no hang-up event: it can have gone by before the
            # call had a mailbox (a restart's adoption); ask soon, not a minute later
            interval = min(interval, TOLD_GONE_CHECK)
        while True:
            if not control.wait_until(finished, interval, poll=interval, interruptible=False):
                self._check_legs_exist()
                interval = self.check_interval
                continue
            intent = control.take_intent()
            if intent is None:
                return
            if self.call.finished:
                log.info("call %s: %s comes after the call ended", self.call.uuid, intent)
                continue
            step = self._carry_out(intent)
            if step is not None:
                self._drive(step)

    def _check_legs_exist(self) -> None:
        """No event for a while: ask FreeSWITCH whether the legs are still there."""
        if not self._is_connected():
            return
        for uuid in self.call.leg_uuids:
            if self.call.timeline.legs[uuid].ended:
                continue
            try:
                exists = self.control.channel.api(commands.uuid_exists(uuid), check=False)
            except ESLError as exc:
                log.debug("call %s: uuid_exists failed: %s", self.call.uuid, exc)
                return
            if exists.strip() == "false":
                self.call.end_leg_unseen(uuid)

    def __repr__(self) -> str:
        return f"<CallActor {self.call.uuid} {self.call.state}>"

    def describe(self) -> dict[str, Any]:
        return {"uuid": self.call.uuid, "state": str(self.call.state), "did": self.call.did}
