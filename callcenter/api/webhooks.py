"""``/webhooks`` and ``/dead-letters``: endpoints that get the engine's events, signed.

Every operation needs ``admin``: a webhook's URL is often a credential of its own (a
capability URL with a token in its path), and a dead letter holds an event's payload
(caller numbers and names). A stored secret is never answered; a generated one is
answered once, by the request that made it. Delivery health without URLs is in the
engine's metrics (``callcenter_webhook_*``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, paginate
from callcenter.api.routing import Ask, Body, Operation
from callcenter.errors import NotFound
from callcenter.events.types import EVENT_TYPES
from callcenter.services import webhooks
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import DeadLetterRecord, WebhookRecord

ADMIN = TokenScope.ADMIN
TAG = "webhooks"
ID_MAX = 2_147_483_647  # the ids are SQL integers: a larger one names nothing
DeliveryStatus = Literal["ok", "retrying", "disabled"]
DeadState = Literal["dead", "replay_pending", "replayed"]


class Webhook(BaseModel):
    id: int
    url: str
    events: list[str] = Field(description="The event types it gets; empty: every type.")
    enabled: bool
    status: DeliveryStatus = Field(
        description="ok; retrying: the next event failed `attempts` times; disabled."
    )
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    delivered: int = Field(description="Events delivered so far.")
    last_delivered_at: datetime | None
    dead_letters: int = Field(description="Dead letters not replayed yet.")
    created_at: datetime
    created_by: str


class WebhookCreate(Body):
    url: str = Field(max_length=2000, examples=["https://crm.example.com/hooks/cc"])
    events: list[str] = Field(
        default_factory=list,
        max_length=len(EVENT_TYPES),
        description=f"Event types ({', '.join(EVENT_TYPES)}); empty or left out: every type.",
        examples=[["call.ended", "agent.offered"]],
    )
    secret: str | None = Field(
        None,
        max_length=1000,
        description=f"The signing secret (at least {webhooks.MIN_SECRET} characters); "
        "left out: one is generated and answered once.",
    )


class WebhookCreated(Webhook):
    secret: str | None = Field(
        description="The generated secret, shown this once (null when you gave one)."
    )


class Enabled(Body):
    enabled: bool = Field(description="false: deliveries pause where they are; true: resume.")


class DeadLetter(BaseModel):
    id: int
    webhook_id: int
    event_seq: int
    event_id: str
    event_type: str
    attempts: int
    last_error: str
    dead_at: datetime
    state: DeadState
    replay_requested_at: datetime | None
    replayed_at: datetime | None
    payload: dict[str, Any] = Field(description="The event as it would be delivered.")


class DeadQuery(PageQuery):
    webhook_id: int | None = Field(None, ge=1, le=ID_MAX, description="One webhook's only.")
    include_replayed: bool = Field(False, description="Also those replayed already.")


class ReplayIn(Body):
    ids: list[Annotated[int, Field(ge=1, le=ID_MAX)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Dead letter ids of this webhook; empty or left out: all of them.",
    )


class Replaying(BaseModel):
    webhook_id: int
    replaying: list[int] = Field(description="The dead letters marked for one more delivery.")


def _status(hook: WebhookRecord) -> DeliveryStatus:
    if not hook.enabled:
        return "disabled"
    return "retrying" if hook.attempts else "ok"


def _webhook(hook: WebhookRecord) -> Webhook:
    return Webhook(
        id=hook.id, url=hook.url, events=list(hook.events), enabled=hook.enabled,
        status=_status(hook), attempts=hook.attempts, next_attempt_at=hook.next_attempt_at,
        last_error=hook.last_error, delivered=hook.delivered,
        last_delivered_at=hook.last_delivered_at, dead_letters=hook.dead_letters,
        created_at=hook.created_at, created_by=hook.created_by,
    )  # fmt: skip


def _dead(dead: DeadLetterRecord) -> DeadLetter:
    state: DeadState = "dead"
    if dead.replayed_at is not None:
        state = "replayed"
    elif dead.replay_requested_at is not None:
        state = "replay_pending"
    return DeadLetter(
        id=dead.id, webhook_id=dead.webhook_id, event_seq=dead.event_seq,
        event_id=dead.event_id, event_type=dead.event_type, attempts=dead.attempts,
        last_error=dead.last_error, dead_at=dead.dead_at, state=state,
        replay_requested_at=dead.replay_requested_at, replayed_at=dead.replayed_at,
        payload=dead.payload,
    )  # fmt: skip


def _id(ask: Ask) -> int:
    raw = ask.path["webhook_id"]
    if not raw.isdigit() or not 1 <= int(raw) <= ID_MAX:
        raise NotFound(f"webhook {raw} not found", code="webhook_not_found")
    return int(raw)


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_webhooks(ask: Ask) -> Page[Webhook]:
        found = webhooks.list_webhooks(db, ask.who)
        page, more = paginate(found, lambda h: [h.id], ask.query)
        return Page[Webhook](items=[_webhook(h) for h in page], next=more)

    def create_webhook(ask: Ask) -> WebhookCreated:
        body: WebhookCreate = ask.body
        new = webhooks.add(db, ask.who, body.url, body.events, body.secret)
        shown = new.secret if body.secret is None else None
        return WebhookCreated(**_webhook(new.webhook).model_dump(), secret=shown)

    def show_webhook(ask: Ask) -> Webhook:
        webhook_id = _id(ask)
        found = [h for h in webhooks.list_webhooks(db, ask.who) if h.id == webhook_id]
        if not found:
            raise NotFound(f"webhook {webhook_id} not found", code="webhook_not_found")
        return _webhook(found[0])

    def update_webhook(ask: Ask) -> Webhook:
        body: Enabled = ask.body
        return _webhook(webhooks.set_enabled(db, ask.who, _id(ask), body.enabled))

    def delete_webhook(ask: Ask) -> None:
        webhooks.remove(db, ask.who, _id(ask))

    def list_dead_letters(ask: Ask) -> Page[DeadLetter]:
        query: DeadQuery = ask.query
        found = webhooks.dead_letters(
            db, ask.who, query.webhook_id, include_replayed=query.include_replayed
        )
        page, more = paginate(found, lambda d: [d.id], query)
        return Page[DeadLetter](items=[_dead(d) for d in page], next=more)

    def replay_dead_letters(ask: Ask) -> Replaying:
        body: ReplayIn = ask.body
        webhook_id = _id(ask)
        marked = webhooks.replay(db, ask.who, webhook_id, body.ids)
        return Replaying(webhook_id=webhook_id, replaying=marked)

    item = "/webhooks/{webhook_id}"
    return [
        Operation("GET", "/webhooks", ADMIN, list_webhooks,
                  "List webhooks and where their delivery stands (never their secrets)", TAG,
                  Page[Webhook], query=PageQuery, errors=(400, 422)),
        Operation("POST", "/webhooks", ADMIN, create_webhook,
                  "Send the events that happen from now on to a URL", TAG, WebhookCreated,
                  body=WebhookCreate, status=201, errors=(400, 422)),
        Operation("GET", item, ADMIN, show_webhook, "One webhook", TAG, Webhook,
                  errors=(404, 422)),
        Operation("PATCH", item, ADMIN, update_webhook,
                  "Enable (resume where it stopped) or disable (pause) deliveries", TAG,
                  Webhook, body=Enabled, errors=(400, 404, 422)),
        Operation("DELETE", item, ADMIN, delete_webhook,
                  "Delete a webhook and its dead letters", TAG, errors=(404, 422)),
        Operation("POST", item + "/replay", ADMIN, replay_dead_letters,
                  "Deliver dead letters once more, ahead of the webhook's next new event",
                  TAG, Replaying, body=ReplayIn, errors=(400, 404, 422)),
        Operation("GET", "/dead-letters", ADMIN, list_dead_letters,
                  "Events given up after 24 h of failed deliveries (the first 1000)", TAG,
                  Page[DeadLetter], query=DeadQuery, errors=(400, 404, 422)),
    ]  # fmt: skip
