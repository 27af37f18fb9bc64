"""``callcenter trunk``: SIP carriers, rendered as sofia gateways, applied and watched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from callcenter.cli import Context, emit_json, emit_table, pass_context
from callcenter.cli.trunk_group_cmd import group
from callcenter.cli.trunk_view import LISTED, fields_of, print_status, print_trunk
from callcenter.services import trunks as service
from callcenter.trunks.checks import InvalidTrunk
from callcenter.trunks.spec import NumberStyle, Transport, TrunkSpec

OPTION_OF = {
    "name": "NAME", "proxy": "--proxy", "transport": "--transport", "register": "--register",
    "username": "--username", "password": "--password", "realm": "--realm",
    "from_domain": "--from-domain", "codecs": "--codecs", "country": "--country",
    "number_style": "--number-style", "max_channels": "--max-channels", "max_cps": "--max-cps",
    "inbound_cidrs": "--inbound-cidr",
}  # fmt: skip


def _options(adding: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The trunk's fields as options: ``add`` has defaults, ``set`` leaves out what is not given."""
    default: Callable[[Any], Any] = (lambda v: v) if adding else (lambda v: None)
    options = [
        click.option("--proxy", required=adding, help="The carrier's SIP host[:port]."),
        click.option("--transport", type=click.Choice([t.value for t in Transport]),
                     default=default("udp"), help="SIP transport to the carrier."),
        click.option("--register/--no-register", default=default(False),
                     help="Register to the carrier (needs --username and --password)."),
        click.option("--username", help="Registration/auth user."),
        click.option("--password", help="Registration/auth password: stored, never printed back."),
        click.option("--password-stdin", is_flag=True, default=None,
                     help="Read the password from the first line of stdin (not in ps)."),
        click.option("--realm", help="Auth realm, when it is not the proxy's host."),
        click.option("--from-domain", help="Domain in the From header."),
        click.option("--caller-id-in-from/--no-caller-id-in-from", default=default(False),
                     help="Put the caller's number in the From user (most carriers want it)."),
        click.option(
            "--codecs",
            help="Codecs offered to the carrier, in order, as FreeSWITCH writes them: "
            "PCMA,PCMU or G729@8000h@20i,PCMU@20i (@rate h/k, @ptime i, @bitrate b, "
            "@channels c).",
        ),
        click.option("--country", help="ISO country of the carrier's numbering plan, e.g. DE."),
        click.option("--number-style", type=click.Choice([s.value for s in NumberStyle]),
                     metavar="STYLE", default=default("e164"),
                     help="How the carrier wants numbers: e164, e164-no-plus or national."),
        click.option("--max-channels", type=int,
                     help="Concurrent calls, in and out together (0: no limit)."),
        click.option("--max-cps", type=float, help="New outbound calls per second (0: no limit)."),
        click.option("--inbound-cidr", "inbound_cidrs", multiple=True,
                     help="Carrier signalling network allowed to send INVITEs (repeat)."),
    ]  # fmt: skip
    if not adding:
        options.append(click.option("--enable/--disable", "enabled", default=None,
                                    help="A disabled trunk is not rendered."))  # fmt: skip
        options.append(click.option("--no-inbound-cidrs", is_flag=True, default=None,
                                    help="Drop every inbound CIDR."))  # fmt: skip

    def apply(f: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            f = option(f)
        return f

    return apply


def _bad(exc: InvalidTrunk) -> click.BadParameter:
    return click.BadParameter(exc.reason, param_hint=OPTION_OF.get(exc.field, exc.field))


@click.group()
def trunk() -> None:
    """SIP trunks (carriers): stored here, rendered by `callcenter fs render` as sofia
    gateways of the callcenter-carriers profile (plus their inbound CIDRs in the carriers
    ACL), taken by a running FreeSWITCH with `trunk apply`, and watched by the engine
    (`trunk status`, /metrics, /healthz, the trunk.state_changed event).

    \b
    Examples:
      callcenter trunk add carrier-a --proxy sip.carrier-a.example:5060 --register \\
          --username 4930123 --password 's3cret' --country DE --codecs PCMA,PCMU \\
          --inbound-cidr 198.51.100.0/28 --max-channels 30 --max-cps 5
      callcenter fs render --out /etc/freeswitch/directory/callcenter \\
          --gateways-out /etc/freeswitch/sip_profiles/callcenter-carriers \\
          --acl-out /etc/freeswitch/autoload_configs/callcenter-carriers-acl
      callcenter trunk apply
      callcenter trunk status
    """


@trunk.command("add")
@click.argument("name")
@_options(adding=True)
@pass_context
def add(ctx: Context, /, name: str, **options: Any) -> None:
    """Add the trunk NAME (also its sofia gateway's name: sofia/gateway/NAME/<number>).

    \b
    Examples:
      callcenter trunk add carrier-a --proxy sip.carrier-a.example --register \\
          --username 4930123 --password 's3cret' --country DE
      callcenter trunk add peer-b --proxy 203.0.113.7:5080 --transport tcp \\
          --caller-id-in-from --inbound-cidr 203.0.113.7/32 --number-style e164-no-plus
    """
    try:
        stored = service.add(ctx.database, ctx.who, TrunkSpec(name=name, **fields_of(options)))
    except InvalidTrunk as exc:
        raise _bad(exc) from exc
    click.echo(f"trunk {stored.name} added (proxy {stored.proxy}); render and apply to use it")


@trunk.command("set")
@click.argument("name")
@_options(adding=False)
@pass_context
def set_(ctx: Context, /, name: str, **options: Any) -> None:
    """Change some settings of trunk NAME; what is not given stays.

    \b
    Examples:
      callcenter trunk set carrier-a --max-cps 10 --codecs PCMA
      callcenter trunk set carrier-a --codecs 'G729@8000h@20i,PCMU@20i'
      callcenter trunk set carrier-a --password 'n3w' --inbound-cidr 198.51.100.0/28
      printf '%s\n' "$PW" | callcenter trunk set carrier-a --password-stdin
      callcenter trunk set carrier-a --disable
      callcenter trunk set carrier-a --max-cps 0 --no-inbound-cidrs   # no limit, no network
    """
    changes = fields_of(options)
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    try:
        service.update(ctx.database, ctx.who, name, changes)
    except InvalidTrunk as exc:
        raise _bad(exc) from exc
    click.echo(f"trunk {name} changed: {', '.join(sorted(changes))}")


@trunk.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_(ctx: Context, as_json: bool) -> None:
    """Every trunk (passwords are never shown).

    \b
    Example:
      callcenter trunk list --json
    """
    emit_table([service.view(s) for s in service.list_trunks(ctx.database)], LISTED, as_json)


@trunk.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def show(ctx: Context, name: str, as_json: bool) -> None:
    """One trunk's settings (``password_set`` says whether it has a password).

    \b
    Example:
      callcenter trunk show carrier-a
    """
    shown = service.view(service.get(ctx.database, name))
    if as_json:
        emit_json(shown)
    else:
        print_trunk(shown)


@trunk.command("remove")
@click.argument("name")
@pass_context
def remove(ctx: Context, name: str) -> None:
    """Delete trunk NAME; running engines `killgw` its gateway at once. Render again so
    its file goes too.

    \b
    Example:
      callcenter trunk remove carrier-a
    """
    service.remove(ctx.database, ctx.who, name)
    click.echo(f"trunk {name} removed")


@trunk.command("status")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def status(ctx: Context, name: str | None, as_json: bool) -> None:
    """What each FreeSWITCH node last said of each trunk's gateway: its registration
    state (REGED, TRYING, FAILED, FAIL_WAIT, UNREGED, NOREG, DOWN; ABSENT: not loaded)
    and ping (UP, DOWN), as the running engine watched it.

    \b
    Examples:
      callcenter trunk status
      callcenter trunk status carrier-a --json
    """
    print_status(service.status_rows(service.status(ctx.database, name)), as_json)


@trunk.command("apply")
@pass_context
def apply(ctx: Context) -> None:
    """Make the running FreeSWITCH nodes take the rendered trunks without a restart: each
    engine sends `reloadxml`, `killgw` for gateways no longer stored and for trunks changed
    since the last apply, then (once those are deleted) `sofia profile callcenter-carriers
    rescan` and `reloadacl`. Run `callcenter fs render` first.

    \b
    Example:
      callcenter fs render --out ... --gateways-out ... --acl-out ... && callcenter trunk apply
    """
    service.apply(ctx.database, ctx.who)
    click.echo("trunk apply sent to the running engines")


trunk.add_command(group)
