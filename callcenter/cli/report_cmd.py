"""`callcenter report`: figures over a period per queue, agent or interval (docs/kpis.md)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import click

from callcenter.cli import Context, emit_table, params, pass_context
from callcenter.cli.params import TIME, ZONE_HELP
from callcenter.kpi.formulas import DEFAULT_FCR_HOURS
from callcenter.services import reports as service
from callcenter.services.reports import Interval, Period

F = TypeVar("F", bound=Callable[..., Any])

QUEUE_COLUMNS = [
    "queue", "offered", "answered", "abandoned", "short_abandoned", "callbacks", "exits",
    "service_level", "abandon_rate", "asa_seconds", "wait_p90_seconds", "aht_seconds",
    "occupancy", "fcr_approx",
]  # fmt: skip
INTERVAL_COLUMNS = ["queue", "interval", *QUEUE_COLUMNS[1:-1]]  # FCR: over a period only
AGENT_COLUMNS = [
    "agent", "calls", "talk_seconds", "hold_seconds", "wrapup_seconds", "ring_no_answer",
    "logged_in_seconds", "occupancy", "pause_seconds",
]  # fmt: skip
RATIOS = {"service_level", "abandon_rate", "occupancy", "fcr_approx"}
FORMATS = ("table", "csv", "json")


def emit_report(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> None:
    """table: ratios in %, seconds rounded; csv: one row per line, raw numbers; json: all."""
    if fmt == "json":
        click.echo(json.dumps(list(rows), indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv(row.get(c)) for c in columns])
        click.echo(out.getvalue(), nl=False)
        return
    emit_table([{c: _shown(c, row.get(c)) for c in columns} for row in rows], columns, False)


def _csv(value: Any) -> Any:
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return "" if value is None else value


def _shown(column: str, value: Any) -> Any:
    if isinstance(value, dict):
        return ",".join(f"{k}={round(v) if isinstance(v, float) else v}"
                        for k, v in value.items()) or None  # fmt: skip
    if isinstance(value, float):
        return f"{value * 100:.1f}%" if column in RATIOS else f"{value:.1f}"
    return value


def _period_options(*offered: str, queue_help: str = "Only this queue.") -> Callable[[F], F]:
    """--from, --to, --format and the filters of ``offered`` (the report's
    ``service.OPTIONS``): a report takes no option it would ignore. An unknown queue or
    agent is an error."""
    options = {
        "since": click.option("--from", "since", type=TIME, metavar="TIME",
                              help=f"Start (default: 24 h before --to); {ZONE_HELP}."),
        "until": click.option("--to", "until", type=TIME, metavar="TIME",
                              help=f"End, excluded (default: now); {ZONE_HELP}."),
        "queue": click.option("--queue", callback=params.queue_name, help=queue_help),
        "agent": click.option("--agent", callback=params.extension,
                              help="Only this agent (extension)."),
        "by": click.option("--by", type=click.Choice([str(i) for i in Interval]),
                           default="hour", show_default=True,
                           help="Interval length, cut in each queue's time zone."),
        "fcr_hours": click.option(
            "--fcr-hours", type=click.IntRange(1, 720), default=None,
            help="Compute first-contact resolution (approximate): a caller who does not "
            f"call again within this many hours (e.g. {DEFAULT_FCR_HOURS}) counts as resolved."),
        "fmt": click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                            help="table for people, csv for spreadsheets, json for programs."),
    }  # fmt: skip

    def decorate(func: F) -> F:
        for name in reversed(["since", "until", *offered, "fmt"]):
            func = options[name](func)
        return func

    return decorate


def period_of(zone: str, since: datetime | None = None, until: datetime | None = None,
              queue: str | None = None, agent: str | None = None, by: str | None = None,
              fcr_hours: int | None = None) -> Period:  # fmt: skip
    end = service.aware(until, zone) if until is not None else service.now()
    start = service.aware(since, zone) if since is not None else end - timedelta(days=1)
    return Period(start, end, queue=queue, agent=agent, by=None if by is None else Interval(by),
                  fcr_hours=fcr_hours)  # fmt: skip


@click.group()
def report() -> None:
    """Reports over a period, from the stored stays, CDRs and agent status history.

    Every formula is in docs/kpis.md.
    """


@report.command("queues")
@_period_options(*service.OPTIONS["queues"])
@pass_context
def queues(ctx: Context, /, fmt: str, **given: Any) -> None:
    """Per queue: offered, answered, abandoned (short ones apart), exits, callbacks, service
    level (the queue's formula), ASA, 90th percentile wait, AHT, occupancy, FCR (approx.);
    then the centre, (all): the same formulas over every stay of every queue (a caller who
    overflowed from one queue to another is a stay in each).

    \b
    Examples:
      callcenter report queues --from 2026-11-01 --to 2026-12-01
      callcenter report queues --from 2026-11-30T08:00 --to 2026-11-30T18:00 --queue sales
      callcenter report queues --format csv > november.csv
    """
    zone = ctx.settings.time_zone
    rows = service.queues_report(ctx.database, period_of(zone, **given), zone)
    emit_report([r.as_dict() for r in rows], QUEUE_COLUMNS, fmt)


@report.command("intervals")
@_period_options(*service.OPTIONS["intervals"])
@pass_context
def intervals(ctx: Context, /, fmt: str, **given: Any) -> None:
    """Per queue and interval (--by 15m, hour or day, in the queue's time zone): the queue
    report's figures (FCR apart), occupancy that of the queue's members in the interval.

    \b
    Examples:
      callcenter report intervals --from 2026-11-30 --to 2026-12-01 --by 15m --queue sales
      callcenter report intervals --from 2026-11-01 --to 2026-12-01 --by day --format json
    """
    zone = ctx.settings.time_zone
    rows = service.intervals_report(ctx.database, period_of(zone, **given), zone)
    emit_report([r.as_dict() for r in rows], INTERVAL_COLUMNS, fmt)


@report.command("agents")
@_period_options(
    *service.OPTIONS["agents"], queue_help="Only the queue's members (each with all its work)."
)
@pass_context
def agents(ctx: Context, /, fmt: str, **given: Any) -> None:
    """Per agent: calls, talk, hold, wrap-up, ring-no-answer, logged-in time, occupancy,
    pause time by reason code. --queue keeps the queue's members, each with all its work
    (agent time is not split by queue).

    \b
    Examples:
      callcenter report agents --from 2026-11-30 --to 2026-12-01
      callcenter report agents --from 2026-11-01 --to 2026-12-01 --agent 1001 --format json
      callcenter report agents --from 2026-11-30 --to 2026-12-01 --queue support
    """
    rows = service.agents_report(ctx.database, period_of(ctx.settings.time_zone, **given))
    emit_report([r.as_dict() for r in rows], AGENT_COLUMNS, fmt)
