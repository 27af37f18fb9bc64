"""What the dialer's pick (``store.claim_due``) does with each due lead it reads: dial it, or
pass it over, closed or moved to when it may be called, with the audit row that says why.

Pure: rows in, verdicts out. The checks run cheapest first: the do-not-call lists and the
hold after an abandoned call come with the row; the calling window is judged once per set
of zones at the pick's instant (a list's top outside its window is thousands of leads of
a few zone sets, passed over pick after pick); the number's type (``leads.refusal``, a
``phonenumbers`` parse) only for a lead about to be dialled. A lead that fails several
checks is passed over by the first: never dialled either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from callcenter.dialer import leads
from callcenter.dialer.compliance import CallingWindow
from callcenter.dialer.vocabulary import AuditKind


@dataclass(frozen=True, slots=True)
class Due:
    """A due lead as the pick reads it."""

    id: int
    phone: str
    zones: str  # space-separated, as stored
    on_dnc: bool  # on the global list or the campaign's
    abandoned_at: datetime | None  # the last abandoned call to its number, any campaign


@dataclass(frozen=True, slots=True)
class PassOver:
    """Why a due lead is not dialled, and what becomes of it."""

    kind: AuditKind  # its audit row's
    until: datetime | None  # due again then; None: closed for good (``outcome``)
    outcome: str | None  # the closed lead's last outcome
    details: Mapping[str, Any]


DNC_HIT = PassOver(AuditKind.DNC_HIT, None, "dnc", {})  # which lists: the store asks


class Screen:
    """The checks of one pick, at ``at``: the window's verdict is kept per zone set."""

    def __init__(self, window: CallingWindow, hold: timedelta, at: datetime) -> None:
        self.window = window
        self.hold = hold
        self.at = at
        self._windows: dict[str, PassOver | None] = {}

    def verdict(self, lead: Due) -> PassOver | None:
        """None: dial it."""
        if lead.on_dnc:
            return DNC_HIT
        if lead.abandoned_at is not None and self.at - lead.abandoned_at < self.hold:
            until = leads.next_opening(
                self.window, lead.abandoned_at + self.hold, lead.zones.split()
            )
            held = {"abandoned_at": lead.abandoned_at.isoformat(), "until": _iso(until)}
            return _moved(AuditKind.HOLD_BLOCK, until, held)
        if lead.zones not in self._windows:
            self._windows[lead.zones] = self._window(lead.zones.split())
        closed = self._windows[lead.zones]
        if closed is not None:
            return closed
        why = leads.refusal(lead.phone)
        if why is not None:  # stored before the importer refused such numbers
            return PassOver(AuditKind.NUMBER_REFUSED, None, "refused", {"reason": why})
        return None

    def _window(self, zones: list[str]) -> PassOver | None:
        if leads.allows(self.window, self.at, zones):
            return None
        until = leads.next_opening(self.window, self.at, zones)
        return _moved(AuditKind.WINDOW_BLOCK, until, {"zones": zones, "until": _iso(until)})


def _moved(kind: AuditKind, until: datetime | None, details: Mapping[str, Any]) -> PassOver:
    """Due again at ``until``; closed when the window never opens (``no_window``)."""
    return PassOver(kind, until, None if until else "no_window", details)


def _iso(until: datetime | None) -> str | None:
    return None if until is None else until.isoformat()


@dataclass
class Writes:
    """One read's verdicts, grouped into the statements that store them: the claimed leads
    in one UPDATE, the others in one per due time and per closing outcome; their audit rows
    in one per verdict shared by several leads (``Screen``'s per zone set), the rest in one."""

    claimed: list[int] = field(default_factory=list)
    moved: dict[datetime, list[int]] = field(default_factory=dict)
    closed: dict[str, list[int]] = field(default_factory=dict)
    # by the verdict object's identity: one kept per zone set, or one per lead
    audits: dict[int, tuple[PassOver, list[Due]]] = field(default_factory=dict)

    def pass_over(self, lead: Due, why: PassOver) -> None:
        if why.until is not None:
            self.moved.setdefault(why.until, []).append(lead.id)
        else:
            self.closed.setdefault(why.outcome or "", []).append(lead.id)
        self.audits.setdefault(id(why), (why, []))[1].append(lead)
