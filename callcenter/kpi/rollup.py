"""The engine's rollup of the reports' totals: every few minutes, the 15-minute intervals of
the last days that have settled (``store.repos.report_totals``) are summed once into
``kpi_queue_waits`` and ``kpi_queue_calls``, and the settled UTC days of agent time into
``kpi_agent_days`` and ``kpi_agent_quarters``, so a report reads them ready (a report
rolls up what is still missing itself)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import gevent

from callcenter.errors import CallCenterError
from callcenter.store.database import Database
from callcenter.store.repos.report_totals import SETTLE, first_unrolled, roll_settled

log = logging.getLogger(__name__)

EVERY = 300.0  # seconds between two rollups
FIRST = 60.0  # seconds after the start: the start's own work first
LOOKBACK = timedelta(days=7)  # intervals older than this: rolled up by the reports


class KpiRollup:
    def __init__(self, database: Database, every: float = EVERY, first: float = FIRST) -> None:
        self.database = database
        self.every, self.first = every, first
        self._greenlet: gevent.Greenlet[None] | None = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link_exception(self._crashed)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=5)

    def roll_once(self, now: datetime | None = None) -> int:
        """One round: the lookback a day at a time, each day in its own transaction, other
        greenlets let in between (SQLite's queries do not yield), from the first interval or
        day left to roll up, found by one read first (a round had opened 8 transactions, 56
        statements, for nothing new: 31.6 M instructions, nearly three queue calls' worth,
        and 51 M for one new interval)."""
        now = now or datetime.now(UTC)
        rolled = 0
        since = now - LOOKBACK
        with self.database.session_scope() as session:  # most rounds: nothing new settled
            start = first_unrolled(session, since, now)
        if start is None:
            return 0
        since = max(since, start)  # what precedes it is rolled up
        while since < now - SETTLE:
            until = min(since + timedelta(days=1), now)  # settled up to until - SETTLE
            with self.database.session_scope() as session:
                rolled += roll_settled(session, since=since, now=until, agent_days=True)
            since = until - SETTLE
            gevent.sleep(0)
        if rolled:
            log.info("reports: %d 15-minute interval(s) rolled up", rolled)
        return rolled

    def _run(self) -> None:
        gevent.sleep(self.first)
        while True:
            try:
                self.roll_once()
            except CallCenterError as exc:  # the database away: the next round
                log.warning("reports: totals not rolled up: %s", exc)
            gevent.sleep(self.every)

    def _crashed(self, greenlet: gevent.Greenlet[None]) -> None:
        log.error("reports rollup greenlet died: %r", greenlet.exception)
