"""``callcenter plan``: agents needed for a service level (Erlang C, or Erlang A with
``--patience``), from given traffic or from a queue's stored week (docs/staffing.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from callcenter.acd.staffing import Forecast, Plan, Target, Traffic, parse_target, plan
from callcenter.cli import Context, emit_json, emit_table, pass_context
from callcenter.cli import remote as remote_cli
from callcenter.errors import ConfigError
from callcenter.services import staffing


def _target(_ctx: click.Context, _param: click.Parameter, value: str) -> Target:
    try:
        return parse_target(value)
    except ConfigError as exc:
        raise click.BadParameter(exc.message.removeprefix("--target: ")) from None


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def forecast_row(row: Forecast, needed: int, seconds: float) -> dict[str, Any]:
    return {
        "agents": f"{row.agents}{' <' if row.agents == needed else ''}",
        f"sl_{seconds:g}s": _percent(row.service_level),
        "asa": "-" if row.asa is None else f"{row.asa:.1f}s",
        "abandon": _percent(row.abandon_rate),
        "occupancy": _percent(row.occupancy),
    }


def plan_lines(result: Plan) -> list[str]:
    """The header of a plan: what was asked, in words."""
    t = result.traffic
    patience = "" if t.patience is None else f", callers' mean patience {t.patience:g} s"
    return [
        f"{result.model}: {t.calls_per_hour:g} calls/h x {t.aht:g} s AHT = "
        f"{t.erlangs:.2f} erlangs{patience}",
        f"target {result.target.service_level * 100:g}% answered within "
        f"{result.target.seconds:g} s: {result.needed} agents",
    ]


def plan_json(result: Plan) -> dict[str, Any]:
    return {
        "model": result.model,
        "traffic": result.traffic,
        "erlangs": round(result.traffic.erlangs, 4),
        "target": result.target,
        "agents": result.needed,
        "forecasts": list(result.rows),
    }


@click.command("plan")
@click.option("--calls-per-hour", type=click.FloatRange(min=0), help="Calls offered per hour.")
@click.option("--aht", type=click.FloatRange(min=0, min_open=True),
              help="Average handle time (talk + hold + wrap-up), seconds.")  # fmt: skip
@click.option("--target", default="80/20", callback=_target,
              help="Service level: PERCENT answered within SECONDS.")  # fmt: skip
@click.option("--patience", type=click.FloatRange(min=0, min_open=True),
              help="Callers' mean patience, seconds: Erlang A (with abandons), not C.")  # fmt: skip
@click.option("--from-history", "queue", metavar="QUEUE",
              help="Take arrivals and AHT per interval from this queue's stored CDRs.")  # fmt: skip
@click.option("--week", is_flag=True, help="With --from-history: the last 7 days (the default).")
@click.option("--days", type=click.IntRange(1, 7), help="With --from-history: the last N days.")
@click.option("--interval", type=click.Choice(["15", "30", "60"]), default="60",
              help="With --from-history: interval length, minutes.")  # fmt: skip
@click.option("--tz", default="UTC", help="With --from-history: time zone of the intervals.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def plan_command(
    ctx: Context,
    calls_per_hour: float | None,
    aht: float | None,
    target: Target,
    patience: float | None,
    queue: str | None,
    week: bool,
    days: int | None,
    interval: str,
    tz: str,
    as_json: bool,
) -> None:
    """Agents needed for a service level, with SL, ASA, abandon rate and occupancy
    expected at N-1, N and N+1 agents (N marked with <).

    \b
    Examples:
      callcenter plan --calls-per-hour 400 --aht 240 --target 80/20
      callcenter plan --calls-per-hour 400 --aht 240 --target 80/20 --patience 60
      callcenter plan --from-history sales --week --interval 30 --tz Europe/Paris
    """
    if queue is None:
        if calls_per_hour is None or aht is None:
            raise click.UsageError("give --calls-per-hour and --aht, or --from-history QUEUE")
        result = plan(Traffic(calls_per_hour, aht, patience), target)
        if as_json:
            emit_json(plan_json(result))
            return
        for line in plan_lines(result):
            click.echo(line)
        rows = [forecast_row(r, result.needed, target.seconds) for r in result.rows]
        emit_table(rows, list(rows[0]), False)
        return
    if remote_cli.current() is not None:
        raise remote_cli.RemoteUnsupported(
            "`callcenter plan --from-history` reads the database; run it where the database is"
        )
    zone = _zone(tz)
    step = timedelta(minutes=int(interval))
    end = _floor(datetime.now(zone), step)
    start = end - timedelta(days=days or 7)
    loads = staffing.history(ctx.database, queue, start.astimezone(UTC), end.astimezone(UTC), step)
    plans = staffing.plan_intervals(loads, target, patience)
    rows = [history_row(p, zone, target.seconds) for p in plans]
    if as_json:
        emit_json([{"interval": r["interval"], "plan": p.plan and plan_json(p.plan)}
                   for r, p in zip(rows, plans, strict=True)])  # fmt: skip
        return
    click.echo(
        f"queue {queue}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {tz}, "
        f"{'Erlang C' if patience is None else 'Erlang A'}, target {target.text}"
    )
    emit_table(rows, list(rows[0]), False)


def history_row(item: staffing.IntervalPlan, zone: ZoneInfo, seconds: float) -> dict[str, Any]:
    load, result = item.load, item.plan
    row: dict[str, Any] = {
        "interval": f"{load.start.astimezone(zone):%a %m-%d %H:%M}",
        "calls": load.calls,
        "aht": "-" if load.aht is None else f"{load.aht:.0f}s",
        "erlangs": "-" if result is None else f"{result.traffic.erlangs:.2f}",
        "agents": 0 if result is None else result.needed,
    }
    chosen = None if result is None else next(r for r in result.rows if r.agents == result.needed)
    row[f"sl_{seconds:g}s"] = "-" if chosen is None else _percent(chosen.service_level)
    row["asa"] = "-" if chosen is None or chosen.asa is None else f"{chosen.asa:.1f}s"
    row["abandon"] = "-" if chosen is None else _percent(chosen.abandon_rate)
    row["occupancy"] = "-" if chosen is None else _percent(chosen.occupancy)
    return row


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{name!r} is not a time zone name", param_hint="--tz") from None


def _floor(moment: datetime, step: timedelta) -> datetime:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + step * ((moment - midnight) // step)
