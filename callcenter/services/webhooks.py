"""Webhooks: endpoints that get the engine's events, signed, at least once, in order.

Each function opens one transaction, checks its input, writes an audit entry naming who
did it, and returns plain records. The delivery pool of every running engine sees a change
at its next scan (a couple of seconds); nothing has to be signalled.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from callcenter.errors import DomainError
from callcenter.events.types import EVENT_TYPES
from callcenter.services import changes
from callcenter.services.actor import Actor
from callcenter.services.changes import ChangeKind
from callcenter.store.database import Database
from callcenter.store.records import DeadLetterRecord, WebhookRecord
from callcenter.store.repos.audit import AuditLog
from callcenter.store.repos.webhooks import WebhookRepository

MIN_SECRET = 16


class InvalidWebhook(DomainError):
    code = "webhook_invalid"


@dataclass(frozen=True, slots=True)
class NewWebhook:
    webhook: WebhookRecord
    secret: str  # shown once when it was generated


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhook(f"url: expected http(s)://host[:port]/path, got {url!r}")
    if not url.isprintable() or any(c.isspace() for c in url) or len(url) > 2000:
        raise InvalidWebhook("url: no spaces or control characters, at most 2000 characters")
    if parts.username or parts.password:
        raise InvalidWebhook("url: no credentials in the URL; the signature authenticates")
    return url


def check_events(events: Sequence[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(e.strip() for e in events if e.strip()))
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise InvalidWebhook(
            f"events: unknown type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
        )
    return wanted


def check_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET or not secret.isprintable() or secret != secret.strip():
        raise InvalidWebhook(
            f"secret: at least {MIN_SECRET} printable characters, no surrounding spaces"
        )
    return secret


def add(
    db: Database, who: Actor, url: str, events: Sequence[str] = (), secret: str | None = None
) -> NewWebhook:
    """A new endpoint; it gets the events that happen from now on (``events`` empty: all)."""
    check_url(url)
    wanted = check_events(events)
    key = check_secret(secret) if secret is not None else secrets.token_urlsafe(32)
    with db.session_scope() as session:
        hook = WebhookRepository(session).add(url, wanted, key, str(who))
        AuditLog(session).record(
            str(who), "webhook.add", str(hook.id), {"url": url, "events": list(wanted)}
        )
        changes.record(session, who, ChangeKind.WEBHOOK, str(hook.id), "add")
    return NewWebhook(hook, key)


def list_webhooks(db: Database, who: Actor) -> list[WebhookRecord]:
    with db.session_scope() as session:
        return WebhookRepository(session).all()


def remove(db: Database, who: Actor, webhook_id: int) -> WebhookRecord:
    with db.session_scope() as session:
        hook = WebhookRepository(session).remove(webhook_id)
        AuditLog(session).record(str(who), "webhook.remove", str(webhook_id), {"url": hook.url})
        changes.record(session, who, ChangeKind.WEBHOOK, str(webhook_id), "remove")
    return hook


def set_enabled(db: Database, who: Actor, webhook_id: int, enabled: bool) -> WebhookRecord:
    """Disable: deliveries pause where they are; enable: they resume from there."""
    with db.session_scope() as session:
        hook = WebhookRepository(session).set_enabled(webhook_id, enabled)
        action = "webhook.enable" if enabled else "webhook.disable"
        AuditLog(session).record(str(who), action, str(webhook_id), {})
        changes.record(session, who, ChangeKind.WEBHOOK, str(webhook_id), action)
    return hook


def dead_letters(
    db: Database, who: Actor, webhook_id: int | None = None, *, include_replayed: bool = False
) -> list[DeadLetterRecord]:
    with db.session_scope() as session:
        return WebhookRepository(session).dead_letters(
            webhook_id, include_replayed=include_replayed
        )


def replay(db: Database, who: Actor, webhook_id: int, ids: Sequence[int] = ()) -> list[int]:
    """Deliver dead letters once more (all of the webhook's when ``ids`` is empty), before
    its next new event; one that fails again stays a dead letter."""
    with db.session_scope() as session:
        marked = WebhookRepository(session).request_replay(webhook_id, ids)
        AuditLog(session).record(str(who), "webhook.replay", str(webhook_id), {"ids": marked})
    return marked
