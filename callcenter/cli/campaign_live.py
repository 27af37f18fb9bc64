"""``campaign show``'s live part: the campaign as the running engine's dialer sees it now
(``GET /api/v1/dialer/live``), through the remote API or the engine on this host; without
an engine that answers, the stored figures alone and a line saying so."""

from __future__ import annotations

import contextlib
from typing import Any

import click

from callcenter.cli import Context
from callcenter.cli.local_engine import listening, local_api
from callcenter.cli.remote import RemoteApi
from callcenter.errors import CallCenterError

LIVE_TIMEOUT = 3.0  # a show does not wait long for an engine that is slow to answer


def live_of(api: RemoteApi, name: str) -> dict[str, Any]:
    """``{"live": the campaign's live view or None, "engine": note}``: the note says who
    answered, or why nobody did."""
    quick = RemoteApi(api.url, api.token, timeout=min(api.timeout, LIVE_TIMEOUT))
    try:
        found = quick.request("GET", "/dialer/live")
    except CallCenterError as exc:
        return {"live": None, "engine": f"no engine answered ({exc})"}
    for item in found.get("items", []):
        if item.get("campaign") == name:
            return {"live": item, "engine": f"the engine at {quick.url}"}
    return {"live": None, "engine": f"the engine at {quick.url} is not dialling it"}


def live_here(ctx: Context, name: str) -> dict[str, Any]:
    """The live view from the engine on this host (its ``metrics_listen``), if one listens."""
    if not listening(ctx):
        address = ctx.settings.metrics_listen
        return {"live": None, "engine": f"no engine answered on {address.host}:{address.port}"}
    with contextlib.ExitStack() as cleanup:
        return live_of(local_api(ctx, cleanup, "show"), name)


def print_live(shown: dict[str, Any]) -> None:
    live = shown.get("live")
    if live is None:
        click.echo(f"live: {shown.get('engine')}; the figures above are the stored ones")
        return
    state = " AT THE HARD LIMIT: progressive" if live["fallback"] else ""
    click.echo(
        f"live ({shown['engine']}): paced {live['paced_as']}{state}, last tick "
        f"{live['last_decision']} call(s), limited by {live['limited_by']}"
    )
    lines = live["dialling"] + live["answered"]
    click.echo(
        f"lines in flight: {lines} ({live['dialling']} dialling, {live['answered']} answered)"
    )
    click.echo(
        f"agents: {live['agents_free']} free, {live['agents_busy']} busy, "
        f"{live['agents_wrapping']} wrapping up"
    )
    click.echo(f"dial level: {live['dial_level']:.2f} lines per agent")
    click.echo(f"answer rate: {100 * live['answer_rate']:.1f}% live answers per dial")
    rates = [f"{100 * live['abandon_rate_30m']:.2f}% last 30 min"]
    for key, label in (("abandon_rate_us_30_days", "30 days"), ("abandon_rate_uk_today", "today")):
        value = live.get(key)
        rates.append(f"{100 * value:.2f}% {label}" if value is not None else f"- {label}")
    click.echo("live abandon rate: " + ", ".join(rates))
    leads = live.get("leads") or {}
    left = leads.get("pending", 0) + leads.get("dialing", 0)
    click.echo(
        f"leads left: {left} ({leads.get('pending', 0)} pending, {leads.get('dialing', 0)} "
        f"dialing; {leads.get('done', 0)} done)"
    )
