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
