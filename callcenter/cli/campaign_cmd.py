"""``callcenter campaign``: outbound campaigns, their leads, dispositions and compliance log."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime, time, timedelta
from typing import Any

import click

from callcenter.cli import Context, echo_fields, emit_json, emit_table, pass_context
from callcenter.cli.campaign_live import live_here, print_live
from callcenter.cli.route_cmd import known_flows
from callcenter.dialer.campaign import CampaignSpec
from callcenter.dialer.compliance import Outcome, RetryRule
from callcenter.dialer.vocabulary import AmdAction, CampaignMode, CampaignState
from callcenter.services import campaigns as service
from callcenter.services.checks import InvalidArgument

LISTED = [
    "name",
    "mode",
    "state",
    "queue",
    "agents",
    "flow",
    "caller_id",
    "hours",
    "abandon_target_pct",
    "abandon_limit_pct",
]
OPTION_OF = {
    "window": "--hours",
    "window_start": "--hours",
    "window_end": "--hours",
    "retries": "--retry",
    "ring_seconds": "--ring-time",
    "agents": "--agent",
    "trunks": "--trunk",
    "redial_hold_hours": "--redial-hold",
    "abandon_target_pct": "--abandon-target",
    "abandon_limit_pct": "--abandon-limit",
    "amd_false_positive_pct": "--amd-false-positive",
    "outbound_route": "--route",
    "recording": "--recording",
    "name": "NAME",
}
CLEARABLE: dict[str, dict[str, Any]] = {  # campaign set --clear X: the settings it empties
    "route": {"outbound_route": None},  # and the trunks (service.CLEARS_TOO): the routes pick
    "caller-id-name": {"caller_id_name": None},
    "recording": {"recording": None},  # the queue's
    "safe-harbor-message": {"safe_harbor_message": None},
    "amd-message": {"amd_message": None},
    "amd-flow": {"amd_flow": None},
    "max-lines": {"max_lines": None},
    "description": {"description": ""},
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
TIMES = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"])
SHOW_ORDER = (
    "name",
    "mode",
    "state",
    "queue",
    "agents",
    "flow",
    "outbound_route",
    "trunks",
    "caller_id",
    "caller_id_name",
    "region",
    "hours",
    "report_zone",
    "max_attempts",
    "redial_hold_hours",
    "ring_seconds",
    "abandon_target_pct",
    "abandon_limit_pct",
    "amd",
    "amd_message",
    "amd_flow",
    "amd_false_positive_pct",
    "recording",
    "safe_harbor_message",
    "max_lines",
    "max_lines_per_agent",
    "description",
    "state_changed_at",
    "created_at",
)


def duration(text: str, where: str) -> timedelta:
    """``90s``, ``10m``, ``2h``, ``3d`` or plain seconds."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found:
        raise click.BadParameter(
            f"{text!r}: expected a duration such as 90s, 10m, 2h or 3d", param_hint=where
        )
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])


def hours(text: str) -> tuple[time, time]:
    start, _sep, end = text.partition("-")
    try:
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: expected HH:MM-HH:MM, e.g. 08:00-21:00", param_hint="--hours"
        ) from None


def retry(text: str) -> tuple[Outcome, RetryRule]:
    """``busy=3x10m``: after a busy, up to 3 more calls, 10 minutes apart at least."""
    outcome, sep, rule = text.partition("=")
    times, x, after = rule.partition("x")
    if not sep or not x or not times.strip().isdigit():
        raise click.BadParameter(
            f"{text!r}: expected OUTCOME=TIMESxDELAY, e.g. busy=3x10m", param_hint="--retry"
        )
    try:
        kind = Outcome(outcome.strip())
    except ValueError:
        raise click.BadParameter(
            f"{outcome!r} is not an outcome (busy, no_answer, machine, failed, abandoned)",
            param_hint="--retry",
        ) from None
    return kind, RetryRule(int(times), duration(after, "--retry"))


def _options(creating: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The campaign's settings as options: ``create`` has the defaults, ``set`` leaves out
    what is not given."""
    default: Callable[[Any], Any] = (lambda v: v) if creating else (lambda v: None)
    modes = [m.value for m in CampaignMode]
    options = [
        click.option(
            "--mode",
            type=click.Choice(modes),
            metavar="MODE",
            default=default("progressive"),
            help="preview, progressive (one line per free agent), predictive (more "
            "lines, within the abandon target) or broadcast (no agents: --flow).",
        ),
        click.option("--queue", help="The queue whose agents take the calls."),
        click.option(
            "--agent",
            "agents",
            multiple=True,
            help="An agent who takes the calls (repeat), instead of --queue.",
        ),
        click.option("--flow", help="Broadcast: the IVR flow answered calls go to."),
        click.option("--route", "outbound_route", help="The outbound route to dial through."),
        click.option(
            "--trunk",
            "trunks",
            multiple=True,
            help="A trunk to dial through (repeat, in order), instead of --route.",
        ),
        click.option(
            "--caller-id",
            help="The number shown to the called party (required "
            "to start: a number they can call back).",
        ),
        click.option("--caller-id-name", help="The name shown, where the network carries it."),
        click.option(
            "--region",
            default=default("US"),
            help="Country of the lead numbers written without '+' (ISO code).",
        ),
        click.option(
            "--hours",
            "window",
            default=default("08:00-21:00"),
            help="Calling hours in each lead's own local time.",
        ),
        click.option(
            "--report-zone",
            default=default("UTC"),
            help="Time zone of the calendar day for the per-day (UK) abandon rate.",
        ),
        click.option(
            "--retry",
            "retries",
            multiple=True,
            metavar="OUTCOME=TIMESxDELAY",
            help="Retries after an outcome (repeat), e.g. busy=3x10m no_answer=3x2h "
            "machine=2x4h failed=1x30m abandoned=1x72h (the defaults).",
        ),
        click.option(
            "--max-attempts",
            type=int,
            default=default(5),
            help="Calls to one lead at most, every outcome together.",
        ),
        click.option(
            "--redial-hold",
            default=default("72h"),
            help="No call to a number within this time of an abandoned call to it.",
        ),
        click.option(
            "--ring-time",
            "ring_seconds",
            type=int,
            default=default(20),
            help="Seconds a call rings before the dialer gives up (at least 15).",
        ),
        click.option(
            "--abandon-target",
            "abandon_target_pct",
            type=float,
            default=default(1.5),
            help="Abandoned calls the predictive pacing aims at, percent of live answers.",
        ),
        click.option(
            "--abandon-limit",
            "abandon_limit_pct",
            type=float,
            default=default(3.0),
            help="At this rate (percent) the campaign falls back to progressive.",
        ),
        click.option(
            "--amd-false-positive",
            "amd_false_positive_pct",
            type=float,
            default=default(0.0),
            help="Your estimate of the answering-machine verdicts that were people, percent: "
            "counted as abandoned. Measure it on your calls (listen to a sample of machine "
            "verdicts): on the simulator's called parties the detector calls 7.6% of people "
            "machines (docs/dialer.md).",
        ),
        click.option(
            "--amd",
            type=click.Choice([a.value for a in AmdAction]),
            metavar="ACTION",
            default=default("hangup"),
            help="What to do with an answering machine: hangup, message, flow, or off (no "
            "detection: every answer goes to an agent, or a broadcast's flow, at once; no "
            "person is ever hung up on as a machine).",
        ),
        click.option("--amd-message", help="--amd message: the file left after the beep."),
        click.option("--amd-flow", help="--amd flow: the IVR flow a machine goes to."),
        click.option(
            "--recording",
            help="always, never, sample:N or on-demand: its calls, from the agent's bridge "
            "(broadcast: from the answer); an agent's own policy wins (default: the queue's).",
        ),
        click.option(
            "--safe-harbor-message",
            help="Played within 2 s to a live answer no "
            "agent is free for: the seller's name and a number to call back. "
            "Required for predictive.",
        ),
        click.option(
            "--max-lines",
            type=int,
            help="The campaign's own cap on lines in flight (none: no cap of its own; a "
            "broadcast places 10 at a time).",
        ),
        click.option(
            "--max-lines-per-agent",
            type=int,
            default=default(3),
            help="Lines in flight per staffed agent at most.",
        ),
        click.option("--description", help="Free text."),
    ]

    def apply(f: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            f = option(f)
        return f

    return apply


clear_option = click.option(
    "--clear",
    multiple=True,
    type=click.Choice(list(CLEARABLE)),
    metavar="SETTING",
    help="Empty a setting (repeat): route (and trunks: the outbound routes pick, as for any "
    "call), caller-id-name, recording (the queue's), safe-harbor-message, amd-message, "
    "amd-flow, max-lines (no cap of its own), description.",
)


def fields_of(options: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The options given, as ``CampaignSpec`` fields. On ``set``, a queue given drops the
    agents (and the other way round), a route drops the trunks (and the other way round)."""
    cleared = options.pop("clear", ())
    given = {k: v for k, v in options.items() if v is not None and v != ()}
    emptied: dict[str, Any] = {}
    for what in cleared:
        emptied.update(CLEARABLE[what])
        touched = set(CLEARABLE[what]).union(
            *(service.CLEARS_TOO.get(k, {}) for k, v in CLEARABLE[what].items() if v is None)
        )
        again = touched & set(given)
        if again:
            shown = OPTION_OF.get(min(again), "--" + min(again).replace("_", "-"))
            raise click.UsageError(f"give {shown} or --clear {what}, not both")
    if "window" in given:
        given["window_start"], given["window_end"] = hours(given.pop("window"))
    if "retries" in given:
        given["retries"] = dict(retry(r) for r in given["retries"])
    if "redial_hold" in given:
        hold = duration(given.pop("redial_hold"), "--redial-hold")
        given["redial_hold_hours"] = hold.total_seconds() / 3600
    for key in ("agents", "trunks"):
        if key in given:
            given[key] = tuple(given[key])
    if not creating:
        for one, other, empty in (
            ("queue", "agents", ()),
            ("agents", "queue", None),
            ("outbound_route", "trunks", ()),
            ("trunks", "outbound_route", None),
        ):
            if one in given and other not in given:
                given[other] = empty
        if given.get("mode") == "broadcast" and not {"queue", "agents"} & set(given):
            given["queue"], given["agents"] = None, ()  # a broadcast has no agents
    given.update(emptied)  # as cleared: what a clear empties too is the service's rule
    if "mode" in given:
        given["mode"] = CampaignMode(given["mode"])
    if "amd" in given:
        given["amd"] = AmdAction(given["amd"])
    return given


def bad_argument(exc: InvalidArgument) -> click.BadParameter:
    field = exc.field.split(".")[0]
    hint = OPTION_OF.get(field, "--" + field.replace("_", "-"))
    return click.BadParameter(exc.reason, param_hint=hint)


def print_campaign(shown: dict[str, Any]) -> None:
    echo_fields(shown, SHOW_ORDER)
    retries = shown.get("retries") or {}
    click.echo(
        "retries: "
        + ", ".join(f"{o}={r['times']}x{_seconds(r['after_seconds'])}" for o, r in retries.items())
    )


def print_summary(shown: dict[str, Any]) -> None:
    print_campaign(shown)
    counts = shown["leads"]
    click.echo(
        f"leads: {counts['total']} ({counts['pending']} pending, {shown['due']} due now, "
        f"{counts['dialing']} dialing, {counts['done']} done)"
    )
    rate = shown["abandon_rate"]
    us, uk = rate["us_30_days"], rate["uk_today"]
    at_limit = "progressive" if shown.get("mode") == "predictive" else "paused at an abandon"
    flag = (
        f" AT THE LIMIT: {at_limit}"
        if rate["at_limit"]
        else (" over target" if rate["over_target"] else "")
    )
    click.echo(
        f"abandon rate: {rate['us_30_days_pct']:.2f}% over 30 days ({us['abandoned']:g}/"
        f"{us['live']:g} live), {rate['uk_today_pct']:.2f}% today ({uk['abandoned']:g}/"
        f"{uk['live']:g}){flag}"
    )
    if us.get("amd_estimated") or uk.get("amd_estimated"):
        share = shown["amd_false_positive_pct"]
        click.echo(
            f"  of which AMD false positives estimated ({share:g}% of machine verdicts): "
            f"{us['amd_estimated']:g} over 30 days, {uk['amd_estimated']:g} today"
        )
    paused = shown.get("paused") or {}
    if paused.get("reason") == "hard_limit":
        click.echo(
            f"paused by the dialer at the hard limit ({paused.get('rate', 0) * 100:.2f}% "
            "abandoned, in progressive or preview mode): `campaign start` resumes it"
        )
    if paused.get("reason") == "misconfigured":
        click.echo(
            f"paused by the dialer: no lead can be called: {paused.get('fault')}; fix the "
            "routes or trunks, then `campaign start` resumes it (no lead was charged an attempt)"
        )
    day = shown.get("last_day")
    if day:
        click.echo(
            f"last day counted: {day['day']}: {day['live']} live, {day['abandoned']} abandoned, "
            f"{day['machine']} machine"
        )
    codes = ", ".join(f"{d['feature_code']} {d['code']}" for d in shown["dispositions"])
    click.echo(f"dispositions: {codes or '-'}")
    if "engine" in shown:
        print_live(shown)


def _seconds(value: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value % size == 0:
            return f"{value // size}{unit}"
    return f"{value}s"


@click.group()
def campaign() -> None:
    """Outbound campaigns: leads dialled in preview, progressive, predictive or broadcast
    mode, within calling hours in each lead's local time, do-not-call lists, the 72-hour
    hold after an abandoned call and the abandon-rate limits (docs/dialer.md).

    \b
    Examples:
      callcenter campaign create spring --queue sales --caller-id +12125550199 \\
          --report-zone America/New_York
      callcenter campaign import spring leads.csv --map phone=Telephone --rejects rejected.csv
      callcenter campaign start spring
      callcenter campaign show spring
      callcenter campaign export-results spring --out results.csv
      callcenter campaign audit spring --format csv --out audit.csv
    """


@campaign.command("create")
@click.argument("name")
@_options(creating=True)
@pass_context
def create(ctx: Context, /, name: str, **options: Any) -> None:
    """Create campaign NAME, stopped, with the default dispositions (*301 sale,
    *302 not_interested, *303 call_back, *304 do_not_call, *305 wrong_number).

    \b
    Examples:
      callcenter campaign create spring --queue sales --caller-id +12125550199
      callcenter campaign create renewals --mode predictive --agent 1001 --agent 1002 \\
          --caller-id +442071234567 --region GB --report-zone Europe/London \\
          --safe-harbor-message /srv/sounds/acme-safe-harbor.wav --hours 09:00-20:00
      callcenter campaign create reminder --mode broadcast --flow reminder \\
          --caller-id +12125550199 --retry no_answer=2x3h --amd message \\
          --amd-message /srv/sounds/reminder.wav
    """
    try:
        stored = service.create(
            ctx.database, ctx.who, CampaignSpec(name=name, **fields_of(options, True))
        )
    except InvalidArgument as exc:
        raise bad_argument(exc) from exc
    click.echo(
        f"campaign {stored.spec.name} created ({stored.spec.mode}, stopped); import "
        "leads, then start it"
    )


@campaign.command("set")
@click.argument("name")
@_options(creating=False)
@clear_option
@pass_context
def set_(ctx: Context, /, name: str, **options: Any) -> None:
    """Change some settings of campaign NAME; what is not given stays (a --retry given
    replaces that outcome's rule only; --queue replaces the agents and --agent the queue,
    --route the trunks and --trunk the route; --mode broadcast drops both queue and
    agents; --clear empties a setting). A running campaign takes the change at once.

    \b
    Examples:
      callcenter campaign set spring --hours 09:00-20:00 --retry busy=2x15m
      callcenter campaign set spring --clear route --clear max-lines
      callcenter campaign set spring --mode predictive \\
          --safe-harbor-message /srv/sounds/acme-safe-harbor.wav --abandon-target 1
    """
    changes = fields_of(options, False)
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    flows, why = (None, "")
    looked = bool({"mode", "flow", "amd", "amd_flow"} & set(changes))
    if looked:
        flows, why = known_flows(ctx.settings.dialplans_dir)
    try:
        stored = service.update(ctx.database, ctx.who, name, changes, flows=flows)
    except InvalidArgument as exc:
        raise bad_argument(exc) from exc
    if looked and stored.state is CampaignState.RUNNING:
        _unchecked(service.flows_named(stored.spec), flows, why)
    click.echo(f"campaign {name} changed: {', '.join(sorted(changes))}")


@campaign.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_(ctx: Context, as_json: bool) -> None:
    """Every campaign and its state.

    \b
    Example:
      callcenter campaign list
    """
    rows = [service.view(c) for c in service.list_campaigns(ctx.database)]
    if not as_json:
        rows = [{**r, "agents": ",".join(r["agents"]) or None} for r in rows]
    emit_table(rows, LISTED, as_json)


@campaign.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def show(ctx: Context, name: str, as_json: bool) -> None:
    """Campaign NAME: its settings, its leads by state, its abandon rates (US: abandoned /
    live answered over 30 days; UK: today's, in --report-zone) and its dispositions; then,
    from the engine dialling it, its live view: lines in flight, agents free and busy,
    dial level, answer rate, abandon rate per window, leads left. The engine asked is the
    one behind --api-url / CALLCENTER_API_URL, else the one on this host's metrics_listen;
    when none answers, a line says so and the stored figures stand alone.

    \b
    Example:
      callcenter campaign show spring --json
    """
    shown = service.summary_view(service.summary(ctx.database, name))
    shown.update(live_here(ctx, name))
    if as_json:
        emit_json(shown)
    else:
        print_summary(shown)


def _unchecked(named: list[str], flows: Collection[str] | None, why: str) -> None:
    if named and flows is None:
        click.echo(f"note: IVR flow {', '.join(named)} not checked ({why})", err=True)


def warn_silent_abandons(name: str, mode: str, safe_harbor_message: str | None) -> None:
    """Started progressive with no safe-harbor message (only predictive requires one)."""
    if mode == CampaignMode.PROGRESSIVE and safe_harbor_message is None:
        click.echo(
            f"warning: campaign {name} has no --safe-harbor-message: a person answered whose "
            "agent cannot be reached within 2 s is hung up on in silence (an abandoned call "
            "without the message the US safe harbor requires)",
            err=True,
        )


def _move(action: str, done: str) -> click.Command:
    @pass_context
    def run(ctx: Context, name: str) -> None:
        if action != "start":
            getattr(service, action)(ctx.database, ctx.who, name)
        else:
            flows, why = known_flows(ctx.settings.dialplans_dir)
            started = service.start(ctx.database, ctx.who, name, flows=flows)
            _unchecked(service.flows_named(started.spec), flows, why)
            warn_silent_abandons(name, started.spec.mode, started.spec.safe_harbor_message)
        click.echo(f"campaign {name} {done}")

    run.__doc__ = {
        "start": "Start (or resume) campaign NAME: the running engines' dialer places its "
        "calls. It needs a caller ID; the queue or agents, route, trunks and IVR flows it "
        "names must exist (the flows are looked for in dialplans_dir).",
        "pause": "Pause campaign NAME: no new calls; the calls in flight finish.",
        "stop": "Stop campaign NAME: no new calls; the calls in flight finish.",
    }[action] + f"\n\n    \b\n    Example:\n      callcenter campaign {action} spring\n"
    return click.command(action)(click.argument("name")(run))


for _action, _done in (("start", "started"), ("pause", "paused"), ("stop", "stopped")):
    campaign.add_command(_move(_action, _done))


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
