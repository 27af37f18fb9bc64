"""Voicemail: list the messages of the boxes, play (read) one, mark it read or unread,
delete it. A message is a recording an IVR ``voicemail`` node made; deleting it removes the
file and keeps the row with ``deleted_at`` (the CDR still points at it), audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from callcenter.errors import DomainError
from callcenter.services import checks
from callcenter.services.actor import Actor
from callcenter.services.changes import audited
from callcenter.store.database import Database
from callcenter.store.records import VoicemailRecord
from callcenter.store.repos.voicemail import VoicemailRepository

LIMIT_MAX = 1000


@dataclass(frozen=True, slots=True)
class Audio:
    voicemail: VoicemailRecord
    data: bytes
    content_type: str


def list_voicemails(
    db: Database, *, box: str | None = None, unread: bool = False, limit: int = 100
) -> list[VoicemailRecord]:
    """The messages not deleted, newest first (of one box; only those not read yet)."""
    if box is not None:
        checks.extension(box, "box")  # named like an extension: 1-32 of A-Z a-z 0-9 . _ -
    checks.in_range(limit, 1, LIMIT_MAX, "limit")
    with db.session_scope() as session:
        return VoicemailRepository(session).list(box=box, unread=unread, limit=limit)


def get(db: Database, voicemail_id: int) -> VoicemailRecord:
    with db.session_scope() as session:
        return VoicemailRepository(session).get(voicemail_id)


def audio(db: Database, voicemail_id: int) -> Audio:
    """The message's audio file, as FreeSWITCH wrote it."""
    found = get(db, voicemail_id)
    path = Path(found.path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DomainError(
            f"voicemail {voicemail_id}: its file {path} is missing", code="voicemail_file_missing"
        ) from None
    except OSError as exc:
        raise DomainError(
            f"voicemail {voicemail_id}: {path}: {exc.strerror}", code="voicemail_file_unreadable"
        ) from None
    kind = "audio/wav" if path.suffix.lower() == ".wav" else "application/octet-stream"
    return Audio(found, data, kind)


def mark(db: Database, who: Actor, voicemail_id: int, *, read: bool) -> VoicemailRecord:
    with db.session_scope() as session:
        found = VoicemailRepository(session).mark(voicemail_id, _now() if read else None)
        audited(session, who, "voicemail.mark", str(voicemail_id),
                {"read": read, "box": found.box})  # fmt: skip
    return found


def delete(db: Database, who: Actor, voicemail_id: int) -> VoicemailRecord:
    """Remove the file (already gone: fine) and mark the message deleted."""
    with db.session_scope() as session:
        found = VoicemailRepository(session).delete(voicemail_id, _now())
        try:
            Path(found.path).unlink(missing_ok=True)
        except OSError as exc:  # the row stays as it was: nothing half done
            raise DomainError(
                f"voicemail {voicemail_id}: {found.path} not deleted: {exc.strerror}",
                code="voicemail_file_undeletable",
            ) from None
        audited(session, who, "voicemail.delete", str(voicemail_id),
                {"box": found.box, "call": found.call_uuid})  # fmt: skip
    return found


def _now() -> datetime:
    return datetime.now(UTC)
