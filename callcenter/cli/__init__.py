"""The ``callcenter`` command: one small module per command group."""

from __future__ import annotations

import dataclasses
import getpass
import importlib
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from callcenter import __version__, logs
from callcenter.cli import remote
from callcenter.errors import CallCenterError
from callcenter.services.actor import Actor
from callcenter.settings import Settings, load_settings

if TYPE_CHECKING:
    from callcenter.store.database import Database


class Context:
    """What every command gets: the options of the main group and settings loaded once."""

    def __init__(self, config: str | None, log_level: str | None, log_format: str | None) -> None:
        self.config = config
        self.log_level = log_level
        self.log_format = log_format
        self._settings: Settings | None = None
        self._database: Database | None = None
        self._changes_from: int | None = None  # the newest engine change when it opened

    @property
    def database(self) -> Database:
        """The configured database, opened once; what the services are given."""
        if self._database is None:  # imported here: a command without one starts sooner
            from callcenter.services import changes
            from callcenter.store.database import Database

            self._database = Database(self.settings.database_url)
            self._changes_from = changes.newest(self._database)
        return self._database

    def unheard_note(self) -> str | None:
        """After a command: the note to print when its changes reached no engine."""
        if self._database is None or self._changes_from is None:
            return None
        from sqlalchemy.exc import SQLAlchemyError

        from callcenter.services import changes

        try:
            unheard = changes.unheard(self._database, self.who, self._changes_from)
        except (CallCenterError, SQLAlchemyError):
            return None
        if not unheard:
            return None
        return (
            "note: no engine is listening on this database now; the change applies when one starts"
        )

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None

    @property
    def who(self) -> Actor:
        """The operator: the OS user running the command, as audit entries name it."""
        return Actor("cli", operator())

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(
                self.config, log_level=self.log_level, log_format=self.log_format
            )
            logs.configure(self._settings.log_level, self._settings.log_format)
        return self._settings


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def emit_json(value: Any) -> None:
    """One JSON document: dataclasses as objects, enums as their value, times in ISO 8601."""
    click.echo(json.dumps(plain(value), indent=2, default=str, ensure_ascii=False))


def plain(value: Any) -> Any:
    """``value`` with dataclasses turned into dicts (recursively), ready for ``json``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class CallCenterGroup(click.Group):
    """Turns a CallCenterError into one line on stderr and exit 1; anything else is a bug.
    Its commands (``COMMANDS``) are imported when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(_load(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists them, the summaries from ``SUMMARIES``: no command is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(n, click.Command(n, help=SUMMARIES[n]).get_short_help_str(limit)) for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            if isinstance(ctx.obj, Context) and (note := ctx.obj.unheard_note()):
                click.echo(note, err=True)
            return result
        except CallCenterError as exc:
            click.echo(f"error: {exc.message} [{exc.code}]", err=True)
            ctx.exit(1)
        finally:
            if isinstance(ctx.obj, Context):
                ctx.obj.close()


pass_context = click.make_pass_decorator(Context)


def echo_fields(shown: dict[str, Any], keys: Sequence[str]) -> None:
    """One ``key: value`` line per key, lists comma-joined, "-" for nothing."""
    for key in keys:
        value = shown.get(key)
        if isinstance(value, list):
            value = ",".join(value) or "-"
        click.echo(f"{key}: {'-' if value is None or value == '' else value}")


def emit_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    """Print rows as aligned columns, or as a JSON array with --json."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str, ensure_ascii=False))
        return
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value)
    # a caller ID name can hold anything: never let it move the terminal's cursor
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


@click.group(
    cls=CallCenterGroup,
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
@click.version_option(__version__, "--version", prog_name="callcenter")
@click.option(
    "--config",
    "-c",
    envvar="CALLCENTER_CONFIG",
    type=click.Path(dir_okay=False),
    help="YAML settings file (default: none; CALLCENTER_* variables still apply).",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Overrides log_level / CALLCENTER_LOG_LEVEL.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="text for people, json for log shippers (one object per line).",
)
@click.option(
    "--api-url",
    envvar="CALLCENTER_API_URL",
    help="A running engine's HTTP listener (e.g. http://10.0.0.5:9464): operator commands "
    "go through its API instead of the database.",
)
@click.option(
    "--api-token",
    envvar="CALLCENTER_API_TOKEN",
    help="Bearer token for --api-url (`callcenter token create`).",
)
@click.pass_context
def main(
    ctx: click.Context,
    config: str | None,
    log_level: str | None,
    log_format: str | None,
    api_url: str | None,
    api_token: str | None,
) -> None:
    """Call-center engine for FreeSWITCH: IVR, queues, recording, dialer, CDRs.

    \b
    Examples:
      callcenter config show
      callcenter db upgrade
      callcenter serve
      CALLCENTER_DATABASE_URL=postgresql+psycopg://cc@db/cc callcenter db check
      CALLCENTER_API_URL=http://pbx1:9464 CALLCENTER_API_TOKEN=cc_... callcenter agent list
    """
    ctx.obj = Context(config, log_level, log_format)
    ctx.meta[remote.META] = remote.connect(api_url, api_token)


# name -> where the command is: a command's module is imported when it is run (or listed
# by --help), so `callcenter queue show` does not import the engine (~1 s less a command)
COMMANDS = {
    "agent": "agent_cmd:agent", "call": "call_cmd:call", "campaign": "campaign_cmd:campaign",
    "cdr": "cdr_cmd:cdr", "config": "config_cmd:config", "db": "db_cmd:db",
    "demo": "demo_cmd:demo", "dnc": "dnc_cmd:dnc", "fs": "fs_cmd:fs", "ivr": "ivr_cmd:ivr",
    "plan": "plan_cmd:plan_command", "queue": "queue_cmd:queue",
    "recording": "recording_cmd:recording", "reload": "engine:reload",
    "report": "report_cmd:report", "route": "route_cmd:route", "serve": "serve_cmd:serve",
    "sim": "sim_cmd:sim", "token": "token_cmd:token", "top": "top_cmd:top",
    "trunk": "trunk_cmd:trunk", "voicemail": "voicemail_cmd:voicemail",
    "webhook": "webhook_cmd:webhook",
}  # fmt: skip
# what `callcenter --help` lists for each: its help's first sentence, kept equal to it by
# tests/unit/test_cli_help.py, so that listing the commands imports none of them
SUMMARIES = {
    "agent": "Agents: their extension (SIP user), name, PIN, skills and status.",
    "call": (
        "Live calls: list and inspect them, hang up, transfer, bridge one to an agent, or listen, "
        "whisper to and barge into one (supervisors)."
    ),
    "campaign": (
        "Outbound campaigns: leads dialled in preview, progressive, predictive or broadcast mode, "
        "within calling hours in each lead's local time, do-not-call lists, the 72-hour hold after "
        "an abandoned call and the abandon-rate limits (docs/dialer.md)."
    ),
    "cdr": "Call detail records: one per call, written once.",
    "config": "Show and check the settings the engine would run with.",
    "db": "Database schema: migrate, inspect, check for drift.",
    "demo": "Run the engine against the built-in FreeSWITCH simulator, with simulated callers.",
    "dnc": "Do-not-call lists.",
    "fs": "FreeSWITCH configuration generated from the database.",
    "ivr": "YAML IVR flows (dialplans/*.yaml): check them before they reach a call.",
    "plan": (
        "Agents needed for a service level, with SL, ASA, abandon rate and occupancy expected at "
        "N-1, N and N+1 agents (N marked with <)."
    ),
    "queue": "ACD queues: settings, members (agents by tier) and required skills.",
    "recording": "Call recordings: list, show, export; PCI pause/resume; retention.",
    "reload": (
        "Ask the engine of this host to reload everything: IVR flows, queues and agents (SIGHUP)."
    ),
    "report": "Reports over a period, from the stored stays, CDRs and agent status history.",
    "route": "DID routes: which target a dialled number goes to.",
    "serve": "Run the engine until SIGTERM or Ctrl-C, then drain and stop cleanly.",
    "sim": "Run a simulated FreeSWITCH (inbound ESL) with callers and agent phones.",
    "token": "Bearer tokens of the HTTP API (/api/v1), each with one scope.",
    "top": (
        "Terminal wallboard: queues (waiting, longest wait, SL, abandon rate, agents free and busy)"
        " and agents (status, state, time in it, caller), live from the engine's API."
    ),
    "trunk": (
        "SIP trunks (carriers): stored here, rendered by `callcenter fs render` as sofia gateways "
        "of the callcenter-carriers profile (plus their inbound CIDRs in the carriers ACL), taken "
        "by a running FreeSWITCH with `trunk apply`, and watched by the engine (`trunk status`, "
        "/metrics, /healthz, the trunk.state_changed event)."
    ),
    "voicemail": (
        "Voicemail: list the messages of the boxes, play one, mark it read or unread, delete it."
    ),
    "webhook": "Webhooks: POST each event to a URL, signed, at least once, in order.",
}
REMOTE_CAMPAIGNS = ("campaign", "dnc")  # their remote twins: remote_campaigns, else remote_cmds


def _load(name: str) -> click.Command:
    """Command ``name`` with its subcommands kept in other modules and, where it has them,
    its remote twins (used with --api-url)."""
    module, attr = COMMANDS[name].split(":")
    command: click.Command = getattr(importlib.import_module(f"callcenter.cli.{module}"), attr)
    if name == "route":
        from callcenter.cli.outbound_cmd import outbound

        assert isinstance(command, click.Group)
        command.add_command(outbound)  # callcenter route outbound ...
    elif name == "campaign":
        from callcenter.cli import campaign_leads_cmd, disposition_cmd

        assert isinstance(command, click.Group)
        for sub in (campaign_leads_cmd.import_, campaign_leads_cmd.export_results,
                    campaign_leads_cmd.audit, disposition_cmd.disposition,
                    disposition_cmd.dispose):  # fmt: skip
            command.add_command(sub)
    if name in REMOTE_CAMPAIGNS:
        from callcenter.cli.remote_campaigns import COMMANDS as twins
    else:
        from callcenter.cli.remote_cmds import COMMANDS as twins
    mine = {path: twin for path, twin in twins.items() if path[0] == name}
    if mine:
        group = click.Group(commands={name: command})  # install finds it from a root
        remote.install(group, mine)  # with --api-url: through a remote engine's API
    return command


def run(argv: Sequence[str] | None = None) -> None:
    main.main(args=list(argv) if argv is not None else sys.argv[1:], prog_name="callcenter")
