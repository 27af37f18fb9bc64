"""Reports' rollups: agent time per settled UTC day (docs/kpis.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.store.base import Base, UTCDateTime, utcnow


class KpiAgentDay(Base):
    """An agent's time in a status, state and pause reason ("": none) over one UTC day
    (``day``: days since 1970-01-01), as ``reports`` computed it from the status history."""

    __tablename__ = "kpi_agent_days"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(255), primary_key=True)
    ms: Mapped[int] = mapped_column(BigInteger)
    missed: Mapped[int] = mapped_column(Integer)


class KpiRolledDay(Base):
    """A UTC day whose agent time is in ``kpi_agent_days`` (a day without any is too)."""

    __tablename__ = "kpi_rolled_days"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KpiQueueWait(Base):
    """Closed stays of a queue that joined in one 15-minute UTC interval (``bucket``: epoch
    seconds // 900), by outcome and wait: ``seconds`` the wait rounded up to the second,
    ``whole`` 1 when the wait was a whole number of seconds (so "wait < S" and "wait <= T"
    are known for any S and T). Rolled up from ``queue_entries`` (docs/kpis.md)."""

    __tablename__ = "kpi_queue_waits"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer, primary_key=True)
    whole: Mapped[int] = mapped_column(Integer, primary_key=True)
    stays: Mapped[int] = mapped_column(Integer)
    wait_ms: Mapped[int] = mapped_column(BigInteger)


class KpiQueueCall(Base):
    """The calls (CDRs) of a queue that started in one 15-minute UTC interval, and the
    handle times of those an agent answered. Rolled up from ``cdrs``."""

    __tablename__ = "kpi_queue_calls"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(128), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    handled: Mapped[int] = mapped_column(Integer)
    talk_ms: Mapped[int] = mapped_column(BigInteger)
    hold_ms: Mapped[int] = mapped_column(BigInteger)
    wrapup_ms: Mapped[int] = mapped_column(BigInteger)


class KpiRolledBucket(Base):
    """A 15-minute UTC interval whose stays and calls are in ``kpi_queue_waits`` and
    ``kpi_queue_calls`` (an interval without any is too); deleted when a late write
    (a spool replay, a call that outlasted the settling time) touches it."""

    __tablename__ = "kpi_rolled_buckets"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KpiAgentQuarter(Base):
    """An agent's handling time (in a call or wrap-up) and available idle time within one
    15-minute UTC interval, rolled up with its day (``kpi_agent_days``): occupancy per
    interval."""

    __tablename__ = "kpi_agent_quarters"

    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    handling_ms: Mapped[int] = mapped_column(BigInteger)
    idle_ms: Mapped[int] = mapped_column(BigInteger)
