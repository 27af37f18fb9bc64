from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.store.models import AuditEntry
from callcenter.store.records import AuditRecord


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self, actor: str, action: str, target: str = "", details: dict[str, Any] | None = None
    ) -> None:
        self.session.add(
            AuditEntry(actor=actor, action=action, target=target, details=details or {})
        )
        self.session.flush()

    def recent(self, limit: int = 50) -> list[AuditRecord]:
        rows = self.session.scalars(
            select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        )
        return [AuditRecord(r.at, r.actor, r.action, r.target, dict(r.details)) for r in rows]
