"""`callcenter queue`: the ACD's queues, their members and the skills they require."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from callcenter.acd.rules import EMPTY_CONDITIONS, QUEUE_KEYS
from callcenter.cli import Context, emit_json, emit_table, params, pass_context, plain
from callcenter.cli.route_cmd import known_flows, warn_unverified
from callcenter.kpi.formulas import SL_FORMULAS, SlFormula
from callcenter.services import queues as service
from callcenter.services.queues import QueueSettings, settings_of
from callcenter.store.records import QueueEntryRecord, QueueRecord
from callcenter.trunks.targets import Target
from callcenter.vocabulary import STRATEGY_ALIASES, QueueStrategy, RouteTarget

F = TypeVar("F", bound=Callable[..., Any])

# option name -> (QueueRecord field, help)
_SETTINGS = {
    "max_wait": ("max_wait_seconds", "Seconds a caller waits before the overflow (0: no limit)."),
    "max_callers": ("max_callers", "Callers waiting at once; more overflow (0: no limit)."),
    "ring_seconds": ("agent_ring_seconds", "Seconds an agent's phone rings per offer."),
    "service_level": ("service_level_seconds", "Answered within this many seconds counts as met."),
    "announce_every": (
        "announce_position_seconds",
        "Seconds between announcements to waiting callers (0: none).",
    ),
    "rejoin_window": (
        "rejoin_window_seconds",
        "A caller who hung up and calls again within this many seconds (same number) gets "
        "its place back (0: off).",
    ),
}


_EMPTY = ",".join(EMPTY_CONDITIONS)
# option -> (routing key, type, help); see docs/routing.md
_ROUTING: dict[str, tuple[str, Any, str]] = {
    "relax": ("relax", str, "Skill levels that relax while the caller waits, e.g. "
              "'after 30s: english >= 50; after 90s: any english'."),
    "tier_wait": ("tier_wait_seconds", click.IntRange(0, 86_400),
                  "Seconds a caller waits before the next tier is rung (0: every tier at once, "
                  "the lower preferred)."),
    "tier_wait_multiply": ("tier_wait_multiply", None, "Tier N waits N times --tier-wait."),
    "tier_no_agent_no_wait": ("tier_no_agent_no_wait", None,
                              "No wait for the next tier when this one has nobody logged in."),
    "no_answer_delay": ("no_answer_delay", click.IntRange(0, 3600),
                        "Seconds an agent rests after not answering (default 10)."),
    "busy_delay": ("busy_delay", click.IntRange(0, 3600),
                   "Seconds an agent rests after a busy phone (default 30)."),
    "reject_delay": ("reject_delay", click.IntRange(0, 3600),
                     "Seconds an agent rests after rejecting a call (default 30)."),
    "unregistered_delay": ("unregistered_delay", click.IntRange(0, 3600),
                           "Seconds an agent rests when its phone is not registered (default 30)."),
    "max_no_answer": ("max_no_answer", click.IntRange(0, 100),
                      "No-answers in a row that pause the agent (0: never; default 3)."),
    "pause_reason": ("pause_reason", str, "The reason of that pause (default no_answer)."),
    "max_wait_no_agent": ("max_wait_no_agent_seconds", click.IntRange(0, 86_400),
                          "Callers leave (outcome no_agent) once no member was logged in for "
                          "this long (0: never)."),
    "no_agent_grace": ("no_agent_grace_seconds", click.IntRange(0, 86_400),
                       "...but not before they waited --max-wait-no-agent plus this."),
    "join_empty": ("join_empty", str, f"Refuse callers when every member is one of: {_EMPTY} "
                   "(comma list; 'no': always join)."),
    "leave_empty": ("leave_empty", str, f"Send waiting callers away when every member is one "
                    f"of: {_EMPTY} ('no': never)."),
    "ring_progressively_delay": ("ring_progressively_delay", click.IntRange(1, 600),
                                 "ring_progressively: seconds before the next phone rings too."),
    "exit_key": ("exit_key", click.Choice(list("0123456789*#")),
                 "A key the waiting caller presses to leave (outcome exit_key)."),
    "exit_target": ("exit_target", str, "Where that key sends the caller, as a route target "
                    "(default: --overflow)."),
    "callback_key": ("callback_key", click.Choice(list("0123456789*#")),
                     "A key the waiting caller presses to be called back, keeping its place "
                     "(docs/waiting.md; off by default)."),
    "callback_attempts": ("callback_attempts", click.IntRange(1, 10),
                          "Times the customer is dialled before the callback fails (default 3)."),
    "callback_retry": ("callback_retry_seconds", click.IntRange(0, 86_400),
                       "Seconds before the next attempt after no answer or busy (default 120)."),
    "callback_min_digits": ("callback_min_digits", click.IntRange(3, 20),
                            "Fewest digits of a number keyed in for a callback (default 7)."),
    "callback_max_digits": ("callback_max_digits", click.IntRange(3, 20),
                            "Most digits of a number keyed in for a callback (default 15)."),
    "callback_ring": ("callback_ring_seconds", click.IntRange(5, 300),
                      "Seconds the customer's phone rings on a callback (default 30)."),
    "callback_whisper": ("callback_whisper", str, "Played to the agent before the customer is "
                         "dialled (default: 'callback for <number>' said by TTS)."),
    "callback_wrapup": ("callback_wrapup", None, "After a customer not reached, the agent "
                        "wraps up (default: idle at once)."),
    "callback_prompt": ("callback_prompt", str, "Said before the caller's number is read back "
                        "(a file or say:TEXT; default 'we will call you back at')."),
    "callback_choice_prompt": ("callback_choice_prompt", str, "Asks 1 to confirm, 2 for "
                               "another number."),
    "callback_enter_prompt": ("callback_enter_prompt", str, "Asks for the number to call, "
                              "ended by #."),
    "callback_done_prompt": ("callback_done_prompt", str, "Said before the caller is hung up "
                             "with its callback taken."),
}  # fmt: skip
_STRATEGY_NAMES = [s.value for s in QueueStrategy] + sorted(STRATEGY_ALIASES)


def _strategy(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """mod_callcenter's and app_queue's names are taken too: stored as the engine's."""
    return str(STRATEGY_ALIASES.get(value, value)) if value is not None else None


def _routing_options(func: F) -> F:
    for name, (_key, kind, text) in reversed(_ROUTING.items()):
        flag = "--" + name.replace("_", "-")
        if kind is None:
            func = click.option(f"{flag}/--no-{flag[2:]}", default=None, help=text)(func)
        else:
            func = click.option(flag, type=kind, help=text)(func)
    return func


def _settings_options(func: F, shown: Callable[[str], str | bool] | None = None) -> F:
    """The settings' options; ``shown`` gives `queue add` the default each one takes."""
    d = shown or (lambda _column: False)
    options = [
        click.option(
            "--strategy",
            type=click.Choice(_STRATEGY_NAMES),
            callback=_strategy,
            show_default=d("strategy"),
            help="How the next agent is picked (mod_callcenter's and app_queue's names "
            "are taken too: round-robin, top-down, rrmemory...). See docs/routing.md.",
        ),
        click.option(
            "--max-wait",
            type=click.IntRange(0, 86_400),
            show_default=d("max_wait_seconds"),
            help=_SETTINGS["max_wait"][1],
        ),
        click.option(
            "--max-callers",
            type=click.IntRange(0, 100_000),
            show_default=d("max_callers"),
            help=_SETTINGS["max_callers"][1],
        ),
        click.option(
            "--ring-seconds",
            type=click.IntRange(1, 600),
            show_default=d("agent_ring_seconds"),
            help=_SETTINGS["ring_seconds"][1],
        ),
        click.option(
            "--service-level",
            type=click.IntRange(0, 86_400),
            show_default=d("service_level_seconds"),
            help=_SETTINGS["service_level"][1],
        ),
        click.option(
            "--moh",
            callback=params.music_on_hold,
            show_default=d("music_on_hold"),
            help="Music on hold: a file, local_stream://NAME or tone_stream://...",
        ),
        click.option(
            "--announce-every",
            type=click.IntRange(0, 3600),
            show_default=d("announce_position_seconds"),
            help=_SETTINGS["announce_every"][1],
        ),
        click.option(
            "--announce",
            metavar="FILE",
            callback=params.music_on_hold,
            help="Played to waiting callers every --announce-every seconds.",
        ),
        click.option(
            "--position-prompt",
            metavar="FILE",
            callback=params.music_on_hold,
            help='Played before the caller\'s position ("you are caller number" + N).',
        ),
        click.option(
            "--wait-prompt",
            metavar="FILE",
            callback=params.music_on_hold,
            help='Said after the position, before the estimated wait: "your expected wait '
            'is about" + "2 minutes". Without it the wait is not announced.',
        ),
        click.option(
            "--wait-less-prompt",
            metavar="FILE",
            callback=params.music_on_hold,
            help='Instead of --wait-prompt for a short wait: "... less than" + "1 minute".',
        ),
        click.option(
            "--wait-more-prompt",
            metavar="FILE",
            callback=params.music_on_hold,
            help='Instead of --wait-prompt for a long wait: "... more than" + "10 minutes".',
        ),
        click.option(
            "--rejoin-window",
            type=click.IntRange(0, 86_400),
            show_default=d("rejoin_window_seconds"),
            help=_SETTINGS["rejoin_window"][1],
        ),
        *_kpi_options(d),
        click.option(
            "--record",
            metavar="POLICY",
            help="Record its calls from the bridge, in stereo: always, never, sample:N "
            "(N% of calls, decided from the call UUID) or on-demand (the agent or the API "
            "starts it). See docs/recording.md.",
        ),
        click.option(
            "--keep-days",
            type=click.IntRange(0, 36_500),
            help="Delete its recordings' files after this many days (0: keep them).",
        ),
        click.option(
            "--record-announcement",
            metavar="FILE",
            help='Played to callers before they wait when it may record ("" removes it).',
        ),
        click.option(
            "--overflow",
            metavar="TARGET",
            callback=params.target,
            help="Where callers go on timeout or when full, as a route target "
            "(queue:NAME, extension:EXT, ivr:FLOW, playback:FILE, hangup[:CAUSE]).",
        ),
        click.option(
            "--number",
            metavar="DIGITS",
            help="The queue's number: an agent's phone transfers a caller here by dialling "
            '*8 and it (--number 5 -> *85); "" removes it.',
        ),
    ]
    func = _routing_options(func)
    for option in reversed(options):
        func = option(func)
    return func


def _kpi_options(d: Callable[[str], str | bool]) -> list[Callable[[F], F]]:
    """The KPI settings (docs/kpis.md)."""
    return [
        click.option(
            "--sl-formula",
            type=click.Choice([str(f) for f in SlFormula]),
            show_default=d("sl_formula"),
            help="Service level definition: "
            + "; ".join(f"{k}: {v}" for k, v in SL_FORMULAS.items()),
        ),
        click.option(
            "--short-abandon",
            type=click.IntRange(0, 3600),
            show_default=d("short_abandon_seconds"),
            help="Callers hanging up in less than this many seconds are short abandons, "
            "counted apart (0: none).",
        ),
        click.option(
            "--time-zone",
            metavar="ZONE",
            help='IANA zone the reports cut intervals in (Europe/Paris; "": the engine\'s).',
        ),
    ]


def _add_default(column: str) -> str:
    """What `queue add` stores for an option not given."""
    return str(service.DEFAULTS.get(column, ""))


def _add_options(func: F) -> F:
    return _settings_options(func, _add_default)


def _settings_given(given: dict[str, Any], *, clear_overflow: bool = False) -> QueueSettings:
    """The service's settings for the options that were given."""
    return QueueSettings(
        strategy=given.get("strategy"),
        max_wait_seconds=given.get("max_wait"),
        max_callers=given.get("max_callers"),
        agent_ring_seconds=given.get("ring_seconds"),
        service_level_seconds=given.get("service_level"),
        music_on_hold=given.get("moh"),
        announce_position_seconds=given.get("announce_every"),
        announcement=given.get("announce"),
        position_prompt=given.get("position_prompt"),
        overflow_target=given.get("overflow"),
        clear_overflow=clear_overflow,
        number=given.get("number"),
        routing=routing_given(given) or None,
        wait_prompt=given.get("wait_prompt"),
        wait_less_prompt=given.get("wait_less_prompt"),
        wait_more_prompt=given.get("wait_more_prompt"),
        rejoin_window_seconds=given.get("rejoin_window"),
        recording=given.get("record"),
        recording_keep_days=given.get("keep_days"),
        recording_announcement=given.get("record_announcement"),
        sl_formula=given.get("sl_formula"),
        short_abandon_seconds=given.get("short_abandon"),
        time_zone=given.get("time_zone"),
    )


def routing_given(given: dict[str, Any]) -> dict[str, Any]:
    """The routing rules among the options given (``--reset`` ones set to None)."""
    out = {
        key: given[name] for name, (key, _, _) in _ROUTING.items() if given.get(name) is not None
    }
    for key in given.get("reset") or ():
        out[key] = None
    return out


def _given(settings: QueueSettings, after: QueueRecord) -> str:
    """The settings given, as stored now."""
    columns = [c for c in service.RANGES if getattr(settings, c) is not None]
    if settings.strategy is not None:
        columns.insert(0, "strategy")
    if settings.music_on_hold is not None:
        columns.append("music_on_hold")
    waits = (settings.wait_prompt, settings.wait_less_prompt, settings.wait_more_prompt)
    if settings.announcement or settings.position_prompt or any(waits):
        columns.append("announcements")
    if settings.overflow_target is not None or settings.clear_overflow:
        columns.append("overflow_target")
    if settings.number is not None:
        columns.append("number")
    if settings.recording is not None:
        columns += ["recording_policy", "recording_sample_percent"]
    if settings.recording_keep_days is not None:
        columns.append("recording_keep_days")
    if settings.recording_announcement is not None:
        columns.append("recording_announcement")
    shown = [f"{c}={getattr(after, c)}" for c in columns]
    shown += [f"{k}={after.routing.get(k, 'default')}" for k in settings.routing or {}]
    return ", ".join(shown)


def _flows_named(ctx: Context, settings: QueueSettings) -> Collection[str] | None:
    """The flows of dialplans_dir when the overflow or the exit key names one (checked as
    `route add` checks them); None, and a warning saying why, when they cannot be read."""
    named = [settings.overflow_target, (settings.routing or {}).get("exit_target")]
    ivr = [Target(RouteTarget.IVR, t[4:]) for t in named if t and t.startswith("ivr:")]
    if not ivr:
        return None
    flows, why = known_flows(ctx.settings.dialplans_dir)
    for target in ivr:
        warn_unverified(target, (), flows, why)
    return flows


name_argument = click.argument("name", callback=params.queue_name)
queue_argument = click.argument("queue", callback=params.queue_name)


@click.group()
def queue() -> None:
    """ACD queues: settings, members (agents by tier) and required skills.

    Every change is stored, audited and reaches every running engine within a second
    (PostgreSQL LISTEN/NOTIFY, or a short poll on SQLite); an engine started later reads
    it at its start.

    \b
    Example:
      callcenter queue add sales --strategy longest_idle --overflow ivr:support
    """


@queue.command("add")
@name_argument
@_add_options
@pass_context
def add(ctx: Context, /, name: str, **given: Any) -> None:
    """Create a queue; settings not given take their defaults.

    \b
    Examples:
      callcenter queue add sales
      callcenter queue add support --strategy ring_all --max-wait 300 --overflow queue:sales
      callcenter queue add billing --number 5      # agents transfer here with *85
      callcenter queue add care --announce-every 45 --announce custom/all-busy.wav \\
          --position-prompt custom/you-are-caller.wav
    """
    settings = _settings_given(given)
    service.add(ctx.database, ctx.who, name, settings, flows=_flows_named(ctx, settings))
    click.echo(f"queue {name} added")


@queue.command("set")
@name_argument
@_settings_options
@click.option("--no-overflow", is_flag=True, help="Remove the overflow target.")
@click.option("--reset", multiple=True, type=click.Choice(sorted(QUEUE_KEYS)),
              help="A routing rule back to its default (repeatable).")  # fmt: skip
@pass_context
def set_(ctx: Context, /, name: str, no_overflow: bool, **given: Any) -> None:
    """Change the settings given; the others keep their value (no defaults apply).

    \b
    Examples:
      callcenter queue set sales --strategy round_robin --ring-seconds 15
      callcenter queue set sales --no-overflow
      callcenter queue set sales --strategy rrmemory --relax 'after 30s: english>=50'
      callcenter queue set sales --tier-wait 20 --tier-wait-multiply --max-no-answer 2
      callcenter queue set sales --max-wait-no-agent 60 --no-agent-grace 10 \\
          --join-empty paused,unavailable --leave-empty unavailable
      callcenter queue set sales --reset relax
      callcenter queue set sales --announce-every 60 --position-prompt custom/you-are.wav \\
          --wait-prompt custom/wait-about.wav --wait-more-prompt custom/wait-more.wav
      callcenter queue set sales --rejoin-window 120
      callcenter queue set sales --callback-key 5 --callback-attempts 3 --callback-retry 120
      callcenter queue set sales --record sample:20 --keep-days 90 \\
          --record-announcement custom/may-be-recorded.wav
    """
    if no_overflow and given.get("overflow") is not None:
        raise click.UsageError("give --overflow or --no-overflow, not both")
    settings = _settings_given(given, clear_overflow=no_overflow)
    if settings == QueueSettings():
        raise click.UsageError("nothing to change: give at least one setting")
    after = service.update(ctx.database, ctx.who, name, settings, flows=_flows_named(ctx, settings))
    click.echo(f"queue {name}: {_given(settings, after)}")


@queue.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_queues(ctx: Context, as_json: bool) -> None:
    """List queues with their main settings, members and required skills.

    \b
    Example:
      callcenter queue list --json
    """
    queues = service.list_queues(ctx.database)
    if as_json:
        emit_table([_detail(q) for q in queues], [], as_json=True)
        return
    rows = [
        {
            **settings_of(q),
            "members": ",".join(m.extension for m in q.members),
            "skills": ",".join(f"{s}>={level}" for s, level in q.required_skills.items()),
        }
        for q in queues
    ]
    columns = ["name", "strategy", "max_wait_seconds", "max_callers", "agent_ring_seconds"]
    emit_table(rows, [*columns, "overflow_target", "members", "skills"], as_json=False)


@queue.command("show")
@name_argument
@click.option("--entries", "limit", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="How many of the last entries to show.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def show(ctx: Context, name: str, limit: int, as_json: bool) -> None:
    """A queue's settings, its members (status, state, for how long, the call they are on and
    its caller), the callers waiting now (position, wait, priority), required skills and its
    last entries. Through --api-url the engine's live board also gives each waiting caller's
    skills and each agent's exact time in state.

    \b
    Examples:
      callcenter queue show sales
      callcenter queue show sales --entries 50 --json
    """
    found = service.show(ctx.database, name, limit)
    record = found.queue
    now = datetime.now(UTC)
    members = [_live_member(plain(m), now) for m in found.members]
    entries = found.entries
    waiting = [_waiting(plain(w), now) for w in found.waiting]
    detail = {**_detail(record), "members": members, "waiting": waiting,
              "entries": [_entry(e) for e in entries]}  # fmt: skip
    if as_json:
        emit_json(detail)
        return
    settings = [{"setting": k, "value": v} for k, v in settings_of(record).items()]
    emit_table(settings, ["setting", "value"], as_json=False)
    click.echo("\nmembers:")
    emit_table(members, ["extension", "tier", "position", "status", "state", "for_s", "call",
                         "caller"], as_json=False)  # fmt: skip
    click.echo("\nwaiting now:")
    emit_table(waiting, ["position", "call_uuid", "caller", "wait_s", "priority", "offers"],
               as_json=False)  # fmt: skip
    click.echo("\nrequired skills:")
    skills = [{"skill": s, "min_level": level} for s, level in record.required_skills.items()]
    emit_table(skills, ["skill", "min_level"], as_json=False)
    click.echo(f"\nlast {limit} entries:")
    emit_table(detail["entries"], _ENTRY_COLUMNS, as_json=False)


def _live_member(member: dict[str, Any], now: datetime) -> dict[str, Any]:
    since = member.get("status_since")
    seconds = (now - datetime.fromisoformat(since)).total_seconds() if since else None
    return {**member, "for_s": round(seconds) if seconds is not None else None}


def _waiting(caller: dict[str, Any], now: datetime) -> dict[str, Any]:
    waited = (now - datetime.fromisoformat(caller["joined_at"])).total_seconds()
    return {**caller, "wait_s": round(waited)}


@queue.command("remove")
@name_argument
@pass_context
def remove(ctx: Context, name: str) -> None:
    """Delete a queue with its members, required skills and entry history. Refused
    (queue_in_use) while a DID route or another queue's overflow or exit key sends calls to
    it, or a running campaign takes its calls: the error names them. IVR flows are files,
    not stored: the next `ivr reload` reports a flow naming the removed queue.

    \b
    Example:
      callcenter queue remove sales
    """
    service.remove(ctx.database, ctx.who, name)
    click.echo(f"queue {name} removed")


@queue.command("entries")
@queue_argument
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000),
              help="How many stays to list.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def entries(ctx: Context, queue: str, limit: int, as_json: bool) -> None:
    """The last callers' stays in QUEUE, newest first: wait, outcome, agent.

    \b
    Example:
      callcenter queue entries sales --limit 50 --json
    """
    rows = [_entry(e) for e in service.entries(ctx.database, queue, limit)]
    emit_table(rows, _ENTRY_COLUMNS, as_json)


@queue.group("member")
def member() -> None:
    """The agents a queue offers its callers to: lower tiers first, then by position.

    \b
    \b
    Examples:
      callcenter queue member add sales 1001 --tier 1
      callcenter queue member set sales 1001 --tier 2
    """


@member.command("add")
@queue_argument
@click.argument("extension", callback=params.extension)
@click.option("--tier", default=1, show_default=True, type=click.IntRange(1, 99),
              help="Agents of tier 1 get calls first; tier 2 when none of tier 1 can.")  # fmt: skip
@click.option("--position", default=1, show_default=True, type=click.IntRange(1, 9999),
              help="Order inside the tier for round_robin.")  # fmt: skip
@pass_context
def member_add(ctx: Context, queue: str, extension: str, tier: int, position: int) -> None:
    """Make agent EXTENSION a member of QUEUE.

    \b
    Examples:
      callcenter queue member add sales 1001
      callcenter queue member add sales 1002 --tier 2 --position 3
    """
    service.add_member(ctx.database, ctx.who, queue, extension, tier=tier, position=position)
    click.echo(f"queue {queue}: agent {extension} added (tier {tier}, position {position})")


@member.command("set")
@queue_argument
@click.argument("extension", callback=params.extension)
@click.option("--tier", type=click.IntRange(1, 99),
              help="Agents of tier 1 get calls first; tier 2 when none of tier 1 can.")  # fmt: skip
@click.option("--position", type=click.IntRange(1, 9999),
              help="Order inside the tier for round_robin.")  # fmt: skip
@pass_context
def member_set(
    ctx: Context, queue: str, extension: str, tier: int | None, position: int | None
) -> None:
    """Change the tier or position of agent EXTENSION, a member of QUEUE; the other keeps
    its value. The running engines offer the queue's calls by the new tiers at once.

    \b
    Examples:
      callcenter queue member set sales 1001 --tier 2
      callcenter queue member set sales 1002 --tier 1 --position 3
    """
    if tier is None and position is None:
        raise click.UsageError("nothing to change: give --tier or --position")
    done = service.set_member(
        ctx.database, ctx.who, queue, extension, tier=tier, position=position, create=False
    )
    now = next(m for m in done.queue.members if m.extension == extension)
    click.echo(f"queue {queue}: agent {extension} tier {now.tier}, position {now.position}")


@member.command("remove")
@queue_argument
@click.argument("extension", callback=params.extension)
@pass_context
def member_remove(ctx: Context, queue: str, extension: str) -> None:
    """Take agent EXTENSION out of QUEUE (a call it is on is not affected).

    \b
    Example:
      callcenter queue member remove sales 1002
    """
    service.remove_member(ctx.database, ctx.who, queue, extension)
    click.echo(f"queue {queue}: agent {extension} removed")


@queue.group("skill")
def skill() -> None:
    """Skills a queue requires: only agents with each at the minimum level get its calls.

    \b
    Example:
      callcenter queue skill require sales english --min-level 3
    """


@skill.command("require")
@queue_argument
@click.argument("skill_name", metavar="SKILL", callback=params.skill)
@click.option("--min-level", default=1, show_default=True, type=click.IntRange(0, 100),
              help="The lowest level of the skill an agent must have (0-100).")  # fmt: skip
@pass_context
def skill_require(ctx: Context, queue: str, skill_name: str, min_level: int) -> None:
    """Require SKILL at MIN-LEVEL or more (again: changes the level).

    \b
    Example:
      callcenter queue skill require sales english --min-level 3
    """
    service.require_skill(ctx.database, ctx.who, queue, skill_name, min_level)
    click.echo(f"queue {queue}: requires {skill_name} >= {min_level}")


@skill.command("drop")
@queue_argument
@click.argument("skill_name", metavar="SKILL", callback=params.skill)
@pass_context
def skill_drop(ctx: Context, queue: str, skill_name: str) -> None:
    """Stop requiring SKILL.

    \b
    Example:
      callcenter queue skill drop sales english
    """
    service.drop_skill(ctx.database, ctx.who, queue, skill_name)
    click.echo(f"queue {queue}: {skill_name} no longer required")


_ENTRY_COLUMNS = [
    "joined_at", "call_uuid", "wait_seconds", "outcome", "agent", "offers", "reason", "callback",
]  # fmt: skip


def _detail(record: QueueRecord) -> dict[str, Any]:
    members = [plain(m) for m in record.members]
    return {**settings_of(record), "members": members, "required_skills": record.required_skills}


def _entry(entry: QueueEntryRecord) -> dict[str, Any]:
    end = entry.answered_at or entry.left_at
    return {
        "id": entry.id,
        "call_uuid": entry.call_uuid,
        "joined_at": entry.joined_at,
        "wait_seconds": round((end - entry.joined_at).total_seconds()) if end else None,
        "outcome": entry.outcome,
        "agent": entry.agent_extension,
        "offers": entry.offers,
        "answered_at": entry.answered_at,
        "left_at": entry.left_at,
        "reason": entry.reason,
        "callback": _callback(entry),
    }


def _callback(entry: QueueEntryRecord) -> str | None:
    """``15550102000 x2 no_answer``: the number called back, attempts, the last result."""
    if entry.callback_number is None:
        return None
    last = f" {entry.callback_result}" if entry.callback_result else ""
    return f"{entry.callback_number} x{entry.callback_attempts}{last}"
