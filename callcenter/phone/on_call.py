"""What an agent's phone dials, inside the call's actor: feature codes, other agents, numbers.

The dialplan tags ``*`` codes from agents' phones ``cc_entry=agent_feature`` and anything else
they dial ``cc_entry=agent_outbound`` (freeswitch-conf/dialplan/callcenter.xml); the call
manager hands both here instead of the DID routes. The agent is the SIP user FreeSWITCH
authenticated (``phone.identity``), never the caller ID.

A feature code answers, does one agent operation through the services (``Actor("phone",
<extension>)``: audited, delivered to every engine like the CLI's), confirms with a short
tone (or says the status), and hangs up. An error tone means refused (a wrong PIN, not
logged in...): the log and the audit say why.

A call to another agent's extension rings that phone unless the ACD has it offering or on a
call (then ``USER_BUSY`` at once); any other number leaves through the outbound routes with
the agent's caller ID. The dialling agent is held busy for the ACD until the call ends.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import gevent

from callcenter import grammar as q
from callcenter.calls.control import CallControl, OriginateFailed
from callcenter.calls.routing import Target
from callcenter.dialer import dispositions
from callcenter.errors import DatabaseUnavailable, DomainError
from callcenter.phone.codes import IN_CALL, Feature, FeatureCodes, Request
from callcenter.phone.eavesdrop import Eavesdrop
from callcenter.phone.identity import ENTRY_FEATURE
from callcenter.phone.offers import AgentPhone
from callcenter.services import agents
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.records import AgentRecord
from callcenter.store.repos.agents import verify_pin
from callcenter.trunks.dialout import transfer_out
from callcenter.trunks.table import OutboundRoutes
from callcenter.vocabulary import AgentState, AgentStatus, Direction, Disposition

log = logging.getLogger(__name__)

TONE_OK = "tone_stream://%(300,0,880)"
TONE_ERROR = "tone_stream://%(150,100,480);loops=3"
PIN_PROMPT = "tone_stream://%(200,0,600)"
_MAKE_OFFERABLE = frozenset({Feature.LOGIN, Feature.READY, Feature.ON_DEMAND})
AGENT_RING_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class PhoneOptions:
    codes: FeatureCodes
    pin_max_failures: int = 5
    pin_lockout_seconds: float = 300.0
    tts: tuple[str, str] = ("flite", "kal")
    outbound_caller_id: str = ""


class Phones(Protocol):
    def get(self, extension: str) -> AgentPhone | None: ...


class PhoneRunner:
    """A ``TargetRunner`` for calls from agents' phones (the target is not used)."""

    def __init__(
        self,
        database: Database,
        options: PhoneOptions,
        *,
        phones: Phones,
        routes: OutboundRoutes | None = None,
    ) -> None:
        self.database = database
        self.options = options
        self.phones = phones
        self.routes = routes

    def __call__(self, control: CallControl, _target: Target) -> None:
        call = control.call
        call.timeline.direction = Direction.INTERNAL
        if call.agent is None:
            log.warning(
                "call %s: %s dialled from a phone that did not authenticate as an agent "
                "(caller ID %r, not trusted); refused", call.uuid, call.did, call.from_number,
            )  # fmt: skip
            control.hangup("CALL_REJECTED")  # the CDR: rejected
            return
        if call.adopted:  # a restart cut it short: the agent dials again
            control.hangup("NORMAL_CLEARING")
            return
        if call.entry == ENTRY_FEATURE:
            self.feature(control, call.agent, call.did)
        else:
            self.dial(control, call.agent, call.did)

    # -- feature codes ----------------------------------------------------------------

    def feature(self, control: CallControl, extension: str, dialled: str) -> None:
        call = control.call
        call.timeline.routed("feature")
        call.timeline.outcome = str(Disposition.FEATURE)
        control.answer()
        request = self.options.codes.parse(dialled)
        if not isinstance(request, Request):
            log.info("call %s: agent %s dialled %s: %s", call.uuid, extension, dialled,
                     request.why)  # fmt: skip
            self._finish(control, (TONE_ERROR,))
            return
        if request.feature is Feature.EAVESDROP:
            control.agent_busy(extension)  # no offer rings it while it listens
            if not Eavesdrop(self.database).run(control, extension, request.target or ""):
                self._finish(control, (TONE_ERROR,))
            return
        if request.feature in _MAKE_OFFERABLE:
            # the phone is on this call until it hangs up: no offer rings it meanwhile
            control.agent_busy(extension)
        who = Actor("phone", extension)
        try:
            prompt = self._carry_out(control, who, extension, request)
        except (DomainError, DatabaseUnavailable) as exc:  # the database away: not done either
            log.info("call %s: %s from agent %s refused: %s", call.uuid, request.feature,
                     extension, exc)  # fmt: skip
            prompt = (TONE_ERROR,)
        else:
            log.info("call %s: agent %s: %s done", call.uuid, extension, request.feature)
        self._finish(control, prompt)

    def _carry_out(
        self, control: CallControl, who: Actor, extension: str, request: Request
    ) -> tuple[str, ...]:
        """Do it; the confirmation to play (one tone: on; two: off, for ``*26``)."""
        db, feature = self.database, request.feature
        if feature is Feature.LOGIN:
            pin = control.collect_digits(
                PIN_PROMPT, min_digits=4, max_digits=12, tries=1, timeout=6.0,
                terminators="#", regex=r"\d+", digit_timeout=3.0, variable="cc_pin",
            ).value  # fmt: skip
            if pin is None:
                raise DomainError("no PIN typed", code="no_pin_typed")
            agents.phone_login(
                db, who, extension, pin,
                max_failures=self.options.pin_max_failures,
                lockout_seconds=self.options.pin_lockout_seconds,
                verify=_off_the_loop,
            )  # fmt: skip
        elif feature is Feature.LOGOUT:
            agents.logout(db, who, extension)
        elif feature is Feature.PAUSE:
            codes = self.options.codes
            reasons = agents.PauseReasons(tuple(codes.reasons.items()), codes.default_reason)
            agents.pause(db, who, extension, request.reason, reasons=reasons)
        elif feature is Feature.READY:
            agents.ready(db, who, extension)
        elif feature is Feature.WRAPUP_END:
            agents.end_wrapup(db, who, extension)
        elif feature is Feature.ON_DEMAND:
            record = agents.toggle_on_demand(db, who, extension)
            return (TONE_OK,) if record.on_demand else (TONE_OK, TONE_OK)
        elif feature in IN_CALL:  # pressed on a call, not dialled: nothing to pause here
            raise DomainError(f"{feature} is pressed during a call", code="not_in_a_call")
        elif feature is Feature.DISPOSITION:
            key = dispositions.check_key(request.target)
            done = dispositions.by_agent(db, who, extension, key, datetime.now(UTC))
            log.info("call %s: agent %s: lead %s of %s: disposition %s (%s)", control.uuid,
                     extension, done.lead_id, done.campaign, done.code, done.state)  # fmt: skip
        elif feature is Feature.STATUS:
            words = status_words(agents.get(db, extension))
            engine, voice = self.options.tts
            control.set_variable("tts_engine", engine)
            control.set_variable("tts_voice", voice)
            return (f"say:{words}",)
        return (TONE_OK,)

    def _finish(self, control: CallControl, prompts: tuple[str, ...]) -> None:
        control.play(*prompts)
        control.hangup("NORMAL_CLEARING")

    # -- calls agents dial --------------------------------------------------------------

    def dial(self, control: CallControl, extension: str, number: str) -> None:
        control.agent_busy(extension)  # no queue call offered while this one lasts
        callee = self.phones.get(number)
        if callee is not None:
            self._ring_agent(control, extension, callee)
            return
        call = control.call
        call.timeline.direction = Direction.OUTBOUND
        if self.routes is None:
            log.error("call %s: agent %s dialled %s: no outbound routes", call.uuid, extension,
                      number)  # fmt: skip
            call.timeline.dial_failed("NO_ROUTE_DESTINATION")
            control.hangup("NO_ROUTE_DESTINATION")
            return
        me = self.phones.get(extension)
        log.info("call %s: agent %s dials %s", call.uuid, extension, number)
        transfer_out(
            control, self.routes, number,
            caller_id=me.caller_id if me is not None else None,
            default_caller_id=self.options.outbound_caller_id or None,
        )  # fmt: skip

    def _ring_agent(self, control: CallControl, extension: str, callee: AgentPhone) -> None:
        call = control.call
        target = callee.extension
        refused = "calling itself" if target == extension else control.claim_agent(target)
        if refused is not None:
            log.info("call %s: agent %s calls agent %s: busy (%s)", call.uuid, extension, target,
                     refused)  # fmt: skip
            call.timeline.dial_failed("USER_BUSY")
            control.hangup("USER_BUSY")  # the phone shows busy (486)
            return
        me = self.phones.get(extension)
        shown = q.scrub(me.name) if me is not None and me.name else ""
        variables = {
            "origination_caller_id_name": shown or extension,
            "origination_caller_id_number": extension,
        }
        control.ring_ready()
        try:
            leg = control.originate(
                control.agent_dial_string(target), extension=target, variables=variables,
                timeout=AGENT_RING_SECONDS,
            )  # fmt: skip
        except OriginateFailed as exc:
            log.info("call %s: agent %s did not answer agent %s: %s", call.uuid, target,
                     extension, exc.cause)  # fmt: skip
            call.timeline.dial_failed(exc.cause)
            control.hangup(exc.cause)  # the phone shows why (busy, no answer...)
            return
        control.answer()
        control.bridge(leg)


def status_words(agent: AgentRecord) -> str:
    """What ``*29`` says: ``available``, ``paused, lunch``, ``available on demand, in wrap
    up``..."""
    words = str(agent.status).replace("_", " ")
    if agent.status is AgentStatus.PAUSED and agent.pause_reason:
        reason = re.sub(r"[^A-Za-z0-9 ]+", " ", agent.pause_reason)
        words += ", " + " ".join(reason.split())
    if agent.on_demand and agent.status is AgentStatus.AVAILABLE:
        words += " on demand"
    if agent.state is not AgentState.IDLE:
        words += ", " + str(agent.state).replace("_", " ")
    return words


def _off_the_loop(pin: str, stored: str | None) -> bool:
    """The PIN check (PBKDF2, slow on purpose) in a thread: other calls go on meanwhile."""
    return bool(gevent.get_hub().threadpool.apply(verify_pin, (pin, stored)))
