"""``callcenter plan``: agents needed for a service level (Erlang C, or Erlang A with
``--patience``), from given traffic or from a queue's stored week (docs/staffing.md)."""

from __future__ import annotations

import urllib.parse
from typing import Any
from zoneinfo import ZoneInfo

import click

from callcenter.acd.staffing import Forecast, Plan, Target, Traffic, parse_target, plan
from callcenter.api.staffing import StaffingHistory, StaffingInterval, history_out
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
    history = _history(ctx, queue, days or 7, int(interval), target, patience, tz)
    if as_json:
        click.echo(history.model_dump_json(indent=2))
        return
    zone = ZoneInfo(tz)
    click.echo(f"queue {queue}, last {days or 7} days, {tz}: {history.model} for {target.text}")
    emit_table([history_row(i, zone) for i in history.intervals], HISTORY_COLUMNS, False)


def _history(
    ctx: Context, queue: str, days: int, minutes: int, target: Target, patience: float | None,
    tz: str,
) -> StaffingHistory:  # fmt: skip
    """The queue's planned intervals: from the database, or through a remote engine's API."""
    api = remote_cli.current()
    if api is None:
        return history_out(staffing.plan_history(
            ctx.database, queue, days=days, minutes=minutes, target=target.text,
            patience=patience, zone=tz,
        ))  # fmt: skip
    query = {"days": days, "interval": minutes, "target": target.text, "patience": patience,
             "tz": tz}  # fmt: skip
    answer = api.request("GET", f"/queues/{urllib.parse.quote(queue, safe='')}/staffing",
                         query=query)  # fmt: skip
    return StaffingHistory.model_validate(answer)


HISTORY_COLUMNS = ("interval", "calls", "aht", "erlangs", "agents", "sl", "asa", "abandon",
                   "occupancy")  # fmt: skip


def history_row(item: StaffingInterval, zone: ZoneInfo) -> dict[str, Any]:
    load, result = item.load, item.plan
    row: dict[str, Any] = {
        "interval": f"{load.start.astimezone(zone):%a %m-%d %H:%M}",
        "calls": load.calls,
        "aht": "-" if load.aht is None else f"{load.aht:.0f}s",
        "erlangs": "-" if result is None else f"{result.traffic.erlangs:.2f}",
        "agents": 0 if result is None else result.needed,
    }
    chosen = None if result is None else next(r for r in result.rows if r.agents == result.needed)
    row["sl"] = "-" if chosen is None else _percent(chosen.service_level)
    row["asa"] = "-" if chosen is None or chosen.asa is None else f"{chosen.asa:.1f}s"
    row["abandon"] = "-" if chosen is None else _percent(chosen.abandon_rate)
    row["occupancy"] = "-" if chosen is None else _percent(chosen.occupancy)
    return row
