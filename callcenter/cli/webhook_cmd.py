"""``callcenter webhook``: endpoints that get the engine's events (services/webhooks.py)."""

from __future__ import annotations

import getpass
import json
from typing import Any

import click

from callcenter.cli import Context, emit_table, pass_context
from callcenter.events.types import EVENT_TYPES
from callcenter.services import webhooks
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.records import DeadLetterRecord, WebhookRecord


def _who() -> Actor:
    try:
        return Actor("cli", getpass.getuser())
    except (KeyError, OSError):
        return Actor("cli", "unknown")


def _db(ctx: Context) -> Database:
    return Database(ctx.settings.database_url)


def _row(hook: WebhookRecord) -> dict[str, Any]:
    if not hook.enabled:
        status = "disabled"
    elif hook.attempts:
        status = f"retrying ({hook.attempts} failed)"
    else:
        status = "ok"
    return {
        "id": hook.id,
        "url": hook.url,
        "events": ",".join(hook.events) or "*",
        "enabled": hook.enabled,
        "status": status,
        "delivered": hook.delivered,
        "dead": hook.dead_letters,
        "last_error": hook.last_error,
        "next_attempt_at": hook.next_attempt_at.isoformat() if hook.next_attempt_at else None,
        "last_delivered_at": (
            hook.last_delivered_at.isoformat() if hook.last_delivered_at else None
        ),
        "created_by": hook.created_by,
    }


def _dead_row(dead: DeadLetterRecord) -> dict[str, Any]:
    if dead.replayed_at is not None:
        state = "replayed"
    elif dead.replay_requested_at is not None:
        state = "replay pending"
    else:
        state = "dead"
    return {
        "id": dead.id,
        "webhook": dead.webhook_id,
        "event_id": dead.event_id,
        "type": dead.event_type,
        "attempts": dead.attempts,
        "dead_at": dead.dead_at.isoformat(),
        "state": state,
        "last_error": dead.last_error,
    }


def _events(value: str) -> list[str]:
    return [] if value.strip() in ("", "*") else value.split(",")


@click.group()
def webhook() -> None:
    """Webhooks: POST each event to a URL, signed, at least once, in order.

    \b
    Each POST carries the event as JSON, its id in Callcenter-Event-Id (drop repeats)
    and Callcenter-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.
    Failures are retried with backoff for 24 h, then kept as dead letters.
    """


@webhook.command("add")
@click.argument("url")
@click.option(
    "--events",
    default="*",
    help="Comma-separated event types (listed above), or * for all.",
)
@click.option(
    "--secret",
    default=None,
    help=f"The signing secret (at least {webhooks.MIN_SECRET} characters); "
    "default: one is generated and printed once.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def add(ctx: Context, url: str, events: str, secret: str | None, as_json: bool) -> None:
    """Send the events that happen from now on to URL.

    Event types: {types}.

    \b
    Examples:
      callcenter webhook add https://crm.example.com/hooks/cc \\
          --events call.ended,agent.offered --secret "$CRM_WEBHOOK_SECRET"
      callcenter webhook add http://127.0.0.1:8080/events
    """
    new = webhooks.add(_db(ctx), _who(), url, _events(events), secret)
    row = _row(new.webhook)
    if as_json:
        if secret is None:
            row["secret"] = new.secret
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(f"webhook {new.webhook.id} -> {url} ({row['events']})")
    if secret is None:
        click.echo(f"secret (shown once): {new.secret}")


add.help = (add.help or "").replace("{types}", ", ".join(EVENT_TYPES))


@webhook.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_webhooks(ctx: Context, as_json: bool) -> None:
    """Every webhook and where its delivery stands.

    \b
    Example:
      callcenter webhook list --json
    """
    rows = [_row(h) for h in webhooks.list_webhooks(_db(ctx), _who())]
    columns = ["id", "url", "events", "status", "delivered", "dead", "last_error"]
    emit_table(rows, columns, as_json)


@webhook.command("remove")
@click.argument("webhook_id", type=int)
@pass_context
def remove(ctx: Context, webhook_id: int) -> None:
    """Delete a webhook and its dead letters.

    \b
    Example:
      callcenter webhook remove 3
    """
    hook = webhooks.remove(_db(ctx), _who(), webhook_id)
    click.echo(f"webhook {hook.id} removed ({hook.url})")


@webhook.command("enable")
@click.argument("webhook_id", type=int)
@pass_context
def enable(ctx: Context, webhook_id: int) -> None:
    """Resume deliveries where they stopped.

    \b
    Example:
      callcenter webhook enable 3
    """
    webhooks.set_enabled(_db(ctx), _who(), webhook_id, True)
    click.echo(f"webhook {webhook_id} enabled")


@webhook.command("disable")
@click.argument("webhook_id", type=int)
@pass_context
def disable(ctx: Context, webhook_id: int) -> None:
    """Pause deliveries (events keep accumulating in the outbox for it).

    \b
    Example:
      callcenter webhook disable 3
    """
    webhooks.set_enabled(_db(ctx), _who(), webhook_id, False)
    click.echo(f"webhook {webhook_id} disabled")


@webhook.command("dead")
@click.argument("webhook_id", type=int, required=False)
@click.option("--all", "include_replayed", is_flag=True, help="Also those replayed already.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def dead(ctx: Context, webhook_id: int | None, include_replayed: bool, as_json: bool) -> None:
    """Dead letters: events given up after 24 h of failed deliveries.

    \b
    Examples:
      callcenter webhook dead
      callcenter webhook dead 3 --json
    """
    found = webhooks.dead_letters(_db(ctx), _who(), webhook_id, include_replayed=include_replayed)
    columns = ["id", "webhook", "event_id", "type", "attempts", "dead_at", "state", "last_error"]
    emit_table([_dead_row(d) for d in found], columns, as_json)


@webhook.command("replay")
@click.argument("webhook_id", type=int)
@click.argument("dead_ids", type=int, nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def replay(ctx: Context, webhook_id: int, dead_ids: tuple[int, ...], as_json: bool) -> None:
    """Deliver a webhook's dead letters once more (all of them, or the DEAD_IDS given),
    ahead of its next new event.

    \b
    Examples:
      callcenter webhook replay 3
      callcenter webhook replay 3 17 18
    """
    marked = webhooks.replay(_db(ctx), _who(), webhook_id, dead_ids)
    if as_json:
        click.echo(json.dumps({"webhook": webhook_id, "replaying": marked}))
    else:
        click.echo(f"webhook {webhook_id}: {len(marked)} dead letter(s) to replay")
