"""Intervals across a clock change, in a queue of Europe/Paris: the hour repeated in autumn is
two intervals, each labelled with its own offset; the hour skipped in spring is none. Keyed by
the instant an interval starts, read from the raw rows and from the rolled-up totals alike,
on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.services import reports
from callcenter.services.reports import Interval, Period
from callcenter.store.database import Database
from callcenter.store.models import Queue, QueueEntry
from callcenter.vocabulary import QueueOutcome

AUTUMN = datetime(2026, 10, 25, 1, tzinfo=UTC)  # 03:00+02:00 becomes 02:00+01:00
SPRING = datetime(2026, 3, 29, 1, tzinfo=UTC)  # 02:00+01:00 becomes 03:00+02:00


def _stays(db: Database, around: datetime, before: int, after: int) -> None:
    """``before`` stays in the hour before the change, ``after`` in the hour after it."""
    with db.session_scope() as s:
        queue = s.query(Queue).filter_by(name="dst-paris").one_or_none()
        if queue is None:
            queue = Queue(name="dst-paris", time_zone="Europe/Paris")
            s.add(queue)
            s.flush()
        moments = [around - timedelta(hours=1) + timedelta(minutes=2 * i) for i in range(before)]
        moments += [around + timedelta(minutes=2 * i) for i in range(after)]
        for moment in moments:
            s.add(QueueEntry(queue_id=queue.id, call_uuid=f"dst-{moment:%m%d%H%M}",
                             ticket=f"dst-{moment:%m%d%H%M}", joined_at=moment,
                             answered_at=moment + timedelta(seconds=10),
                             left_at=moment + timedelta(seconds=10),
                             outcome=QueueOutcome.ANSWERED))  # fmt: skip


@pytest.fixture
def changes(either: Database) -> Database:
    _stays(either, AUTUMN, 16, 22)
    _stays(either, SPRING, 5, 7)
    return either


def _offered(db: Database, day: datetime, by: Interval) -> list[tuple[str | None, int]]:
    period = Period(day, day + timedelta(days=1), queue="dst-paris", by=by)
    return [(r.interval, r.offered) for r in reports.intervals_report(db, period)]


@pytest.mark.parametrize("raw", [True, False])
def test_the_repeated_autumn_hour_is_two_intervals_with_their_own_offsets(
    changes: Database, raw: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if raw:  # nothing settled: every row read raw, no totals rolled up
        monkeypatch.setattr(reports, "_settled", lambda: datetime(2000, 1, 1, tzinfo=UTC))
    day = datetime(2026, 10, 24, 22, tzinfo=UTC)  # 25 October, Paris midnight
    assert _offered(changes, day, Interval.HOUR) == [
        ("2026-10-25T02:00:00+02:00", 16), ("2026-10-25T02:00:00+01:00", 22),
    ]  # fmt: skip
    # every 2 minutes from 00:00Z (16) and from 01:00Z (22): the later ones not an hour early
    assert _offered(changes, day, Interval.MINUTES_15) == [
        ("2026-10-25T02:00:00+02:00", 8), ("2026-10-25T02:15:00+02:00", 7),
        ("2026-10-25T02:30:00+02:00", 1), ("2026-10-25T02:00:00+01:00", 8),
        ("2026-10-25T02:15:00+01:00", 7), ("2026-10-25T02:30:00+01:00", 7),
    ]  # fmt: skip
    assert _offered(changes, day, Interval.DAY) == [("2026-10-25T00:00:00+02:00", 38)]


@pytest.mark.parametrize("raw", [True, False])
def test_the_skipped_spring_hour_is_no_interval(
    changes: Database, raw: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if raw:
        monkeypatch.setattr(reports, "_settled", lambda: datetime(2000, 1, 1, tzinfo=UTC))
    day = datetime(2026, 3, 28, 23, tzinfo=UTC)  # 29 March, Paris midnight
    assert _offered(changes, day, Interval.HOUR) == [
        ("2026-03-29T01:00:00+01:00", 5), ("2026-03-29T03:00:00+02:00", 7),
    ]  # fmt: skip
    assert _offered(changes, day, Interval.DAY) == [("2026-03-29T00:00:00+01:00", 12)]
