"""Webhooks, their delivery state and dead letters; the outbox as deliveries read it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.orm import Session

from callcenter.errors import NotFound
from callcenter.store.base import utcnow
from callcenter.store.models import DeadLetter, EventRow, Webhook
from callcenter.store.records import DeadLetterRecord, OutboxEvent, WebhookRecord


def mark_delivered(conn: Connection, webhook_id: int, seq: int, at: datetime) -> None:
    """The endpoint got event ``seq``: its cursor moves there, its retry state is cleared."""
    conn.execute(
        update(Webhook)
        .where(Webhook.id == webhook_id)
        .values(
            cursor=seq,
            attempts=0,
            next_attempt_at=None,
            last_error=None,
            delivered=Webhook.delivered + 1,
            last_delivered_at=at,
        )
    )


def _webhook(row: Webhook, dead: int = 0) -> WebhookRecord:
    return WebhookRecord(
        id=row.id,
        url=row.url,
        events=tuple(row.events or ()),
        enabled=row.enabled,
        created_at=row.created_at,
        created_by=row.created_by,
        cursor=row.cursor,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        delivered=row.delivered,
        last_delivered_at=row.last_delivered_at,
        dead_letters=dead,
    )


def _dead(row: DeadLetter) -> DeadLetterRecord:
    return DeadLetterRecord(
        id=row.id,
        webhook_id=row.webhook_id,
        event_seq=row.event_seq,
        event_id=row.event_id,
        event_type=row.event_type,
        attempts=row.attempts,
        last_error=row.last_error,
        dead_at=row.dead_at,
        replay_requested_at=row.replay_requested_at,
        replayed_at=row.replayed_at,
        payload=dict(row.payload),
    )


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- what operators do ------------------------------------------------------------------

    def add(self, url: str, events: Sequence[str], secret: str, by: str) -> WebhookRecord:
        """A new endpoint gets the events from now on (its cursor: the newest event)."""
        newest = self.newest_seq()
        row = Webhook(
            url=url, events=list(events), secret=secret, enabled=True, created_by=by,
            cursor=newest, attempts=0, delivered=0,
        )  # fmt: skip
        self.session.add(row)
        self.session.flush()
        return _webhook(row)

    def _row(self, webhook_id: int) -> Webhook:
        row = self.session.get(Webhook, webhook_id)
        if row is None:
            raise NotFound(f"webhook {webhook_id} not found", code="webhook_not_found")
        return row

    def get(self, webhook_id: int) -> WebhookRecord:
        return _webhook(self._row(webhook_id), self._dead_count(webhook_id))

    def all(self) -> list[WebhookRecord]:
        counts = dict(
            self.session.execute(
                select(DeadLetter.webhook_id, func.count())
                .where(DeadLetter.replayed_at.is_(None))
                .group_by(DeadLetter.webhook_id)
            ).all()
        )
        rows = self.session.scalars(select(Webhook).order_by(Webhook.id))
        return [_webhook(r, counts.get(r.id, 0)) for r in rows]

    def enabled_ids(self) -> list[int]:
        return list(self.session.scalars(select(Webhook.id).where(Webhook.enabled)))

    def subscribed_types(self) -> frozenset[str] | None:
        """The event types the enabled webhooks want; None when one wants every type."""
        types: set[str] = set()
        for events in self.session.scalars(select(Webhook.events).where(Webhook.enabled)):
            if not events:
                return None
            types.update(events)
        return frozenset(types)

    def remove(self, webhook_id: int) -> WebhookRecord:
        found = self.get(webhook_id)
        self.session.delete(self._row(webhook_id))
        self.session.flush()
        return found

    def set_enabled(self, webhook_id: int, enabled: bool) -> WebhookRecord:
        row = self._row(webhook_id)
        row.enabled = enabled
        if enabled:  # a fresh start for the event it was retrying
            row.attempts, row.next_attempt_at = 0, None
        self.session.flush()
        return self.get(webhook_id)

    def _dead_count(self, webhook_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(DeadLetter)
                .where(DeadLetter.webhook_id == webhook_id, DeadLetter.replayed_at.is_(None))
            )
            or 0
        )

    def dead_letters(
        self, webhook_id: int | None = None, *, include_replayed: bool = False, limit: int = 1000
    ) -> list[DeadLetterRecord]:
        query = select(DeadLetter).order_by(DeadLetter.webhook_id, DeadLetter.event_seq)
        if webhook_id is not None:
            self._row(webhook_id)
            query = query.where(DeadLetter.webhook_id == webhook_id)
        if not include_replayed:
            query = query.where(DeadLetter.replayed_at.is_(None))
        return [_dead(r) for r in self.session.scalars(query.limit(limit))]

    def request_replay(self, webhook_id: int, ids: Sequence[int] = ()) -> list[int]:
        """Mark dead letters (all of the webhook's when ``ids`` is empty) for one more try;
        return the ids marked. An id of another webhook, or replayed already, is NotFound."""
        self._row(webhook_id)
        query = select(DeadLetter.id).where(
            DeadLetter.webhook_id == webhook_id, DeadLetter.replayed_at.is_(None)
        )
        if ids:
            query = query.where(DeadLetter.id.in_(ids))
        found = sorted(self.session.scalars(query))
        missing = sorted(set(ids) - set(found))
        if missing:
            raise NotFound(
                f"webhook {webhook_id} has no dead letter {', '.join(map(str, missing))} "
                "waiting (see `callcenter webhook dead`)",
                code="dead_letter_not_found",
            )
        if found:
            self.session.execute(
                update(DeadLetter)
                .where(DeadLetter.id.in_(found))
                .values(replay_requested_at=utcnow())
            )
        return found

    # -- what the delivery does -------------------------------------------------------------

    def state(self, webhook_id: int) -> tuple[WebhookRecord, str] | None:
        """The webhook as its delivery needs it: its record and its secret."""
        row = self.session.get(Webhook, webhook_id)
        return None if row is None else (_webhook(row), row.secret)

    def newest_seq(self) -> int:
        return int(self.session.scalar(select(func.max(EventRow.seq))) or 0)

    def next_events(self, after: int, types: Sequence[str], limit: int) -> list[OutboxEvent]:
        query = select(EventRow).where(EventRow.seq > after).order_by(EventRow.seq).limit(limit)
        if types:
            query = query.where(EventRow.type.in_(types))
        return [
            OutboxEvent(r.seq, r.event_id, r.type, r.at, dict(r.payload))
            for r in self.session.scalars(query)
        ]

    def delivered(self, webhook_id: int, seq: int, at: datetime) -> None:
        mark_delivered(self.session.connection(), webhook_id, seq, at)

    def failed(self, webhook_id: int, attempts: int, retry_at: datetime, error: str) -> None:
        self.session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(attempts=attempts, next_attempt_at=retry_at, last_error=error)
        )

    def give_up(self, webhook_id: int, event: OutboxEvent, attempts: int, error: str) -> None:
        """Keep the event as a dead letter and move on to the next one."""
        self.session.add(
            DeadLetter(
                webhook_id=webhook_id,
                event_seq=event.seq,
                event_id=event.event_id,
                event_type=event.type,
                payload=event.payload,
                attempts=attempts,
                last_error=error,
            )
        )
        self.session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(cursor=event.seq, attempts=0, next_attempt_at=None, last_error=error)
        )

    def replays(self, webhook_id: int, limit: int = 100) -> list[DeadLetterRecord]:
        rows = self.session.scalars(
            select(DeadLetter)
            .where(
                DeadLetter.webhook_id == webhook_id,
                DeadLetter.replay_requested_at.is_not(None),
                DeadLetter.replayed_at.is_(None),
            )
            .order_by(DeadLetter.event_seq)
            .limit(limit)
        )
        return [_dead(r) for r in rows]

    def replay_done(self, dead_id: int, error: str | None) -> None:
        """A replay delivered (``error`` None), or failed: dead again until the next one."""
        if error is None:
            values: dict[str, object] = {"replayed_at": utcnow()}
        else:
            values = {
                "replay_requested_at": None,
                "attempts": DeadLetter.attempts + 1,
                "last_error": error,
            }
        self.session.execute(update(DeadLetter).where(DeadLetter.id == dead_id).values(values))

    def prune_events(self, keep: timedelta) -> int:
        """Drop outbox events older than ``keep`` (dead letters keep their own copy)."""
        result = self.session.execute(delete(EventRow).where(EventRow.at < utcnow() - keep))
        return int(getattr(result, "rowcount", 0) or 0)
