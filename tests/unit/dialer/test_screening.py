"""The dialer's pick, lead by lead (``screening.Screen``): which check passes a due lead
over, what becomes of it, and the window's verdict kept per zone set for one pick."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, time, timedelta

import pytest

from callcenter.dialer import leads
from callcenter.dialer.compliance import CallingWindow
from callcenter.dialer.screening import Due, Screen, Writes
from callcenter.dialer.vocabulary import AuditKind

WINDOW = CallingWindow(time(8), time(21))
HOLD = timedelta(hours=72)
AT = datetime(2026, 7, 1, 13, 30, tzinfo=UTC)  # 09:30 New York, 06:30 Los Angeles
LA_OPENS = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
NY, LA = "America/New_York", "America/Los_Angeles"
PREMIUM = "+19002345678"  # US 900: premium rate
ABANDONED = AT - timedelta(hours=10)
HELD_UNTIL = datetime(2026, 7, 4, 12, 0, tzinfo=UTC)  # 72 h after: 23:30 NY, then 08:00


def _due(
    phone: str = "+12125550100",
    zones: str = NY,
    on_dnc: bool = False,
    abandoned_at: datetime | None = None,
) -> Due:
    return Due(1, phone, zones, on_dnc, abandoned_at)


@pytest.mark.parametrize(
    ("lead", "kind", "until", "outcome"),
    [
        (_due(), None, None, None),  # dialled
        (_due(zones=""), None, None, None),  # no zone known: the window does not hold it
        (_due(on_dnc=True), AuditKind.DNC_HIT, None, "dnc"),
        (_due(zones=LA, on_dnc=True), AuditKind.DNC_HIT, None, "dnc"),  # closed, not moved
        (_due(abandoned_at=ABANDONED), AuditKind.HOLD_BLOCK, HELD_UNTIL, None),
        # 72 h after: 20:30 in Los Angeles, open; the window now (closed) is not the reason
        (_due(zones=LA, abandoned_at=ABANDONED), AuditKind.HOLD_BLOCK, ABANDONED + HOLD, None),
        (_due(zones=LA), AuditKind.WINDOW_BLOCK, LA_OPENS, None),
        (_due(zones=f"{NY} {LA}"), AuditKind.WINDOW_BLOCK, LA_OPENS, None),
        (_due(PREMIUM), AuditKind.NUMBER_REFUSED, None, "refused"),
        (_due(PREMIUM, on_dnc=True), AuditKind.DNC_HIT, None, "dnc"),
        # outside its window: moved like any other; refused when it is next due and open
        (_due(PREMIUM, zones=LA), AuditKind.WINDOW_BLOCK, LA_OPENS, None),
    ],
)
def test_a_due_lead_is_passed_over_by_the_first_check_it_fails(
    lead: Due, kind: AuditKind | None, until: datetime | None, outcome: str | None
) -> None:
    why = Screen(WINDOW, HOLD, AT).verdict(lead)
    if kind is None:
        assert why is None
        return
    assert why is not None
    assert (why.kind, why.until, why.outcome) == (kind, until, outcome)


def test_a_lead_whose_zones_never_share_the_window_is_closed() -> None:
    narrow = CallingWindow(time(9), time(17))  # Guam and London: 9 or 10 hours apart
    why = Screen(narrow, HOLD, AT).verdict(_due(zones="Pacific/Guam Europe/London"))
    assert why is not None
    assert (why.kind, why.until, why.outcome) == (AuditKind.WINDOW_BLOCK, None, "no_window")
    assert why.details == {"zones": ["Pacific/Guam", "Europe/London"], "until": None}


def test_a_premium_lead_moved_for_its_window_is_refused_once_it_opens() -> None:
    why = Screen(WINDOW, HOLD, LA_OPENS).verdict(_due(PREMIUM, zones=LA))
    assert why is not None and (why.kind, why.outcome) == (AuditKind.NUMBER_REFUSED, "refused")
    assert why.details == {"reason": leads.PREMIUM}


def test_the_details_say_why_and_until_when() -> None:
    screen = Screen(WINDOW, HOLD, AT)
    window = screen.verdict(_due(zones=f"{NY} {LA}"))
    held = screen.verdict(_due(abandoned_at=ABANDONED))
    assert window is not None and held is not None
    assert window.details == {"zones": [NY, LA], "until": LA_OPENS.isoformat()}
    assert held.details == {
        "abandoned_at": ABANDONED.isoformat(),
        "until": HELD_UNTIL.isoformat(),
    }


def test_a_lead_passed_over_for_its_window_is_not_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    # parsing and typing each number with phonenumbers was a quarter of a pick passing over
    # a list's top outside its window: a thousand leads a pick, new numbers each pick
    typed: list[str] = []

    def refusal(e164: str) -> str | None:
        typed.append(e164)
        return None

    monkeypatch.setattr(leads, "refusal", refusal)
    screen = Screen(WINDOW, HOLD, AT)
    assert screen.verdict(_due("+14155550100", zones=LA)) is not None
    assert screen.verdict(_due("+12125550100", on_dnc=True)) is not None
    assert typed == []
    assert screen.verdict(_due("+12125550101")) is None
    assert typed == ["+12125550101"]  # the one about to be dialled


def test_the_window_verdict_kept_per_zone_set_is_the_one_judged_afresh() -> None:
    # one Screen a pick: the verdict of a zone set at its instant is kept and given to every
    # lead of that set; it must be the verdict a lead judged alone gets, whatever the mix
    sets = [NY, LA, f"{NY} {LA}", "Europe/London", "Pacific/Guam Europe/London", "", "Asia/Tokyo"]
    rng = random.Random(7)
    for hour in range(0, 48, 5):
        at = AT + timedelta(hours=hour, minutes=rng.randrange(60))
        window = rng.choice([WINDOW, CallingWindow(time(9), time(17))])
        screen = Screen(window, HOLD, at)
        kept: dict[str, object] = {}
        for i in range(60):
            zones = rng.choice(sets)
            lead = Due(i, f"+1212555{i:04d}", zones, False, None)
            why = screen.verdict(lead)
            assert why == Screen(window, HOLD, at).verdict(lead), (zones, at)
            assert kept.setdefault(zones, why) is why  # the same verdict, not judged again


def test_writes_group_the_leads_passed_over_by_due_time_outcome_and_verdict() -> None:
    screen = Screen(WINDOW, HOLD, AT)
    writes = Writes()
    ids = itertools.count(1)
    for phone, zones, dnc in [
        ("+14155550001", LA, False),
        ("+12125550002", NY, True),
        ("+14155550003", LA, False),
        ("+12125550004", f"{NY} {LA}", False),
        ("+19002345678", NY, False),
    ]:
        due = Due(next(ids), phone, zones, dnc, None)
        why = screen.verdict(due)
        assert why is not None
        writes.pass_over(due, why)
    assert writes.moved == {LA_OPENS: [1, 3, 4]}
    assert writes.closed == {"dnc": [2], "refused": [5]}
    groups = [[d.id for d in passed] for _, passed in writes.audits.values()]
    assert groups == [[1, 3], [2], [4], [5]]  # one verdict per zone set: two for LA's
