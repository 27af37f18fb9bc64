from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.store.models import IvrFlowVersion
from callcenter.store.records import IvrFlowVersionRecord


def to_record(row: IvrFlowVersion) -> IvrFlowVersionRecord:
    return IvrFlowVersionRecord(
        name=row.name,
        version=row.version,
        checksum=row.checksum,
        source_path=row.source_path,
        loaded_at=row.loaded_at,
    )


class IvrFlowRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record_load(
        self, name: str, version: str, checksum: str, source_path: str
    ) -> IvrFlowVersionRecord:
        """Remember a flow version the first time it is loaded; a reload of it changes nothing."""
        row = self.session.scalar(
            select(IvrFlowVersion).where(
                IvrFlowVersion.name == name, IvrFlowVersion.checksum == checksum
            )
        )
        if row is None:
            row = IvrFlowVersion(
                name=name, version=version, checksum=checksum, source_path=source_path
            )
            self.session.add(row)
            self.session.flush()
        return to_record(row)

    def latest(self) -> list[IvrFlowVersionRecord]:
        rows = self.session.scalars(
            select(IvrFlowVersion).order_by(
                IvrFlowVersion.name, IvrFlowVersion.loaded_at.desc(), IvrFlowVersion.id.desc()
            )
        )
        seen: dict[str, IvrFlowVersionRecord] = {}
        for row in rows:
            seen.setdefault(row.name, to_record(row))
        return list(seen.values())
