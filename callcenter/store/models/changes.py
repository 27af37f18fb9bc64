"""What operators changed, for every running engine to apply (the change feed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.store.base import Base, UTCDateTime, utcnow


class EngineChange(Base):
    """One change an engine applies by kind: ``agent`` (key: extension), ``queue`` (name),
    ``route``, ``outbound_route``, ``flow`` (reload that table), ``call`` (key: call uuid,
    op: hangup, transfer, bridge_agent). Ids grow in commit order per writer; an engine
    applies the rows above the last id it applied."""

    __tablename__ = "engine_changes"

    # BIGINT on PostgreSQL; SQLite autoincrements only an INTEGER primary key
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(255), default="")
    op: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(128))

    # an id is never given twice, even after the newest rows are pruned
    __table_args__ = {"sqlite_autoincrement": True}
