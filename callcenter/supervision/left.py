"""Supervision sessions a previous run left open, at a start.

A restart does not end a supervisor's eavesdrop: FreeSWITCH runs it on the supervisor's own
leg. The engine starting looks at the sessions without an end on its node's calls: one whose
leg is gone ended unseen (closed now, ``ended_while_away``); one started from a phone
(``*33``) is its supervisor's own call, which the restart cuts short (the phone dials again:
``cut_by_restart``); one still up is adopted (its leg, tagged ``cc_supervision``, is found
in the listing) and ends as any other. Each closing is audited and in the call's CDR.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping

from callcenter.errors import CallCenterError
from callcenter.services import supervision as service
from callcenter.store.database import Database
from callcenter.store.records import SupervisionRecord

log = logging.getLogger(__name__)

GONE = "ended_while_away"
CUT = "cut_by_restart"
ORPHANED = "call_ended"  # its leg up, the agent's call gone: FreeSWITCH would hang it up


class SupervisionsLeft:
    def __init__(self, database: Database, node: str) -> None:
        self.database = database
        self.node = node

    def close_ended(self, gone: Callable[[str], bool], ours: Collection[str]) -> bool:
        """Close the last run's sessions that are over; False: the database did not answer
        (asked again at the next resync). ``ours``: legs this run has (not the last run's)."""
        try:
            rows = service.left_open(self.database, self.node)
        except CallCenterError as exc:
            log.warning("supervision sessions of the last run not looked at yet: %s", exc)
            return False
        for row in rows:
            if row.leg_uuid in ours:
                continue
            if row.source == "phone":
                self.close(row.id, CUT)
            elif gone(row.leg_uuid):
                self.close(row.id, GONE)
        return True

    def session_of(self, dump: Mapping[str, str]) -> SupervisionRecord | None:
        """The open session a live supervisor leg (``uuid_dump``) belongs to."""
        number = dump.get("variable_cc_supervision", "")
        if not number.isdigit():
            return None
        try:
            row = service.get(self.database, int(number))
        except CallCenterError as exc:
            log.warning("supervision leg %s: session %s not read: %s",
                        dump.get("Unique-ID"), number, exc)  # fmt: skip
            return None
        if row.ended_at is not None or row.leg_uuid != dump.get("Unique-ID"):
            return None
        return row

    def close(self, session_id: int, reason: str) -> None:
        try:
            service.close_left(self.database, session_id, reason=reason)
            log.info("supervision session %d closed at start: %s", session_id, reason)
        except CallCenterError as exc:
            log.warning("supervision session %d not closed: %s", session_id, exc)
