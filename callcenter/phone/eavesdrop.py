"""``*33<agent>`` from a supervisor's phone: its own call runs ``eavesdrop <agent's leg>``.

The supervisor's call (its actor) answers, checks through the services that its agent has
the ``supervisor`` role and that the agent is on a call (``services.supervision.from_phone``:
the session row, audited, on the agent's call), then runs FreeSWITCH's eavesdrop on its own
channel, listening; its keys switch the mode (``supervision.modes``). Eavesdrop returns when
the agent's leg goes away, and the phone is hung up; or the supervisor hangs up first. Either
way the session's end and its modes are stored. Refused: the phone runner's error tone, and
the log says why.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import gevent

from callcenter.calls.control import CallControl
from callcenter.errors import CallCenterError, CallGone, DatabaseUnavailable, DomainError, ESLError
from callcenter.services import supervision
from callcenter.services.actor import Actor
from callcenter.services.supervision import NotASupervisor
from callcenter.store.database import Database
from callcenter.store.records import SupervisionRecord
from callcenter.supervision.left import CUT
from callcenter.supervision.modes import Mode, Trail, variables

log = logging.getLogger(__name__)

LONGEST = 4 * 3600.0  # seconds: a session longer than this is cut


class Eavesdrop:
    def __init__(self, database: Database) -> None:
        self.database = database

    def run(self, control: CallControl, supervisor: str, agent: str) -> bool:
        """False: refused (the caller plays the error tone)."""
        call = control.call
        who = Actor("phone", supervisor)
        try:
            row = supervision.from_phone(self.database, who, supervisor, agent, call.uuid)
        except (DomainError, NotASupervisor, DatabaseUnavailable) as exc:
            log.info("call %s: %s may not listen to %s: %s", call.uuid, supervisor, agent, exc)
            return False
        log.info("call %s: supervisor %s listens to agent %s (call %s)", call.uuid, supervisor,
                 agent, row.call_uuid)  # fmt: skip
        self._listen(control, row)
        return True

    def _listen(self, control: CallControl, row: SupervisionRecord) -> None:
        call = control.call
        before = call.keys_pressed
        reason = "call_ended"
        try:
            for name, value in variables(Mode.LISTEN).items():
                control.set_variable(name, value)
            control.execute("eavesdrop", row.agent_leg_uuid, timeout=LONGEST)
        except CallGone:
            reason = "supervisor_hangup"
        except gevent.GreenletExit:  # the engine stops: the next one hangs this phone up
            reason = CUT
            raise
        except ESLError as exc:
            reason = "failed"
            log.warning("call %s: eavesdrop failed: %s", call.uuid, exc)
        finally:
            modes = Trail.starting(Mode.LISTEN).pressed(call.keys_since(before)).text()
            self._finish(row, modes, reason)
        if reason != "supervisor_hangup":
            control.hangup("NORMAL_CLEARING")

    def _finish(self, row: SupervisionRecord, modes: str, reason: str) -> None:
        try:
            supervision.finish(
                self.database, row.id, modes=modes, ended_at=datetime.now(UTC), reason=reason
            )
        except CallCenterError as exc:
            log.warning("supervision session %d: end not stored: %s", row.id, exc)
