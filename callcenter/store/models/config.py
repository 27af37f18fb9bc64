"""Routing, IVR flow versions, and the audit log of operator actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.store.base import Base, UTCDateTime, str_enum, utcnow
from callcenter.vocabulary import RouteTarget


class Route(Base):
    """A DID (the dialled number) and where its calls go."""

    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    did: Mapped[str] = mapped_column(String(128), unique=True)
    target_type: Mapped[RouteTarget] = mapped_column(str_enum(RouteTarget, "route_target_type"))
    target: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # how ``did`` matches a dialled number (trunks.did): exact, range, prefix or regex
    match_kind: Mapped[str] = mapped_column(String(16), default="exact", server_default="exact")
    priority: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("match_kind IN ('exact', 'range', 'prefix', 'regex')", name="match_kind"),
    )


class OutboundRoute(Base):
    """Which gateway an external number leaves through, and how the number is rewritten."""

    __tablename__ = "outbound_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    pattern: Mapped[str] = mapped_column(Text)  # a regex the whole number must match
    gateway: Mapped[str] = mapped_column(String(128))  # a sofia gateway name
    number_format: Mapped[str] = mapped_column(String(255), default="$0")  # $0 $1..$9
    caller_id_number: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower is tried first
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the trunks tried after ``gateway`` when it fails with one of ``failover_causes``
    failover_gateways: Mapped[str] = mapped_column(Text, default="", server_default="")
    failover_causes: Mapped[str] = mapped_column(Text, default="", server_default="")
    # a trunk group instead of ``gateway`` and ``failover_gateways`` (then empty)
    trunk_group: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index(None, "priority", "name"),)


class IvrFlowVersion(Base):
    __tablename__ = "ivr_flow_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    checksum: Mapped[str] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("name", "checksum"), Index(None, "name", "loaded_at"))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
