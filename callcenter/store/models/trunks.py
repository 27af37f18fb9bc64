"""SIP trunks (carriers) and the gateway state the engine last saw of each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.store.base import Base, UTCDateTime, utcnow


class Trunk(Base):
    """One carrier; its ``name`` is its sofia gateway's name. ``password`` is stored as
    given (FreeSWITCH needs it in the gateway file) and never printed back."""

    __tablename__ = "trunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    proxy: Mapped[str] = mapped_column(String(260))
    transport: Mapped[str] = mapped_column(String(8), default="udp")
    register: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str | None] = mapped_column(String(128))
    password: Mapped[str | None] = mapped_column(String(128))
    realm: Mapped[str | None] = mapped_column(String(260))
    from_domain: Mapped[str | None] = mapped_column(String(260))
    caller_id_in_from: Mapped[bool] = mapped_column(Boolean, default=False)
    codecs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    country: Mapped[str | None] = mapped_column(String(2))
    number_style: Mapped[str] = mapped_column(String(16), default="e164")
    max_channels: Mapped[int | None] = mapped_column(Integer)
    max_cps: Mapped[float | None] = mapped_column(Float)
    inbound_cidrs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TrunkState(Base):
    """What FreeSWITCH node ``node`` last said of gateway ``trunk`` (``sofia::gateway_state``
    or ``sofia xmlstatus gateway``), written by the engine that watches it."""

    __tablename__ = "trunk_states"

    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    trunk: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))  # REGED, FAILED, NOREG, ... or ABSENT
    ping_status: Mapped[str] = mapped_column(String(8))  # UP, DOWN
    detail: Mapped[str] = mapped_column(String(255), default="")  # "503 Service Unavailable"
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrunkGroup(Base):
    """Trunks an outbound route names together: ``members`` in order, and the strategy
    that picks the first one a call tries (``callcenter.trunks.groups``)."""

    __tablename__ = "trunk_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    strategy: Mapped[str] = mapped_column(String(16), default="in-order")
    members: Mapped[list[Any]] = mapped_column(JSON, default=list)  # trunk names, in order
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("strategy IN ('in-order', 'round-robin', 'least-busy')", name="strategy"),
    )
